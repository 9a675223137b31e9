"""``FuzzyIndex``: approximate matches of codebook words (rapidfuzz), for misspellings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from rapidfuzz import fuzz, process

from ..nlp import token_columns
from .records import Hit

if TYPE_CHECKING:  # pragma: no cover
    from spacy.tokens import Doc


FUZZY_MIN_LENGTH = 5  # shorter words are too close to too many others ("plan" ~ "plane")
FUZZY_LENGTH_SLACK = 2  # a misspelling adds or drops at most this many letters
_JOINERS = ("-", "–", "/")  # tokens a multi-word term may be written across


@dataclass
class _FuzzyEntry:
    code: int
    term: str
    words: list[set[str]]  # for each word of the term, its accepted forms (lower, lemma)
    threshold: float


class FuzzyIndex:
    """Approximate matches of codebook words, for misspellings in case notes.

    Only words a misspelling could come from are compared: same first letter, length
    within ``FUZZY_LENGTH_SLACK``, at least ``FUZZY_MIN_LENGTH`` letters, and not
    already a form the lemma matcher finds. Each distinct word form is scored once per
    process (``_cache``), so the cost grows with the vocabulary, not the corpus.
    A multi-word term matches when one of its words is a misspelling and the others
    are there (exactly or misspelt too), in order, optionally joined by hyphens; the
    term written as one word ("keyworker" for "key worker") matches too.
    """

    def __init__(self, entries: list[_FuzzyEntry], squashed: dict[str, list[int]]):
        self.entries = entries
        self.min_threshold = min((e.threshold for e in entries), default=100.0)
        # word form -> [(entry index, position of the word in the term)]
        self.targets: dict[str, list[tuple[int, int]]] = {}
        exact: set[str] = set()
        for index, entry in enumerate(entries):
            for position, forms in enumerate(entry.words):
                exact |= forms
                for form in forms:
                    if len(form) >= FUZZY_MIN_LENGTH:
                        self.targets.setdefault(form, []).append((index, position))
        self.exact = exact
        # The whole term as one word; position -1 marks "covers the whole term".
        for form, indexes in squashed.items():
            for index in indexes:
                self.targets.setdefault(form, []).append((index, -1))
        self.squashed = set(squashed)
        self._buckets: dict[tuple[str, int], list[str]] = {}
        for form in self.targets:
            self._buckets.setdefault((form[0], len(form)), []).append(form)
        self._cache: dict[int, tuple[str, float] | None] = {}

    def __bool__(self) -> bool:
        return bool(self.entries)

    def _score(self, lower: str, lemma: str) -> tuple[str, float] | None:
        if lower in self.squashed:
            return lower, 100.0
        if lower in self.exact or lemma in self.exact or len(lower) < FUZZY_MIN_LENGTH - FUZZY_LENGTH_SLACK:
            return None
        candidates = []
        for length in range(len(lower) - FUZZY_LENGTH_SLACK, len(lower) + FUZZY_LENGTH_SLACK + 1):
            candidates.extend(self._buckets.get((lower[0], length), ()))
        if not candidates:
            return None
        best = process.extractOne(lower, candidates, scorer=fuzz.ratio, score_cutoff=self.min_threshold)
        return (best[0], best[1]) if best else None

    def find(self, doc: "Doc") -> list[Hit]:
        """Fuzzy hits in ``doc``, at most one per (entry, place)."""
        if not self.entries or len(doc) == 0:
            return []
        lowers = token_columns(doc).lower
        forms, first = np.unique(lowers, return_index=True)
        strings = doc.vocab.strings
        cache = self._cache
        found: dict[int, tuple[str, float]] = {}
        for form, index in zip(forms.tolist(), first.tolist()):
            if form in cache:
                result = cache[form]
            else:
                token = doc[index]
                result = cache[form] = self._score(strings[form], token.lemma_)
            if result is not None:
                found[form] = result
        hits: list[Hit] = []
        seen: set[tuple[int, int]] = set()
        for form, (target, score) in found.items():
            for position in np.flatnonzero(lowers == np.uint64(form)).tolist():
                for entry_index, word_position in self.targets[target]:
                    entry = self.entries[entry_index]
                    hit = self._align(doc, position, entry, word_position, score, found)
                    if hit is not None and score >= entry.threshold and (entry_index, hit.start) not in seen:
                        seen.add((entry_index, hit.start))
                        hits.append(hit)
        return hits

    def _align(self, doc: "Doc", position: int, entry: _FuzzyEntry, word_position: int,
               score: float, found: dict[int, tuple[str, float]]) -> Hit | None:
        """The hit if the term's other words surround the fuzzy word at ``position``."""
        if word_position == -1 or len(entry.words) == 1:
            start, end = position, position + 1
        else:
            start = self._walk(doc, position, entry.words[:word_position][::-1], -1, found, entry)
            end = self._walk(doc, position, entry.words[word_position + 1:], 1, found, entry)
            if start is None or end is None:
                return None
            end += 1
        span = doc[start:end]
        return Hit(entry.code, "fuzzy", entry.term, start, end, span.start_char, span.end_char, score / 100)

    def _walk(self, doc: "Doc", position: int, words: list[set[str]], step: int,
              found: dict[int, tuple[str, float]], entry: _FuzzyEntry) -> int | None:
        """Token index of the last of ``words`` found stepping from ``position``, else None."""
        i = position
        for forms in words:
            i += step
            while 0 <= i < len(doc) and doc[i].text in _JOINERS:
                i += step
            if not 0 <= i < len(doc):
                return None
            token = doc[i]
            if token.lower_ in forms or token.lemma_ in forms:
                continue
            near = found.get(token.lower)
            if near is None or near[0] not in forms or near[1] < entry.threshold:
                return None
        return i
