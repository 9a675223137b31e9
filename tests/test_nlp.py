"""The default pipeline: offline, cached, lower-cased lookup lemmas; named models."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qualcode import nlp
from qualcode.errors import ModelNotInstalled


def test_default_pipeline_has_sentences_and_lemmas_without_a_download():
    pipeline = nlp.load_pipeline()
    assert pipeline.pipe_names == [nlp.SENTENCES, nlp.LEMMATIZER]
    doc = pipeline("We held group supervisions. The workers were supervising children.")
    assert [t.lemma_ for t in doc][:4] == ["we", "hold", "group", "supervision"]
    assert [s.text for s in doc.sents] == ["We held group supervisions.",
                                           "The workers were supervising children."]


def test_lemmas_are_lower_cased_so_sentence_starts_match():
    doc = nlp.load_pipeline()("Supervising was hard. supervising was hard.")
    assert doc[0].lemma_ == doc[4].lemma_ == "supervise"


def test_plural_fallback_only_strips_plausible_plurals():
    lemmatizer = nlp.load_pipeline().get_pipe(nlp.LEMMATIZER)
    assert lemmatizer.lemma("escalations") == "escalation"
    assert lemmatizer.lemma("process") == "process"
    assert lemmatizer.lemma("crisis") == "crisis"
    assert lemmatizer.lemma("news") == "news"  # too short to guess


def test_pipelines_are_cached_per_name():
    assert nlp.load_pipeline() is nlp.load_pipeline(None)


def test_stock_pipeline_is_spacys_own_lemmatiser():
    stock = nlp.stock_pipeline()
    assert stock.pipe_names == ["sentencizer", "lemmatizer"]
    assert stock("children")[0].lemma_ == "child"


def test_model_that_is_not_installed_says_how_to_install_it():
    with pytest.raises(ModelNotInstalled) as err:
        nlp.load_pipeline("en_core_web_zz")
    message = str(err.value)
    assert "'en_core_web_zz' is not installed" in message
    assert "python -m spacy download en_core_web_zz" in message
    assert "pip install en_core_web_zz" in message
    assert "never downloads" in message


def test_model_name_for_provenance():
    assert nlp.model_name(None) == "blank:en"
    assert nlp.model_name("en_core_web_sm") == "en_core_web_sm"


# The sentence splitter must cut exactly where spaCy's sentencizer cuts: segments,
# agreement units and the demo's figures were all defined by spaCy's rule.
_SENTENCE_TEXT = st.lists(st.sampled_from(list("ab Zx .?!,;:\"'()[]\n-…。؟") + ["Mr.", "etc.", "...", "?!"]),
                          max_size=60).map("".join)


@settings(max_examples=400, deadline=None)
@given(_SENTENCE_TEXT, st.sampled_from(["by_tokens", "by_arrays"]))
def test_sentence_splitter_cuts_where_spacys_sentencizer_does(text, path):
    pipeline = nlp.load_pipeline()
    doc = getattr(pipeline.get_pipe(nlp.SENTENCES), path)(pipeline.make_doc(text))
    assert [s.start for s in doc.sents] == [s.start for s in _spacy_sentencizer()(text).sents]


def test_long_and_short_documents_take_their_own_path_to_the_same_sentences():
    text = "Fine. (Mostly.) We met again?! ok . " * 30
    pipeline = nlp.load_pipeline()
    assert len(pipeline.make_doc(text)) >= nlp.SHORT_DOC > len(pipeline.make_doc("Fine. We met."))
    expected = [s.start for s in _spacy_sentencizer()(text).sents]
    assert [s.start for s in pipeline(text).sents] == expected


def test_sentence_splitter_keeps_starts_set_by_an_earlier_component():
    pipeline = nlp.load_pipeline()
    doc = pipeline.make_doc("one two. three four")
    doc[1].is_sent_start = True
    doc = pipeline.get_pipe(nlp.SENTENCES)(doc)
    assert [s.text for s in doc.sents] == ["one", "two.", "three four"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["Children", "children", "were", "supervising", "Supervisions", "escalations",
                                 "process", "key-workers", "met", "."]), max_size=30))
def test_lemmas_set_by_array_equal_the_lookup_of_each_token(words):
    pipeline = nlp.load_pipeline()
    lemmatizer = pipeline.get_pipe(nlp.LEMMATIZER)
    for doc in (pipeline(" ".join(words)), pipeline(" ".join(words * nlp.SHORT_DOC))):  # both paths
        assert [t.lemma_ for t in doc] == [lemmatizer.lemma(t.lower_) for t in doc]


@functools.lru_cache(maxsize=1)
def _spacy_sentencizer():
    import spacy

    reference = spacy.blank("en")
    reference.add_pipe("sentencizer")
    return reference


def test_token_columns_from_the_splitters_read_equal_a_fresh_read():
    """The built-in pipeline hands TokenColumns what its sentence splitter read; they must be
    the columns a fresh walk of the finished Doc gives (sentence starts and lemmas included)."""
    import numpy as np

    pipeline = nlp.load_pipeline()
    corpus = Path(__file__).resolve().parents[1] / "corpus" / "interviews"
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(corpus.glob("*.txt"))]
    assert texts
    for text in texts + ["(Laughs) It's fine. [pause] \"Really?\" Yes!! " * 20]:
        doc = pipeline(text)
        assert len(doc) >= nlp.SHORT_DOC
        shared = nlp.TokenColumns(doc)
        doc.user_data.pop(nlp._READ_KEY)
        fresh = nlp.TokenColumns(doc)
        for name in ("idx", "end", "lower", "lemma", "sent_start", "left_punct", "space"):
            ours, theirs = getattr(shared, name), getattr(fresh, name)
            assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs), name
