"""The agreement, disagreements and settle verbs, driven through Typer's CliRunner."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from qualcode import Project
from qualcode.cli import app
from qualcode.cli.agreement import _list_options

from test_agreement import add_codes, add_document, code

runner = CliRunner()


@pytest.fixture
def project_file(tmp_path):
    """Six documents: 'support' by alex in d1-d4, by sam in d1-d3 and d5; 'other' by both
    everywhere (so all six are compared). Document-level kappa for 'support' is 0.25."""
    path = tmp_path / "eval.qc"
    with Project.create(path) as project:
        add_codes(project, "support", "other")
        for i in range(1, 7):
            doc = add_document(project, f"d{i}.txt")
            code(project, doc, "alex", "other", (0, 5))
            code(project, doc, "sam", "other", (0, 5))
            if i <= 4:
                code(project, doc, "alex", "support", (20, 40))
            if i <= 3 or i == 5:
                code(project, doc, "sam", "support", (22, 40))
    return path


def test_agreement_json(project_file):
    result = runner.invoke(app, ["agreement", str(project_file), "--coders", "alex", "sam",
                                 "--unit", "document", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["coders"] == ["alex", "sam"] and data["unit"] == "document" and data["kappa"] == "Cohen's kappa"
    support = next(row for row in data["by_code"] if row["code"] == "support")
    assert support["kappa"] == pytest.approx(0.25)
    other = next(row for row in data["by_code"] if row["code"] == "other")
    assert other["kappa"] is None and other["flag"].startswith("one category only")
    assert len(data["documents"]) == 6 and data["by_document"] == []  # per-document rows only with --by-document
    asked = runner.invoke(app, ["agreement", str(project_file), "--coders", "alex", "sam",
                                "--unit", "document", "--json", "--by-document"])
    assert len(json.loads(asked.output)["by_document"]) == 12
    assert data["overall"][0]["n_units"] == 12


def test_agreement_table_and_list_options_anywhere(project_file):
    result = runner.invoke(app, ["agreement", str(project_file), "--unit", "document", "--codes", "support",
                                 "--coders", "alex", "sam", "--by-document"], env={"COLUMNS": "150"})
    assert result.exit_code == 0, result.output
    assert "Agreement between alex, sam — unit: document, 6 documents, Cohen's kappa" in result.output
    assert "Cohen's κ" in result.output and "0.250" in result.output and "All codes (pooled)" in result.output
    assert "By document" in result.output and "Other" not in result.output


def test_agreement_named_documents_and_repeated_flags(project_file):
    result = runner.invoke(app, ["agreement", str(project_file), "--coders", "alex", "--coders=sam",
                                 "--unit", "document", "--documents", "d1.txt", "d2.txt", "--json"])
    assert result.exit_code == 0, result.output
    assert [d["document"] for d in json.loads(result.output)["documents"]] == ["d1.txt", "d2.txt"]


def run_main(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    """Run the real entry point (``qualcode.cli.main``) and return (exit code, stderr)."""
    from qualcode.cli import main

    monkeypatch.setattr("sys.argv", ["qualcode", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    return exit_info.value.code, capsys.readouterr().err


def test_usage_errors_exit_2_with_the_fix(project_file, monkeypatch, capsys):
    code_, err = run_main(monkeypatch, capsys, "agreement", str(project_file), "--unit", "document")
    # the CLI's error line starts lower-case ("error: missing option …"); the fix is what matters
    assert code_ == 2 and "missing option '--coders'. name two or more coders, e.g. --coders alex sam" in err.lower()
    code_, err = run_main(monkeypatch, capsys, "agreement", str(project_file), "alex", "--coders", "sam")
    assert code_ == 2 and "unexpected extra argument (alex)" in err.lower()
    code_, err = run_main(monkeypatch, capsys, "agreement", str(project_file), "--coders", "a", "b", "--colour", "red")
    assert code_ == 2 and "no such option: --colour" in err.lower()
    assert err.strip().endswith("Fix: see `qualcode agreement --help`.")  # the verb's help, not the program's


def test_library_errors_are_one_line_and_exit_1(project_file, monkeypatch, capsys):
    code_, err = run_main(monkeypatch, capsys, "agreement", str(project_file), "--coders", "alex", "kim")
    lines = err.strip().splitlines()
    assert code_ == 1 and len(lines) == 1 and lines[0].startswith("error: ") and "no coder 'kim'" in lines[0]
    code_, err = run_main(monkeypatch, capsys, "agreement", str(project_file), "--coders", "alex")
    assert code_ == 1 and "agreement needs at least two coders, got 1. Fix: name two or more coders" in err


def test_disagreements_then_settle(project_file):
    listed = runner.invoke(app, ["disagreements", str(project_file), "--coders", "alex", "sam",
                                 "--codes", "support", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    # d1-d3: alex alone on [20, 22); d4: alex alone on [20, 40), trimmed of its final newline
    # to [20, 39); d5: sam alone on [22, 39)
    assert [(r["document"], r["start"], r["end"], r["coded_by"], r["text"]) for r in rows] == [
        ("d1.txt", 20, 22, "alex", "Li"), ("d2.txt", 20, 22, "alex", "Li"), ("d3.txt", 20, 22, "alex", "Li"),
        ("d4.txt", 20, 39, "alex", "Line 2 ok\nLine 3 ok"), ("d5.txt", 22, 39, "sam", "ne 2 ok\nLine 3 ok")]
    settled = runner.invoke(app, ["settle", str(project_file), "d4.txt", "20", "39", "support",
                                  "--by", "team", "--json"])
    assert settled.exit_code == 0, settled.output
    assert json.loads(settled.output)["written"] == 1
    dropped = runner.invoke(app, ["settle", str(project_file), "d5.txt", "22", "39", "support", "--by", "team", "--drop"])
    assert dropped.exit_code == 0 and "rejected" in dropped.output
    with Project.open(project_file) as p:
        consensus = p.codings(coder="consensus")
    assert list(zip(consensus["document"], consensus["status"])) == [("d4.txt", "accepted"), ("d5.txt", "rejected")]


def test_help_documents_the_list_options():
    result = runner.invoke(app, ["agreement", "--help"])
    assert result.exit_code == 0
    assert "--coders A B" in result.output and "--unit" in result.output and "--json" in result.output


def test_list_option_parser():
    assert _list_options(["--coders", "a", "b", "--documents", "x y.txt", "--codes=k"]) == {
        "coders": ["a", "b"], "documents": ["x y.txt"], "codes": ["k"]}
    with pytest.raises(Exception, match="--coders needs at least one value"):
        _list_options(["--coders"])
