"""The auto-coder's matchers, compiled once from codebooks and run once per spaCy Doc.

Every code's ``match:`` block becomes entries in a handful of shared matchers, so a
document is scanned once whatever the number of codes:

- keywords: one ``PhraseMatcher`` on ``LEMMA`` ("held group supervisions" matches the
  keyword "group supervision"); a keyword written with a space also matches with a
  hyphen and the other way round ("key worker" / "key-worker");
- exact phrases: one ``PhraseMatcher`` on ``LOWER``, shared with the vetoes;
- token patterns: one spaCy ``Matcher``;
- regular expressions: compiled once, as written (add ``(?i)`` to ignore case), and
  matched within one line of the text (``^``/``$`` are a line's start and end); only
  lines holding the texts the pattern requires are searched;
- fuzzy: ``FuzzyIndex`` (rapidfuzz), for codes with ``fuzzy: true``;
- vetoes: every code's veto terms, in that same ``LOWER`` matcher (one pass for both).

A term shared by several codes is one matcher entry pointing at all of them.
``RuleSet`` (here) builds and runs them; the kinds with machinery of their own live
beside it: ``fuzzy``, ``regexes``, ``patterns``, and ``records`` holds what they return.

>>> from qualcode.nlp import load_pipeline
>>> from qualcode.codebook import parse_codebook
>>> cb = parse_codebook('''
... id: demo
... name: Demo
... version: "1"
... codes:
...   - {id: sup, name: Supervision, definition: Supervision of staff., match: {keywords: [group supervision]}}
... ''')
>>> rules = RuleSet.build([cb], load_pipeline())
>>> text = "We held group supervisions."
>>> [(h.kind, h.term) for h in rules.find(load_pipeline()(text), text)]
[('lemma', 'group supervision')]
"""


from __future__ import annotations

import hashlib
import json
import pickle
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

import numpy as np
from spacy.matcher import PhraseMatcher

from ..errors import CodebookError
from ..nlp import token_columns
from .fuzzy import _JOINERS, FUZZY_MIN_LENGTH, FuzzyIndex, _FuzzyEntry
from .patterns import PatternMatcher
from .records import CodeRules, Hit, VetoHit
from .regexes import Regex, _Lines, anchor_shared

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language
    from spacy.tokens import Doc

    from ..codebook import Code, Codebook

__all__ = ["CodeRules", "FuzzyIndex", "Hit", "PatternMatcher", "Regex", "RuleSet", "VetoHit", "anchor_shared",
           "code_rules"]


