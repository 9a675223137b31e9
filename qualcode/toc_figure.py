"""The theory of change as the familiar column diagram, coloured by the evidence.

Columns run inputs → activities → outputs → outcomes (short, then medium term) →
impacts; strands become horizontal bands; arrows follow ``leads_to``. Each outcome
and impact is filled by its evidence strength (a sequential blue palette, readable
in grey and by colour-blind readers) and badged with its indicators' status
(✓ met, → progress, ✗ not met, ? no data). Assumptions are listed underneath with
their own rating. The page is A4 width (8.3 in) with text at 7 pt or more.

>>> draw_toc(toc, evidence(project, toc), "out/toc.png")     # doctest: +SKIP
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never open a window
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch  # noqa: E402

from .errors import InputError  # noqa: E402
from .evidence import EvidenceResult  # noqa: E402
from .indicators import STATUS_MARKS  # noqa: E402
from .toc import Node, TheoryOfChange  # noqa: E402

PAGE_WIDTH = 8.3  # inches: A4 portrait
FONT = 7.0  # points; the smallest size we print
DPI = 200
STRENGTH_COLOURS = {  # ColorBrewer Blues: sequential, colour-blind and greyscale safe
    "strong": "#08519c", "moderate": "#6baed6", "weak": "#c6dbef", "none": "#ffffff",
}
NEUTRAL = "#f2f2f2"
EDGE = "#4d4d4d"
LINE_H = FONT * 1.25 / 72  # inches per text line
PAD = 0.06
GAP = 0.09
LEFT = 0.32  # room for the strand labels


@dataclass
class _Box:
    node: Node
    x: float
    y: float  # top edge
    w: float
    h: float
    lines: list[str]


def _columns(toc: TheoryOfChange) -> list[tuple[str, list[Node]]]:
    """(title, nodes) per column, empty ones left out; outcomes split by term when given."""
    outcomes = toc.outcomes
    if any(n.term for n in outcomes):
        out_cols = [("Outcomes\n(short term)", [n for n in outcomes if n.term != "medium"]),
                    ("Outcomes\n(medium term)", [n for n in outcomes if n.term == "medium"])]
    else:
        out_cols = [("Outcomes", outcomes)]
    cols = [("Inputs", toc.of_kind("inputs")), ("Activities", toc.of_kind("activities")),
            ("Outputs", toc.of_kind("outputs")), *out_cols, ("Impacts", toc.impacts)]
    return [(title, nodes) for title, nodes in cols if nodes]


def _bands(toc: TheoryOfChange) -> list[tuple[str | None, str]]:
    """(strand id or None, label) in drawing order; nodes with no strand share a last band."""
    bands = [(s.id, s.name) for s in toc.strands]
    judged = [n for n in toc.nodes.values() if n.kind != "assumptions"]
    if any(n.strand is None for n in judged) or not bands:
        bands.append((None, "Across strands" if bands else ""))
    return bands


def _wrap(text: str, width_in: float, size: float = FONT) -> list[str]:
    chars = max(6, int(width_in * 72 / (size * 0.55)))  # DejaVu Sans averages ~0.55 em
    return textwrap.wrap(text, chars) or [""]


def _two_lines(label: str) -> list[str]:
    """A strand label on at most two lines, split between words where the halves balance."""
    words = label.split()
    if len(label) <= 18 or len(words) < 2:
        return [label] if label else []
    best = min(range(1, len(words)), key=lambda k: abs(len(" ".join(words[:k])) - len(" ".join(words[k:]))))
    return [" ".join(words[:best]), " ".join(words[best:])]


def _layout(toc: TheoryOfChange, top: float) -> tuple[list[_Box], list[tuple[str, float, float]], list[tuple], float]:
    """Boxes, column titles (title, x centre, y) and bands (label, top, bottom); returns the bottom y."""
    cols = _columns(toc)
    col_w = (PAGE_WIDTH - LEFT - 0.1) / len(cols)
    box_w = col_w - 0.16
    titles = [(title, LEFT + col_w * (i + 0.5), top) for i, (title, _) in enumerate(cols)]
    boxes: list[_Box] = []
    bands_out = []
    y = top - 0.3
    for strand, label in _bands(toc):
        band_top = y
        lowest = y
        for i, (_, nodes) in enumerate(cols):
            cy = band_top - GAP
            for node in (n for n in nodes if n.strand == strand):
                lines = _wrap(node.name, box_w - 2 * PAD)
                h = len(lines) * LINE_H + 2 * PAD + (LINE_H if node.indicators else 0)
                boxes.append(_Box(node, LEFT + col_w * i + 0.08, cy, box_w, h, lines))
                cy -= h + GAP
            lowest = min(lowest, cy)
        if lowest < band_top:  # an empty band takes no room
            lines = _two_lines(label)
            needed = max((len(line) for line in lines), default=0) * FONT * 0.55 / 72 + 0.15
            lowest = min(lowest, band_top - needed)  # tall enough for its rotated label
            bands_out.append((lines, band_top, lowest))
            y = lowest - 0.04
    return boxes, titles, bands_out, y


def draw_toc(toc: TheoryOfChange, result: EvidenceResult | None = None, out: str | Path = "toc.png",
             dpi: int = DPI) -> Path:
    """Draw ``toc`` (shaded by ``result`` when given) to a .png or .svg file; returns the path."""
    out = Path(out)
    if out.suffix.lower() not in (".png", ".svg"):
        raise InputError(out, f"cannot write a figure as {out.suffix or 'a file without extension'}",
                         "name the output .png or .svg")
    if not out.parent.exists():
        raise InputError(out, f"folder {out.parent} does not exist", "create it first")
    strength, marks, directions = _evidence_maps(result)
    fig = build_figure(toc, strength, marks, directions)
    try:
        fig.savefig(out, dpi=dpi, metadata=None if out.suffix.lower() == ".png" else {"Date": None})
    finally:
        plt.close(fig)
    return out


def _evidence_maps(result: EvidenceResult | None) -> tuple[dict, dict, dict]:
    if result is None:
        return {}, {}, {}
    strength = dict(zip(result.summary["node"], result.summary["strength"]))
    directions = dict(zip(result.summary["node"], result.summary["direction"]))
    marks: dict[str, str] = {}
    for row in result.indicators.itertuples():
        marks[row.node] = (marks.get(row.node, "") + " " + STATUS_MARKS[row.status]).strip()
    return strength, marks, directions


def build_figure(toc: TheoryOfChange, strength: dict[str, str], marks: dict[str, str],
                 directions: dict[str, str] | None = None) -> plt.Figure:
    """The figure itself (callers save or show it); sized in inches, drawn in inch units.

    ``strength``/``directions``: node id -> rating / direction; ``marks``: node id -> "✓ →".
    """
    title_h = 0.45
    boxes, titles, bands, bottom = _layout(toc, top=-title_h)
    assumption_lines = _assumption_lines(toc, strength, directions or {})
    legend_h = 0.42
    assumptions_h = (len(assumption_lines) + 1) * LINE_H + 0.12 if assumption_lines else 0
    height = -bottom + assumptions_h + legend_h + 0.1
    fig = plt.figure(figsize=(PAGE_WIDTH, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, PAGE_WIDTH)
    ax.set_ylim(-height, 0)
    ax.axis("off")
    ax.text(0.12, -0.2, toc.name + (f" (v{toc.version})" if toc.version else ""), fontsize=10,
            fontweight="bold", va="center")
    for title, x, y in titles:
        ax.text(x, y - 0.1, title, fontsize=FONT + 0.5, fontweight="bold", ha="center", va="center",
                linespacing=1.0)
    for i, (label, top, low) in enumerate(bands):
        ax.add_patch(plt.Rectangle((0.04, low), PAGE_WIDTH - 0.08, top - low,
                                   facecolor="#fafafa" if i % 2 else "#ececec", edgecolor="none", zorder=0))
        if label:
            # Rotated, wrapped to the band's height so it never spills into the next band.
            ax.text(0.17, (top + low) / 2, "\n".join(label), rotation=90,
                    fontsize=FONT, ha="center", va="center", style="italic", linespacing=1.0)
    where = {b.node.id: b for b in boxes}
    for box in boxes:
        for target in box.node.leads_to:
            if target in where:
                _arrow(ax, box, where[target])
    for box in boxes:
        _draw_box(ax, box, strength.get(box.node.id), marks.get(box.node.id, ""))
    y = bottom - 0.05
    if assumption_lines:
        ax.text(0.12, y - LINE_H / 2, "Assumptions", fontsize=FONT + 0.5, fontweight="bold", va="center")
        for j, line in enumerate(assumption_lines, start=1):
            ax.text(0.12, y - LINE_H * (j + 0.5), line, fontsize=FONT, va="center")
        y -= assumptions_h
    _legend(ax, y - 0.05)
    return fig


def _draw_box(ax, box: _Box, rating: str | None, mark: str) -> None:
    judged = box.node.kind in ("outcomes", "impacts")
    fill = STRENGTH_COLOURS.get(rating or "none") if judged else NEUTRAL
    dark = judged and rating == "strong"
    ax.add_patch(FancyBboxPatch(
        (box.x, box.y - box.h), box.w, box.h, boxstyle="round,pad=0,rounding_size=0.04",
        facecolor=fill, edgecolor=EDGE, linewidth=1.1 if box.node.kind == "impacts" else 0.6,
        linestyle="--" if judged and (rating in (None, "none")) else "-", zorder=3))
    colour = "white" if dark else "black"
    for k, line in enumerate(box.lines):
        ax.text(box.x + PAD, box.y - PAD - LINE_H * (k + 0.5), line, fontsize=FONT, va="center",
                color=colour, zorder=4)
    if box.node.indicators:
        ax.text(box.x + PAD, box.y - box.h + PAD + LINE_H / 2, f"indicators: {mark or '?'}",
                fontsize=FONT, va="center", color=colour, zorder=4, fontweight="bold")


def _arrow(ax, src: _Box, dst: _Box) -> None:
    forward = dst.x > src.x + 0.01
    start = (src.x + src.w, src.y - src.h / 2) if forward else (src.x + src.w / 2, src.y - src.h)
    end = (dst.x, dst.y - dst.h / 2) if forward else (dst.x + dst.w / 2, dst.y)
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=6, linewidth=0.5,
                                 color="#7f7f7f", shrinkA=0, shrinkB=1, zorder=2,
                                 connectionstyle="arc3,rad=0" if forward else "arc3,rad=-0.3"))


def _assumption_lines(toc: TheoryOfChange, strength: dict[str, str], directions: dict[str, str]) -> list[str]:
    """One line per assumption; the direction says whether the evidence says it held."""
    lines = []
    for i, node in enumerate(toc.assumptions, start=1):
        rating, direction = strength.get(node.id), directions.get(node.id)
        text = f"A{i}. {node.name}" + (f" — evidence: {rating}" if rating else "")
        if rating and rating != "none" and direction:
            text += f", {direction}"
        wrapped = _wrap(text, PAGE_WIDTH - 0.4)
        lines += [wrapped[0]] + ["     " + w for w in wrapped[1:]]
    return lines


def _legend(ax, y: float) -> None:
    handles = [Patch(facecolor=c, edgecolor=EDGE, linewidth=0.6, linestyle="--" if r == "none" else "-",
                     label="no evidence (gap)" if r == "none" else f"{r} evidence")
               for r, c in STRENGTH_COLOURS.items()]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.015, (y - ax.get_ylim()[0]) /
              (ax.get_ylim()[1] - ax.get_ylim()[0])), ncol=4, fontsize=FONT, frameon=False,
              handlelength=1.6, columnspacing=1.2, title="Outcome and impact fill", title_fontsize=FONT)
    ax.text(PAGE_WIDTH - 0.12, y - 0.2, "Indicators: ✓ met   → progress   ✗ not met   ? no data",
            fontsize=FONT, ha="right", va="center")
