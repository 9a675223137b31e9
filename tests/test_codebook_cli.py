"""``qualcode codebook validate | load | convert`` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qualcode import Project
from qualcode.cli import app
from qualcode.errors import ValidationProblems

REPO = Path(__file__).resolve().parents[1]
DFE = REPO / "codebooks" / "dfe_practice_features.yaml"
runner = CliRunner()

SMALL = """\
id: small
name: Small
version: "1.0"
codes:
  - {id: a, name: A, definition: Ay., outcomes: [wellbeing]}
  - {id: b, name: B, definition: Bee.}
"""


def test_validate_shipped_codebook_json():
    result = runner.invoke(app, ["codebook", "validate", str(DFE), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["valid"] is True and data["id"] == "dfe_practice_features" and data["codes"] == 16
    assert data["terms"] > 200 and data["problems"] == []


def test_validate_table_output():
    result = runner.invoke(app, ["codebook", "validate", str(DFE)])
    assert result.exit_code == 0 and f"{DFE}: valid" in result.output and "version" in result.output


def test_validate_problems_json_and_exit_code(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.replace("definition: Bee.", "definition: ''").replace("id: b", "id: a"), encoding="utf-8")
    result = runner.invoke(app, ["codebook", "validate", str(bad), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["valid"] is False
    assert [(p["line"], p["message"]) for p in data["problems"]] == [
        (6, "duplicate id 'a' (first used on line 5)"), (6, "code 'a' has an empty definition")]


def test_validate_problems_raise_for_main_to_print(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.replace("name: B", "nmae: B"), encoding="utf-8")
    result = runner.invoke(app, ["codebook", "validate", str(bad)])
    assert result.exit_code == 1 and isinstance(result.exception, ValidationProblems)
    assert "unknown code key 'nmae'. Fix: did you mean 'name'?" in str(result.exception)


def test_validate_with_toc():
    toc_module = pytest.importorskip("qualcode.toc")
    tocs = sorted((REPO / "codebooks").glob("toc_*.yaml"))
    if not tocs:
        pytest.skip("no theory of change shipped in codebooks/ yet")
    linked = {"reduce_risk", "stability", "wellbeing", "days_in_care", "workforce_wellbeing",
              "workforce_stability", "value_for_money"}
    for toc_file in tocs:
        missing = linked - set(toc_module.load_toc(toc_file).node_ids())
        result = runner.invoke(app, ["codebook", "validate", str(DFE), "--toc", str(toc_file), "--json"])
        data = json.loads(result.output)
        assert data["valid"] is (not missing) and result.exit_code == (1 if missing else 0)
        assert {p["message"].rsplit("'", 2)[-2] for p in data["problems"]} == missing


def test_load_shows_diff_then_no_op(tmp_path):
    project = tmp_path / "eval.qc"
    Project.create(project).close()
    cb = tmp_path / "small.yaml"
    cb.write_text(SMALL, encoding="utf-8")
    first = runner.invoke(app, ["codebook", "load", str(project), str(cb), "--json"])
    assert first.exit_code == 0, first.output
    data = json.loads(first.output)
    assert data["summary"].startswith("small new, 1.0: 2 added")
    assert [(c["change"], c["code"]) for c in data["changes"]] == [("added", "a"), ("added", "b")]
    cb.write_text(SMALL.replace('"1.0"', '"1.1"').replace("name: B", "name: Bee"), encoding="utf-8")
    second = runner.invoke(app, ["codebook", "load", str(project), str(cb)])
    assert second.exit_code == 0
    assert "small 1.0 -> 1.1: 0 added, 1 renamed" in second.output and "Bee" in second.output
    again = runner.invoke(app, ["codebook", "load", str(project), str(cb), "--json"])
    assert json.loads(again.output)["unchanged"] is True


def test_load_older_version_fails(tmp_path):
    project = tmp_path / "eval.qc"
    Project.create(project).close()
    cb = tmp_path / "small.yaml"
    cb.write_text(SMALL.replace('"1.0"', '"2.0"'), encoding="utf-8")
    assert runner.invoke(app, ["codebook", "load", str(project), str(cb)]).exit_code == 0
    cb.write_text(SMALL, encoding="utf-8")
    result = runner.invoke(app, ["codebook", "load", str(project), str(cb)])
    assert result.exit_code == 1 and "older version 1.0" in str(result.exception)


def test_convert_verb(tmp_path):
    out = tmp_path / "dfe.md"
    result = runner.invoke(app, ["codebook", "convert", str(DFE), str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["codes"] == 16 and out.read_text(encoding="utf-8").startswith("# DfE")
    text = runner.invoke(app, ["codebook", "convert", str(DFE), str(tmp_path / "dfe.qdc")])
    assert text.exit_code == 0 and "wrote" in text.output and "16 codes" in text.output


def test_codebook_help_lists_verbs():
    result = runner.invoke(app, ["codebook", "--help"])
    assert result.exit_code == 0
    for verb in ("validate", "load", "convert"):
        assert verb in result.output
