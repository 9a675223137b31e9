"""The local spaCy pipeline every NLP step shares: sentences and lemmas, nothing downloaded.

The default pipeline is blank English + a sentence splitter + a lookup lemmatiser whose
table comes from the ``spacy-lookups-data`` package already installed with qualcode
(``spacy.lookups.load_lookups`` reads it from the package, never from the network). Any
installed spaCy pipeline can be named instead; qualcode never downloads one.

The sentence splitter applies the rules of spaCy's ``sentencizer`` (a sentence ends after
``.``, ``?``, ``!`` and the like, once the punctuation run is over) to whole arrays of
token attributes instead of token by token, which is what auto-coding a million words
needs; a property test holds it to spaCy's own boundaries.

Lemmas are lower-cased: spaCy's stock lookup lemmatiser looks up ``token.text`` as it is,
so "Supervising" at the start of a sentence stays "Supervising" and a keyword would miss
it. Ours looks up the lower-cased form and caches the answer per word form, which also
makes it several times faster than the stock component (Zipf: few distinct forms).

>>> nlp = load_pipeline()
>>> [t.lemma_ for t in nlp("Children were supervising.")]
['child', 'be', 'supervise', '.']
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Callable

import numpy as np
import spacy
from spacy.attrs import IDX, IS_LEFT_PUNCT, IS_PUNCT, LEMMA, LENGTH, LOWER, ORTH, SENT_START, SPACY
from spacy.language import Language
from spacy.pipeline import Sentencizer
from spacy.tokens import Doc

from .errors import ModelNotInstalled

DEFAULT = "blank:en"
SENTENCES = "qualcode_sentences"
LEMMATIZER = "qualcode_lemmatizer"

# Components a named pipeline may carry that auto-coding never reads: excluding them
# keeps spacy.load fast and memory small. Lemmas and sentences are what we use.
_UNUSED = ("ner", "entity_linker", "entity_ruler", "textcat", "textcat_multilabel", "spancat")

_CACHE: dict[str, Language] = {}

# Docs shorter than this are walked token by token: numpy's fixed cost per call
# outweighs the loop for a phrase or a sentence.
SHORT_DOC = 40

# Endings of words that look plural but are not ("process", "status", "crisis", "'s").
_NOT_PLURAL = ("ss", "us", "is", "ics", "'s", "’s")
# Stems that are nouns even when the lookup table does not list them.
_NOUN_ENDINGS = ("ion", "ment", "ness", "ity", "ance", "ence", "ship", "er", "or", "ist", "ant",
                 "ing", "ure", "ate", "ive", "age", "al", "work", "load", "plan", "meeting")


class LookupLemmatizer:
    """Sets ``token.lemma`` from a lookup table keyed by the lower-cased word form.

    The answer is cached per word form (``token.orth``), so each distinct form is
    looked up once per process rather than once per occurrence.
    """

    def __init__(self, table: dict[str, str] | None = None):
        self.table = table or {}
        self._lemmas = set(self.table.values())
        self._by_orth: dict[int, int] = {}

    def lemma(self, lower: str) -> str:
        """The lemma of a lower-cased word form.

        The table has no entry for many plurals of the nouns evaluators code for
        ("supervisions", "escalations"): an unknown form ending in a plural "s" whose
        stem is a known word or ends like a noun loses the "s".

        >>> LookupLemmatizer({"plan": "plan"}).lemma("supervisions")
        'supervision'
        """
        lemma = self.table.get(lower)
        if lemma is not None:
            return lemma
        if len(lower) > 4 and lower.endswith("s") and not lower.endswith(_NOT_PLURAL):
            stem = lower[:-1]
            if stem in self.table or stem in self._lemmas or stem.endswith(_NOUN_ENDINGS):
                return stem
        return lower

    def _lemma_id(self, doc: Doc, orth: int) -> int:
        lemma_id = doc.vocab.strings.add(self.lemma(doc.vocab.strings[orth].lower()))
        self._by_orth[orth] = lemma_id
        return lemma_id

    def __call__(self, doc: Doc) -> Doc:
        if len(doc) < SHORT_DOC:
            by_orth = self._by_orth
            for token in doc:
                orth = token.orth
                token.lemma = by_orth[orth] if orth in by_orth else self._lemma_id(doc, orth)
            return doc
        # One lookup per distinct form, written back as one array: walking the Doc
        # token by token costs more than the lookups themselves.
        read = _read_by_splitter(doc)
        forms, where = np.unique(read.table[:, 0] if read is not None else doc.to_array(ORTH), return_inverse=True)
        by_orth = self._by_orth
        lemmas = np.array([by_orth[orth] if orth in by_orth else self._lemma_id(doc, orth) for orth in forms.tolist()],
                          dtype=np.uint64)[where]
        doc.from_array([LEMMA], lemmas)
        if read is not None:
            read.lemma = lemmas
        return doc

    def initialize(self, get_examples: Callable | None = None, *, nlp: Language | None = None) -> None:
        """Read the English lookup table from spacy-lookups-data (installed, offline).

        ``spacy.lookups.load_lookups`` would give a Table keyed by string hashes; the
        package's own JSON gives plain ``{word: lemma}``, which we need to look up
        lower-cased forms. Both come from the same registered, local file.
        """
        from spacy.util import load_language_data, registry

        if "en" not in registry.lookups:
            raise ModelNotInstalled(
                "spacy-lookups-data is not installed, so the built-in pipeline has no "
                "lemma table. Fix: `pip install spacy-lookups-data` (it is one of "
                "qualcode's dependencies; reinstall qualcode to get it)."
            )
        self.table = dict(load_language_data(registry.lookups.get("en")["lemma_lookup"]))
        self._lemmas = set(self.table.values())
        self._by_orth.clear()


class TokenColumns:
    """The token attributes matching and segmenting read, taken from a parsed Doc at once.

    ``Doc.to_array`` walks every token once per call, whatever the number of attributes;
    the phrase offsets, token patterns, fuzzy search, regexes and sentence cuts each
    want two or three, so one walk for all of them halves the cost. Get them with
    ``token_columns(doc)``, which keeps them with the Doc: read them once the pipeline
    has run, as auto-coding does, not while a component is still changing the Doc.
    """

    ATTRS = (IDX, LENGTH, LOWER, LEMMA, SENT_START, IS_LEFT_PUNCT, SPACY)

    def __init__(self, doc: Doc):
        read = _read_by_splitter(doc)
        if read is not None and read.lemma is not None:
            # The built-in pipeline read these with the sentence splitter's own walk
            # and set the rest itself: no second walk of the Doc.
            table, self.lemma, starts = read.table, read.lemma, read.sent_start
            self.idx = table[:, 3].astype(np.int64)
            self.end = self.idx + table[:, 4].astype(np.int64)
            self.lower = table[:, 5]
            self.left_punct = table[:, 6] == 1
            self.space = table[:, 7] == 1
        else:
            table = doc.to_array(list(self.ATTRS)) if len(doc) else np.zeros((0, len(self.ATTRS)), dtype=np.uint64)
            self.idx = table[:, 0].astype(np.int64)  # where each token starts (characters)
            self.end = self.idx + table[:, 1].astype(np.int64)  # where it ends
            self.lower = table[:, 2]
            self.lemma = table[:, 3]
            starts = table[:, 4]
            self.left_punct = table[:, 5] == 1  # "(", "[", an opening quote
            self.space = table[:, 6] == 1  # followed by a space
        self.length = len(doc)
        self.sent_start = starts.astype(np.int64)  # 1 starts a sentence, -1 does not, 0 unknown

    def column(self, attr: int) -> np.ndarray:
        """The LOWER or LEMMA column, by spaCy attribute id."""
        return {LOWER: self.lower, LEMMA: self.lemma}[attr]


def token_columns(doc: Doc) -> TokenColumns:
    """``doc``'s TokenColumns, read once and kept in ``doc.user_data``.

    >>> doc = load_pipeline()("Key workers met.")
    >>> token_columns(doc).idx.tolist(), token_columns(doc) is token_columns(doc)
    ([0, 4, 12, 15], True)
    """
    columns = doc.user_data.get(_COLUMNS_KEY)
    if columns is None or columns.length != len(doc):
        columns = doc.user_data[_COLUMNS_KEY] = TokenColumns(doc)
    return columns


_COLUMNS_KEY = "qualcode.token_columns"


class _SplitterRead:
    """What the sentence splitter read of a long Doc in its one walk, for the built-in
    pipeline's next steps: the lemmatiser takes ORTH from it and leaves its lemmas
    here, and ``TokenColumns`` takes everything from it. Token attributes cannot change
    without changing the Doc's length in these pipelines; the sentence starts and
    lemmas are the ones the two components wrote, and they run last."""

    ATTRS = (ORTH, IS_PUNCT, SENT_START, IDX, LENGTH, LOWER, IS_LEFT_PUNCT, SPACY)

    def __init__(self, table: np.ndarray, sent_start: np.ndarray):
        self.length = len(table)
        self.table = table
        self.sent_start = sent_start
        self.lemma: np.ndarray | None = None


_READ_KEY = "qualcode.splitter_read"
_NOT_START = np.array(-1, dtype=np.int64).astype(np.uint64)  # SENT_START -1, as Doc arrays hold it


def _read_by_splitter(doc: Doc) -> _SplitterRead | None:
    read = doc.user_data.get(_READ_KEY)
    return read if read is not None and read.length == len(doc) else None


_FEW_HASHES = 16


def among(values: np.ndarray, sorted_hashes: np.ndarray) -> np.ndarray:
    """Which of ``values`` (a Doc attribute column) are in ``sorted_hashes``.

    ``np.isin`` sorts the whole column on every call; a binary search of the
    hashes for each value costs less, and for a few hashes one comparison per hash
    costs less still, which counts several times per document.

    >>> among(np.array([5, 7, 9], dtype=np.uint64), np.array([7, 9], dtype=np.uint64)).tolist()
    [False, True, True]
    """
    if not len(sorted_hashes):
        return np.zeros(len(values), dtype=bool)
    if len(sorted_hashes) <= _FEW_HASHES:  # a comparison per hash beats a binary search per value
        found = values == sorted_hashes[0]
        for wanted in sorted_hashes[1:]:  # numpy scalars: a Python int past 2**63 takes a slow path
            found |= values == wanted
        return found
    at = np.searchsorted(sorted_hashes, values)
    at[at == len(sorted_hashes)] = 0
    return sorted_hashes[at] == values


class SentenceSplitter:
    """Marks sentence starts by the rules of spaCy's ``sentencizer``, over arrays.

    spaCy's rule: after a token in ``punct_chars`` (".", "?", "!", "。" …), the next
    token that is neither punctuation nor one of those starts a sentence. So a word
    token starts a sentence exactly when such a token lies between it and the previous
    word token; a cumulative count answers that for every token at once. Tokens whose
    start is already set (by an earlier component) keep it, as with the sentencizer.

    Short Docs (codebook phrases, single sentences) are walked token by token instead:
    a dozen numpy calls cost more than a few tokens.

    >>> nlp = load_pipeline()
    >>> [s.text for s in nlp("It worked!! We met again. Then?").sents]
    ['It worked!!', 'We met again.', 'Then?']
    """

    def __init__(self, vocab, punct_chars: list[str] | None = None):
        chars = punct_chars or Sentencizer.default_punct_chars
        self.punct_chars = sorted(set(chars))
        self._hashes = np.array(sorted({vocab.strings.add(c) for c in chars}), dtype=np.uint64)
        self._hash_set = set(self._hashes.tolist())
        is_punct = {h: vocab[int(h)].is_punct for h in self._hash_set}
        self._punct_hashes = np.array(sorted(h for h, p in is_punct.items() if p), dtype=np.uint64)
        self._other_hashes = np.array(sorted(h for h, p in is_punct.items() if not p), dtype=np.uint64)

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            return doc
        if len(doc) < SHORT_DOC:
            return self.by_tokens(doc)
        return self.by_arrays(doc)

    def by_tokens(self, doc: Doc) -> Doc:
        """spaCy's loop, for short Docs."""
        ends = self._hash_set
        seen_end = False
        for token in doc:
            is_end = token.orth in ends
            if seen_end and not is_end and not token.is_punct:
                starts, seen_end = True, False
            else:
                starts = token.i == 0
                seen_end = seen_end or is_end
            if token.is_sent_start is None:  # not set by an earlier component
                token.is_sent_start = starts
        return doc

    def by_arrays(self, doc: Doc) -> Doc:
        """The same rule over whole columns, for long Docs."""
        n = len(doc)
        if not n:
            return doc
        columns = doc.to_array(list(_SplitterRead.ATTRS))  # the rest is for the next steps
        punct = columns[:, 1] != 0
        # Tokens that can end a sentence; the binary search runs on punctuation only
        # (a sixth of the tokens), and any end character that is not punctuation (none
        # in spaCy's list, but the list is the caller's) is compared everywhere.
        punct_at = np.flatnonzero(punct)
        end_at = punct_at[among(columns[punct_at, 0], self._punct_hashes)]
        if len(self._other_hashes):
            end_at = np.union1d(end_at, np.flatnonzero(among(columns[:, 0], self._other_hashes)))
        ends = np.zeros(n, dtype=bool)
        ends[end_at] = True
        word_at = np.flatnonzero(~ends & ~punct)
        # The first word token after each sentence end starts a sentence (ends are few).
        after = np.searchsorted(word_at, end_at)
        marks = np.full(n, _NOT_START, dtype=np.uint64)
        marks[0] = 1
        marks[word_at[after[after < len(word_at)]]] = 1
        current = columns[:, 2]
        if current.any():  # starts an earlier component set stay
            marks = np.where(current == 0, marks, current)
        doc.from_array([SENT_START], marks)
        doc.user_data[_READ_KEY] = _SplitterRead(columns, marks)
        return doc


