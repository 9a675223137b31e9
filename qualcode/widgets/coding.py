"""Manual coding: find a passage, choose a code, and the coding is saved under your name.

A browser text selection cannot be read back by plain ipywidgets, so the widget offers
what can be made exact: a search box (every match of a phrase, with its context), a
choice of how much to code around the match (the phrase itself, its sentence, its
paragraph or its speaker turn, cut by ``segments.segment_document`` like everything
else), and, for a span you already know, start and end offsets with a preview.
Codings go through ``Project.add_codings`` (status accepted, method manual), which
checks the span and writes the 'create' event of the audit trail.

>>> CodingWidget(project, coder="alex", viewer=viewer)   # doctest: +SKIP
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import ipywidgets as widgets
import pandas as pd

from ..errors import QualcodeError
from ..project import NewCoding, Project
from ..segments import segment_document
from .viewer import DocumentViewer

EXTENTS = ("phrase", "sentence", "paragraph", "turn")
CONTEXT_CHARS = 60
MAX_HITS = 200
ALL = "(all documents)"


@dataclass(frozen=True)
class Hit:
    """One match of the searched phrase: where it is and what surrounds it."""

    document_id: int
    document: str
    start: int
    end: int
    before: str
    match: str
    after: str

    def label(self) -> str:
        one_line = lambda s: " ".join(s.split())  # noqa: E731 - context shown on one line
        return f"{self.document} [{self.start}]: …{one_line(self.before)} «{one_line(self.match)}» {one_line(self.after)}…"


def find_phrase(project: Project, phrase: str, document: int | str | None = None,
                limit: int = MAX_HITS) -> list[Hit]:
    """Every case-insensitive match of ``phrase`` in the current documents, in order.

    Offsets come from the stored text itself (no lower-casing copy, whose length can
    differ), so a hit's ``[start, end)`` is exactly the matched text.
    """
    phrase = phrase.strip()
    if not phrase:
        return []
    pattern = re.compile(re.escape(phrase), re.IGNORECASE)
    names = dict(zip(project.documents()["id"], project.documents()["name"]))
    ids = None if document is None else [project.document_id(document)]
    hits: list[Hit] = []
    for doc_id, text in project.iter_texts(ids):
        for m in pattern.finditer(text):
            a, b = m.span()
            hits.append(Hit(doc_id, names.get(doc_id, str(doc_id)), a, b,
                            text[max(0, a - CONTEXT_CHARS):a], text[a:b], text[b:b + CONTEXT_CHARS]))
            if len(hits) >= limit:
                return hits
    return hits


def extend_span(project: Project, document_id: int, start: int, end: int, extent: str) -> tuple[int, int]:
    """``[start, end)`` widened to the whole sentences, paragraphs or turn it touches.

    ``phrase`` keeps the span as it is; a span in no segment (only whitespace) too.
    """
    if extent not in EXTENTS:
        raise ValueError(f"extent must be one of {EXTENTS}, not {extent!r}")
    if extent == "phrase":
        return start, end
    text = project.text(document_id)
    segments = segment_document(text, project.turns(document_id), extent)
    touched = [s for s in segments if s.start < end and s.end > start]
    if not touched:
        return start, end
    return min(s.start for s in touched), max(s.end for s in touched)


class CodingWidget(widgets.VBox):
    """Search, pick a hit, pick a code, apply; or give offsets. Codings are by ``coder``.

    ``viewer``: a DocumentViewer to refresh after each coding, so the new span shows.
    """

    def __init__(self, project: Project, coder: str, viewer: DocumentViewer | None = None):
        self.project, self.viewer = project, viewer
        self.hits: list[Hit] = []
        self.created: list[int] = []
        docs = project.documents()
        choices = [(name, int(i)) for i, name in zip(docs["id"], docs["name"])]
        self.coder = widgets.Text(value=coder, description="Coder")
        self.code = widgets.Dropdown(description="Code", layout=widgets.Layout(width="30em"))
        self.scope = widgets.Dropdown(options=[(ALL, None)] + choices, description="Search in")
        self.phrase = widgets.Text(placeholder="a phrase, then Enter", description="Find", continuous_update=False)
        self.search_button = widgets.Button(description="Search", icon="search")
        self.results = widgets.Select(options=[], rows=8, description="Hits", layout=widgets.Layout(width="95%"))
        self.extent = widgets.ToggleButtons(options=EXTENTS, value="sentence", description="Code the")
        self.preview = widgets.HTML()
        self.apply_button = widgets.Button(description="Apply code to hit", button_style="success", icon="tag")
        self.document = widgets.Dropdown(options=choices, description="Document")
        self.start = widgets.IntText(description="Start")
        self.end = widgets.IntText(description="End")
        self.apply_offsets_button = widgets.Button(description="Apply code to offsets", icon="tag")
        self.message = widgets.HTML()
        self._load_codes()
        self.phrase.observe(lambda _c: self.search(), names="value")
        self.search_button.on_click(lambda _b: self.search())
        for box in (self.results, self.extent):
            box.observe(lambda _c: self._preview_hit(), names="value")
        for box in (self.document, self.start, self.end):
            box.observe(lambda _c: self._preview_offsets(), names="value")
        self.apply_button.on_click(lambda _b: self.apply_hit())
        self.apply_offsets_button.on_click(lambda _b: self.apply_offsets())
        by_search = widgets.VBox([widgets.HBox([self.phrase, self.scope, self.search_button]), self.results,
                                  self.extent])
        by_offsets = widgets.VBox([self.document, widgets.HBox([self.start, self.end])])
        tabs = widgets.Tab([by_search, by_offsets])
        tabs.set_title(0, "Search")
        tabs.set_title(1, "Offsets")
        self.tabs = tabs
        super().__init__([widgets.HBox([self.coder, self.code]), tabs, self.preview,
                          widgets.HBox([self.apply_button, self.apply_offsets_button]), self.message])

    def _load_codes(self) -> None:
        codes = self.project.codes()
        self.code.options = [(f"{n} ({k})", k) for k, n in zip(codes["key"], codes["name"])]
        self.code.value = None if codes.empty else codes["key"].iloc[0]

    # -- finding ----------------------------------------------------------------------

    def search(self, phrase: str | None = None) -> list[Hit]:
        """Search for ``phrase`` (default: the Find box) and list the hits."""
        if phrase is not None and phrase != self.phrase.value:
            self.phrase.value = phrase  # observing the box runs the search
            return self.hits
        self.hits = find_phrase(self.project, self.phrase.value, self.scope.value)
        self.results.options = [(h.label(), i) for i, h in enumerate(self.hits)]
        self.results.value = 0 if self.hits else None
        more = f" (first {MAX_HITS} shown)" if len(self.hits) >= MAX_HITS else ""
        self.message.value = f"{len(self.hits)} hit(s){more}" if self.phrase.value.strip() else ""
        self._preview_hit()
        return self.hits

    def hit_span(self) -> tuple[int, int, int] | None:
        """``(document_id, start, end)`` the chosen hit would code, after widening."""
        if self.results.value is None or not self.hits:
            return None
        hit = self.hits[self.results.value]
        start, end = extend_span(self.project, hit.document_id, hit.start, hit.end, self.extent.value)
        return hit.document_id, start, end

    def _show(self, document_id: int, start: int, end: int) -> None:
        text = self.project.text(document_id)
        self.preview.value = (
            f"<div style='white-space: pre-wrap; border-left: 4px solid #888; padding-left: .6em'>"
            f"<mark>{html.escape(text[start:end])}</mark></div><small>[{start}:{end}]</small>")

    def _preview_hit(self) -> None:
        span = self.hit_span()
        if span is None:
            self.preview.value = ""
        else:
            self._show(*span)

    def _preview_offsets(self) -> None:
        if self.document.value is None:
            return
        length = len(self.project.text(self.document.value))
        if 0 <= self.start.value < self.end.value <= length:
            self._show(self.document.value, self.start.value, self.end.value)
        else:
            self.preview.value = (f"<i>Give 0 &le; start &lt; end &le; {length} "
                                  "(the document's length in characters).</i>")

    # -- coding -----------------------------------------------------------------------

    def _apply(self, document_id: int, start: int, end: int) -> int | None:
        coder = self.coder.value.strip()
        if not coder:
            self.message.value = "<span style='color:#b00'>Give your name as the coder first.</span>"
            return None
        if not self.code.value:
            self.message.value = "<span style='color:#b00'>Choose a code first (load a codebook).</span>"
            return None
        try:
            [coding_id] = self.project.add_codings(
                [NewCoding(document_id, start, end, self.code.value, coder=coder, method="manual")], actor=coder)
        except QualcodeError as exc:
            self.message.value = f"<span style='color:#b00'>{html.escape(str(exc))}</span>"
            return None
        self.created.append(coding_id)
        self.message.value = f"coding {coding_id}: [{start}:{end}] coded {html.escape(self.code.value)} by {html.escape(coder)}"
        if self.viewer is not None:
            if self.viewer.document.value != document_id:
                self.viewer.document.value = document_id
            self.viewer.refresh()
        return coding_id

    def apply_hit(self) -> int | None:
        """Code the chosen hit (widened to the chosen extent); returns the new coding id."""
        span = self.hit_span()
        if span is None:
            self.message.value = "<span style='color:#b00'>Search and choose a hit first.</span>"
            return None
        return self._apply(*span)

    def apply_offsets(self) -> int | None:
        """Code ``[start, end)`` of the document chosen on the Offsets tab."""
        if self.document.value is None:
            self.message.value = "<span style='color:#b00'>The project has no documents.</span>"
            return None
        return self._apply(self.document.value, self.start.value, self.end.value)

    def codings(self) -> pd.DataFrame:
        """The codings made with this widget, as ``project.codings()`` rows."""
        frame = self.project.codings()
        return frame[frame["id"].isin(self.created)].reset_index(drop=True)
