"""Moving character offsets through replacements: codings and turns follow the text."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Sequence

@dataclass(frozen=True)
class Replacement:
    """Replace ``text[start:end]`` with ``label``."""

    start: int
    end: int
    label: str


class OffsetMap:
    """Moves offsets of the original text to the text after ``replacements``.

    A position outside every replaced span moves by the total change before it. A span
    start inside a replaced span moves to the label's start, a span end to the label's
    end: a coding that cut through a name now covers the whole label.

    >>> m = OffsetMap([Replacement(4, 9, "[P1]")])      # "Hi, Kerry here" -> "Hi, [P1] here"
    >>> m.start(4), m.end(9), m.start(10), m.start(6), m.end(6)
    (4, 8, 9, 4, 8)
    """

    def __init__(self, replacements: Sequence[Replacement]):
        self.reps = sorted(replacements, key=lambda r: r.start)
        for a, b in zip(self.reps, self.reps[1:]):
            if b.start < a.end:
                raise ValueError(f"replacements overlap: [{a.start}, {a.end}) and [{b.start}, {b.end})")
        self._starts = [r.start for r in self.reps]
        self._shift: list[int] = []  # total change before replacement i
        total = 0
        for r in self.reps:
            self._shift.append(total)
            total += len(r.label) - (r.end - r.start)

    def _locate(self, pos: int) -> int:
        """Index of the last replacement starting at or before ``pos`` (-1 for none)."""
        return bisect.bisect_right(self._starts, pos) - 1

    def _after(self, i: int) -> int:
        r = self.reps[i]
        return self._shift[i] + len(r.label) - (r.end - r.start)

    def start(self, pos: int) -> int:
        i = self._locate(pos)
        if i < 0:
            return pos
        r = self.reps[i]
        if pos == r.start or pos < r.end:  # at or inside: the label's start
            return r.start + self._shift[i]
        return pos + self._after(i)

    def end(self, pos: int) -> int:
        i = self._locate(pos)
        if i >= 0 and pos == self.reps[i].start:  # an end exactly at a replacement stays before it
            i -= 1
            if i < 0:
                return pos
        if i < 0:
            return pos
        r = self.reps[i]
        if pos < r.end:  # inside: the label's end
            return r.start + self._shift[i] + len(r.label)
        return pos + self._after(i)


def replace_text(text: str, replacements: Sequence[Replacement]) -> str:
    """``text`` with each replaced span swapped for its label.

    >>> replace_text("Hi, Kerry here", [Replacement(4, 9, "[P1]")])
    'Hi, [P1] here'
    """
    out, last = [], 0
    for r in sorted(replacements, key=lambda r: r.start):
        out.append(text[last:r.start])
        out.append(r.label)
        last = r.end
    out.append(text[last:])
    return "".join(out)
