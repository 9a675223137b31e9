"""Memos: written on the project, documents, cases, codes, codings and matrix cells;
listed, searched, edited and exported; bad references refused with nothing written."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from qualcode import review
from qualcode.cli import app
from qualcode.errors import InputError, NotFoundError
from qualcode.memos import add_memo, delete_memo, edit_memo, export_memos, list_memos, search_memos
from qualcode.quotes import pin_quote
from evaluation_project import build


@pytest.fixture
def lab(tmp_path):
    lab = build(tmp_path)
    yield lab
    lab.project.close()


def test_every_kind_follows_from_what_it_is_on(lab):
    p = lab.project
    coding = lab.researcher[0]
    ids = {
        "project": add_memo(p, "Fieldwork paused in August.", author="sam"),
        "document": add_memo(p, "Recorded in a noisy office.", document="W1_SW01_social_worker.txt", author="sam"),
        "code": add_memo(p, "Supervision comes up unprompted.", code="activity.group_supervision", author="kim"),
        "coding": add_memo(p, "Strong quote for the report.", coding=coding, author="sam"),
        "framework": add_memo(p, "Only staff talk about this.", document="W1_SW01_social_worker.txt",
                              code="barrier", author="kim"),
    }
    frame = list_memos(p).set_index("id")
    assert {kind: frame.loc[i, "kind"] for kind, i in ids.items()} == {k: k for k in ids}
    row = frame.loc[ids["coding"]]
    coded = p.codings().set_index("id").loc[coding]
    assert (row["document"], row["code"], row["start"], row["end"]) == (
        "W1_SW01_social_worker.txt", "activity.group_supervision", coded["start"], coded["end"])
    assert row["passage"] == coded["snippet"]
    assert frame.loc[ids["code"], "author"] == "kim" and frame.loc[ids["code"], "created_at"]
    # a code's memos include annotations on its codings; a document's include its codings'
    assert set(list_memos(p, code="activity.group_supervision")["id"]) == {ids["code"], ids["coding"]}
    assert set(list_memos(p, document="W1_SW01_social_worker.txt")["id"]) == {
        ids["document"], ids["coding"], ids["framework"]}
    assert list(list_memos(p, author="kim")["id"]) == [ids["code"], ids["framework"]]


def test_case_and_case_cell_memos(lab):
    p = lab.project
    cases = p.cases()
    if cases.empty:
        pytest.skip("the corpus subset has no cases")
    name = cases["name"].iloc[0]
    case_memo = add_memo(p, "Family moved twice.", case=name, author="sam")
    cell = add_memo(p, "Voice of child weak here.", case=name, code="barrier", author="sam")
    frame = list_memos(p, case=name).set_index("id")
    assert frame.loc[case_memo, "kind"] == "case" and frame.loc[cell, "kind"] == "framework"


def test_search_edit_and_delete(lab):
    p = lab.project
    first = add_memo(p, "Caseloads fell after the new team started.", code="activity.caseloads", author="sam")
    add_memo(p, "Supervision weekly.", author="sam")
    assert list(search_memos(p, "CASELOADS team")["id"]) == [first]
    assert search_memos(p, "caseloads supervision").empty
    before = list_memos(p).set_index("id").loc[first]
    edit_memo(p, first, "Caseloads fell, then rose again in Wave 2.")
    after = list_memos(p).set_index("id").loc[first]
    assert after["text"].endswith("Wave 2.") and after["author"] == "sam"
    assert after["created_at"] == before["created_at"] and after["updated_at"] >= before["updated_at"]
    delete_memo(p, first)
    assert first not in set(list_memos(p)["id"])


def test_quote_marks_are_not_memos(lab):
    pin_quote(lab.project, lab.researcher[0], note="use in the summary", author="sam")
    assert list_memos(lab.project).empty


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(text="  "), InputError, "no text"),
    (dict(text="x", document="W9_nobody.txt"), NotFoundError, "no document"),
    (dict(text="x", code="activity.supervison"), NotFoundError, "activity.group_supervision"),
    (dict(text="x", case="No such family"), NotFoundError, "no case"),
    (dict(text="x", coding=99999), NotFoundError, "no coding 99999"),
    (dict(text="x", kind="code"), InputError, "give --code only"),
    (dict(text="x", kind="diary"), InputError, "not one of"),
    (dict(text="x", case="A", document="W1_SW01_social_worker.txt"), InputError, "not both"),
])
def test_bad_memos_are_refused_and_nothing_is_written(lab, kwargs, error, words):
    with pytest.raises(error, match=words):
        add_memo(lab.project, **kwargs)
    assert lab.project.memos().empty


def test_a_memo_on_a_deleted_coding_is_refused_saying_when(lab):
    p = lab.project
    result = review.recode(p, [lab.researcher[1]], "enabler", by="sam")
    made = result.created[0]
    review.undo(p, batch=result.batch, by="sam")  # deletes the coding the recode made
    with pytest.raises(NotFoundError, match=rf"coding {made} was deleted \(undo by sam"):
        add_memo(p, "too late", coding=made)
    assert p.memos().empty


def test_export_csv_markdown_json(lab, tmp_path):
    p = lab.project
    add_memo(p, "=SUM(A1) is not a formula here.", code="barrier", author="sam")
    add_memo(p, "Good quote.", coding=lab.researcher[0], author="kim")
    assert len(export_memos(p, tmp_path / "m.csv")) == 2
    rows = list(csv.DictReader(open(tmp_path / "m.csv", encoding="utf-8")))
    assert [r["kind"] for r in rows] == ["code", "coding"] and rows[0]["text"].startswith("'=SUM")
    export_memos(p, tmp_path / "m.md", author="kim")
    markdown = (tmp_path / "m.md").read_text(encoding="utf-8")
    assert "Good quote." in markdown and "SUM" not in markdown and "*kim, " in markdown
    export_memos(p, tmp_path / "m.json")
    assert [m["author"] for m in json.loads((tmp_path / "m.json").read_text())] == ["sam", "kim"]
    with pytest.raises(InputError, match="one of .csv, .md, .json"):
        export_memos(p, tmp_path / "m.docx")
    assert not (tmp_path / "m.docx").exists()


def test_cli_add_list_edit_export(lab, tmp_path):
    runner = CliRunner()
    location = lab.project.location
    added = runner.invoke(app, ["memo", "add", location, "--document", "W1_SW01_social_worker.txt",
                                "--code", "barrier", "--text", "Barriers cluster in wave 1.", "--author", "sam",
                                "--json"])
    assert added.exit_code == 0, added.output
    memo = json.loads(added.output)
    assert memo["kind"] == "framework" and "W1_SW01_social_worker.txt × " in memo["about"]
    listed = runner.invoke(app, ["memo", "list", location, "--search", "cluster"])
    assert listed.exit_code == 0 and "Barriers cluster" in listed.output and "framework" in listed.output
    edited = runner.invoke(app, ["memo", "edit", location, str(memo["id"]), "--text", "Barriers cluster in W2."])
    assert edited.exit_code == 0, edited.output
    out = tmp_path / "memos.md"
    exported = runner.invoke(app, ["memo", "export", location, "--code", "barrier", "--out", str(out)])
    assert exported.exit_code == 0 and "Barriers cluster in W2." in out.read_text()
    shown = runner.invoke(app, ["memo", "export", location])
    assert shown.exit_code == 0 and shown.output.startswith("# Memos")
    bad = runner.invoke(app, ["memo", "add", location, "--coding", "4242", "--text", "x"])
    assert bad.exit_code == 1 and "no coding 4242" in str(bad.exception)
