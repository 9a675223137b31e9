"""``PatternMatcher``: the codebooks' spaCy token patterns, in one ``Matcher``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from spacy.attrs import LEMMA, LOWER
from spacy.matcher import Matcher

from ..nlp import among, token_columns

if TYPE_CHECKING:  # pragma: no cover
    from spacy.tokens import Doc


class PatternMatcher:
    """spaCy's Matcher, run only where a pattern can start.

    The Matcher tests every token against every pattern, which costs as much as the
    rest of auto-coding together. Most codebook patterns start with fixed words
    (``{LEMMA: map}``, ``{LOWER: {IN: [scale, scaled]}}``, ``on a scale``) and have a
    bounded length, so we find the tokens where those words stand (numpy over the Doc's
    LOWER/LEMMA arrays) and run the Matcher on the few tokens after each. Other
    patterns run over the whole Doc.
    """

    def __init__(self, vocab):
        self.vocab = vocab
        self.anywhere = Matcher(vocab)
        # matcher, the fixed leading words as [(attr, hashes)], the pattern's longest length
        self.windowed: list[tuple[Matcher, list[tuple[int, np.ndarray]], int]] = []

    def __len__(self) -> int:
        return len(self.anywhere) + len(self.windowed)

    def add(self, label: str, pattern: list[dict]) -> None:
        prefix = _fixed_prefix(pattern)
        if not prefix:
            self.anywhere.add(label, [pattern])
            return
        matcher = Matcher(self.vocab)
        matcher.add(label, [pattern])
        words = [(attr, np.array(sorted(self.vocab.strings.add(v) for v in values), dtype=np.uint64))
                 for attr, values in prefix]
        self.windowed.append((matcher, words, len(pattern)))

    def __call__(self, doc: "Doc") -> list[tuple[int, int, int]]:
        found = list(self.anywhere(doc)) if len(self.anywhere) else []
        n = len(doc)
        columns = token_columns(doc) if self.windowed else None
        for matcher, words, length in self.windowed:
            (attr, hashes), rest = words[0], words[1:]
            starts = np.flatnonzero(among(columns.column(attr), hashes))
            for offset, (attr, hashes) in enumerate(rest, start=1):  # only where the words so far stand
                starts = starts[starts + offset < n]
                starts = starts[among(columns.column(attr)[starts + offset], hashes)]
            for start in starts.tolist():
                for label, a, b in matcher(doc[start:start + length]):
                    if a == 0:
                        found.append((label, start, start + b))
        return found


def _fixed_prefix(pattern: list[dict]) -> list[tuple[int, list[str]]]:
    """The leading tokens of ``pattern`` that must be one of some words, as
    [(attribute, words)], if the pattern has a bounded length; else [].

    >>> [words for _, words in _fixed_prefix([{"LOWER": "on"}, {"LOWER": "a"}, {"LIKE_NUM": True}])]
    [['on'], ['a']]
    >>> [words for _, words in _fixed_prefix([{"LEMMA": "map"}, {"LOWER": "it", "OP": "?"}, {"LOWER": "with"}])]
    [['map']]
    """
    if not pattern or any(t.get("OP") not in (None, "?", "!", "1") for t in pattern):
        return []
    prefix = []
    for token in pattern:
        if token.get("OP") not in (None, "1"):
            break
        constraints = {k.upper(): v for k, v in token.items() if k.upper() != "OP"}
        if len(constraints) != 1:
            break
        (key, value), = constraints.items()
        attr = {"LOWER": LOWER, "LEMMA": LEMMA}.get(key)
        if isinstance(value, str):
            words = [value]
        elif isinstance(value, dict) and set(value) == {"IN"} and all(isinstance(v, str) for v in value["IN"]):
            words = list(value["IN"])
        else:
            break
        if attr is None:
            break
        prefix.append((attr, words))
    return prefix
