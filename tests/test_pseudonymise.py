"""Pseudonymisation rules, the review file, the key, and the CLI, on small built projects."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import spacy
from typer.testing import CliRunner

from qualcode import Project
from qualcode import pseudonymise as ps
from qualcode.cli import app
from qualcode.corpus import import_paths
from qualcode.errors import InputError, ProjectLocked, ValidationProblems


def _kinds(text: str) -> dict[str, str]:
    """text -> type of what the regex rules find in ``text``."""
    return {d.text: d.type for d in ps._regex_hits(1, "doc", text)}


def _project(tmp_path: Path, files: dict[str, str]) -> Project:
    folder = tmp_path / "in"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    p = Project.create(tmp_path / "p.qc")
    import_paths(p, [folder])
    return p


def _write(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.mark.parametrize("text, found, kind", [
    ("Visit to HV3 7QT today", "HV3 7QT", "Postcode"),
    ("post to SW1A 1AA please", "SW1A 1AA", "Postcode"),
    ("mum's mobile 07700 900412.", "07700 900412", "Phone"),
    ("ring 0161 496 0000 or", "0161 496 0000", "Phone"),
    ("call +44 7700 900123 now", "+44 7700 900123", "Phone"),
    ("email jo.smith@example.org.uk today", "jo.smith@example.org.uk", "Email"),
    ("NHS no 943 476 5919 on file", "943 476 5919", "NHS number"),
    ("NI AB 12 34 56 C recorded", "AB 12 34 56 C", "NI number"),
    ("Tyler (DOB 11/07/2014) and", "11/07/2014", "Date of birth"),
    ("he was born in April, fourteenth of April, so", "fourteenth of April", "Date of birth"),
    ("date of birth: 3rd March 2019.", "3rd March 2019", "Date of birth"),
    ("we live at 31 Calder Street now", "31 Calder Street", "Place"),
    ("The Station Road hostel", "Station Road", "Place"),
    ("she is at Vale Park Academy and", "Vale Park Academy", "School"),
    ("Kai at Carrick Fields Primary today", "Carrick Fields Primary", "School"),
])
def test_each_pattern_finds_its_identifier(text, found, kind):
    assert _kinds(text).get(found) == kind


@pytest.mark.parametrize("text", [
    "Meeting on 12/03/2024 at the hub",          # a date with no birth cue
    "NHS no 943 476 5918 is mistyped",           # fails the mod-11 check
    "NI QQ 12 34 56 C and GB 12 34 56 A",        # letters HMRC never issues
    "Caseloads of 22 fell to 15 in 2024",        # numbers that are no phone
    "She went to Primary School and the High Street",  # kinds, not names
    "The worker at SW01 and KW said",            # role codes
])
def test_patterns_leave_lookalikes_alone(text):
    assert _kinds(text) == {}


def test_nhs_check_digit_and_speaker_names():
    assert ps.nhs_number_valid("4010232137") and not ps.nhs_number_valid("4010232138")
    assert not ps.nhs_number_valid("123")
    assert ps.looks_like_name("Natalie") and ps.looks_like_name("Dr Patel")
    assert not any(ps.looks_like_name(s) for s in ("INT", "Respondent", "P3", "Speaker 1", "Note", "Mum"))


def test_cues_name_people_with_a_role(tmp_path):
    text = ("Interviewer: Tell me about the family.\nRespondent: My son Tyler is ten and his dad, Dean, "
            "left. A worker called Marcus came. Mrs Okonedo helps. Chloe (13) and Mum Tracey Holloway.\n") * 2
    with _project(tmp_path, {"a.txt": text}) as p:
        found = ps.detect(p, model=None)
    kinds = {r.text: r.type for r in found.rows}
    assert kinds["Tyler"] == "Child" and kinds["Dean"] == "Parent" and kinds["Marcus"] == "Person"
    assert kinds["Okonedo"] == "Person" and kinds["Chloe"] == "Child" and kinds["Tracey Holloway"] == "Parent"
    assert "Respondent" not in kinds and "Interviewer" not in kinds and "Mrs" not in kinds
    labels = {r.text: r.label for r in found.rows}
    assert labels["Tyler"] == "[Child 1]" and labels["Chloe"] == "[Child 2]"
    assert len([r for r in found.rows if r.text == "Tyler"]) == 2  # every occurrence, not just the cued one


def test_surname_shared_by_several_people_gets_its_own_label(tmp_path):
    text = ("Note on Skye Brannigan (14) and Jayden Brannigan (11). Skye said the Brannigan family is "
            "close. Jayden agreed.")
    with _project(tmp_path, {"a.txt": text}) as p:
        found = ps.detect(p, model=None)
    labels = {r.text: r.label for r in found.rows}
    assert labels["Skye"] == labels["Skye Brannigan"] and labels["Jayden"] == labels["Jayden Brannigan"]
    assert labels["Skye"] != labels["Jayden"]
    assert labels["Brannigan"] == "[Surname 1]"


def test_known_names_with_team_labels_and_a_statistical_model(tmp_path):
    names = _write(tmp_path / "names.csv", [
        {"name": "Jo Bloggs", "type": "staff", "label": "Social Worker"},
        {"name": "Sam", "type": "parent", "label": "[Mum]"},
    ])
    text = "Jo Bloggs visited. Later Jo phoned Sam. Sam lives in Exampletown. will you come, sam?"
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "GPE", "pattern": "Exampletown"}])
    with _project(tmp_path, {"a.txt": text}) as p:
        found = ps.detect(p, names=names, model=nlp)
    labels = {(r.text, r.start): r.label for r in found.rows}
    assert labels[("Jo Bloggs", 0)] == "[Social Worker 1]" and labels[("Jo", 25)] == "[Social Worker 1]"
    assert {lab for (t, _), lab in labels.items() if t == "Sam"} == {"[Mum]"}
    assert labels[("sam", text.index("sam"))] == "[Mum]"  # lower case, in a document that names Sam
    assert ("will", text.index("will")) not in labels  # a stop word is never taken for "Will"
    assert labels[("Exampletown", text.index("Exampletown"))] == "[Place 1]"
    assert found.model == nlp.meta["name"]  # the model used is reported
    assert not any("no statistical NER" in n for n in found.not_checked)


def test_known_names_file_errors_name_the_line(tmp_path):
    bad = _write(tmp_path / "names.csv", [{"name": "Kerry", "type": "mother", "label": ""}])
    with pytest.raises(ValidationProblems, match=r"names.csv:2: type 'mother' is not one of"):
        ps.read_known_names(bad)
    nohead = tmp_path / "no.csv"
    nohead.write_text("who,what\nKerry,parent\n")
    with pytest.raises(InputError, match="no 'name' column.*Fix: give the CSV a header line"):
        ps.read_known_names(nohead)
    with pytest.raises(InputError, match="no such names file"):
        ps.read_known_names(tmp_path / "absent.csv")


def test_review_reject_add_and_relabel_then_apply(tmp_path):
    text = ("Interviewer: Who helps?\nRespondent: My daughter Ruby, and Nana Pat at 4 Elm Road. "
            "Ruby's school rang. Pat too.\n")
    with _project(tmp_path, {"a.txt": text}) as p:
        found = ps.detect(p, model=None)
        review = found.write_csv(tmp_path / "det.csv")
        rows = list(csv.DictReader(open(review, encoding="utf-8")))
        for row in rows:
            if row["text"] == "Ruby":
                row["label"] = "Child A"  # the team's own label, brackets added
        rows = [r for r in rows if r["text"] != "4 Elm Road"] + [
            {**rows[0], "decision": "add", "text": "Pat", "type": "Person", "label": "", "start": "", "end": "",
             "document_id": "", "rule": "", "context": ""},
            {**rows[0], "decision": "reject", "text": "4 Elm Road", "type": "Place", "label": "",
             "start": str(text.index("4 Elm")), "end": str(text.index("4 Elm") + 10)},
        ]
        _write(review, rows)
        report = ps.apply(p, review, tmp_path / "keys.csv")
        after = p.text(1)
    assert after.count("[Child A]") == 2 and "Ruby" not in after
    assert after.count("[Person 1]") == 2 and "Pat" not in after
    assert "4 Elm Road" in after and report.rejected == 1
    assert report.replaced == {"Child": 2, "Person": 2}


def test_review_file_problems_come_back_together_with_lines(tmp_path):
    rows = [
        {"decision": "maybe", "type": "Person", "label": "", "text": "Kerry", "document_id": "1", "start": "0",
         "end": "5"},
        {"decision": "confirm", "type": "Person", "label": "[Parent 1]", "text": "Kerry", "document_id": "1",
         "start": "10", "end": "15"},
        {"decision": "confirm", "type": "Person", "label": "[Parent 2]", "text": "kerry", "document_id": "1",
         "start": "20", "end": "25"},
        {"decision": "confirm", "type": "Person", "label": "", "text": "Jo", "document_id": "x", "start": "1",
         "end": "3"},
    ]
    with pytest.raises(ValidationProblems) as err:
        ps.read_detections(_write(tmp_path / "d.csv", rows))
    message = str(err.value)
    assert "d.csv:2: decision 'maybe' is not known. Fix: write confirm, reject or add" in message
    assert "'kerry' has labels [Parent 1], [Parent 2] (lines 3, 4)" in message
    assert "d.csv:5: start, end and document_id must be whole numbers" in message
    (tmp_path / "e.csv").write_text("text,label\nKerry,[P]\n")
    with pytest.raises(InputError, match="missing column.*decision"):
        ps.read_detections(tmp_path / "e.csv")


def test_key_is_refused_in_the_project_and_reused_across_runs(tmp_path):
    with _project(tmp_path, {"a.txt": "Visit at HV3 7QT. Visit at HV1 4LP."}) as p:
        with pytest.raises(InputError, match="the key file cannot be the project itself"):
            ps.apply(p, [], p.location)
        first = ps.detect(p, model=None)
        (tmp_path / "k").mkdir()
        ps.apply(p, [r for r in first.rows if r.text == "HV3 7QT"], tmp_path / "k" / "key.csv")
        second = ps.detect(p, key=tmp_path / "k" / "key.csv", model=None)
        assert [(r.text, r.label) for r in second.rows] == [("HV1 4LP", "[Postcode 2]")]
        report = ps.apply(p, second.rows, tmp_path / "k" / "key.csv")
        assert report.warnings == []
        key = ps.Key.read(tmp_path / "k" / "key.csv")
        assert key.label_for("hv3 7qt") == "[Postcode 1]" and key.label_for("HV1 4LP") == "[Postcode 2]"
        assert list(ps.status(p)["label"]) == ["[Postcode 1]", "[Postcode 2]"]
        assert p.text(1) == "Visit at [Postcode 1]. Visit at [Postcode 2]."
        broken = tmp_path / "broken.csv"
        broken.write_text("label,original\n[Postcode 1],HV3 7QT\n[Postcode 9],hv3 7qt\n")
        with pytest.raises(InputError, match=r"broken.csv:line 3: 'hv3 7qt' has two labels"):
            ps.Key.read(broken)


def test_a_key_in_the_project_folder_is_a_warning(tmp_path):
    with _project(tmp_path, {"a.txt": "Visit at HV3 7QT."}) as p:
        report = ps.apply(p, ps.detect(p, model=None).rows, tmp_path / "KEY.csv")
    assert any("is in the project's folder" in w for w in report.warnings)


def test_cli_detect_review_apply_status(tmp_path):
    text = "Interviewer: Hi.\nRespondent: My son Tyler, 07700 900123.\n" * 2
    _project(tmp_path, {"a.txt": text}).close()
    project, out, key = tmp_path / "p.qc", tmp_path / "det.csv", tmp_path / "safe" / "KEY.csv"
    key.parent.mkdir()
    runner = CliRunner()
    result = runner.invoke(app, ["pseudonymise", "detect", str(project), "--out", str(out), "--model", "none",
                                 "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["by_type"] == {"Child": 2, "Phone": 2} and summary["ner_model"] is None
    result = runner.invoke(app, ["pseudonymise", "apply", str(project), "--detections", str(out), "--key", str(key),
                                 "--by", "alex", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["replaced"] == {"Child": 2, "Phone": 2} and report["by"] == "alex"
    result = runner.invoke(app, ["pseudonymise", "status", str(project), "--json"])
    assert json.loads(result.output) == [{"label": "[Child 1]", "type": "Child", "count": 2},
                                         {"label": "[Phone 1]", "type": "Phone", "count": 2}]
    result = runner.invoke(app, ["pseudonymise", "apply", str(project), "--detections", str(tmp_path / "none.csv"),
                                 "--key", str(key)])
    assert result.exit_code != 0 and "no such detections file" in str(result.exception)


def test_key_and_detections_files_are_owner_only(tmp_path):
    with _project(tmp_path, {"a.txt": "Visit at HV3 7QT."}) as p:
        found = ps.detect(p, model=None)
        review = found.write_csv(tmp_path / "det.csv")
        (tmp_path / "keys").mkdir()
        ps.apply(p, review, tmp_path / "keys" / "KEY.csv")
    for path in (review, tmp_path / "keys" / "KEY.csv"):
        assert path.stat().st_mode & 0o777 == 0o600, path
    assert not list(tmp_path.glob(".*.tmp")) and not list((tmp_path / "keys").glob(".*.tmp"))


def test_apply_refuses_while_another_program_holds_the_wal_and_says_where_originals_are(tmp_path):
    import sqlite3

    with _project(tmp_path, {"a.txt": "Visit at HV3 7QT."}) as p:
        found = ps.detect(p, model=None)
        other = sqlite3.connect(p.location)  # a notebook with the project open
        other.execute("SELECT count(*) FROM documents").fetchone()
        try:
            with pytest.raises(ProjectLocked, match=r"another program has the project open.*p\.qc-wal.*nothing was "
                                                    r"changed"):
                ps.apply(p, found.rows, tmp_path / "KEY.csv")
        finally:
            other.close()
        assert p.text(1) == "Visit at HV3 7QT." and ps.status(p).empty
        assert not (tmp_path / "KEY.csv").exists()
