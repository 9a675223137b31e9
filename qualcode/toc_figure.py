"""The theory of change as the familiar column diagram, coloured by each node's judgement.

Columns run inputs → activities → outputs → outcomes (short, then medium term) →
impacts, left to right; arrows follow ``leads_to``. Graphviz's ``dot`` lays it out: a
layered-graph layout made for exactly this, which keeps columns in order, orders boxes
to cut crossings and routes every arrow around the boxes, never behind them (the
hand-made layout this replaces drew links across boxes).

Each outcome and impact is filled by its judgement (achieved, not achieved, mixed,
conflicting, unclear, too little evidence; a legend under the diagram says which is
which, in words as well as colour) and carries its indicator status in words.
Column titles run along the top. Assumptions are listed under the diagram with their
own judgement, worded for an assumption (held, did not hold, not evidenced). Text is set at
``FONT_PT`` and the drawing is fitted to the A4 text width, so ``print_font_size``
tells the smallest size it prints at.

>>> draw_toc(toc, evidence(project, toc), "out/toc.png")     # doctest: +SKIP
"""

from __future__ import annotations

import html
import json
import shutil
import textwrap
from pathlib import Path

from .errors import InputError, ModelNotInstalled
from .evidence import EvidenceResult
from .judgements import ASSUMPTION_VERDICTS
from .toc import Node, TheoryOfChange

FONT = "Arial"
FONT_PT = 10.0
WRAP = 22  # characters per line in a box
PRINT_WIDTH_IN = 6.3  # A4 text width with 2.5 cm margins
DPI = 200
VERDICT_STYLE = {  # fill, text colour, legend wording; ColorBrewer RdBu/PuOr: colour-blind safe, and named in words
    "achieved": ("#2166ac", "white", "evidence that it was achieved"),
    "not achieved": ("#b2182b", "white", "evidence that it was not achieved"),
    "mixed": ("#f4a582", "black", "mixed evidence"),
    "conflict": ("#762a83", "white", "coded evidence and indicator disagree"),
    "unclear": ("#d9d9d9", "black", "unclear: few segments carry a direction"),
    "too little": ("#ffffff", "black", "too little evidence"),
}
PLAIN = ("#f7f7f7", "black")  # inputs, activities, outputs: not judged


def draw_toc(toc: TheoryOfChange, result: EvidenceResult | None = None, out: str | Path = "toc.png",
             dpi: int = DPI) -> Path:
    """Draw ``toc`` (coloured by ``result`` when given) to a .png or .svg file; returns the path."""
    out = Path(out)
    if out.suffix.lower() not in (".png", ".svg"):
        raise InputError(out, f"cannot write a figure as {out.suffix or 'a file without extension'}",
                         "name the output .png or .svg")
    if not out.parent.exists():
        raise InputError(out, f"folder {out.parent} does not exist", "create it first")
    graph = toc_graph(toc, result)
    graph.attr(dpi=str(dpi))
    out.write_bytes(_pipe(graph, out.suffix.lower().lstrip(".")))
    return out


def _pipe(graph, fmt: str) -> bytes:
    if shutil.which("dot") is None:
        raise ModelNotInstalled("Graphviz's `dot` is not installed, so the theory-of-change figure cannot be laid "
                                "out. Fix: install Graphviz (Debian/Ubuntu: apt-get install graphviz; conda: "
                                "conda install graphviz; macOS: brew install graphviz).")
    return graph.pipe(format=fmt)


def print_font_size(toc: TheoryOfChange, result: EvidenceResult | None = None,
                    width_in: float = PRINT_WIDTH_IN) -> float:
    """The box text's size in points once the drawing is scaled to ``width_in`` (the report's width)."""
    layout = json.loads(_pipe(toc_graph(toc, result), "json"))
    _, _, width_pt, _ = (float(v) for v in layout["bb"].split(","))
    return FONT_PT * min(1.0, width_in * 72 / width_pt)