@dataclass
class RuleSet:
    """All codes' matchers, built once; ``find`` runs them over one Doc."""

    codes: list[CodeRules]
    lemma: PhraseMatcher
    lower: PhraseMatcher  # exact phrases and veto terms: one pass over LOWER for both
    patterns: PatternMatcher
    regexes: list["Regex"]
    fuzzy: FuzzyIndex
    veto_keys: frozenset[int]  # the labels in ``lower`` that are veto terms
    labels: dict[int, list[tuple[int, str, str]]] = field(default_factory=dict)  # hash -> [(code, kind, term)]
    n_terms: int = 0

    @classmethod
    def build(cls, codebooks: Iterable["Codebook"], nlp: "Language") -> "RuleSet":
        """Compile every non-empty code of ``codebooks`` against ``nlp``'s vocabulary."""
        builder = _Builder(nlp)
        for codebook in codebooks:
            for code in codebook.codes:
                if not code.match.is_empty:
                    builder.add(codebook, code)
        return builder.finish()

    @classmethod
    def cached(cls, codebooks: Iterable["Codebook"], nlp: "Language") -> "RuleSet":
        """``build``, once per process for the same codebooks (by content) and pipeline.

        Compiling parses every term with spaCy: about as long as matching 20,000
        words, so a notebook or service that auto-codes again with the same codebooks
        skips it. A RuleSet holds nothing of the documents it ran on but caches of
        word forms, so sharing it between runs changes no result.

        >>> from qualcode.nlp import load_pipeline
        >>> RuleSet.cached([], load_pipeline()) is RuleSet.cached([], load_pipeline())
        True
        """
        books = list(codebooks)
        key = hashlib.sha256(pickle.dumps(books)).hexdigest()
        found = _BUILT.get(key)
        if found is None or found[0] is not nlp:
            found = (nlp, cls.build(books, nlp))
            if len(_BUILT) >= _BUILT_KEPT:
                del _BUILT[next(iter(_BUILT))]  # the oldest: memory stays bounded
            _BUILT[key] = found
        return found[1]

    def find(self, doc: "Doc", text: str) -> list[Hit]:
        """Every hit of every code in ``doc`` of ``text`` (vetoes and filters are applied later).

        ``text`` is the string ``doc`` was made from: ``doc.text`` would rebuild it.
        """
        matches = self.lemma(doc) if len(self.lemma) else []
        if len(self.lower):
            lower = self.lower(doc)
            if self.veto_keys:  # kept for ``vetoes``: the same pass found them
                keys = self.veto_keys
                doc.user_data[_VETOES_KEY] = (self, len(doc), [m for m in lower if m[0] in keys])
                lower = [m for m in lower if m[0] not in keys]
            matches.extend(lower)
        if len(self.patterns):
            matches.extend(self.patterns(doc))
        hits = []
        if matches:
            labels, starts, ends = zip(*matches)
            columns = token_columns(doc)  # character offsets for all matches in one gather
            starts_char = columns.idx[np.array(starts)].tolist()
            ends_char = columns.end[np.array(ends) - 1].tolist()
            for label, start, end, start_char, end_char in zip(labels, starts, ends, starts_char, ends_char):
                for code, kind, term in self.labels[label]:
                    hits.append(Hit(code, kind, term, start, end, start_char, end_char))
        if self.regexes:
            hits.extend(self._regex_hits(doc, text))
        hits.extend(self.fuzzy.find(doc))
        return hits

    def _regex_hits(self, doc: "Doc", text: str) -> list[Hit]:
        """Regex matches, line by line; a line is searched only if it holds the regex's
        required text (``_required_pieces``) and the regex runs only on lines holding
        all the rest: Python's ``re`` scans slowly when a pattern starts with ``\\b``,
        and most lines cannot match anyway."""
        lines = _Lines(text)
        token_starts = None
        hits = []
        for regex in self.regexes:
            for lo, hi in lines.holding_any(regex.literal, regex.ignore_case, regex.anchor):
                if regex.others and not regex.may_match(lines.line(lo, hi, regex.ignore_case)):
                    continue
                for m in regex.pattern.finditer(text, lo, hi):
                    if m.end() == m.start():
                        continue  # an empty match marks nothing
                    if token_starts is None:
                        token_starts = token_columns(doc).idx
                    start = int(np.searchsorted(token_starts, m.start(), side="right")) - 1
                    end = int(np.searchsorted(token_starts, m.end(), side="left"))
                    hits.append(Hit(regex.code, "regex", regex.source, max(start, 0), max(end, start + 1),
                                    m.start(), m.end()))
        return hits

    def vetoes(self, doc: "Doc") -> list[VetoHit]:
        """Every veto term in ``doc``, in order."""
        if not self.veto_keys:
            return []
        kept = doc.user_data.get(_VETOES_KEY)
        if kept is not None and kept[0] is self and kept[1] == len(doc):
            found = kept[2]
        else:
            found = [m for m in self.lower(doc) if m[0] in self.veto_keys]
        strings = doc.vocab.strings
        return [VetoHit(strings[label].split(":", 1)[1], start, end, doc[start].idx) for label, start, end in found]


_VETOES_KEY = "qualcode.vetoes"  # in Doc.user_data: (RuleSet, Doc length, veto matches) from ``find``


_BUILT: dict[str, tuple["Language", RuleSet]] = {}  # by the codebooks' pickled content, oldest first
_BUILT_KEPT = 4


