"""The terminal reads well: fast --help, tables that fit, blank empties, --limit/--columns."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
from typer.testing import CliRunner

from qualcode import agreement, matrices
from qualcode.cli import app
from qualcode.cli import agreement as agreement_cli
from qualcode.cli import report as report_cli
from qualcode.cli.output import cell_text, emit
from qualcode.project import NewCoding
from test_report_project import build_project

runner = CliRunner()
HEAVY = ("pandas", "numpy", "sqlalchemy", "spacy", "sklearn", "matplotlib", "docx", "openpyxl", "rich.table")


def test_help_imports_no_heavy_library():
    code = ("import sys, qualcode.cli; "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", f"importing the CLI loaded {out.strip()}: import them inside the verb"
    helped = subprocess.run([sys.executable, "-m", "qualcode", "--help"], capture_output=True, text=True)
    assert helped.returncode == 0 and "report" in helped.stdout


def test_help_defaults_written_out_match_the_library():
    assert agreement_cli.MIN_CODED == agreement.MIN_CODED
    assert report_cli.COUNTS == matrices.COUNTS


def test_cells_read_as_text():
    assert cell_text(pd.NA) == "" and cell_text(None) == "" and cell_text(float("nan")) == ""
    assert cell_text(False) == "no" and cell_text(["enabler", "barrier"]) == "enabler, barrier"
    assert cell_text({"Wave 1": 2}) == "Wave 1: 2" and cell_text("two\nlines") == "two lines"


def test_table_fits_the_width_trims_and_limits(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    frame = pd.DataFrame({
        "id": range(1, 8),
        "code": ["voice_of_child"] * 7,
        "passage": ["We sat down with the whole family and the child drew a picture of home " * 4] * 7,
        "note": [None, float("nan"), pd.NA, True, ["a", "b"], {"x": 1}, "ok"],
    })
    emit(frame, False, limit=6)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" in out  # the long passage is trimmed
    for junk in ("NaN", "<NA>", "None", "True", "['a'", "{'x'"):
        assert junk not in out
    assert "a, b" in out and "x: 1" in out and "yes" in out
    assert "1 more rows" in out
    emit(frame, False, columns="id,code")
    assert "passage" not in capsys.readouterr().out


def test_documents_limit_columns_and_unknown_column(tmp_path):
    build_project(tmp_path / "p.qc").project.close()
    path = str(tmp_path / "p.qc")
    result = runner.invoke(app, ["documents", path, "--limit", "2", "--columns", "name,wave"],
                           env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "SW01_w1.txt" in result.stdout and "TM01_w2.txt" not in result.stdout
    assert "2 more rows" in result.stdout and "source" not in result.stdout
    bad = runner.invoke(app, ["documents", path, "--columns", "nmae"])
    assert bad.exit_code != 0 and "nmae" in str(bad.exception) and "name" in str(bad.exception)
    full = json.loads(runner.invoke(app, ["documents", path, "--json", "--limit", "1"]).stdout)
    assert len(full) == 4


def test_review_queue_shows_the_passage(tmp_path):
    built = build_project(tmp_path / "p.qc")
    doc = built.doc_ids["FAM01_w1.txt"]
    built.project.add_codings([NewCoding(doc, 6, 100, "voice", "rules", status="suggested", confidence=0.6,
                                         method="rule")])
    built.project.close()
    result = runner.invoke(app, ["review", str(tmp_path / "p.qc"), "queue"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert "They listened to my" in result.stdout and "wrote it down" in result.stdout and "voice" in result.stdout
    assert "NaN" not in result.stdout and "None" not in result.stdout


def test_a_result_record_prints_its_fields_not_a_repr(capsys):
    from qualcode.refi.project_export import RefiExport

    emit(RefiExport("out.qdpx", 94, 51, 1446, 8, 8, 2), False, title="wrote out.qdpx")
    out = capsys.readouterr().out
    assert "RefiExport(" not in out
    assert out.splitlines()[0] == "wrote out.qdpx" and "codings    1446" in out and "users      2" in out
    emit(RefiExport("out.qdpx", 94, 51, 1446, 8, 8, 2), True)
    assert json.loads(capsys.readouterr().out)["codings"] == 1446
