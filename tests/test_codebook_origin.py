"""Codebooks from real tools often lack definitions: converting and loading them warns and goes on."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from qualcode import Project
from qualcode.cli import app
from qualcode.codebook import load_codebook, parse_codebook
from qualcode.codebook_formats import convert
from qualcode.codebook_sync import load_into_project
from qualcode.errors import ValidationProblems

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "refi" / "samples"
needs_samples = pytest.mark.skipif(not SAMPLES.exists(), reason="shared/refi/samples not beside the checkout")


@needs_samples
@pytest.mark.parametrize("name, origin", [("nvivo12win_oltas.qdpx", "NVivo for Windows 12.6"),
                                          ("taguette141_codebook.qdc", "Taguette 1.4.1")])
def test_converting_a_real_tools_codebook_warns_and_goes_on(tmp_path, name, origin):
    out = tmp_path / "book.yaml"
    result = convert(SAMPLES / name, out)
    assert result["warnings"] and all("has no definition" in w and origin in w for w in result["warnings"])
    book = load_codebook(out)  # no ValidationProblems: the empty definitions are warnings
    assert book.origin == origin
    empty = [c for c in book.codes if not c.definition.strip()]
    assert len(book.warnings) == len(empty) > 0 and f"{out}:" in str(book.warnings[0])
    with Project.create(tmp_path / "p.qc") as project:
        diff = load_into_project(project, book, out.read_text(encoding="utf-8"))
        assert diff.count("added") == len(book.codes)


def test_the_definition_rule_still_holds_for_codebooks_written_in_qualcode():
    text = "id: ours\nname: Ours\nversion: '1.0'\ncodes:\n  - {id: a, name: A}\n"
    with pytest.raises(ValidationProblems, match="has an empty definition"):
        parse_codebook(text, "ours.yaml")
    book = parse_codebook(text.replace("codes:", "origin: MAXQDA 24\ncodes:"), "from_maxqda.yaml")
    assert [w.line for w in book.warnings] == [6]


@needs_samples
def test_cli_convert_and_load_print_warnings_and_exit_zero(tmp_path):
    runner = CliRunner(mix_stderr=False) if "mix_stderr" in CliRunner.__init__.__code__.co_varnames else CliRunner()
    out = tmp_path / "book.yaml"
    converted = runner.invoke(app, ["codebook", "convert", str(SAMPLES / "taguette141_codebook.qdc"), str(out)])
    assert converted.exit_code == 0 and "warning:" in (converted.stderr or converted.output)
    qc = tmp_path / "p.qc"
    assert runner.invoke(app, ["init", str(qc)]).exit_code == 0
    loaded = runner.invoke(app, ["codebook", "load", str(qc), str(out), "--json"])
    assert loaded.exit_code == 0, loaded.output