@Language.factory(SENTENCES)
def _make_sentences(nlp: Language, name: str) -> SentenceSplitter:
    return SentenceSplitter(nlp.vocab)


@Language.factory(LEMMATIZER)
def _make_lemmatizer(nlp: Language, name: str) -> LookupLemmatizer:
    return LookupLemmatizer()


def blank_pipeline() -> Language:
    """The default: blank English, sentence splitter, lower-cased lookup lemmatiser."""
    nlp = spacy.blank("en")
    nlp.add_pipe(SENTENCES)
    nlp.add_pipe(LEMMATIZER)
    nlp.initialize()
    return nlp


def stock_pipeline() -> Language:
    """spaCy's own blank English + sentencizer + lookup lemmatiser, as spaCy ships them.

    The yardstick ``benchmarks/autocode.py`` measures auto-coding against.
    """
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


def _load_named(model: str) -> Language:
    """An installed pipeline package by name, or a pipeline folder saved with ``nlp.to_disk``
    (how a model reaches a machine without internet: copied, not downloaded)."""
    folder = Path(model).expanduser()
    if folder.is_dir():
        if not (folder / "config.cfg").is_file():
            raise ModelNotInstalled(
                f"{folder} is a folder but not a spaCy pipeline (it has no config.cfg). Fix: name "
                "the folder a pipeline was saved to (`nlp.to_disk(...)`, or the inner folder of an "
                "unpacked model package), or an installed pipeline such as en_core_web_sm."
            )
        nlp = spacy.load(folder, exclude=list(_UNUSED))
    elif importlib.util.find_spec(model) is None:
        raise ModelNotInstalled(
            f"spaCy pipeline {model!r} is not installed on this machine. Fix: install it "
            f"once with `python -m spacy download {model}` (or `pip install {model}` from a "
            "wheel your organisation approves), or leave out --model to use the built-in "
            "pipeline; qualcode itself never downloads anything."
        )
    else:
        nlp = spacy.load(model, exclude=list(_UNUSED))
    if not nlp.has_pipe("parser") and not nlp.has_pipe("senter") and not nlp.has_pipe("sentencizer"):
        nlp.add_pipe(SENTENCES)
    return nlp


def load_pipeline(model: str | None = None) -> Language:
    """The spaCy pipeline for ``model`` (None: the built-in default), built once per process.

    ``model`` names an installed pipeline package or a folder holding a saved pipeline.

    >>> load_pipeline() is load_pipeline()
    True
    >>> load_pipeline("en_no_such_model")
    Traceback (most recent call last):
    ...
    qualcode.errors.ModelNotInstalled: spaCy pipeline 'en_no_such_model' is not installed ...
    """
    name = model or DEFAULT
    if name not in _CACHE:
        _CACHE[name] = blank_pipeline() if name == DEFAULT else _load_named(name)
    return _CACHE[name]


def model_name(model: str | None) -> str:
    """The name provenance records for ``model`` (the default has a name too)."""
    return model or DEFAULT
