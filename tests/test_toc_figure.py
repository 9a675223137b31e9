"""The theory-of-change figure: produced as PNG and SVG, sized for an A4 page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from matplotlib import image
from matplotlib.colors import to_hex
from typer.testing import CliRunner

from qualcode.cli import app
from qualcode.errors import InputError
from qualcode.evidence import evidence
from qualcode.project import Project
from qualcode.toc import load_toc
from qualcode.toc_figure import DPI, PAGE_WIDTH, build_figure, draw_toc

CODEBOOKS = Path(__file__).resolve().parents[1] / "codebooks"


@pytest.fixture(scope="module")
def whole_family():
    return load_toc(CODEBOOKS / "toc_whole_family.yaml")


def test_png_and_svg_from_a_project(tmp_path, whole_family):
    with Project.create(tmp_path / "p.qc") as project:
        result = evidence(project, whole_family)
    png = draw_toc(whole_family, result, tmp_path / "toc.png")
    svg = draw_toc(whole_family, result, tmp_path / "toc.svg")
    assert png.stat().st_size > 50_000 and svg.stat().st_size > 50_000
    height, width = image.imread(png).shape[:2]
    assert width == round(PAGE_WIDTH * DPI)  # A4 width at 200 dpi
    assert height > width / 2
    assert "<svg" in svg.read_text()[:500]


def test_boxes_are_filled_by_strength_and_marked(whole_family):
    strength = {"reduce_risk": "strong", "wellbeing": "weak"}
    fig = build_figure(whole_family, strength, {"reduce_risk": "✓ →"}, {"as_caseloads": "challenges"})
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "indicators: ✓ →" in texts
    assert any(t.startswith("Indicators: ✓ met") for t in texts)
    fills = [to_hex(p.get_facecolor()) for p in fig.axes[0].patches]
    assert fills.count("#08519c") == 1 and fills.count("#c6dbef") == 1  # strong and weak outcomes
    smallest = min(t.get_fontsize() for t in fig.axes[0].texts)
    assert smallest >= 7


def test_bad_output_name(tmp_path, whole_family):
    with pytest.raises(InputError, match=r"cannot write a figure as .pdf. Fix: name the output .png or .svg"):
        draw_toc(whole_family, None, tmp_path / "toc.pdf")


def test_cli_figure_and_evidence(tmp_path):
    Project.create(tmp_path / "p.qc").close()
    runner = CliRunner()
    toc = str(CODEBOOKS / "toc_four_strand.yaml")
    fig = runner.invoke(app, ["toc", "figure", str(tmp_path / "p.qc"), "--toc", toc, "--out",
                              str(tmp_path / "t.svg"), "--json"])
    assert fig.exit_code == 0, fig.output
    assert json.loads(fig.output)["figure"].endswith("t.svg") and (tmp_path / "t.svg").exists()
    ev = runner.invoke(app, ["evidence", str(tmp_path / "p.qc"), "--toc", toc, "--json"])
    assert ev.exit_code == 0, ev.output
    data = json.loads(ev.output)
    assert len(data["summary"]) == len(load_toc(toc).outcomes) + 3 + 2  # outcomes, impacts, assumptions
    assert "direct_work_time" in data["gaps"]
    text = runner.invoke(app, ["evidence", str(tmp_path / "p.qc"), "--toc", toc])
    assert "Gaps (no evidence):" in text.output and "none: no accepted codings" in text.output
    assert "too little evidence (rule 3)" in text.output and "NaN" not in text.output
