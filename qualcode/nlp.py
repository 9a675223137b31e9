"""The local spaCy pipeline every NLP step shares: sentences and lemmas, nothing downloaded.

The default pipeline is blank English + the rule-based ``sentencizer`` + a lookup
lemmatiser whose table comes from the ``spacy-lookups-data`` package already installed
with qualcode (``spacy.lookups.load_lookups`` reads it from the package, never from the
network). Any installed spaCy pipeline can be named instead; qualcode never downloads one.

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
from typing import Callable

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from .errors import ModelNotInstalled

DEFAULT = "blank:en"
LEMMATIZER = "qualcode_lemmatizer"

# Components a named pipeline may carry that auto-coding never reads: excluding them
# keeps spacy.load fast and memory small. Lemmas and sentences are what we use.
_UNUSED = ("ner", "entity_linker", "entity_ruler", "textcat", "textcat_multilabel", "spancat")

_CACHE: dict[str, Language] = {}

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

    def _lemma_id(self, doc: Doc, token) -> int:
        lemma = self.lemma(token.lower_)
        lemma_id = doc.vocab.strings.add(lemma)
        self._by_orth[token.orth] = lemma_id
        return lemma_id

    def __call__(self, doc: Doc) -> Doc:
        by_orth = self._by_orth
        for token in doc:
            lemma_id = by_orth.get(token.orth)
            token.lemma = lemma_id if lemma_id is not None else self._lemma_id(doc, token)
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


@Language.factory(LEMMATIZER)
def _make_lemmatizer(nlp: Language, name: str) -> LookupLemmatizer:
    return LookupLemmatizer()


def blank_pipeline() -> Language:
    """The default: blank English, sentence splitter, lower-cased lookup lemmatiser."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
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
    if importlib.util.find_spec(model) is None:
        raise ModelNotInstalled(
            f"spaCy pipeline {model!r} is not installed on this machine. Fix: install it "
            f"once with `python -m spacy download {model}` (or `pip install {model}` from a "
            "wheel your organisation approves), or leave out --model to use the built-in "
            "pipeline; qualcode itself never downloads anything."
        )
    nlp = spacy.load(model, exclude=list(_UNUSED))
    if not nlp.has_pipe("parser") and not nlp.has_pipe("senter") and not nlp.has_pipe("sentencizer"):
        nlp.add_pipe("sentencizer")
    return nlp


def load_pipeline(model: str | None = None) -> Language:
    """The spaCy pipeline for ``model`` (None: the built-in default), built once per process.

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