class _Builder:
    """Collects terms code by code, then makes the matchers."""

    def __init__(self, nlp: "Language"):
        self.nlp = nlp
        self.codes: list[CodeRules] = []
        self.labels: dict[int, list[tuple[int, str, str]]] = {}
        self.keywords: list[tuple[int, str]] = []  # (code, term)
        self.exact_terms: dict[str, str] = {}
        self.patterns: list[tuple[str, list[dict]]] = []
        self.regexes: list[Regex] = []
        self.veto_terms: set[str] = set()
        self.fuzzy_terms: list[tuple[int, str, float]] = []
        self.n_terms = 0

    def _label(self, name: str, code: int, kind: str, term: str) -> str:
        key = self.nlp.vocab.strings.add(name)
        targets = self.labels.setdefault(key, [])
        if (code, kind, term) not in targets:
            targets.append((code, kind, term))
        return name

    def add(self, codebook: "Codebook", code: "Code") -> None:
        m = code.match
        index = len(self.codes)
        self.codes.append(CodeRules(
            code.id, code.name, codebook.id, codebook.version, m.segment, m.speakers,
            m.source_types, m.roles, [v.lower() for v in m.veto], m.veto_window, m.fuzzy_threshold,
        ))
        where = getattr(codebook, "_file", codebook.id)
        self.keywords.extend((index, term) for term in _clean(m.keywords))
        for term in _clean(m.exact):
            self.exact_terms[self._label(f"exact:{term}", index, "exact", term)] = term
        for number, pattern in enumerate(m.patterns, start=1):
            term = json.dumps(pattern, ensure_ascii=False)
            self.patterns.append((self._label(f"pattern:{code.id}:{number}", index, "pattern", term), pattern))
        for source in m.regex:
            try:
                self.regexes.append(Regex.compile(index, source))
            except re.error as exc:
                raise CodebookError(where, f"code {code.id}: regex {source!r} is not valid ({exc})",
                                    "correct the regular expression (Python syntax)") from exc
        self.veto_terms.update(v.lower() for v in m.veto if v.strip())
        if m.fuzzy:
            self.fuzzy_terms.extend((index, term, m.fuzzy_threshold) for term in _clean(m.keywords + m.exact))
        self.n_terms += len(m.keywords) + len(m.exact) + len(m.patterns) + len(m.regex)

    def finish(self) -> RuleSet:
        vocab = self.nlp.vocab
        lemma = self._lemma_matcher()
        lower = PhraseMatcher(vocab, attr="LOWER")
        for label, term in self.exact_terms.items():
            lower.add(label, [self.nlp.make_doc(term)])
        patterns = PatternMatcher(vocab)
        for label, pattern in self.patterns:
            try:
                patterns.add(label, pattern)
            except Exception as exc:  # spaCy raises ValueError or MatchPatternError
                raise CodebookError(label.split(":")[1], f"token pattern {pattern} is not valid ({exc})",
                                    "write patterns as spaCy Matcher token patterns, e.g. "
                                    "[{LEMMA: scale}, {LIKE_NUM: true}]") from exc
        veto_keys = set()
        for term in sorted(self.veto_terms):
            variants = [term] + (["n't"] if term == "not" else [])
            lower.add(f"veto:{term}", [self.nlp.make_doc(v) for v in variants])
            veto_keys.add(vocab.strings[f"veto:{term}"])
        anchor_shared(self.regexes)
        return RuleSet(self.codes, lemma, lower, patterns, self.regexes, self._fuzzy(), frozenset(veto_keys),
                       self.labels, self.n_terms)

    def _lemma_matcher(self) -> PhraseMatcher:
        """One entry per distinct lemma sequence, hyphens ignored: "caseload" and
        "caseloads", or "whole-family" and "whole family", in one code are one term (the
        first written), so a segment does not list both."""
        phrases = sorted({p for _, term in self.keywords for p in (term, *_spellings(term))})
        docs = dict(zip(phrases, self.nlp.pipe(phrases)))
        matcher = PhraseMatcher(self.nlp.vocab, attr="LEMMA")
        added: set[str] = set()
        for code, term in self.keywords:
            lemmas = " ".join(t.lemma_ for t in docs[term] if t.text not in _JOINERS)
            label = f"lemma:{lemmas}"
            key = self.nlp.vocab.strings.add(label)
            if any(c == code for c, _, _ in self.labels.get(key, ())):
                continue
            self._label(label, code, "lemma", term)
            if label not in added:
                added.add(label)
                matcher.add(label, [docs[p] for p in (term, *_spellings(term))])
        return matcher

    def _fuzzy(self) -> FuzzyIndex:
        entries: list[_FuzzyEntry] = []
        squashed: dict[str, list[int]] = {}
        texts = [term for _, term, _ in self.fuzzy_terms]
        for (code, term, threshold), doc in zip(self.fuzzy_terms, self.nlp.pipe(texts)):
            words = [{t.lower_, t.lemma_} for t in doc if t.text not in _JOINERS]
            if not words:
                continue
            entries.append(_FuzzyEntry(code, term, words, threshold))
            if len(words) > 1:
                joined = re.sub(r"[\s\-–/]+", "", term.lower())
                if len(joined) >= FUZZY_MIN_LENGTH:
                    squashed.setdefault(joined, []).append(len(entries) - 1)
        return FuzzyIndex(entries, squashed)


def _clean(terms: Iterable[str]) -> list[str]:
    """Terms lower-cased and with runs of space collapsed; blanks dropped; order kept."""
    out = []
    for term in terms:
        term = " ".join(term.lower().split())
        if term and term not in out:
            out.append(term)
    return out


def _spellings(term: str) -> list[str]:
    """Other ways a multi-word term is written: "key worker" <-> "key-worker".

    >>> _spellings("key worker"), _spellings("step-down")
    (['key-worker'], ['step down'])
    """
    variants = []
    if " " in term:
        variants.append(term.replace(" ", "-"))
    if "-" in term:
        variants.append(term.replace("-", " "))
    return [v for v in variants if v != term]


def code_rules(codebooks: Iterable["Codebook"], nlp: "Language") -> tuple[list[CodeRules], int]:
    """``RuleSet.build``'s codes and term count without compiling any matcher.

    A run on Dask workers needs only these in the writing process (code filters, code
    ids, counts); the workers compile the matchers. Invalid regexes are refused here
    as they would be by ``build``.
    """
    builder = _Builder(nlp)
    for codebook in codebooks:
        for code in codebook.codes:
            if not code.match.is_empty:
                builder.add(codebook, code)
    return builder.codes, builder.n_terms
