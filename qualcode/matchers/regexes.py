"""Codebook regular expressions, each searched only in the lines holding the texts it requires."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass
class Regex:
    """One code's regular expression, with the text every match must contain.

    ``literal`` is the required text the lines to search are found by: one of its
    alternatives (``("CP", "CIN")``) must stand in a line; ``others`` are further
    required texts a line is checked for before the (slow) regex runs on it.
    """

    code: int
    source: str
    pattern: re.Pattern
    literal: tuple[str, ...] | None
    ignore_case: bool
    others: tuple[tuple[str, ...], ...] = ()
    anchor: str | None = None  # a text inside ``literal`` that other regexes' literals share (``anchor_shared``)

    @classmethod
    def compile(cls, code: int, source: str) -> "Regex":
        pattern = re.compile(source, re.MULTILINE)
        ignore_case = bool(pattern.flags & re.IGNORECASE)
        pieces = _required_pieces(source)
        if ignore_case:
            pieces = [tuple(dict.fromkeys(a.lower() for a in piece)) for piece in pieces]
        if not pieces:
            return cls(code, source, pattern, None, ignore_case)
        primary = max(pieces, key=_rarity)
        return cls(code, source, pattern, primary, ignore_case, tuple(p for p in pieces if p is not primary))

    def may_match(self, line: str) -> bool:
        """Whether ``line`` (lower-cased if the regex ignores case) holds every required text."""
        return all(any(a in line for a in piece) for piece in self.others)


def anchor_shared(regexes: list[Regex], least: int = 3, shortest: int = 3) -> None:
    """Give regexes whose single required texts share a piece (at least ``shortest``
    characters, in at least ``least`` distinct texts) that piece as their ``anchor``:
    every line holding one of the texts holds the piece, so one search of the text for
    the piece, then a look at those lines, replaces one search per text.

    >>> rs = [Regex.compile(0, rf"\\b{i}/10\\b") for i in range(4)] + [Regex.compile(1, r"\\bLAC\\b")]
    >>> anchor_shared(rs); [r.anchor for r in rs]
    ['/10', '/10', '/10', '/10', None]
    """
    groups: dict[bool, set[str]] = {}
    for regex in regexes:
        if regex.literal is not None and len(regex.literal) == 1 and len(regex.literal[0]) > shortest:
            groups.setdefault(regex.ignore_case, set()).add(regex.literal[0])
    for ignore_case, texts in groups.items():
        anchors: dict[str, str] = {}
        left = set(texts)
        while True:
            counts: dict[str, set[str]] = {}
            for text in left:
                for n in range(shortest, len(text)):
                    for at in range(len(text) - n + 1):
                        counts.setdefault(text[at:at + n], set()).add(text)
            best = max(counts.items(), key=lambda kv: (len(kv[1]), len(kv[0]), kv[0]), default=None)
            if best is None or len(best[1]) < least:
                break
            anchors.update((text, best[0]) for text in best[1])
            left -= best[1]
        for regex in regexes:
            if regex.ignore_case == ignore_case and regex.literal and len(regex.literal) == 1:
                regex.anchor = anchors.get(regex.literal[0])


_MAX_ALTERNATIVES = 16  # required texts are spelt out only while their alternatives stay few


def _rarity(piece: tuple[str, ...]) -> float:
    """How good a required piece is to find lines by: its shortest alternative's
    length, less some for each further alternative (each is one more search of the text).

    >>> _rarity((" of my time", " of our time")) > _rarity((" time",)) > _rarity(("on C", "to C", "from C"))
    True
    """
    return min(len(a.strip()) for a in piece) - 2.5 * (len(piece) - 1)


def _required_pieces(source: str) -> list[tuple[str, ...]]:
    """Texts any match of ``source`` contains, as pieces of alternatives: each piece is
    satisfied when one of its alternatives occurs. Read from the top level of Python's
    own parse of the pattern: runs of plain characters, joined through alternations
    of plain words (``of (?:my|our) time`` needs " of my time" or " of our time") and
    character sets of plain characters. [] when nothing is required (or Python's
    parser cannot say).

    >>> _required_pieces(r"\\bcaseloads? (?:of|at) \\d+")
    [('caseload',), (' of ', ' at ')]
    >>> _required_pieces(r"\\b(?:on|to) (?:CP|CIN)\\b")
    [('on C', 'to C'), ('on CP', 'on CIN', 'to CP', 'to CIN')]
    """
    try:
        from re import _parser as parser  # the stdlib's own regex parser (private, stable since 3.11)

        items = list(parser.parse(source))
    except Exception:  # pragma: no cover - a future Python without it: search every line
        return []
    pieces: list[tuple[str, ...]] = []
    run: tuple[str, ...] = ()  # the alternatives of the plain text read so far, contiguous

    def flush() -> None:
        nonlocal run
        if run and all(run):
            pieces.append(run)
        run = ()

    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            run = tuple(a + chr(arg) for a in run) if run else (chr(arg),)
            continue
        alternatives = _plain_alternatives(name, arg)
        if alternatives is None:
            flush()
            continue
        leads, whole = alternatives
        joined = tuple(a + b for a in (run or ("",)) for b in leads)
        if len(joined) > _MAX_ALTERNATIVES:
            flush()
            joined = leads
        elif run and all(run):
            pieces.append(run)  # the text so far stays a choice: joined, it is longer but has more alternatives
        run = joined
        if not whole:  # an alternative goes on past its plain start: the run ends here
            flush()
    flush()
    return list(dict.fromkeys(piece for piece in pieces if all(a.strip() for a in piece)))  # blanks say nothing


def _plain_alternatives(name: str, arg) -> tuple[tuple[str, ...], bool] | None:
    """For an alternation or character set: the plain text each alternative starts
    with, and whether that is all of every alternative; None when one starts with
    something else (a class, a repeat) and so requires no text."""
    if name == "IN":
        if not arg or any(str(op) != "LITERAL" for op, _ in arg):
            return None
        return tuple(dict.fromkeys(chr(c) for _, c in arg)), True
    if name != "BRANCH":
        return None
    leads, whole = [], True
    for branch in arg[1]:
        lead = ""
        for op, value in branch:
            if str(op) != "LITERAL":
                whole = False
                break
            lead += chr(value)
        if not lead:
            return None
        leads.append(lead)
    return tuple(dict.fromkeys(leads)), whole


class _Lines:
    """A text's lines as ``(start, end)`` offsets; regexes match within one line."""

    def __init__(self, text: str):
        self.text = text
        self._bounds: list[tuple[int, int]] | None = None
        self._lower: str | None = None
        self._holding: dict[tuple[tuple[str, ...], bool], list[tuple[int, int]]] = {}

    def line(self, lo: int, hi: int, ignore_case: bool) -> str:
        """The line ``[lo, hi)``, lower-cased when asked."""
        return self.text[lo:hi].lower() if ignore_case else self.text[lo:hi]

    @property
    def bounds(self) -> list[tuple[int, int]]:
        if self._bounds is None:
            bounds, start = [], 0
            for m in re.finditer("\n", self.text):
                bounds.append((start, m.start()))
                start = m.end()
            bounds.append((start, len(self.text)))
            self._bounds = bounds
        return self._bounds

    def holding_any(self, literals: tuple[str, ...] | None, ignore_case: bool,
                    anchor: str | None = None) -> list[tuple[int, int]]:
        """Bounds of the lines that contain one of ``literals`` (all lines when None), in
        order. With an ``anchor`` (a text inside the one literal), the lines holding the
        anchor are found once for every literal that shares it, then kept if they hold
        the literal: "/10" is searched once for "0/10" … "9/10".

        >>> _Lines("rated 7/10\\nall 10/10\\nnone").holding_any(("7/10",), False, anchor="/10")
        [(0, 10)]
        """
        if literals is None:
            return self.bounds
        key = (literals, ignore_case)  # codes sharing a regex or a required text search once
        if key not in self._holding:
            if anchor is not None and len(literals) == 1:
                self._holding[key] = [(a, b) for a, b in self.holding_any((anchor,), ignore_case)
                                      if literals[0] in self.line(a, b, ignore_case)]
            elif len(literals) == 1:
                self._holding[key] = self.holding(literals[0], ignore_case)
            else:
                self._holding[key] = sorted({b for literal in literals for b in self.holding(literal, ignore_case)})
        return self._holding[key]

    def holding(self, literal: str | None, ignore_case: bool) -> list[tuple[int, int]]:
        """Bounds of the lines that contain ``literal`` (all lines when None).

        >>> _Lines("a caseload\\nnone\\nCaseloads").holding("caseload", ignore_case=True)
        [(0, 10), (16, 25)]
        """
        if literal is None:
            return self.bounds
        haystack = self.text
        if ignore_case:
            if self._lower is None:
                self._lower = self.text.lower()
            haystack = self._lower
            if len(haystack) != len(self.text):  # a letter whose lower case is longer ("İ")
                return [(a, b) for a, b in self.bounds if literal in self.text[a:b].lower()]
        found: list[tuple[int, int]] = []
        at = haystack.find(literal)  # occurrences are rare: search the text, not each line
        while at != -1:
            start = self.text.rfind("\n", 0, at) + 1
            end = self.text.find("\n", at)
            end = len(self.text) if end == -1 else end
            if at + len(literal) <= end:
                found.append((start, end))
                at = haystack.find(literal, end)
            else:  # runs across a line break: not within one line
                at = haystack.find(literal, at + 1)
        return found
