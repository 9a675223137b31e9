"""Likert survey import and report tables, checked against a hand count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qualcode.cli import app
from qualcode.errors import InputError, NotFoundError, ValidationProblems
from qualcode.project import Project
from qualcode.survey import import_survey, likert_counts, likert_table, normalise_response

CORPUS = Path(__file__).resolve().parents[1] / "corpus"

# Wave 1: SA, A, A, D, NS, blank -> base 4; agree net 3 (75%), disagree 1 (25%); not sure 1; missing 1
# Wave 2: SA, SA, N, SD, D, dont know, A, A -> base 7; agree 4 (57%), disagree 2 (29%); not sure 1
RESPONSES = """\
respondent_id,wave,role,q1,q2
r1,Wave 1,SW,Strongly agree,Agree
r2,Wave 1,SW,agree,Agree
r3,Wave 1,SW,  AGREE ,Agree
r4,Wave 1,SW,Disagree,Agree
r5,Wave 1,SW,Not sure,Agree
r6,Wave 1,SW,,Agree
r7,Wave 2,SW,Strongly agree,Agree
r8,Wave 2,SW,strongly agree,Agree
r9,Wave 2,SW,Neither agree nor disagree,Agree
r10,Wave 2,SW,Strongly disagree,Agree
r11,Wave 2,SW,Disagree,Agree
r12,Wave 2,SW,Don’t know,Agree
r13,Wave 2,SW,Agree,Agree
r14,Wave 2,SW,Agree,Agree
"""
ITEMS = "item,question,outcome\nq1,I feel confident,workforce_wellbeing\nq2,Morale is good,\n"


@pytest.fixture
def project(tmp_path):
    (tmp_path / "s.csv").write_text(RESPONSES, encoding="utf-8")
    (tmp_path / "items.csv").write_text(ITEMS)
    with Project.create(tmp_path / "p.qc") as project:
        result = import_survey(project, tmp_path / "s.csv", tmp_path / "items.csv")
        assert (result.respondents, result.waves, result.missing_answers, result.ignored_columns) == (
            14, ["Wave 1", "Wave 2"], 1, ["role"])
        yield project


def test_counts_against_a_hand_count(project):
    c = likert_counts(project, item="q1").set_index("wave")
    assert c.loc["Wave 1", ["base", "n_strongly_agree", "n_agree", "n_disagree", "n_not_sure", "n_missing",
                            "n_agree_net", "n_disagree_net"]].tolist() == [4, 1, 2, 1, 1, 1, 3, 1]
    assert c.loc["Wave 2", ["base", "n_strongly_agree", "n_agree", "n_neither_agree_nor_disagree", "n_disagree",
                            "n_strongly_disagree", "n_not_sure", "n_missing"]].tolist() == [7, 2, 2, 1, 1, 1, 1, 0]
    assert c.loc["Wave 2", "pct_agree_net"] == pytest.approx(400 / 7)
    assert c.loc["Wave 2", "agree_change_pp"] == pytest.approx(400 / 7 - 75)
    assert c.loc["Wave 2", "disagree_change_pp"] == pytest.approx(200 / 7 - 25)


def test_report_table(project):
    t = likert_table(project, item="q1").set_index("wave")
    assert t.loc["Wave 1", "Strongly agree"] == "25% (1)"
    assert t.loc["Wave 1", "Agree"] == "50% (2)"
    assert t.loc["Wave 1", "Agree (net)"] == "75% (3)"
    assert (t.loc["Wave 1", "Not sure"], t.loc["Wave 1", "Missing"], t.loc["Wave 1", "Agree change"]) == (1, 1, "")
    assert t.loc["Wave 2", "Agree (net)"] == "57% (4)"
    assert t.loc["Wave 2", "Disagree (net)"] == "29% (2)"
    assert t.loc["Wave 2", "Neither agree nor disagree"] == "14% (1)"
    assert t.loc["Wave 2", "Agree change"] == "−18 pp"
    assert t.loc["Wave 2", "Disagree change"] == "+4 pp"


def test_pooled_table(project):
    t = likert_table(project, item="q2", by=None)
    assert t["wave"].tolist() == ["All"] and t["Agree"].tolist() == ["100% (14)"]


def test_response_normalisation():
    assert normalise_response(" Neither  agree or DISAGREE ") == "Neither agree nor disagree"
    assert normalise_response("don't know") == "Not sure"
    with pytest.raises(KeyError):
        normalise_response("Maybe")


def test_unknown_answers_are_listed_with_lines(tmp_path):
    (tmp_path / "s.csv").write_text("wave,q1,q2\nW1,Agree,Yes\nW1,Maybe,Agree\n")
    (tmp_path / "items.csv").write_text(ITEMS)
    with Project.create(tmp_path / "p.qc") as project:
        with pytest.raises(ValidationProblems) as caught:
            import_survey(project, tmp_path / "s.csv", tmp_path / "items.csv")
        messages = [str(p) for p in caught.value.problems]
        assert messages[0] == (f"{tmp_path / 's.csv'}:2: column 'q2': unknown answer 'Yes'. Fix: use one of: "
                               "Strongly agree, Agree, Neither agree nor disagree, Disagree, Strongly disagree, "
                               "Not sure, Don't know (or a blank cell for no answer).")
        assert messages[1].startswith(f"{tmp_path / 's.csv'}:3: column 'q1': unknown answer 'Maybe'")
        assert likert_counts(project).empty  # nothing written


def test_missing_columns(tmp_path):
    (tmp_path / "items.csv").write_text(ITEMS)
    with Project.create(tmp_path / "p.qc") as project:
        (tmp_path / "s.csv").write_text("q1,q2\nAgree,Agree\n")
        with pytest.raises(InputError, match="no wave column"):
            import_survey(project, tmp_path / "s.csv", tmp_path / "items.csv")
        (tmp_path / "s.csv").write_text("wave,q1\nW1,Agree\n")
        with pytest.raises(InputError, match="item 'q2' from the items file has no column here"):
            import_survey(project, tmp_path / "s.csv", tmp_path / "items.csv")
        (tmp_path / "items.csv").write_text("item,text\nq1,x\n")
        with pytest.raises(InputError, match=r"missing column\(s\) question"):
            import_survey(project, tmp_path / "s.csv", tmp_path / "items.csv")
        with pytest.raises(NotFoundError, match="no survey item 'q9'"):
            likert_table(project, item="q9")


@pytest.mark.skipif(not (CORPUS / "staff_survey.csv").exists(), reason="demo corpus not present")
def test_demo_corpus_survey_via_cli(tmp_path):
    Project.create(tmp_path / "p.qc").close()
    runner = CliRunner()
    result = runner.invoke(app, ["survey", "import", str(tmp_path / "p.qc"), str(CORPUS / "staff_survey.csv"),
                                 "--items", str(CORPUS / "staff_survey_items.csv"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["waves"] == ["Wave 1", "Wave 2"]
    table = json.loads(runner.invoke(app, ["survey", "table", str(tmp_path / "p.qc"), "--json"]).output)
    assert len(table) == 10  # five items, two waves
    for row in table:  # the base excludes Not sure and missing, and the options add up to it
        counts = [int(row[k].split("(")[1].rstrip(")")) for k in
                  ("Strongly agree", "Agree", "Neither agree nor disagree", "Disagree", "Strongly disagree")]
        assert sum(counts) == row["base"]
