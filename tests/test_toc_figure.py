"""The theory-of-change figure: laid out by Graphviz, coloured by judgement, legible at print size."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from matplotlib import image
from typer.testing import CliRunner

from qualcode.cli import app
from qualcode.errors import InputError
from qualcode.evidence import evidence
from qualcode.project import Project
from qualcode.toc import load_toc
from qualcode.toc_figure import VERDICT_STYLE, draw_toc, print_font_size, toc_graph

CODEBOOKS = Path(__file__).resolve().parents[1] / "codebooks"
LANDSCAPE_A4_TEXT_IN = (29.7 - 5 - 1.5) / 2.54  # the report's landscape page, less room for the caption
pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz (dot) is not installed")


@pytest.fixture(scope="module")
def whole_family():
    return load_toc(CODEBOOKS / "toc_whole_family.yaml")


def test_png_and_svg_from_a_project(tmp_path, whole_family):
    with Project.create(tmp_path / "p.qc") as project:
        result = evidence(project, whole_family)
    png = draw_toc(whole_family, result, tmp_path / "toc.png")
    svg = draw_toc(whole_family, result, tmp_path / "toc.svg")
    assert png.stat().st_size > 50_000 and svg.stat().st_size > 10_000
    height, width = image.imread(png).shape[:2]
    assert width > height  # a column diagram, read left to right
    assert "<svg" in svg.read_text()[:500]


def test_boxes_are_coloured_by_judgement_with_a_legend(tmp_path, whole_family):
    with Project.create(tmp_path / "p.qc") as project:
        result = evidence(project, whole_family)
    result.summary.loc[result.summary["node"] == "reduce_risk", "verdict"] = "not achieved"
    result.summary.loc[result.summary["node"] == "wellbeing", "verdict"] = "conflict"
    source = toc_graph(whole_family, result).source
    assert re.search(r"reduce_risk \[[^\]]*fillcolor=\"#b2182b\"", source)
    assert re.search(r"wellbeing \[[^\]]*fillcolor=\"#762a83\"", source)
    for _, _, words in VERDICT_STYLE.values():  # the legend says what each colour means, in words
        assert words in source
    assert "Assumptions" in source and "A1. " in source
    # Fitted to the report's landscape page, box text prints at 7 pt or more.
    assert print_font_size(whole_family, result, LANDSCAPE_A4_TEXT_IN) >= 7


def test_arrows_never_run_through_boxes(tmp_path, whole_family):
    """Every edge's spline, sampled, stays outside every box other than its own two ends."""
    with Project.create(tmp_path / "p.qc") as project:
        result = evidence(project, whole_family)
    from qualcode.toc_figure import _pipe

    layout = json.loads(_pipe(toc_graph(whole_family, result), "json"))
    boxes = {}
    for obj in layout["objects"]:
        if "pos" in obj and not obj["name"].startswith("_head"):
            x, y = (float(v) for v in obj["pos"].split(","))
            w, h = float(obj["width"]) * 72 / 2, float(obj["height"]) * 72 / 2
            boxes[obj["_gvid"]] = (obj["name"], x - w, x + w, y - h, y + h)
    crossings = []
    for edge in layout.get("edges", []):
        if edge.get("style") == "invis":
            continue
        points = [tuple(float(v) for v in p.split(",")[-2:]) for p in edge["pos"].split()]
        for gvid, (name, x0, x1, y0, y1) in boxes.items():
            if gvid in (edge["tail"], edge["head"]):
                continue
            if any(x0 + 2 < x < x1 - 2 and y0 + 2 < y < y1 - 2 for x, y in points):
                crossings.append((boxes[edge["tail"]][0], boxes[edge["head"]][0], name))
    assert not crossings


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


@pytest.mark.parametrize("name", ["toc_whole_family.yaml", "toc_four_strand.yaml"])
def test_column_titles_run_along_the_top(name):
    """dot put the titles under their columns; they belong above them, in one row."""
    from qualcode.toc_figure import _columns, _pipe

    toc = load_toc(CODEBOOKS / name)
    layout = json.loads(_pipe(toc_graph(toc), "json"))
    y = {o["name"]: float(o["pos"].split(",")[1]) for o in layout["objects"] if "pos" in o}  # y grows upwards
    titles = [y[f"_head{i}"] for i in range(len(_columns(toc)))]
    assert len(set(titles)) == 1  # one row
    assert titles[0] > max(y[n] for n in toc.nodes if n in y)  # above every box


def test_assumptions_read_as_held_or_not(tmp_path, whole_family):
    from qualcode.judgements import ASSUMPTION_VERDICTS

    with Project.create(tmp_path / "p.qc") as project:
        result = evidence(project, whole_family)
    assumptions = result.summary[result.summary["kind"] == "assumption"]
    assert len(assumptions) == len(whole_family.assumptions)
    assert not assumptions["judgement"].str.contains("achieved").any()  # an assumption holds; it is not achieved
    result.summary.loc[result.summary["node"] == whole_family.assumptions[0].id, "verdict"] = "not achieved"
    result.summary.loc[result.summary["node"] == whole_family.assumptions[1].id, "verdict"] = "achieved"
    source = toc_graph(whole_family, result).source
    assert f"A1. {whole_family.assumptions[0].name}: did not hold" in source
    assert f"A2. {whole_family.assumptions[1].name}: held" in source
    assert "A3. " in source and f": {ASSUMPTION_VERDICTS['too little']}" in source
    legend = source[source.index("Assumptions"):]
    assert "achieved" not in legend
