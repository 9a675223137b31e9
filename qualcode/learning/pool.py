"""The examples learned suggestions learn from: every participant segment of a project,
its terms, its neighbours' terms, its codebook keyword counts, and which codes it has.

>>> neighbour_terms(["a", "b"], np.array([1, 1]), reach=1)
['b', 'a']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import sqlalchemy as sa

from .. import store
from ..errors import InputError, NotEnoughData
from ..progress import counted
from ..project import Project
from ..segments import UNITS, is_participant_text, load_turns, segment_document

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language

CONTEXT = 2  # segments either side whose lemmas describe a segment's surroundings
# Learning units: the segment kinds, plus whole documents (survey answers, case notes
# coded as a whole).
LEARNING_UNITS = (*UNITS, "document")
WHOLE = 0.9  # a coding covering this share of its document's text codes the whole document
MOSTLY = 0.8  # when this share of the accepted codings are whole-document, learn documents

@dataclass
class Pool:
    """Every participant segment of the project, with its terms and what codes it has.

    ``trainable`` marks segments of documents people have coded (where absence of a
    code is evidence); ``positive[code]`` marks segments an accepted coding of the code
    overlaps; ``covered[code]`` those any coding of it overlaps (so suggestions skip them).
    ``context`` holds the terms of each segment's neighbours; ``keyword_hits`` has one
    column per code with codebook keywords (named in ``keyword_codes``): how many of
    the code's keyword lemmas the segment holds.
    """

    unit: str
    document: np.ndarray
    start: np.ndarray
    end: np.ndarray
    terms: list[str]
    trainable: np.ndarray
    positive: dict[str, np.ndarray]
    covered: dict[str, np.ndarray]
    codebook_version: dict[str, str | None] = field(default_factory=dict)
    context: list[str] = field(default_factory=list)
    keyword_hits: np.ndarray | None = None
    keyword_codes: list[str] = field(default_factory=list)
    # The accepted codings the labels come from (document_id, start, end, code, coder,
    # coder_kind), so figures can be set beside each person's own coding.
    accepted: pd.DataFrame | None = None
    unit_note: str = ""
    # Optional sentence embeddings (``embeddings``): each segment's vector and the mean
    # vector of its neighbours; None unless asked for.
    vectors: np.ndarray | None = None
    context_vectors: np.ndarray | None = None

    @property
    def n_documents(self) -> int:
        return len(set(self.document[self.trainable].tolist()))


def segment_terms(span) -> str:
    """The features of a span of a spaCy Doc: lower-cased lemmas of its words, stop
    words, numbers and punctuation dropped, joined by spaces (bigrams form over them).

    >>> from qualcode.nlp import load_pipeline
    >>> segment_terms(load_pipeline()("We had Group Supervision sessions."))
    'group supervision session'
    """
    return " ".join(t.lemma_.lower() for t in span if t.is_alpha and not t.is_stop and len(t) > 1)


def neighbour_terms(terms: list[str], document: np.ndarray, reach: int = CONTEXT) -> list[str]:
    """For each segment, the terms of the ``reach`` segments either side of it in the
    same document (segments are in document order), itself left out.

    >>> neighbour_terms(["a", "b", "c", "d"], np.array([1, 1, 1, 2]), reach=1)
    ['b', 'a c', 'b', '']
    """
    out = []
    for i in range(len(terms)):
        near = range(max(0, i - reach), min(len(terms), i + reach + 1))
        out.append(" ".join(terms[j] for j in near if j != i and document[j] == document[i] and terms[j]))
    return out


def _codings(conn: sa.Connection) -> pd.DataFrame:
    k, cd, co = store.codings, store.codes, store.coders
    rows = conn.execute(
        sa.select(k.c.document_id, k.c.start, k.c.end, k.c.status, cd.c.key, co.c.name, co.c.kind)
        .select_from(k.join(cd, k.c.code_id == cd.c.id).join(co, k.c.coder_id == co.c.id))
        .where(cd.c.status == "active")
    )
    return pd.DataFrame(rows.fetchall(), columns=["document_id", "start", "end", "status", "code", "coder",
                                                  "coder_kind"])


@dataclass
class UnitChoice:
    """The unit to learn at, and a sentence saying why (or what does not fit)."""

    unit: str
    note: str
    whole_document_codings: int
    accepted_codings: int


def choose_unit(project: Project, unit: str | None = None) -> UnitChoice:
    """The unit of learning follows the training data: when most accepted codings cover
    their whole document (survey answers, case notes coded as a whole), documents are
    learned and scored; otherwise sentences. A unit the user names is kept, and a note
    says when it does not fit the codings (whole-document codings learned at sentence
    unit make every sentence of a coded answer a positive, which teaches nothing).

    >>> choose_unit(project).unit            # doctest: +SKIP
    'document'
    """
    if unit is not None and unit not in LEARNING_UNITS:
        raise InputError(project.location, f"unit {unit!r} is not one of {', '.join(LEARNING_UNITS)}",
                         "use --unit sentence, paragraph, turn or document (or leave it out to follow the codings)")
    k, d = store.codings, store.documents
    with project.engine.connect() as conn:
        rows = conn.execute(
            sa.select(k.c.start, k.c.end, sa.func.length(d.c.text))
            .select_from(k.join(d, k.c.document_id == d.c.id)).where(k.c.status == "accepted")
        ).all()
    total = len(rows)
    whole = sum(1 for start, end, length in rows if length and (end - start) >= WHOLE * length)
    share = whole / total if total else 0.0
    fits = "document" if total and share >= MOSTLY else "sentence"
    described = (f"{whole} of {total} accepted codings ({share:.0%}) cover their whole document"
                 if total else "no accepted codings yet")
    if unit is None:
        why = "so documents are learned and scored" if fits == "document" else "so sentences are learned and scored"
        return UnitChoice(fits, f"unit: {fits} ({described}, {why})", whole, total)
    if unit != "document" and fits == "document":
        note = (f"unit: {unit}, but {described}: every {unit} of a coded document counts as coded, "
                "which teaches the model little; --unit document (or no --unit) learns what was coded")
    elif unit == "document" and total and share < 0.5:
        note = (f"unit: document, but only {described}: the codings mark passages, so a document counts "
                "as coded when any passage is; leave --unit out to learn sentences")
    else:
        note = f"unit: {unit} ({described})"
    return UnitChoice(unit, note, whole, total)


def _whole_documents(document: list[int], start: list[int], end: list[int], terms: list[str]
                     ) -> tuple[list[int], list[int], list[int], list[str]]:
    """One segment per document from its participant segments (in document order):
    from the first one's start to the last one's end, with all their terms.

    >>> _whole_documents([1, 1, 2], [0, 10, 0], [9, 20, 5], ["a", "b", "c"])
    ([1, 2], [0, 0], [20, 5], ['a b', 'c'])
    """
    out: dict[int, list] = {}
    for doc_id, s, e, t in zip(document, start, end, terms):
        if doc_id not in out:
            out[doc_id] = [s, e, [t] if t else []]
        else:
            out[doc_id][1] = e
            if t:
                out[doc_id][2].append(t)
    ids = list(out)
    return ids, [out[i][0] for i in ids], [out[i][1] for i in ids], [" ".join(out[i][2]) for i in ids]


def _current_documents(project: Project) -> int:
    """How many documents ``iter_texts`` will give (the progress bar's total)."""
    d = store.documents
    with project.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).where(d.c.superseded_by.is_(None))).scalar_one())


