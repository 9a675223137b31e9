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
from rapidfuzz import fuzz, process
from spacy.attrs import LEMMA, LOWER
from spacy.matcher import Matcher, PhraseMatcher

from .errors import CodebookError
from .nlp import among, token_columns

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language
    from spacy.tokens import Doc

    from .codebook import Code, Codebook

FUZZY_MIN_LENGTH = 5  # shorter words are too close to too many others ("plan" ~ "plane")
FUZZY_LENGTH_SLACK = 2  # a misspelling adds or drops at most this many letters
_JOINERS = ("-", "–", "/")  # tokens a multi-word term may be written across


@dataclass
class CodeRules:
    """What the auto-coder needs to know about one code, beyond its terms."""

    key: str
    name: str
    codebook: str
    codebook_version: str
    segment: str
    speakers: str
    source_types: list[str] | None
    roles: list[str] | None
    veto: list[str]
    veto_window: int
    fuzzy_threshold: float


@dataclass(slots=True)
class Hit:
    """One match of one code's term: tokens ``[start, end)`` and characters ``[start_char, end_char)``."""

    code: int  # index into RuleSet.codes
    kind: str  # lemma | exact | pattern | regex | fuzzy
    term: str
    start: int
    end: int
    start_char: int
    end_char: int
    score: float = 1.0  # fuzzy similarity 0..1; 1 for the others


@dataclass
class VetoHit:
    term: str
    start: int
    end: int
    start_char: int


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
