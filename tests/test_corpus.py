"""Import orchestration: folders, sidecar attributes, re-import, versions, failures."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from qualcode import NewCoding, Project, corpus, store
from qualcode.cli import app, main
from qualcode.corpus import import_paths, import_summary, read_sidecar
from qualcode.errors import InputError

# The store behaves the same on SQLite and PostgreSQL: run these on both (conftest.py).
pytestmark = pytest.mark.backends

SW = """Interviewer: How has the new way of working changed things for you?
Respondent: Um, honestly, the group supervision has been the big thing. We sit down as a unit every week.
Interviewer: And the caseloads?
Respondent: Still too high, if I'm honest. Eighteen families at the moment.
"""
PARENT = """I: What was it like working with your key worker?
R: She actually turned up, you know? Every week. The kids liked her.
I: Anything that could be better?
R: The meetings. Too many people in one room.
"""


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "interviews"
    root.mkdir()
    (root / "W1_SW01.txt").write_text(SW, encoding="utf-8")
    (root / "W1_FAM01.txt").write_text(PARENT, encoding="utf-8")
    (tmp_path / "attributes.csv").write_text(
        "file,participant,role,role_group,wave,case\n"
        "W1_SW01.txt,SW01,Social Worker,staff,Wave 1,\n"
        "W1_FAM01.txt,FAM01,Parent,family,Wave 1,C003\n", encoding="utf-8")
    return root


def test_folder_import_with_sidecar_attributes(project, folder):
    report = import_paths(project, [folder], attributes=folder.parent / "attributes.csv")
    assert report.counts() == {"imported": 2}
    docs = project.documents().set_index("name")
    assert docs.loc["W1_SW01.txt", "role"] == "Social Worker"
    assert docs.loc["W1_SW01.txt", "source_type"] == "staff interview"
    assert docs.loc["W1_FAM01.txt", "source_type"] == "family interview"
    assert docs.loc["W1_FAM01.txt", "case"] == "C003"
    assert docs.loc["W1_SW01.txt", "turns"] == 4
    turns = project.turns("W1_SW01.txt")
    assert list(turns["is_interviewer"]) == [True, False, True, False]
    text = project.text("W1_SW01.txt")
    first_answer = turns.iloc[1]
    assert text[first_answer.start:first_answer.end].startswith("Um, honestly")
    cases = project.cases()
    assert list(cases["name"]) == ["C003"] and list(cases["documents"]) == [1]


def test_reimporting_the_same_bytes_is_a_reported_no_op(project, folder):
    import_paths(project, [folder])
    again = import_paths(project, [folder])
    assert again.counts() == {"unchanged": 2}
    assert len(project.documents()) == 2


def test_changed_file_becomes_a_new_version_and_keeps_old_codings(project, folder):
    import_paths(project, [folder])
    doc_id = project.document_id("W1_SW01.txt")
    with project.transaction() as conn:
        conn.execute(store.codes.insert().values(key="supervision", name="Supervision", definition="",
                                                 created_at=store.now(), updated_at=store.now()))
    project.add_codings([NewCoding(doc_id, 0, 11, "supervision", "alex")])
    (folder / "W1_SW01.txt").write_text(SW + "Interviewer: Thanks.\n", encoding="utf-8")
    report = import_paths(project, [folder])
    statuses = {r.file: r.status for r in report.results}
    assert statuses == {"W1_SW01.txt": "new version", "W1_FAM01.txt": "unchanged"}
    current = project.documents().set_index("name")
    assert current.loc["W1_SW01.txt", "version"] == 2
    everything = project.documents(include_superseded=True)
    assert len(everything) == 3
    assert project.codings()["document_id"].tolist() == [doc_id]  # still on version 1


def test_a_bad_file_fails_alone_and_leaves_nothing(project, folder):
    (folder / "empty.txt").write_bytes(b"")
    (folder / "image.txt").write_bytes(bytes(range(256)) * 8)
    (folder / "slides.key").write_bytes(b"whatever")
    report = import_paths(project, [folder])
    frame = report.to_frame().set_index("file")
    assert frame.loc["W1_SW01.txt", "status"] == "imported"
    for bad in ("empty.txt", "image.txt", "slides.key"):
        assert frame.loc[bad, "status"] == "failed"
        assert bad in frame.loc[bad, "message"] and "Fix:" in frame.loc[bad, "message"]
    assert "unknown file type '.key'" in frame.loc["slides.key", "message"]
    assert sorted(project.documents()["name"]) == ["W1_FAM01.txt", "W1_SW01.txt"]


def test_failure_while_storing_rolls_the_file_back(project, folder, monkeypatch):
    def boom(conn, names, cache):
        raise RuntimeError("disk full")

    monkeypatch.setattr(corpus, "_case_ids", boom)
    report = import_paths(project, [folder], attributes=folder.parent / "attributes.csv")
    frame = report.to_frame().set_index("file")
    assert frame.loc["W1_FAM01.txt", "status"] == "failed"
    assert "disk full" in frame.loc["W1_FAM01.txt", "message"]
    assert list(project.documents()["name"]) == ["W1_SW01.txt"]
    assert project.turns().document_id.nunique() == 1


def test_sidecar_without_file_column_names_the_fix(tmp_path):
    bad = tmp_path / "attributes.csv"
    bad.write_text("participant,role\nSW01,Social Worker\n")
    with pytest.raises(InputError, match="add a column 'file'"):
        read_sidecar(bad)


def test_unknown_source_type_is_refused_before_anything_is_read(project, folder):
    with pytest.raises(InputError, match="use one of: staff interview"):
        import_paths(project, [folder], source_type="staff interveiw")
    assert project.documents().empty


def test_same_file_name_in_two_subfolders_is_refused_before_anything_is_written(project, folder, tmp_path, capsys):
    # site_b's interview would otherwise become "version 2" of site_a's.
    for site, text in (("site_a", SW), ("site_b", PARENT)):
        (folder / site).mkdir()
        (folder / site / "W2_INT01.txt").write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        import_paths(project, [folder])
    message = str(err.value)
    assert "site_b/W2_INT01.txt" in message and "site_a/W2_INT01.txt" in message
    assert "Fix: rename one of them" in message and "site_b_W2_INT01.txt" in message
    assert project.documents().empty

    path = str(tmp_path / "cli.qc")
    with pytest.raises(SystemExit):
        main(["init", path])
    capsys.readouterr()
    with pytest.raises(SystemExit) as stopped:
        main(["import", path, str(folder)])
    assert stopped.value.code == 1
    error = capsys.readouterr().err
    assert error.startswith("error: ") and len(error.strip().splitlines()) == 1 and "same file name" in error
    (folder / "site_b" / "W2_INT01.txt").rename(folder / "site_b" / "site_b_W2_INT01.txt")
    assert import_paths(project, [folder]).counts() == {"imported": 4}


def test_import_summary_counts_by_source_type_and_wave(project, folder):
    import_paths(project, [folder], attributes=folder.parent / "attributes.csv")
    summary = import_summary(project)
    by_type = summary["by source type"].set_index("source_type")["documents"].to_dict()
    assert by_type == {"family interview": 1, "staff interview": 1}
    assert summary["totals"].loc[0, "documents"] == 2
    assert summary["totals"].loc[0, "turns"] == 8


def test_cli_init_import_documents(tmp_path, folder):
    runner = CliRunner()
    path = str(tmp_path / "cli.qc")
    assert runner.invoke(app, ["init", path]).exit_code == 0
    result = runner.invoke(app, ["import", path, str(folder), "--attributes",
                                 str(folder.parent / "attributes.csv"), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {r["status"] for r in rows} == {"imported"}
    listed = json.loads(runner.invoke(app, ["documents", path, "--json"]).output)
    assert sorted(r["name"] for r in listed) == ["W1_FAM01.txt", "W1_SW01.txt"]
    assert {r["wave"] for r in listed} == {"Wave 1"}


def test_cli_errors_are_one_line_and_non_zero(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "qualcode", "documents", str(tmp_path / "none.qc")],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ") and "qualcode init" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
