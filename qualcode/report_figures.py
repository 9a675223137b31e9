"""The report's figures, drawn with matplotlib from matrix DataFrames, as PNG files or bytes.

Figures take tables, not the project, so the numbers in a figure are the numbers in
the table beside it. Figures are drawn straight on an Agg canvas (no pyplot, no
display, no window): it works on servers and costs no global state.

>>> frequency_figure(crosstab(project, by="source_type"), "out/frequencies.png")  # doctest: +SKIP
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .matrices import TOTAL

DPI = 200  # sharp when printed at the width of an A4 text column
WIDTH_INCHES = 6.3  # A4 text width with 2.5 cm margins
MAX_HEIGHT_INCHES = 8.5  # A4 text height with 2.5 cm margins, less room for the caption
MAX_ANNOTATED = 15  # codes: a heatmap larger than this shows colours only


def frequency_figure(table: pd.DataFrame, path: str | Path | None = None, title: str = "") -> Path | bytes:
    """Horizontal stacked bars: segments per code, split by the table's columns.

    ``table`` is a ``matrices.crosstab`` result (``code``, ``name``, one column per
    value, ``Total``); the total row and column are left out of the bars.
    """
    body = table[table["code"] != TOTAL]
    values = [c for c in body.columns if c not in ("code", "name", TOTAL)]
    data = body.set_index("name")[values].astype(float).iloc[::-1]  # first code at the top
    # One bar per code, but never taller than a page's text (with its caption): past
    # about 20 codes the bars and labels get closer instead.
    height = min(MAX_HEIGHT_INCHES, max(2.5, 0.35 * len(data) + 1.2))
    fig, ax = _figure(WIDTH_INCHES, height)
    ax.tick_params(axis="y", labelsize=9 if len(data) <= 20 else 7)
    left = pd.Series(0.0, index=data.index)
    colours = matplotlib.colormaps["tab10"]
    for i, column in enumerate(values):
        ax.barh(data.index, data[column], left=left, label=str(column), color=colours(i % 10))
        left += data[column]
    ax.set_xlabel("coded segments")
    ax.spines[["top", "right"]].set_visible(False)
    if values:
        # Above the bars, never over them.
        ax.legend(frameon=False, fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=min(len(values), 4))
    if title:
        ax.set_title(title, fontsize=10)
    return _save(fig, path)


def heatmap_figure(table: pd.DataFrame, path: str | Path | None = None, title: str = "") -> Path | bytes:
    """A co-occurrence heatmap with the count written in each cell.

    ``table`` is a square ``matrices.cooccurrence`` result. The diagonal (each code's
    own count) is left blank so the colour scale shows co-occurrence only; counts are
    written in the cells up to ``MAX_ANNOTATED`` codes.
    """
    n = len(table)
    size = max(3.0, min(WIDTH_INCHES, 0.45 * n + 2.0))
    fig, ax = _figure(size, size)
    values = table.to_numpy(dtype=float)
    off = values.copy()
    for i in range(n):
        off[i, i] = float("nan")
    image = ax.imshow(off, cmap="Blues", vmin=0)
    if n <= MAX_ANNOTATED:  # beyond this the numbers are unreadable (and slow to draw)
        for i in range(n):
            for j in range(n):
                ax.text(j, i, f"{int(values[i, j])}", ha="center", va="center", fontsize=7,
                        color="grey" if i == j else "black")
    ax.set_xticks(range(n), labels=list(table.columns), rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(n), labels=list(table.index), fontsize=7)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="overlapping codings")
    if title:
        ax.set_title(title, fontsize=10)
    return _save(fig, path)


def _figure(width: float, height: float) -> tuple[Figure, object]:
    """A figure on its own Agg canvas, with one axes."""
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _save(fig: Figure, path: str | Path | None) -> Path | bytes:
    """Write the PNG to ``path``, or return its bytes when no path is given."""
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=DPI, format="png")
    if path is None:
        return buffer.getvalue()
    path = Path(path)
    path.write_bytes(buffer.getvalue())
    return path
