"""``qualcode codings import|export`` through the CLI, with --json."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from qualcode import Project
from qualcode.cli import app
from qualcode.errors import ValidationProblems
from test_learn_corpus import add_codes, add_document

runner = CliRunner()


def test_codings_import_then_export(tmp_path):
    with Project.create(tmp_path / "p.qc") as project:
        add_codes(project)
        add_document(project, "W1_SW01", "Group supervision helps. Caseloads are high.")
    path = str(tmp_path / "p.qc")
    good = tmp_path / "in.csv"
    good.write_text("document,start,end,code,coder,status\nW1_SW01,0,24,supervision,sam,\n"
                    "W1_SW01,25,44,workload,sam,suggested\n", encoding="utf-8")
    result = runner.invoke(app, ["codings", "import", path, str(good), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["added"] == 2

    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["codings", "export", path, str(out), "--status", "accepted", "--json"])
    assert json.loads(result.stdout) == {"file": str(out), "codings": 1}
    assert "Group supervision helps." in out.read_text(encoding="utf-8-sig")

    bad = tmp_path / "bad.csv"
    bad.write_text("document,start,end,code,coder\nW1_SW02,0,5,supervision,sam\n", encoding="utf-8")
    result = runner.invoke(app, ["codings", "import", path, str(bad)])
    assert isinstance(result.exception, ValidationProblems)
    assert "bad.csv:2: unknown document 'W1_SW02'. Fix: did you mean 'W1_SW01'?" in str(result.exception)