def build_pool(project: Project, unit: str | None = "sentence", nlp: "Language | None" = None,
               embeddings: bool = False) -> Pool:
    """Segment every current document once and label the segments from the store.

    ``unit=None`` follows the training data (``choose_unit``); ``"document"`` makes
    each document's participant text one example. ``embeddings=True`` adds each
    segment's sentence embedding and its neighbours' (the optional extra,
    ``learning.embeddings``; ``ModelNotInstalled`` names the install when missing).
    """
    embed = None
    if embeddings:
        from .embeddings import load_embedder

        embed = load_embedder()  # before the slow part: a missing extra fails at once
    choice = choose_unit(project, unit)
    unit = choice.unit
    from ..nlp import load_pipeline

    nlp = nlp or load_pipeline()
    with project.engine.connect() as conn:
        codings = _codings(conn)
        codes = conn.execute(sa.select(store.codes.c.key, store.codes.c.codebook_version)
                             .where(store.codes.c.status == "active").order_by(store.codes.c.id)).all()
    turns = load_turns(project)
    document, start, end, terms, raw = [], [], [], [], []
    texts = counted(project.iter_texts(), "segmenting documents", _current_documents(project))
    for doc, doc_id in nlp.pipe(((text, doc_id) for doc_id, text in texts), as_tuples=True, batch_size=32):
        spans = turns.get(doc_id, [])
        for seg in segment_document(doc.text, spans, "sentence" if unit == "document" else unit, doc=doc):
            if not is_participant_text(seg, spans):
                continue  # learn from and suggest for what participants said
            span = doc.char_span(seg.start, seg.end, alignment_mode="expand")
            document.append(doc_id)
            start.append(seg.start)
            end.append(seg.end)
            terms.append(segment_terms(span) if span is not None else "")
            if embed is not None:
                raw.append(doc.text[seg.start:seg.end])
    if not document:
        raise NotEnoughData(f"{project.location}: the project has no participant text to learn from. "
                            f"Fix: import documents first (`qualcode import {project.location} PATH`).")
    vectors = context_vectors = None
    if embed is not None:
        vectors = embed(raw)
    if unit == "document":
        sentence_doc = np.array(document)
        document, start, end, terms = _whole_documents(document, start, end, terms)
        if vectors is not None:
            from .embeddings import document_vectors

            vectors = document_vectors(vectors, sentence_doc, document)
    elif vectors is not None:
        from .embeddings import neighbour_vectors

        context_vectors = neighbour_vectors(vectors, np.array(document), CONTEXT)
    pool_doc, pool_start, pool_end = np.array(document), np.array(start), np.array(end)
    accepted = codings[codings["status"] == "accepted"]
    trainable = np.isin(pool_doc, accepted["document_id"].unique())
    positive = {key: _overlapping(pool_doc, pool_start, pool_end, accepted[accepted["code"] == key])
                for key, _ in codes}
    covered = {key: _overlapping(pool_doc, pool_start, pool_end, codings[codings["code"] == key])
               for key, _ in codes}
    keywords = {code: kws for code, kws in codebook_keywords(project, nlp).items() if code in positive and kws}
    keyword_codes = sorted(keywords)
    return Pool(unit, pool_doc, pool_start, pool_end, terms, trainable, positive, covered,
                {key: version for key, version in codes}, neighbour_terms(terms, pool_doc),
                keyword_hits(terms, [keywords[c] for c in keyword_codes]), keyword_codes,
                accepted.reset_index(drop=True), choice.note, vectors, context_vectors)


