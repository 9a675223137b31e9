"""Tables read strictly and said plainly: what used to import silently wrong is an error
with its row, a detected encoding, or a note saying what was done.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from qualcode import Project
from qualcode.cli import main
from qualcode.corpus import import_paths, read_sidecar
from qualcode.errors import InputError

REPO = Path(__file__).resolve().parents[1]


def _one(project: Project, path: Path, **options):
    (result,) = import_paths(project, [path], **options).results
    return result


def _texts(project: Project) -> dict[str, str]:
    frame = project.documents()
    return {row.name: project.text(int(row.id)) for row in frame.itertuples()}


def test_a_column_name_written_twice_is_an_error_naming_it(project, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("id,text,author,text\n1,Visit went well,SW,second text\n", encoding="utf-8")
    result = _one(project, path)
    assert result.status == "failed"
    assert "notes.csv:row 1: the column name 'text' is written twice (columns 2 and 4)" in result.message
    assert project.documents().empty


def test_a_quote_that_never_closes_is_an_error_with_its_row(project, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text('id,text\n1,"Visit went well\n2,Second note\n3,Third\n', encoding="utf-8")
    result = _one(project, path)
    assert result.status == "failed"
    assert "row 1 cannot be read as CSV: a quote (\") opens a cell that is never closed" in result.message
    assert project.documents().empty


def test_a_row_with_extra_cells_is_an_error_with_its_row(project, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("id,text\n1,Visit went well\n2,Mum said, and I quote, no\n", encoding="utf-8")
    result = _one(project, path)
    assert result.status == "failed"
    assert "row 2 has 4 cells but the header names 2 columns" in result.message
    assert "quote cells that contain the delimiter" in result.message


def test_trailing_empty_cells_are_not_an_error(project, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("id,text\n1,Visit went well,,\n", encoding="utf-8")
    assert _one(project, path).status == "imported"


def test_a_ragged_attributes_row_is_an_error_not_a_traceback(tmp_path):
    path = tmp_path / "attributes.csv"
    path.write_text("file,role\na.txt,Social Worker\nb.txt,Parent,extra,cells\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"attributes.csv:line 3: row 2 has 4 cells"):
        read_sidecar(path)


def test_utf16_without_a_byte_order_mark_is_read(project, tmp_path):
    path = tmp_path / "comments.csv"
    path.write_bytes("id,comment\n1,Caf\xe9 staff were kind and listened to us\n".encode("utf-16-le"))
    result = _one(project, path, text_columns=["comment"])
    assert result.status == "imported", result.message
    assert list(_texts(project).values()) == ["Café staff were kind and listened to us"]


def test_a_file_mixing_utf8_and_cp1252_is_read_line_by_line_with_a_warning(project, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_bytes("id,text\n1,Caf\u00e9 visit \u2013 mum pleased\n".encode("utf-8")
                     + "2,Dad\u2019s view: \u201cbetter\u201d\n".encode("cp1252"))
    result = _one(project, path)
    assert result.status == "imported"
    assert "mix two encodings (UTF-8 and cp1252" in result.message
    assert sorted(_texts(project).values()) == ["Café visit – mum pleased", "Dad’s view: “better”"]


def test_a_text_file_mixing_encodings_warns_too(project, tmp_path):
    path = tmp_path / "note.txt"
    path.write_bytes("Caf\u00e9 visit.\n".encode("utf-8") + "Dad\u2019s view.\n".encode("cp1252"))
    result = _one(project, path)
    assert result.status == "imported" and "mix two encodings" in result.message


def test_a_file_name_that_is_not_utf8_says_rename_it(project, tmp_path):
    name = os.fsdecode(b"caf\xe9_notes.txt")  # a Latin-1 name from an old system
    try:
        (tmp_path / name).write_text("Visit notes.\n", encoding="utf-8")
    except (UnicodeEncodeError, OSError):
        pytest.skip("this file system refuses names that are not UTF-8")
    result = _one(project, tmp_path / name)
    assert result.status == "failed"
    assert "the file name is not valid UTF-8" in result.message and "rename the file" in result.message


def test_the_one_text_column_is_found_and_named(project):
    result = _one(project, REPO / "corpus" / "case_notes.csv", source_type="case note")
    assert result.status == "imported" and result.documents > 10
    assert "the text is column 'text'" in result.message
    result = _one(project, REPO / "corpus" / "staff_survey_comments.csv")
    assert result.status == "imported" and "the text is column 'comment'" in result.message


def test_a_column_of_long_free_text_is_found_without_its_name(project, tmp_path):
    path = tmp_path / "audit.csv"
    path.write_text("case,team,finding\nC1,North,The plan names the child's views and the family's own goals\n"
                    "C2,South,No record of the child being seen alone during the last three visits\n",
                    encoding="utf-8")
    result = _one(project, path)
    assert result.status == "imported" and "the text is column 'finding'" in result.message


def test_two_candidate_columns_ask_for_text_column(project, tmp_path):
    path = tmp_path / "survey.csv"
    path.write_text("id,comment,note\n1,More time with families please,Followed up by phone\n", encoding="utf-8")
    result = _one(project, path)
    assert result.status == "failed"
    assert "several columns could hold the text: comment, note" in result.message
    assert "--text-column" in result.message


def test_importing_the_corpus_folder_imports_the_tables_and_exits_1_naming_the_rest(tmp_path, capsys):
    location = tmp_path / "eval.qc"
    with pytest.raises(SystemExit):
        main(["init", str(location)])
    capsys.readouterr()
    with pytest.raises(SystemExit) as stopped:
        main(["import", str(location), str(REPO / "corpus"), "--json"])
    out, err = capsys.readouterr()
    assert stopped.value.code == 1
    by_file = {row["file"]: row for row in json.loads(out)}
    assert by_file["case_notes.csv"]["status"] == "imported"
    assert by_file["staff_survey_comments.csv"]["status"] == "imported"
    assert by_file["W1_SW01_social_worker.txt"]["status"] == "imported"
    assert "qualcode codings import" in by_file["codings_researcher_a.csv"]["message"]
    assert "qualcode indicators import" in by_file["management_information.csv"]["message"]
    assert "file(s) failed" in err


UTTERANCES = (
    "interview,speaker,start,utterance,site\n"
    "FG01,Facilitator,00:00:05,What has changed since the hubs opened?,North\n"
    "FG01,Dee,00:00:12,We actually get group supervision now.,North\n"
    "FG02,Facilitator,0:00:03,How are caseloads?,South\n"
    "FG01,Sam,00:01:02,Caseloads are still high but more manageable.,North\n"
    "FG02,Kerry,7.5,Lower than last year.,South\n"
)


def test_a_table_of_utterances_becomes_one_document_per_transcript_with_timed_turns(project, tmp_path):
    path = tmp_path / "focus_groups.csv"
    path.write_text(UTTERANCES, encoding="utf-8")
    result = _one(project, path, document_column="interview", speaker_column="speaker", time_column="start",
                  text_columns=["utterance"], interviewer_names=["Facilitator"])
    assert result.status == "imported" and result.documents == 2 and result.turns == 5
    texts = _texts(project)
    assert texts["focus_groups.csv#FG01"].startswith("Facilitator: What has changed since the hubs opened?\n\n"
                                                      "Dee: We actually get group supervision now.")
    turns = project.turns("focus_groups.csv#FG01")
    text = texts["focus_groups.csv#FG01"]
    assert [text[t.start:t.end] for t in turns.itertuples()][1] == "We actually get group supervision now."
    assert list(turns["speaker"]) == ["Facilitator", "Dee", "Sam"]
    assert list(turns["is_interviewer"]) == [True, False, False]
    assert list(turns["time_start"]) == [5.0, 12.0, 62.0]
    assert list(turns["time_end"])[:2] == [12.0, 62.0]
    docs = project.documents().set_index("name")
    assert docs.loc["focus_groups.csv#FG02", "site"] == "South"


def test_a_bad_time_names_its_row(project, tmp_path):
    path = tmp_path / "focus_groups.csv"
    path.write_text(UTTERANCES.replace("7.5", "soon"), encoding="utf-8")
    result = _one(project, path, document_column="interview", speaker_column="speaker", time_column="start",
                  text_columns=["utterance"])
    assert result.status == "failed" and "row 5: the time 'soon' is not seconds or h:mm:ss" in result.message
