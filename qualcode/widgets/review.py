"""Review widget: decide the pending suggestions one at a time, in their context.

Each suggestion is shown with the sentence before and after it, its code, confidence
and the explanation its method gave. Accept, reject, change code or skip; every
decision is saved at once through ``qualcode.review`` (so it lands in the audit trail
and can be undone), and the queue follows ``learn.review_queue``: the least certain
suggestions first, where a decision teaches the learned suggester most.

Keyboard: ipywidgets sends no key events, so the widget has a one-letter command box:
type ``a`` (accept), ``r`` (reject), ``s`` (skip), ``c`` (change to the code chosen in
the dropdown) or ``u`` (undo the last decision) and press Enter. The box keeps the
focus, so a reviewer can go through a queue without the mouse.

>>> ReviewWidget(project, reviewer="alex", method="rules")   # doctest: +SKIP
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Callable

import ipywidgets as widgets
import pandas as pd

from .. import review
from ..errors import QualcodeError
from ..learn import review_queue
from ..project import Project
from ..segments import Segment, segment_document
from .viewer import PALETTE, code_colours

KEYS = {"a": "accept", "r": "reject", "s": "skip", "c": "change", "u": "undo"}


@dataclass
class Decision:
    """One decision made in this widget: which coding, what, and the batch to undo it."""

    coding_id: int
    action: str  # accept | reject | recode | skip
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


class ReviewWidget(widgets.VBox):
    """Go through pending suggestions one by one; decisions are written as they are made.

    ``reviewer`` is the name the audit trail records. ``method`` and ``code`` narrow the
    queue (e.g. ``method="rules"`` for the auto-coder's suggestions only).
    """

    def __init__(self, project: Project, reviewer: str, method: str | None = None, code: str | None = None):
        if not reviewer or not reviewer.strip():
            raise ValueError("reviewer: give the name the audit trail should record, e.g. reviewer='alex'")
        self.project, self.reviewer, self.method, self.filter_code = project, reviewer, method, code
        self.decisions: list[Decision] = []
        self._sentences: dict[int, list[Segment]] = {}
        self.progress = widgets.IntProgress(min=0, description="Progress")
        self.counter = widgets.HTML()
        self.card = widgets.HTML()
        self.message = widgets.HTML()
        self.accept_button = self._button("Accept", "success", "check", "accept (a)", self.accept)
        self.reject_button = self._button("Reject", "danger", "times", "reject (r)", self.reject)
        self.skip_button = self._button("Skip", "", "forward", "skip, leave it pending (s)", self.skip)
        self.undo_button = self._button("Undo", "warning", "undo", "undo the last decision (u)", self.undo)
        self.new_code = widgets.Dropdown(description="Change to", layout=widgets.Layout(width="24em"))
        self.change_button = self._button("Change code", "info", "exchange",
                                          "reject this suggestion and code the span with the chosen code (c)",
                                          lambda: self.change(self.new_code.value))
        self.shortcut = widgets.Text(placeholder="a r s c u + Enter", description="Key",
                                 continuous_update=False, layout=widgets.Layout(width="16em"))
        self.shortcut.observe(self._on_key, names="value")
        buttons = widgets.HBox([self.accept_button, self.reject_button, self.skip_button, self.undo_button])
        super().__init__([
            widgets.HBox([self.progress, self.counter]), self.card, buttons,
            widgets.HBox([self.new_code, self.change_button]), self.shortcut, self.message,
        ])
        self.refresh()

    @staticmethod
    def _button(label: str, style: str, icon: str, tooltip: str, action: Callable[[], None]) -> widgets.Button:
        button = widgets.Button(description=label, button_style=style, icon=icon, tooltip=tooltip)
        button.on_click(lambda _b: action())
        return button

    # -- the queue --------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the queue again (skipped suggestions come back) and show its first item."""
        self.queue: pd.DataFrame = review_queue(self.project, method=self.method, code=self.filter_code)
        self.position = 0
        codes = self.project.codes()
        self.colours = code_colours(codes)
        self.new_code.options = [(f"{n} ({k})", k) for k, n in zip(codes["key"], codes["name"])]
        self.show()

    @property
    def current(self) -> pd.Series | None:
        """The suggestion on screen, or None when the queue is done."""
        return self.queue.iloc[self.position] if self.position < len(self.queue) else None

    def show(self) -> None:
        self.progress.max = max(len(self.queue), 1)
        self.progress.value = min(self.position, len(self.queue))
        done = {a: sum(d.action == a for d in self.decisions) for a in ("accept", "reject", "recode", "skip")}
        self.counter.value = (
            f"&nbsp;{min(self.position + 1, len(self.queue))} of {len(self.queue)} &middot; "
            f"{done['accept']} accepted, {done['reject']} rejected, {done['recode']} recoded, "
            f"{done['skip']} skipped")
        row = self.current
        for button in (self.accept_button, self.reject_button, self.skip_button, self.change_button):
            button.disabled = row is None
        self.undo_button.disabled = not any(d.batch for d in self.decisions)
        if row is None:
            self.card.value = ("<p><b>Nothing left in this queue.</b> Skipped suggestions stay pending; "
                               "call <code>refresh()</code> to see them again.</p>")
            return
        if row["code"] in [o[1] for o in self.new_code.options]:
            self.new_code.value = row["code"]
        self.card.value = self._card(row)

    def _context(self, document_id: int, start: int, end: int) -> tuple[str, int, int]:
        text = self.project.text(document_id)
        if document_id not in self._sentences:
            self._sentences[document_id] = segment_document(text, self.project.turns(document_id), "sentence")
        lo, hi = context_span(self._sentences[document_id], start, end)
        return text, lo, hi

    def _card(self, row: pd.Series) -> str:
        start, end = int(row["start"]), int(row["end"])
        text, lo, hi = self._context(int(row["document_id"]), start, end)
        colour = self.colours.get(row["code"], PALETTE[0])
        confidence = "" if pd.isna(row["confidence"]) else f"{float(row['confidence']):.2f}"
        return (
            f"<div style='border-left: 6px solid {colour}; padding: 0.3em 0.8em'>"
            f"<div><b>{html.escape(str(row['code_name']))}</b> <code>{html.escape(str(row['code']))}</code>"
            f" &middot; confidence <b>{confidence or 'n/a'}</b> &middot; {html.escape(str(row['method']))}"
            f" &middot; {html.escape(str(row['document']))} [{start}:{end}]</div>"
            f"<p style='white-space: pre-wrap; font-family: Georgia, serif; line-height: 1.6'>"
            f"<span style='color:#777'>{html.escape(text[lo:start])}</span>"
            f"<mark style='background:{colour}40'>{html.escape(text[start:end])}</mark>"
            f"<span style='color:#777'>{html.escape(text[end:hi])}</span></p>"
            f"<div style='color:#555'><i>Why:</i> {html.escape(str(row['explanation'] or '(no explanation)'))}</div>"
            "</div>"
        )

    # -- decisions --------------------------------------------------------------------

    def _decide(self, action: str, call: Callable[[int], review.ReviewResult | None]) -> None:
        row = self.current
        if row is None:
            self.message.value = "<i>The queue is done; nothing to decide.</i>"
            return
        coding_id = int(row["id"])
        try:
            result = call(coding_id)
        except QualcodeError as exc:  # shown to the reviewer, who can skip and go on
            self.message.value = f"<span style='color:#b00'>{html.escape(str(exc))}</span>"
            return
        self.decisions.append(Decision(coding_id, action, self.position, result.batch if result else None))
        self.message.value = f"coding {coding_id}: {action}" + (
            f" (batch {result.batch})" if result and result.batch else "")
        self.position += 1
        self.show()

    def accept(self) -> None:
        """Accept the suggestion on screen and show the next."""
        self._decide("accept", lambda i: review.accept(self.project, ids=[i], by=self.reviewer))

    def reject(self) -> None:
        """Reject the suggestion on screen and show the next."""
        self._decide("reject", lambda i: review.reject(self.project, ids=[i], by=self.reviewer))

    def change(self, to_code: str | None) -> None:
        """Code the span with ``to_code`` instead (the suggestion itself is rejected)."""
        if not to_code:
            self.message.value = "<span style='color:#b00'>Choose the code to change to first.</span>"
            return
        self._decide("recode", lambda i: review.recode(self.project, [i], to_code, by=self.reviewer))

    def skip(self) -> None:
        """Leave the suggestion pending and show the next."""
        self._decide("skip", lambda i: None)

    def undo(self) -> None:
        """Undo the last decision saved from this widget and show that suggestion again."""
        saved = [d for d in self.decisions if d.batch]
        if not saved:
            self.message.value = "<i>Nothing to undo.</i>"
            return
        last = saved[-1]
        try:
            review.undo(self.project, batch=last.batch, by=self.reviewer)
        except QualcodeError as exc:
            self.message.value = f"<span style='color:#b00'>{html.escape(str(exc))}</span>"
            return
        # Decisions after it (skips) go too: the reviewer sees that suggestion again.
        self.decisions = [d for d in self.decisions if d.position < last.position]
        self.position = last.position
        self.message.value = f"coding {last.coding_id}: {last.action} undone"
        self.show()

    def _on_key(self, change: dict) -> None:
        key = (change["new"] or "").strip().lower()
        if not key:
            return
        self.shortcut.value = ""  # ready for the next letter (this fires again with "", ignored)
        action = KEYS.get(key[:1]) if len(key) == 1 else None
        if action is None:
            self.message.value = (f"<span style='color:#b00'>Unknown key {html.escape(key)!r}: "
                                  "use a (accept), r (reject), s (skip), c (change code), u (undo).</span>")
        elif action == "change":
            self.change(self.new_code.value)
        else:
            getattr(self, action)()
