"""The review, learn, suggest and keywords verbs through the CLI, with --json."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from qualcode.cli import app
from qualcode.errors import NotFoundError
from qualcode.project import NewCoding
from test_learn_corpus import build

runner = CliRunner()


def _json(args):
    result = runner.invoke(app, args + ["--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def test_review_verbs_with_json(tmp_path):
    lab = build(tmp_path, n_docs=2)
    doc = lab.documents["W2_SW99"]
    ids = lab.project.add_codings([
        NewCoding(doc, 0, 10, "supervision", "rules", status="suggested", confidence=0.9, method="rule"),
        NewCoding(doc, 0, 10, "family", "rules", status="suggested", confidence=0.45, method="rule"),
        NewCoding(doc, 20, 30, "family", "rules", status="suggested", confidence=0.2, method="rule"),
    ])
    path = lab.project.location
    lab.project.close()

    queue = _json(["review", path, "queue"])
    assert [row["id"] for row in queue] == [ids[1], ids[2], ids[0]]  # closest to 0.5 first

    accepted = _json(["review", path, "accept", "--method", "rule", "--min-confidence", "0.8", "--by", "sam"])
    assert accepted["changed"] == 1 and accepted["ids"] == [ids[0]] and accepted["by"] == "sam"
    rejected = _json(["review", path, "reject", "--ids", f"{ids[1]},{ids[2]}", "--by", "sam"])
    assert rejected["by_code"] == {"family": 2}
    table = _json(["review", path, "methods"])
    assert {(r["code"], r["accepted"], r["rejected"]) for r in table} == {("supervision", 1, 0), ("family", 0, 2)}

    undone = _json(["review", path, "undo", "--batch", rejected["batch"], "--by", "sam"])
    assert sorted(undone["ids"]) == sorted(ids[1:])
    recoded = _json(["review", path, "recode", "--ids", str(ids[1]), "--to", "workload", "--by", "kim"])
    assert recoded["changed"] == 1 and len(recoded["created"]) == 1

    human = runner.invoke(app, ["review", path, "accept", "--code", "family", "--by", "sam"])
    assert human.exit_code == 0 and "undo with: qualcode review" in human.stdout

    missing = runner.invoke(app, ["review", path, "accept", "--code", "supervison"])
    assert isinstance(missing.exception, NotFoundError)
    assert "did you mean 'supervision'" in str(missing.exception)
    bad = runner.invoke(app, ["review", path, "approve"])
    assert "unknown action 'approve'" in str(bad.exception)


def test_learn_suggest_and_keywords_with_json(tmp_path):
    lab = build(tmp_path, n_docs=4)
    path = lab.project.location
    lab.project.close()
    figures = _json(["learn", path, "--folds", "3", "--min-examples", "6"])
    assert figures["unit"] == "sentence" and figures["overall"][0]["code"].startswith("(macro")
    by_code = {row["code"]: row for row in figures["by_code"]}
    assert by_code["supervision"]["tp"] + by_code["supervision"]["fn"] == 12
    assert by_code["supervision"]["folds"] == 3 and by_code["voice"]["refused"] is True
    written = _json(["suggest", path, "--min-confidence", "0.6", "--min-examples", "6"])
    assert written["written"] == sum(written["by_code"].values()) > 0
    assert "voice" in written["refused"]
    terms = _json(["keywords", path, "--code", "family", "--top", "5"])
    assert len(terms) == 5 and terms[0]["term"] == "family"
    table = runner.invoke(app, ["learn", path, "--folds", "3", "--min-examples", "6"])
    assert table.exit_code == 0 and "Cross-validated by document" in table.stdout