def toc_graph(toc: TheoryOfChange, result: EvidenceResult | None = None):
    """The ``graphviz.Digraph`` of the diagram (callers render or inspect it)."""
    import graphviz

    verdicts, indicators = _facts(result)
    graph = graphviz.Digraph(toc.id, graph_attr={
        "rankdir": "LR", "splines": "spline", "nodesep": "0.12", "ranksep": "0.35", "newrank": "true",
        "fontname": FONT, "fontsize": str(FONT_PT), "labelloc": "b", "labeljust": "l", "pad": "0.1",
        "label": _legend(toc, verdicts, result is not None)})
    graph.attr("node", shape="box", style="rounded,filled", fontname=FONT, fontsize=str(FONT_PT),
               margin="0.08,0.04", penwidth="0.8")
    graph.attr("edge", color="#4d4d4d", arrowsize="0.6", penwidth="0.8")
    columns = _columns(toc)
    for i, (title, nodes) in enumerate(columns):
        with graph.subgraph(name=f"column{i}") as column:
            column.attr(rank="same")
            column.node(f"_head{i}", title, shape="plaintext", style="", fontsize=str(FONT_PT + 1),
                        fontname=f"{FONT} Bold")
            for node in nodes:
                column.node(node.id, **_box(node, verdicts.get(node.id), indicators.get(node.id), result is not None))
                # A flat edge from the title to each box puts the title first in its column, i.e. on top
                # (dot placed it at the bottom); weight 0 leaves the boxes' order to the real links.
                column.edge(f"_head{i}", node.id, style="invis", weight="0")
    for i in range(len(columns) - 1):  # the titles in column order, chained straight so they line up in one row
        graph.edge(f"_head{i}", f"_head{i + 1}", style="invis", weight="100")
    shown = {n.id for _, nodes in columns for n in nodes}
    for node in toc.nodes.values():
        for target in node.leads_to:
            if node.id in shown and target in shown:
                graph.edge(node.id, target)
    return graph


def _columns(toc: TheoryOfChange) -> list[tuple[str, list[Node]]]:
    """(title, nodes) per column, empty ones left out; outcomes split by term when given."""
    outcomes = toc.outcomes
    if any(n.term for n in outcomes):
        out_cols = [("Outcomes (short term)", [n for n in outcomes if n.term != "medium"]),
                    ("Outcomes (medium term)", [n for n in outcomes if n.term == "medium"])]
    else:
        out_cols = [("Outcomes", outcomes)]
    cols = [("Inputs", toc.of_kind("inputs")), ("Activities", toc.of_kind("activities")),
            ("Outputs", toc.of_kind("outputs")), *out_cols, ("Impacts", toc.impacts)]
    return [(title, nodes) for title, nodes in cols if nodes]


def _facts(result: EvidenceResult | None) -> tuple[dict[str, str], dict[str, str]]:
    if result is None:
        return {}, {}
    verdicts = dict(zip(result.summary["node"], result.summary["verdict"]))
    indicators = {node: state for node, state in zip(result.summary["node"], result.summary["indicator"])
                  if state != "none"}
    return verdicts, indicators


def _box(node: Node, verdict: str | None, indicator: str | None, judged: bool) -> dict[str, str]:
    lines = textwrap.wrap(node.name, WRAP) or [node.id]
    if indicator:
        lines.append(f"(indicator: {indicator})")
    fill, text = VERDICT_STYLE[verdict][:2] if verdict in VERDICT_STYLE else PLAIN
    style = "rounded,filled,dashed" if verdict == "too little" else "rounded,filled"
    if not judged and node.kind in ("outcomes", "impacts"):
        fill, text = "#ffffff", "black"
    return {"label": "\n".join(lines), "fillcolor": fill, "fontcolor": text, "style": style,
            "color": "#4d4d4d"}


def _legend(toc: TheoryOfChange, verdicts: dict[str, str], judged: bool) -> str:
    """An HTML-like label under the diagram: the colour key in words, then the assumptions."""
    e = html.escape
    rows = []
    if judged:
        cells = "".join(
            f'<TD BGCOLOR="{fill}" BORDER="1" WIDTH="16" HEIGHT="10"></TD><TD ALIGN="LEFT">{e(words)}   </TD>'
            + ("</TR><TR>" if i == 2 else "")
            for i, (fill, _, words) in enumerate(VERDICT_STYLE.values()))
        key = f'<TABLE BORDER="0" CELLSPACING="3" CELLPADDING="1"><TR>{cells}</TR></TABLE>'
        rows.append(f'<TR><TD ALIGN="LEFT"><B>Outcomes and impacts are coloured by their judgement:</B></TD></TR>'
                    f'<TR><TD ALIGN="LEFT">{key}</TD></TR>')
    if toc.assumptions:
        rows.append('<TR><TD ALIGN="LEFT"><B>Assumptions</B></TD></TR>')
    for i, node in enumerate(toc.assumptions, start=1):
        verdict = ASSUMPTION_VERDICTS.get(verdicts.get(node.id, ""), "")  # held / did not hold / not evidenced …
        text = f"A{i}. {node.name}" + (f": {verdict}" if verdict else "")
        rows.append(f'<TR><TD ALIGN="LEFT">{e(text)}</TD></TR>')
    return f'<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1">{"".join(rows)}</TABLE>>' if rows else ""
