"""Positions in another tool's text, turned into character offsets into ours.

A REFI-QDA selection or a Taguette highlight is a pair of numbers counted in the
tool's own units over the tool's own copy of the text. qualcode stores the text once,
normalised (``textnorm.normalise_text``: LF line ends, NFC, no BOM), and counts in
code points. So every position goes through two steps:

1. the tool's unit to a code point in the text *as the tool stored it*: NVivo counts
   UTF-16 code units (an emoji is two), the REFI standard and ATLAS.ti code points;
2. that code point to the same place in the normalised text (a CRLF the tool counted
   as two characters is one ``\\n`` in ours).

>>> raw = "Hi \\U0001F600 there\\r\\nyou"
>>> text, mapper = normalised_with_map(raw)
>>> text
'Hi 😀 there\\nyou'
>>> utf16 = Utf16Index(raw)
>>> start = mapper(utf16.to_codepoint(6))      # NVivo's "there" starts at UTF-16 unit 6
>>> text[start:start + 5]
'there'
>>> text[mapper(12):]                          # "you": code point 12, after a CRLF counted as two
'you'
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from typing import Callable

from ..textnorm import normalise_text

# Characters outside the Basic Multilingual Plane take two UTF-16 code units.
_ASTRAL_CHAR = re.compile("[\U00010000-\U0010FFFF]")


class Utf16Index:
    """Convert UTF-16 code-unit positions (NVivo's) into code-point positions.

    >>> Utf16Index("a\\U0001F600b").to_codepoint(3)
    2
    """

    def __init__(self, text: str):
        # UTF-16 position of each astral character, in order (the n-th is n units further on).
        self._astral: list[int] = [m.start() + n for n, m in enumerate(_ASTRAL_CHAR.finditer(text))]

    def to_codepoint(self, unit: int) -> int:
        """The code point at UTF-16 unit ``unit``; a unit inside a pair rounds up."""
        before = bisect.bisect_left(self._astral, unit)  # astral characters starting before ``unit``
        inside = before > 0 and self._astral[before - 1] == unit - 1
        return unit - before + (1 if inside else 0)


def normalised_with_map(raw: str) -> tuple[str, Callable[[int], int]]:
    """The normalised text of ``raw`` and a function from positions in ``raw`` to it.

    The text equals ``normalise_text(raw)``. Positions are mapped exactly; a position
    inside a CRLF pair maps to the line break's end.

    >>> text, to_ours = normalised_with_map("a\\r\\nb")
    >>> text, to_ours(3), to_ours(2)
    ('a\\nb', 2, 2)
    """
    raw = raw.lstrip("\ufeff")
    text = normalise_text(raw)
    if text == raw:
        return text, lambda pos: max(0, min(pos, len(text)))
    if unicodedata.is_normalized("NFC", raw):
        table = _table(raw)
        return text, lambda pos: table[max(0, min(pos, len(raw)))]
    # NFC composed something: fall back to measuring the normalised prefix (slow, exact).
    return text, lambda pos: len(normalise_text(raw[:max(0, min(pos, len(raw)))]).lstrip("\ufeff"))


def _table(raw: str) -> list[int]:
    """Position in ``raw`` -> position in its normalised text, when NFC changes nothing.

    Every character maps one to one except a CRLF pair (two become one) and the
    control characters ``normalise_text`` drops.
    """
    dropped = set(chr(c) for c in [*range(0x00, 0x09), *range(0x0E, 0x20), *range(0x7F, 0x85), *range(0x86, 0xA0)])
    table = [0] * (len(raw) + 1)
    out = 0
    i = 0
    while i < len(raw):
        table[i] = out
        ch = raw[i]
        if ch == "\r" and i + 1 < len(raw) and raw[i + 1] == "\n":
            table[i + 1] = out + 1  # inside the pair: after the one line break
            out += 1
            i += 2
            continue
        if ch not in dropped:
            out += 1
        i += 1
    table[len(raw)] = out
    return table


def is_word_boundary(text: str, pos: int) -> bool:
    """True if ``pos`` is not inside a word: text starts/ends, or a non-word side.

    >>> is_word_boundary("key worker", 3), is_word_boundary("key worker", 5)
    (True, False)
    """
    if pos <= 0 or pos >= len(text):
        return True
    return not (text[pos - 1].isalnum() and text[pos].isalnum())
