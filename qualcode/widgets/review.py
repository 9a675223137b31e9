"""Review widget: decide the pending suggestions one at a time, in their context.

Each suggestion is shown with the sentence before and after it, the speaker, the
document's role and wave, its code, confidence and the explanation its method gave.
Accept, reject, change code or skip; move the span's start or end first if the
method cut it badly. Every decision is saved at once through ``qualcode.review`` (or
``handcoding`` for a span moved), so it lands in the audit trail and can be undone.
The queue follows ``learn.review_queue``: the least certain suggestions first, where a
decision teaches the learned suggester most; filter it by code (with descendants),
method and minimum confidence, and accept a whole filtered set after previewing it.

An anywidget (``static/review.js``). Keyboard, with the card focused: ``a`` accept,
``r`` reject, ``s`` skip, ``c`` change to the chosen code, ``u`` undo, ``←``/``→``
move the end by a word. The keys are sent to Python (``key``), which decides.

>>> ReviewWidget(project, reviewer="alex", method="rules:lemma")   # doctest: +SKIP
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any, Callable

import anywidget
import pandas as pd
import traitlets as t

from .. import colours, handcoding, retrieval, review
from ..errors import QualcodeError
from ..learn import review_queue
from ..project import Project
from ..segments import Segment, segment_document
from .assets import STATIC, module

KEYS = {"a": "accept", "r": "reject", "s": "skip", "c": "change", "u": "undo"}
_WORD = re.compile(r"\w+")


@dataclass
class Decision:
    """One decision made in this widget: which coding, what, and the batch to undo it."""

    coding_id: int
    action: str  # accept | reject | recode | skip | adjust
    position: int
    batch: str | None = None


def context_span(sentences: list[Segment], start: int, end: int, around: int = 1) -> tuple[int, int]:
    """From the start of the sentence ``around`` before ``[start, end)`` to the end of the
    one ``around`` after it; sentences that overlap the span are part of it.

    >>> s = [Segment(0, 5, "sentence"), Segment(6, 9, "sentence"), Segment(10, 14, "sentence")]
    >>> context_span(s, 6, 9), context_span(s, 0, 5), context_span(s, 7, 12, around=0)
    ((0, 14), (0, 9), (6, 14))
    """
    before = [s for s in sentences if s.end <= start]
    after = [s for s in sentences if s.start >= end]
    overlapping = [s for s in sentences if s.start < end and s.end > start]
    lo = min([start] + [s.start for s in overlapping] + [s.start for s in before[len(before) - around:] if around])
    hi = max([end] + [s.end for s in overlapping] + [s.end for s in after[:around]])
    return lo, hi


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


class ReviewWidget(anywidget.AnyWidget):
    """Go through pending suggestions one by one; decisions are written as they are made.

    ``reviewer`` is the name the audit trail records. ``method``, ``code`` and
    ``min_confidence`` narrow the queue (e.g. ``method="rules:lemma"``).
    """

    _esm = module("review.js")
    _css = STATIC / "review.css"

    item = t.Dict().tag(sync=True)  # the suggestion on screen, in context ({} when done)
    position = t.Int(0).tag(sync=True)
    total = t.Int(0).tag(sync=True)
    counts = t.Dict().tag(sync=True)
    codes = t.List().tag(sync=True)  # [{key, name, colour}] for "change to"
    methods = t.List(t.Unicode()).tag(sync=True)
    code_filter = t.Unicode("").tag(sync=True)
    method_filter = t.Unicode("").tag(sync=True)
    min_confidence = t.Float(0.0).tag(sync=True)
    change_to = t.Unicode("").tag(sync=True)
    preview = t.List().tag(sync=True)  # the suggestions a bulk accept would decide
    message = t.Unicode("").tag(sync=True)
    error = t.Bool(False).tag(sync=True)

    def __init__(self, project: Project, reviewer: str, method: str | None = None, code: str | None = None,
                 min_confidence: float = 0.0, **kwargs: Any):
        if not reviewer or not reviewer.strip():
            raise ValueError("reviewer: give the name the audit trail should record, e.g. reviewer='alex'")
        super().__init__(**kwargs)
        self.project, self.reviewer = project, reviewer.strip()
        self.decisions: list[Decision] = []
        self._sentences: dict[int, list[Segment]] = {}
        self._documents = project.documents(include_superseded=True).set_index("id")
        self.code_filter, self.method_filter, self.min_confidence = code or "", method or "", min_confidence
        self.on_msg(self._on_msg)
        self.observe(lambda _c: self._act(self.refresh), names=["code_filter", "method_filter", "min_confidence"])
        self.refresh()

    # -- the queue ----------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the queue again (skipped suggestions come back) and show its first item."""
        queue = review_queue(self.project)
        self.methods = sorted(set(queue["method"])) if not queue.empty else []
        if self.code_filter:
            queue = queue[queue["code"].isin(retrieval.descendants(self.project, self.code_filter))]
        if self.method_filter:
            queue = queue[queue["method"] == self.method_filter]
        if self.min_confidence:
            queue = queue[queue["confidence"].fillna(0) >= self.min_confidence]
        self.queue: pd.DataFrame = queue.reset_index(drop=True)
        self.position = 0
        self._colours = colours.code_colours(self.project)
        codes = self.project.codes()
        self.codes = [{"key": k, "name": n, "colour": self._colours.get(k, "#888888")}
                      for k, n in zip(codes["key"], codes["name"])]
        self.preview = []
        self.show()

    @property
    def current(self) -> pd.Series | None:
        """The suggestion on screen, or None when the queue is done."""
        return self.queue.iloc[self.position] if self.position < len(self.queue) else None

    def show(self) -> None:
        self.total = len(self.queue)
        self.counts = {a: sum(d.action == a for d in self.decisions) for a in ("accept", "reject", "recode", "skip")}
        row = self.current
        if row is None:
            self.item = {}
            return
        self.change_to = str(row["code"])
        self.item = self._card(row)

    def _card(self, row: pd.Series) -> dict:
        doc_id, start, end = int(row["document_id"]), int(row["start"]), int(row["end"])
        text = self.project.text(doc_id)
        if doc_id not in self._sentences:
            self._sentences[doc_id] = segment_document(text, self.project.turns(doc_id), "sentence")
        lo, hi = context_span(self._sentences[doc_id], start, end)
        doc = self._documents.loc[doc_id]
        turns = self.project.turns(doc_id)
        speaker = turns[(turns["start"] <= start) & (turns["end"] > start)]["speaker"]
        return {
            "id": int(row["id"]), "code": str(row["code"]), "code_name": str(row["code_name"]),
            "colour": self._colours.get(str(row["code"]), "#888888"),
            "confidence": None if _blank(row["confidence"]) else round(float(row["confidence"]), 3),
            "method": str(row["method"]), "explanation": "" if _blank(row["explanation"]) else str(row["explanation"]),
            "document": str(row["document"]), "start": start, "end": end,
            "role": "" if _blank(doc.get("role")) else str(doc.get("role")),
            "wave": "" if _blank(doc.get("wave")) else str(doc.get("wave")),
            "speaker": str(speaker.iloc[0]) if not speaker.empty else "",
            "before": text[lo:start], "text": text[start:end], "after": text[end:hi],
        }

    # -- decisions ----------------------------------------------------------------------

    def _act(self, action: Callable[[], Any]) -> Any:
        try:
            result = action()
        except QualcodeError as exc:  # shown to the reviewer, who can skip and go on
            self.error, self.message = True, str(exc)
            return None
        self.error = False
        return result

    def _decide(self, action: str, call: Callable[[int], Any]) -> None:
        row = self.current
        if row is None:
            self.error, self.message = False, "The queue is done; nothing to decide."
            return
        coding_id = int(row["id"])
        result = self._act(lambda: call(coding_id) or True)
        if result is None:
            return
        batch = getattr(result, "batch", None)
        self.decisions.append(Decision(coding_id, action, self.position, batch))
        self.message = f"coding {coding_id}: {action}" + (f" (batch {batch})" if batch else "")
        self.position += 1
        self.show()

    def accept(self) -> None:
        """Accept the suggestion on screen and show the next."""
        self._decide("accept", lambda i: review.accept(self.project, ids=[i], by=self.reviewer))

    def reject(self) -> None:
        """Reject the suggestion on screen and show the next."""
        self._decide("reject", lambda i: review.reject(self.project, ids=[i], by=self.reviewer))

    def change(self, to_code: str | None = None) -> None:
        """Code the span with ``to_code`` (default: the code chosen) instead; the suggestion is rejected."""
        to_code = to_code or self.change_to
        if not to_code or (self.current is not None and to_code == self.current["code"]):
            self.error, self.message = True, "Choose another code to change to first."
            return
        self._decide("recode", lambda i: handcoding.recode(self.project, [i], to_code, by=self.reviewer))

    def skip(self) -> None:
        """Leave the suggestion pending and show the next."""
        self._decide("skip", lambda i: None)

    def adjust(self, start: int | None = None, end: int | None = None) -> None:
        """Move the start and/or end of the suggestion on screen before deciding it."""
        row = self.current
        if row is None:
            self.error, self.message = False, "The queue is done; nothing to adjust."
            return
        result = self._act(lambda: handcoding.adjust(self.project, int(row["id"]), start=start, end=end,
                                                     by=self.reviewer))
        if result is None:
            return
        self.decisions.append(Decision(int(row["id"]), "adjust", self.position, result.batch))
        self.queue.loc[self.position, ["start", "end"]] = [result.start, result.end]
        self.message = f"coding {row['id']} now spans [{result.start}, {result.end})"
        self.show()

    def nudge_end(self, words: int) -> None:
        """Move the end of the span on screen by whole words (negative: back)."""
        row = self.current
        if row is None:
            return
        text = self.project.text(int(row["document_id"]))
        start, end = int(row["start"]), int(row["end"])
        if words > 0:
            hit = _WORD.search(text, end)
            end = hit.end() if hit else end
        else:
            ends = [m.end() for m in _WORD.finditer(text, start, end)]
            end = ends[-2] if len(ends) > 1 else end  # drop the last word (and what follows it)
        self.adjust(end=end)

    def undo(self) -> None:
        """Undo the last decision saved from this widget and show that suggestion again."""
        saved = [d for d in self.decisions if d.batch]
        if not saved:
            self.error, self.message = False, "Nothing to undo."
            return
        last = saved[-1]
        if self._act(lambda: review.undo(self.project, batch=last.batch, by=self.reviewer)) is None:
            return
        # Decisions after it (skips) go too: the reviewer sees that suggestion again.
        self.decisions = self.decisions[:self.decisions.index(last)]
        self.message = f"coding {last.coding_id}: {last.action} undone"
        self.refresh_keep(last.position)

    def refresh_keep(self, position: int) -> None:
        """Re-read the queue rows (spans may have moved) and show ``position``."""
        ids = list(self.queue["id"])
        fresh = self.project.codings().set_index("id")
        for column in ("start", "end", "status"):
            self.queue[column] = [fresh.at[i, column] if i in fresh.index else None for i in ids]
        self.position = position
        self.show()

    def key(self, key: str) -> None:
        """One keyboard command: a, r, s, c, u, or ArrowRight / ArrowLeft (move the end a word)."""
        if key == "ArrowRight":
            return self.nudge_end(1)
        if key == "ArrowLeft":
            return self.nudge_end(-1)
        action = KEYS.get(key.lower()) if len(key) == 1 else None
        if action is None:
            self.error, self.message = True, (f"Unknown key {key!r}: use a (accept), r (reject), s (skip), "
                                              "c (change code), u (undo), ←/→ (move the end).")
            return
        getattr(self, action)()

    def _repr_mimebundle_(self, **kwargs: Any):
        """The live widget, plus the card on screen as static HTML for viewers without widgets."""
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle
        item = self.item
        if item:
            data["text/html"] = (
                f"<div style='border-left:6px solid {item['colour']};padding:.3em .8em'>"
                f"<b>{html.escape(item['code_name'])}</b> · {html.escape(item['document'])} "
                f"[{item['start']}, {item['end']})<p style='white-space:pre-wrap'>"
                f"<span style='color:#777'>{html.escape(item['before'])}</span><mark>{html.escape(item['text'])}</mark>"
                f"<span style='color:#777'>{html.escape(item['after'])}</span></p></div>")
        else:
            data["text/html"] = "<p>Nothing left in this review queue.</p>"
        return data, metadata

    # -- bulk -----------------------------------------------------------------------------

    def preview_bulk(self) -> pd.DataFrame:
        """The suggestions the current filters select, shown before ``accept_previewed``."""
        frame = self.queue[["id", "document", "code", "confidence", "method", "snippet"]]
        self.preview = [{k: (None if _blank(v) else v) for k, v in row.items()}
                        for row in frame.astype(object).to_dict("records")]
        self.error, self.message = False, f"{len(frame)} suggestion(s) would be accepted; confirm to accept them."
        return frame

    def accept_previewed(self) -> None:
        """Accept every suggestion of the last preview, as one batch (undo takes it back)."""
        if not self.preview:
            self.error, self.message = True, "Preview the suggestions first."
            return
        ids = [int(p["id"]) for p in self.preview]
        result = self._act(lambda: review.accept(self.project, ids=ids, by=self.reviewer))
        if result is None:
            return
        self.decisions.append(Decision(ids[0], "accept", self.position, result.batch))
        self.refresh()
        self.message = f"Accepted {result.changed} suggestion(s) in one batch ({result.batch})."

    def _on_msg(self, _widget, content: dict, _buffers) -> None:
        action = content.get("action")
        if action == "key":
            self.key(str(content.get("key", "")))
        elif action in ("accept", "reject", "skip", "undo", "preview_bulk", "accept_previewed"):
            getattr(self, action)()
        elif action == "change":
            self.change(content.get("code"))
        elif action == "adjust":
            self.adjust(content.get("start"), content.get("end"))
