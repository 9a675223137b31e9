"""``qualcode autocode`` through typer's CliRunner: JSON out, loading, errors as one line."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from qualcode import Project
from qualcode.cli import app
from qualcode.corpus import import_paths

CODEBOOK = """\
id: cli_test
name: CLI test
version: "1.0"
codes:
  - id: supervision
    name: Supervision
    definition: Group or individual supervision of practitioners.
    match: {keywords: [group supervision]}
  - id: safeguarding
    name: Safeguarding
    definition: Keeping children safe from harm.
    match: {keywords: [safeguarding], fuzzy: true}
"""

TRANSCRIPT = """\
Interviewer: Do you get group supervision?
Sam: Yes, group supervisions are weekly now.
Interviewer: And safeguarding?
Sam: The safegaurding lead joins us.
"""


def _project(tmp_path):
    (tmp_path / "sam.txt").write_text(TRANSCRIPT, encoding="utf-8")
    (tmp_path / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    with Project.create(tmp_path / "p.qc") as project:
        import_paths(project, [tmp_path / "sam.txt"])
    return tmp_path / "p.qc", tmp_path / "cb.yaml"


def test_autocode_json_loads_the_codebook_and_writes_suggestions(tmp_path):
    project, cb = _project(tmp_path)
    result = CliRunner().invoke(app, ["autocode", str(project), "--codebook", str(cb), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert (out["suggestions"], out["codebooks_loaded"], out["model"]) == (2, ["cli_test 1.0"], "blank:en")
    assert out["per_code"] == {"supervision": 1, "safeguarding": 1}
    with Project.open(project) as opened:
        codings = opened.codings()
    assert sorted(codings.explanation) == [
        "fuzzy 0.92 'safegaurding' ~ 'safeguarding'; in turn 4 (Sam)",
        "lemma match 'group supervision' as 'group supervisions'; in turn 2 (Sam)"]
    again = json.loads(CliRunner().invoke(app, ["autocode", str(project), "--codebook", str(cb), "--json"]).output)
    assert (again["suggestions"], again["already_present"], again["codebooks_loaded"]) == (0, 2, [])


def test_autocode_table_output(tmp_path):
    project, cb = _project(tmp_path)
    result = CliRunner().invoke(app, ["autocode", str(project), "--codebook", str(cb)])
    assert result.exit_code == 0, result.output
    assert "2 suggestion(s) written" in result.output
    assert "supervision" in result.output and "cli_test 1.0" in result.output


def test_autocode_unknown_model_fails_with_the_install_command(tmp_path):
    project, cb = _project(tmp_path)
    result = CliRunner().invoke(app, ["autocode", str(project), "--codebook", str(cb), "--model", "en_nope_sm"])
    assert result.exit_code != 0
    assert "python -m spacy download en_nope_sm" in str(result.exception)
