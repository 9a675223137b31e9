"""Document viewer: a document's text with its coded spans highlighted, in Jupyter.

The text is rendered as HTML from the stored plain text and the codings' character
offsets, so what the researcher sees is exactly what the project holds: every
character of the document appears once, in order, and nothing else does (speaker
labels a transcript does not carry in its text are drawn by CSS, not inserted).

How overlaps are shown: the text is cut at every coding and turn boundary; each piece
carries the ids of all codings covering it (``data-codings``), a light background in
the innermost code's colour and one stacked underline per code. So nested and crossing
codings both stay visible, and a coding's highlighted text is the run of pieces that
carry its id.

>>> viewer = DocumentViewer(project, document="W1_SW01_social_worker.txt")   # doctest: +SKIP
>>> viewer                                                                    # doctest: +SKIP
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import ipywidgets as widgets
import pandas as pd

from ..project import Project
from ..store import CODING_STATUSES

# Distinct colours for codes whose codebook gives none (matplotlib's tab20, dark first).
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
    "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
)
ANY = "(any)"
UNDERLINE_PX = 3  # thickness of each stacked underline

# Kept out of the rendered body so that stripping the body's tags gives the text back.
STYLE = """<style>
.qc-doc {white-space: pre-wrap; font-family: Georgia, serif; line-height: 1.9; max-width: 52em;}
.qc-turn {margin: 0.2em 0 0.6em 0;}
.qc-interviewer {color: #777;}
.qc-gap {display: none;}
.qc-label[data-speaker]::before {content: attr(data-speaker) ": "; font-weight: bold;}
.qc-rejected {text-decoration: line-through;}
.qc-legend td {padding: 1px 6px; vertical-align: top;}
.qc-swatch {display: inline-block; width: 0.9em; height: 0.9em; border-radius: 2px;}
</style>"""


@dataclass(frozen=True)
class Highlight:
    """One coding to draw: its span, its code and the colour to draw it in."""

    id: int
    start: int
    end: int
    code: str
    code_name: str
    colour: str
    coder: str = ""
    status: str = "accepted"


@dataclass(frozen=True)
class TurnBlock:
    """A speaker turn to set apart (interviewer turns are greyed)."""

    start: int
    end: int
    speaker: str
    is_interviewer: bool = False


def code_colours(codes: pd.DataFrame) -> dict[str, str]:
    """Each code key's colour: its codebook colour, else the next palette colour.

    >>> code_colours(pd.DataFrame({"key": ["a", "b"], "colour": ["#000000", None]}))
    {'a': '#000000', 'b': '#1f77b4'}
    """
    colours, spare = {}, iter(PALETTE * (1 + len(codes) // len(PALETTE)))
    for key, colour in zip(codes["key"], codes["colour"]):
        colours[key] = colour if isinstance(colour, str) and colour else next(spare)
    return colours


def _hex6(colour: str) -> str:
    """``#abc`` -> ``#aabbcc`` so an alpha byte can be appended."""
    if len(colour) == 4:
        return "#" + "".join(ch * 2 for ch in colour[1:])
    return colour


def _label_start(text: str, turn: TurnBlock, floor: int) -> int | None:
    """Where the speaker label written before a turn starts (``Parent: ``, ``**SW03:** ``).

    Importers store a turn from after its label; the label is the rest of the line
    before it when that short run of text names the speaker. None when there is none.
    """
    line_start = max(floor, text.rfind("\n", floor, turn.start) + 1)
    head = text[line_start:turn.start]
    if head.strip() and turn.speaker.lower() in head.lower() and len(head) <= len(turn.speaker) + 8:
        return line_start
    return None


def _label_end(text: str, turn: TurnBlock) -> int | None:
    """Where the label ends when the turn's own text starts with it (``Parent: …``)."""
    head = text[turn.start:turn.start + len(turn.speaker) + 1]
    if turn.speaker and head.lower() == f"{turn.speaker}:".lower():
        return turn.start + len(head)
    return None


@dataclass(frozen=True)
class _Block:
    """A run of text drawn as one block: a turn (with its label) or the text between turns."""

    start: int
    end: int
    turn: TurnBlock | None = None
    bold_end: int | None = None  # the label, ``[start, bold_end)``, is drawn bold


def _blocks(text: str, turns: Sequence[TurnBlock]) -> list[_Block]:
    """The text cut into turn blocks and the gaps around them, covering ``[0, len(text))``."""
    blocks, at = [], 0
    for turn in sorted(turns, key=lambda t: t.start):
        start, end = max(turn.start, at), min(turn.end, len(text))
        if start >= end:
            continue
        label = _label_start(text, turn, at)
        bold_end = turn.start if label is not None else _label_end(text, turn)
        if label is not None:
            start = label
        if start > at:
            blocks.append(_Block(at, start))
        blocks.append(_Block(start, end, turn, bold_end))
        at = end
    if at < len(text):
        blocks.append(_Block(at, len(text)))
    return blocks


def _piece(text: str, active: list[Highlight], bold: bool) -> str:
    inner = html.escape(text)
    if bold:
        inner = f"<b>{inner}</b>"
    if not active:
        return inner
    active = sorted(active, key=lambda h: (h.start, -h.end, h.id))  # outermost first
    shadows = ", ".join(
        f"inset 0 -{UNDERLINE_PX * (n + 1)}px 0 {_hex6(h.colour)}{'' if h.status == 'accepted' else '99'}"
        for n, h in enumerate(reversed(active))
    )
    title = "; ".join(f"{h.code_name} ({h.coder}, {h.status})" for h in active)
    classes = "qc-code" + (" qc-rejected" if all(h.status == "rejected" for h in active) else "")
    return (
        f'<span class="{classes}" data-codings="{" ".join(str(h.id) for h in active)}" '
        f'data-codes="{html.escape(" ".join(h.code for h in active))}" title="{html.escape(title)}" '
        f'style="background: {_hex6(active[-1].colour)}2e; box-shadow: {shadows}; '
        f'padding-bottom: {UNDERLINE_PX * len(active)}px">{inner}</span>'
    )


def render_document_html(text: str, highlights: Iterable[Highlight] = (),
                         turns: Sequence[TurnBlock] = ()) -> str:
    """The document as HTML: turns as blocks, coded spans highlighted, all text escaped.

    Removing the tags and unescaping gives back ``text`` exactly; style with ``STYLE``.

    >>> body = render_document_html("a <b> c", [Highlight(7, 2, 5, "k", "K", "#ff0000")])
    >>> import re; html.unescape(re.sub("<[^>]+>", "", body))
    'a <b> c'
    """
    highlights = [h for h in highlights if 0 <= h.start < h.end <= len(text)]
    out = ['<div class="qc-doc">']
    for block in _blocks(text, turns):
        start, end, turn = block.start, block.end, block.turn
        cuts = {start, end} | ({block.bold_end} if block.bold_end else set())
        cuts.update(p for h in highlights for p in (h.start, h.end) if start < p < end)
        inside = [h for h in highlights if h.start < end and h.end > start]
        if turn is None:
            css = "qc-gap" if not text[start:end].strip() else "qc-text"
            out.append(f'<div class="{css}">')
        else:
            css = "qc-turn qc-interviewer" if turn.is_interviewer else "qc-turn"
            speaker = "" if block.bold_end else f' data-speaker="{html.escape(turn.speaker)}"'
            out.append(f'<div class="{css}"><span class="qc-label"{speaker}></span>')
        points = sorted(cuts)
        for a, b in zip(points, points[1:]):
            active = [h for h in inside if h.start <= a and h.end >= b]
            out.append(_piece(text[a:b], active, bold=bool(block.bold_end) and b <= block.bold_end))
        out.append("</div>")
    out.append("</div>")
    return "".join(out)


def legend_html(highlights: Iterable[Highlight]) -> str:
    """The margin: each code shown, its colour and how many codings it has in view."""
    counts: dict[str, list] = {}
    for h in highlights:
        entry = counts.setdefault(h.code, [h.code_name, h.colour, 0])
        entry[2] += 1
    if not counts:
        return "<i>No codings match the filters.</i>"
    rows = "".join(
        f'<tr><td><span class="qc-swatch" style="background:{colour}"></span></td>'
        f"<td>{html.escape(name)}</td><td>{n}</td></tr>"
        for _, (name, colour, n) in sorted(counts.items(), key=lambda kv: (-kv[1][2], kv[1][0]))
    )
    return f'<table class="qc-legend"><tr><th></th><th>code</th><th>n</th></tr>{rows}</table>'


def highlights_from(codings: pd.DataFrame, colours: Mapping[str, str]) -> list[Highlight]:
    """``project.codings()`` rows as Highlights in their code's colour."""
    return [
        Highlight(int(r.id), int(r.start), int(r.end), r.code, r.code_name,
                  colours.get(r.code, PALETTE[0]), r.coder, r.status)
        for r in codings.itertuples(index=False)
    ]


def turn_blocks(turns: pd.DataFrame) -> list[TurnBlock]:
    """``project.turns(doc)`` rows as TurnBlocks."""
    return [TurnBlock(int(t.start), int(t.end), str(t.speaker), bool(t.is_interviewer))
            for t in turns.itertuples(index=False)]


class DocumentViewer(widgets.VBox):
    """Read one document with its codings; filter by code, coder and status.

    The dropdowns are public attributes (``document``, ``code``, ``coder``,
    ``status``) so code and tests can drive the viewer as a user would; ``refresh()``
    re-reads the project (after coding elsewhere).
    """

    def __init__(self, project: Project, document: int | str | None = None, code: str | None = None,
                 coder: str | None = None, status: str | None = None):
        self.project = project
        docs = project.documents()
        self.document = widgets.Dropdown(
            options=[(name, int(i)) for i, name in zip(docs["id"], docs["name"])], description="Document")
        self.code = widgets.Dropdown(description="Code")
        self.coder = widgets.Dropdown(description="Coder")
        self.status = widgets.Dropdown(options=[ANY, *CODING_STATUSES], description="Status")
        self.body = widgets.HTML()
        self.legend = widgets.HTML()
        self._load_choices()
        if document is not None:
            self.document.value = project.document_id(document)
        for box, wanted in ((self.code, code), (self.coder, coder), (self.status, status)):
            if wanted is not None:
                box.value = wanted
        self._quiet = False  # set while refresh() resets the dropdowns: draw once, at the end
        for box in (self.document, self.code, self.coder, self.status):
            box.observe(self._on_filter, names="value")
        filters = widgets.HBox([self.document, self.code, self.coder, self.status],
                               layout=widgets.Layout(flex_flow="row wrap"))
        page = widgets.HBox([self.body, self.legend])
        self.body.layout = widgets.Layout(flex="3 1 0%")
        self.legend.layout = widgets.Layout(flex="1 1 0%", margin="0 0 0 1em")
        super().__init__([filters, page])
        self.render()

    def _load_choices(self) -> None:
        codes = self.project.codes(include_retired=True)
        self.colours = code_colours(codes)
        self.code.options = [(ANY, ANY)] + [(f"{n} ({k})", k) for k, n in zip(codes["key"], codes["name"])]
        self.coder.options = [ANY] + list(self.project.coders()["name"])
        self.code.value = self.coder.value = ANY  # new options leave a Dropdown with no value

    def _on_filter(self, _change: dict) -> None:
        if not self._quiet:
            self.render()

    def refresh(self) -> None:
        """Re-read codes, coders and codings from the project and draw again."""
        values = (self.code.value, self.coder.value)
        self._quiet = True
        try:
            self._load_choices()
            for box, value in zip((self.code, self.coder), values):
                if value in [o[1] if isinstance(o, tuple) else o for o in box.options]:
                    box.value = value
        finally:
            self._quiet = False
        self.render()

    def highlights(self) -> list[Highlight]:
        """The codings of the shown document that pass the filters."""
        if self.document.value is None:
            return []
        pick = {k: (None if v == ANY else v)
                for k, v in (("code", self.code.value), ("coder", self.coder.value), ("status", self.status.value))}
        codings = self.project.codings(document=self.document.value, **pick)
        return highlights_from(codings, self.colours)

    def render(self) -> None:
        if self.document.value is None:
            self.body.value, self.legend.value = "<i>The project has no documents yet.</i>", ""
            return
        shown = self.highlights()
        text = self.project.text(self.document.value)
        turns = turn_blocks(self.project.turns(self.document.value))
        self.body.value = STYLE + render_document_html(text, shown, turns)
        self.legend.value = STYLE + legend_html(shown)