def _overlapping(doc: np.ndarray, start: np.ndarray, end: np.ndarray, spans: pd.DataFrame) -> np.ndarray:
    """Which segments at least one of ``spans`` overlaps (by a character or more)."""
    hit = np.zeros(len(doc), dtype=bool)
    for doc_id, group in spans.groupby("document_id"):
        rows = np.flatnonzero(doc == doc_id)
        if rows.size == 0:
            continue
        s, e = start[rows][:, None], end[rows][:, None]
        overlap = (group["start"].to_numpy()[None, :] < e) & (group["end"].to_numpy()[None, :] > s)
        hit[rows[overlap.any(axis=1)]] = True
    return hit


def keyword_hits(terms: list[str], keyword_sets: list[set[str]]) -> np.ndarray:
    """A segments × keyword-sets matrix: how many of each set's phrases (in our terms,
    i.e. lemmas without stop words) occur in each segment, counting repeats.

    >>> keyword_hits(["group supervision help", "car park"], [{"group supervision", "reflect"}]).tolist()
    [[1.0], [0.0]]
    """
    counts = np.zeros((len(terms), len(keyword_sets)))
    vocabulary = sorted({k for keywords in keyword_sets for k in keywords if k})
    if not vocabulary or not terms:
        return counts
    from sklearn.feature_extraction.text import CountVectorizer

    longest = max(len(k.split()) for k in vocabulary)
    found = CountVectorizer(token_pattern=r"\S+", lowercase=False, ngram_range=(1, longest),
                            vocabulary=vocabulary).transform(terms).tocsc()
    column = {k: i for i, k in enumerate(vocabulary)}
    for j, keywords in enumerate(keyword_sets):
        cols = [column[k] for k in keywords if k in column]
        counts[:, j] = np.asarray(found[:, cols].sum(axis=1)).ravel()
    return counts


def _codebook_phrases(project: Project) -> dict[str, list[str]]:
    """Each code's keywords and exact phrases, as written in the loaded codebooks."""
    from ..codebook import parse_codebook
    from ..codebook_sync import loaded_versions

    with project.engine.connect() as conn:
        sources = loaded_versions(conn)
    phrases: dict[str, list[str]] = {}
    for codebook_id, (_, source) in sources.items():
        try:
            book = parse_codebook(source, codebook_id)
        except Exception:  # an old source that no longer validates has nothing to add
            continue
        for c in book.codes:
            phrases.setdefault(c.id, []).extend(c.match.keywords + c.match.exact)
    return phrases


def codebook_keywords(project: Project, nlp: "Language") -> dict[str, set[str]]:
    """Each code's keywords and exact phrases from the loaded codebooks, in our terms
    (lemmas, stop words dropped), read and lemmatised once for all codes.

    >>> codebook_keywords(project, load_pipeline())["activity.key_worker"]   # doctest: +SKIP
    {'key worker', 'hold case', 'lead practitioner', ...}
    """
    phrases = _codebook_phrases(project)
    unique = sorted({p for ps in phrases.values() for p in ps})
    as_terms = dict(zip(unique, (segment_terms(doc) for doc in nlp.pipe(unique))))
    return {code: {as_terms[p] for p in ps if as_terms[p]} for code, ps in phrases.items()}

