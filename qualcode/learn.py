"""Learned suggestions: codes suggested from the researcher's own accepted coding.

This is what NVivo calls autocoding from existing patterns, done locally and reported
honestly. The model, per code, is a logistic regression with balanced class weights
(scikit-learn, fixed random state) over three blocks of features of a segment:

- TF-IDF of its lemma 1–2-grams (stop words dropped, sublinear tf);
- TF-IDF of the lemmas of its neighbours (two segments either side in the same
  document), down-weighted: researchers code passages of one to three sentences, so a
  sentence's theme is often named in the sentence before or after it;
- for every code whose codebook lists keywords, log(1 + the number of its keyword
  lemmas in the segment): what the researcher already wrote down about the code.

Training examples are segments (sentences, paragraphs or turns) of participant speech
in the documents people have coded: a segment is positive for a code when an accepted
coding of that code overlaps it, negative otherwise. Quality is measured by
cross-validation grouped by document (GroupKFold), so sentences of one interview never
sit on both sides of a split, and reported two ways:

- threshold-free: average precision (area under the precision-recall curve) and ROC
  AUC of the out-of-fold scores, beside the base rate (the AP of guessing);
- at a decision threshold chosen per code to maximise F1. The threshold is chosen on
  inner folds of each outer training part (nested cross-validation), so the precision,
  recall and F1 reported are those of the whole procedure on unseen documents, not of
  a threshold fitted to the very scores it is judged on.

The out-of-fold scores also calibrate the confidence: Platt scaling (a one-feature
logistic regression from decision score to probability), so a code's confidence means
what it says on unseen text. With codes on 1–8% of segments a calibrated probability
rarely reaches 0.5, which is why each code gets its own threshold.

Codes with too few examples are refused, not guessed at: fewer than ``min_examples``
positive segments, or positives from a single document only.

>>> cross_validate(project, folds=5)                         # doctest: +SKIP
>>> result = suggest(project)              # each code at its chosen threshold  # doctest: +SKIP
>>> review_queue(project).head()                              # doctest: +SKIP
>>> discover_keywords(project, "feature.group_case_discussion")   # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np
import pandas as pd
import sqlalchemy as sa

from . import store
from .errors import InputError, NotEnoughData, NotFoundError
from .project import NewCoding, Project
from .segments import UNITS, is_participant_text, load_turns, segment_document

if TYPE_CHECKING:  # pragma: no cover
    from scipy import sparse
    from spacy.language import Language

METHOD = "learned"
# How a learned suggestion's confidence was scored (recorded in its provenance).
HELD_OUT = "cross-validation model that held the segment's document out"
ALL_CODED = "model trained on every coded document"
MODEL = ("logistic-regression(balanced) over tfidf(lemma 1-2-grams) + tfidf(neighbour lemmas, x0.7) "
         "+ codebook keyword counts (x0.5)")
CALIBRATION = "platt-scaling on out-of-fold scores (GroupKFold by document)"
THRESHOLD_RULE = "max F1 on out-of-fold scores; figures from thresholds chosen on inner folds"
RANDOM_STATE = 0
C = 1.0  # inverse regularisation; TF-IDF rows are L2-normalised, so 1.0 is the usual scale
# Feature weights and reach, measured on the demo corpus (see the module docstring):
# neighbour lemmas raised mean AP from 0.12 to 0.17, codebook keywords to 0.19 with them.
CONTEXT = 2  # segments either side whose lemmas describe a segment's surroundings
CONTEXT_WEIGHT = 0.7
KEYWORD_WEIGHT = 0.5
INNER_FOLDS = 3  # folds inside each outer training part, to choose thresholds on


# -- the examples -----------------------------------------------------------------------


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
    k, cd = store.codings, store.codes
    rows = conn.execute(
        sa.select(k.c.document_id, k.c.start, k.c.end, k.c.status, cd.c.key)
        .select_from(k.join(cd, k.c.code_id == cd.c.id)).where(cd.c.status == "active")
    )
    return pd.DataFrame(rows.fetchall(), columns=["document_id", "start", "end", "status", "code"])


def build_pool(project: Project, unit: str = "sentence", nlp: "Language | None" = None) -> Pool:
    """Segment every current document once and label the segments from the store."""
    if unit not in UNITS:
        raise InputError(project.location, f"unit {unit!r} is not one of {', '.join(UNITS)}",
                         "use --unit sentence, paragraph or turn")
    from .nlp import load_pipeline

    nlp = nlp or load_pipeline()
    with project.engine.connect() as conn:
        codings = _codings(conn)
        codes = conn.execute(sa.select(store.codes.c.key, store.codes.c.codebook_version)
                             .where(store.codes.c.status == "active").order_by(store.codes.c.id)).all()
    turns = load_turns(project)
    document, start, end, terms = [], [], [], []
    texts = project.iter_texts()
    for doc, doc_id in nlp.pipe(((text, doc_id) for doc_id, text in texts), as_tuples=True, batch_size=32):
        spans = turns.get(doc_id, [])
        for seg in segment_document(doc.text, spans, unit, doc=doc):
            if not is_participant_text(seg, spans):
                continue  # learn from and suggest for what participants said
            span = doc.char_span(seg.start, seg.end, alignment_mode="expand")
            document.append(doc_id)
            start.append(seg.start)
            end.append(seg.end)
            terms.append(segment_terms(span) if span is not None else "")
    if not document:
        raise NotEnoughData(f"{project.location}: the project has no participant text to learn from. "
                            f"Fix: import documents first (`qualcode import {project.location} PATH`).")
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
                keyword_hits(terms, [keywords[c] for c in keyword_codes]), keyword_codes)


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


# -- the model ------------------------------------------------------------------------


def _tfidf(ngrams: int = 2, min_df: int = 1):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(token_pattern=r"\S+", lowercase=False, ngram_range=(1, ngrams), sublinear_tf=True,
                           min_df=min_df)


def _classifier():
    from sklearn.linear_model import LogisticRegression

    # The dual problem: with more features than segments liblinear's dual solver reaches
    # the same weights as the primal one about 30 times faster (measured on the demo).
    return LogisticRegression(C=C, class_weight="balanced", solver="liblinear", dual=True, max_iter=1000,
                              random_state=RANDOM_STATE)


class Features:
    """The featuriser, fitted on the training segments of a pool and applied to any.

    The TF-IDF vocabularies and weights come from the rows it is fitted on only, so a
    cross-validation fold never sees the words of its test documents.

    >>> feats = Features.fit(pool, np.flatnonzero(pool.trainable))   # doctest: +SKIP
    >>> x = feats.transform(pool, np.arange(len(pool.terms)))         # doctest: +SKIP
    """

    def __init__(self, words, context, n_keywords: int, keyword_codes: list[str]):
        self.words, self.context = words, context
        self.n_keywords, self.keyword_codes = n_keywords, keyword_codes

    @classmethod
    def fit(cls, pool: Pool, rows: np.ndarray) -> "Features":
        words = _tfidf().fit([pool.terms[i] for i in rows])
        context = None
        if pool.context:
            try:  # single words seen twice or more: neighbours' bigrams and rare words cost
                # fitting time (liblinear slowed 30-fold) and added nothing measurable
                context = _tfidf(ngrams=1, min_df=2).fit([pool.context[i] for i in rows])
            except ValueError:
                context = None
        n_keywords = 0 if pool.keyword_hits is None else pool.keyword_hits.shape[1]
        return cls(words, context, n_keywords, list(pool.keyword_codes))

    def transform(self, pool: Pool, rows: np.ndarray) -> "sparse.csr_matrix":
        from scipy import sparse

        blocks = [self.words.transform([pool.terms[i] for i in rows])]
        if self.context is not None:
            blocks.append(CONTEXT_WEIGHT * self.context.transform([pool.context[i] for i in rows]))
        if self.n_keywords:
            blocks.append(sparse.csr_matrix(KEYWORD_WEIGHT * np.log1p(pool.keyword_hits[rows])))
        return sparse.hstack(blocks, format="csr")

    def names(self) -> np.ndarray:
        """Readable feature names for explanations: the term, 'near <term>' for a
        neighbour's term, 'keywords of <code>' for a codebook keyword count."""
        names = [str(n) for n in self.words.get_feature_names_out()]
        if self.context is not None:
            names += [f"near {n}" for n in self.context.get_feature_names_out()]
        names += [f"keywords of {code}" for code in self.keyword_codes[:self.n_keywords]]
        return np.array(names, dtype=object)


@dataclass
class Platt:
    """``P = 1 / (1 + exp(-(a * score + b)))``, fitted on out-of-fold decision scores."""

    a: float
    b: float

    @classmethod
    def fit(cls, scores: np.ndarray, labels: np.ndarray) -> "Platt":
        from sklearn.linear_model import LogisticRegression

        # Platt's (1999) targets: (N+ + 1)/(N+ + 2) for positives, 1/(N- + 2) for
        # negatives, so a small sample never yields a promise of certainty. Soft targets
        # are fitted as each score twice, once per class, weighted by its target.
        labels = np.asarray(labels, dtype=bool)
        n_pos, n_neg = int(labels.sum()), int((~labels).sum())
        target = np.where(labels, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
        x = np.concatenate([scores, scores]).reshape(-1, 1)
        y = np.concatenate([np.ones(len(scores)), np.zeros(len(scores))])
        weight = np.concatenate([target, 1 - target])
        model = LogisticRegression(C=1e4, solver="lbfgs").fit(x, y, sample_weight=weight)
        return cls(float(model.coef_[0, 0]), float(model.intercept_[0]))

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self.a * np.asarray(scores) + self.b)))


def best_f1_threshold(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """The score ``t`` for which predicting ``score >= t`` has the highest F1 on these
    labels (the highest such ``t`` on a tie, i.e. the more precise rule); None when
    there is no positive to find. NaN scores (no model) are never predicted.

    >>> best_f1_threshold(np.array([0.9, 0.8, 0.3, 0.1]), np.array([True, False, True, False]))
    0.3
    """
    seen = ~np.isnan(scores)
    scores, labels = scores[seen], np.asarray(labels, dtype=bool)[seen]
    if not labels.any():
        return None
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], labels[order]
    tp = np.cumsum(y)
    f1 = 2 * tp / (np.arange(1, len(y) + 1) + int(labels.sum()))  # 2TP / (2TP + FP + FN)
    f1[:-1][s[1:] == s[:-1]] = -1.0  # a cut can only fall between different scores
    return float(s[int(np.argmax(f1))])


def _refusal(pool: Pool, code: str, min_examples: int) -> str | None:
    """Why a code cannot be learned yet, or None if it can."""
    y = pool.positive[code][pool.trainable]
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos < min_examples:
        return f"only {n_pos} positive segment(s); needs at least {min_examples}"
    if n_neg < min_examples:
        return f"only {n_neg} negative segment(s); needs at least {min_examples}"
    docs = len(set(pool.document[pool.trainable][y].tolist()))
    if docs < 2:
        return "all positive segments come from one document; code it in a second document"
    return None


def _scores(x_train, labels: dict[str, np.ndarray], x_test, codes: list[str], n_test: int) -> dict[str, np.ndarray]:
    """Decision scores of ``x_test`` per code from models fitted on ``x_train``; NaN
    where the training labels had only one class (nothing to contrast: predicted no)."""
    out = {}
    for code in codes:
        y = labels[code]
        out[code] = np.full(n_test, np.nan)
        if y.any() and not y.all():
            out[code] = _classifier().fit(x_train, y).decision_function(x_test)
    return out


@dataclass
class _Folds:
    """Out-of-fold decision scores per code, and per code whether each segment was
    predicted at the threshold chosen on the inner folds of its outer training part."""

    folds: int
    scores: dict[str, np.ndarray]
    nested: dict[str, np.ndarray]


def _inner_thresholds(x: "sparse.csr_matrix", labels: dict[str, np.ndarray], groups: np.ndarray,
                      codes: list[str]) -> dict[str, float | None]:
    """Per code, the max-F1 threshold on out-of-fold scores of an inner GroupKFold of
    one outer training part. The outer fitted featuriser is reused: its vocabulary and
    IDF use no labels, so only the classifiers need refitting."""
    from sklearn.model_selection import GroupKFold

    n_groups = len(set(groups.tolist()))
    if n_groups < 2:
        return {code: None for code in codes}
    scores = {code: np.full(len(groups), np.nan) for code in codes}
    for train, test in GroupKFold(n_splits=min(INNER_FOLDS, n_groups)).split(x, groups=groups):
        fold = _scores(x[train], {c: labels[c][train] for c in codes}, x[test], codes, len(test))
        for code in codes:
            scores[code][test] = fold[code]
    return {code: best_f1_threshold(scores[code], labels[code]) for code in codes}


def _out_of_fold(pool: Pool, codes: list[str], folds: int, nested: bool = True) -> _Folds:
    from sklearn.model_selection import GroupKFold

    rows = np.flatnonzero(pool.trainable)
    groups = pool.document[rows]
    n_groups = len(set(groups.tolist()))
    if n_groups < 2:
        raise NotEnoughData("cross-validation by document needs coded segments in at least 2 documents. "
                            "Fix: code (or accept some suggestions in) a second document.")
    folds = max(2, min(folds, n_groups))
    labels = {code: pool.positive[code][rows] for code in codes}
    scores = {code: np.full(len(rows), np.nan) for code in codes}
    predicted = {code: np.zeros(len(rows), dtype=bool) for code in codes}
    for train, test in GroupKFold(n_splits=folds).split(rows, groups=groups):
        features = Features.fit(pool, rows[train])
        x_train, x_test = features.transform(pool, rows[train]), features.transform(pool, rows[test])
        train_labels = {c: labels[c][train] for c in codes}
        fold = _scores(x_train, train_labels, x_test, codes, len(test))
        thresholds = _inner_thresholds(x_train, train_labels, groups[train], codes) if nested else {}
        for code in codes:
            scores[code][test] = fold[code]
            cut = thresholds.get(code)
            if cut is not None:
                predicted[code][test] = ~np.isnan(fold[code]) & (np.nan_to_num(fold[code], nan=-np.inf) >= cut)
    return _Folds(folds, scores, predicted)


def _figures(y: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    tp = int((y & predicted).sum())
    fp = int((~y & predicted).sum())
    fn = int((y & ~predicted).sum())
    tn = int((~y & ~predicted).sum())
    precision = tp / (tp + fp) if tp + fp else math.nan
    recall = tp / (tp + fn) if tp + fn else math.nan
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": precision, "recall": recall, "f1": f1}


def _ranking(y: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """Threshold-free quality of out-of-fold scores: average precision (PR-AUC) and ROC
    AUC. Segments without a score (their fold had no positive to learn) rank last."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    seen = ~np.isnan(scores)
    filled = np.where(seen, scores, np.nanmin(scores) - 1.0)
    return {"ap": float(average_precision_score(y, filled)), "auc": float(roc_auc_score(y, filled))}


@dataclass
class Decision:
    """How a code's suggestions are made: calibration and the confidence to reach."""

    platt: Platt
    threshold: float  # calibrated probability at or above which a segment is suggested
    # Out-of-fold decision scores of the trainable segments (in pool order): for a coded
    # document's segments, the score of the model that did not see the document.
    held_out: np.ndarray | None = None


COLUMNS = ["code", "n_positive", "n_negative", "base_rate", "documents", "folds", "ap", "auc", "threshold",
           "tp", "fp", "fn", "tn", "precision", "recall", "f1", "refused", "reason"]


def _evaluate(pool: Pool, folds: int, min_examples: int, threshold: float | None
              ) -> tuple[pd.DataFrame, dict[str, Decision]]:
    """Per-code cross-validated figures and how each usable code's suggestions are made.

    ``threshold=None`` chooses each code's threshold (max F1 on out-of-fold scores) and
    reports the nested figures; a number fixes the calibrated threshold for every code.
    """
    codes = list(pool.positive)
    refused = {code: _refusal(pool, code, min_examples) for code in codes}
    usable = [c for c in codes if refused[c] is None]
    oof = _out_of_fold(pool, usable, folds, nested=threshold is None) if usable else None
    rows, decisions = [], {}
    for code in codes:
        y = pool.positive[code][pool.trainable]
        row = {"code": code, "n_positive": int(y.sum()), "n_negative": int((~y).sum()),
               "base_rate": float(y.mean()), "documents": len(set(pool.document[pool.trainable][y].tolist())),
               "folds": oof.folds if oof else None, "refused": refused[code] is not None,
               "reason": refused[code] or ""}
        if refused[code] is None:
            scores = oof.scores[code]
            seen = ~np.isnan(scores)
            if y[seen].all() or not y[seen].any():
                row.update(refused=True, reason="no held-out fold had both positive and negative "
                                                "segments; code the theme in more documents")
            else:
                platt = Platt.fit(scores[seen], y[seen])
                if threshold is None:
                    cut = float(platt(best_f1_threshold(scores, y)))
                    predicted = oof.nested[code]
                else:
                    cut = threshold
                    predicted = np.zeros(len(y), dtype=bool)
                    predicted[seen] = platt(scores[seen]) >= threshold
                decisions[code] = Decision(platt, cut, scores)
                row.update(_ranking(y, scores), threshold=cut, **_figures(y, predicted))
        rows.append(row)
    frame = pd.DataFrame(rows).reindex(columns=COLUMNS)
    for column in ("base_rate", "ap", "auc", "threshold", "precision", "recall", "f1"):
        frame[column] = frame[column].astype(float).round(3)
    for column in ("folds", "tp", "fp", "fn", "tn"):
        frame[column] = frame[column].astype("Int64")  # counts stay whole beside refused rows
    return frame, decisions


def _require_training(project: Project, pool: Pool) -> None:
    if not pool.trainable.any():
        raise NotEnoughData(
            f"{project.location}: no accepted codings to learn from. Fix: code some segments by hand "
            f"(or import codings, or accept suggestions with `qualcode review {project.location} accept`) first."
        )


def _check_confidence(project: Project, value: float | None, option: str) -> None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise InputError(project.location, f"{option} {value} is outside 0..1",
                         "give a confidence between 0 and 1, e.g. 0.6")


def cross_validate(project: Project, folds: int = 5, unit: str = "sentence", min_examples: int = 8,
                   threshold: float | None = None, nlp: "Language | None" = None) -> pd.DataFrame:
    """Cross-validated quality per code, with the counts behind it.

    Splits are grouped by document (GroupKFold, at most one fold per coded document).
    Columns: ``base_rate`` (share of segments with the code), ``ap`` (average precision
    of the out-of-fold scores; guessing scores the base rate) and ``auc`` (ROC AUC;
    guessing scores 0.5); ``threshold``, the calibrated confidence ``suggest`` requires
    for the code; and TP/FP/FN/TN, precision, recall and F1 of predicting the code.

    By default (``threshold=None``) each code's threshold maximises F1 on the
    out-of-fold scores, and the counts come from nested cross-validation: within each
    outer training part, inner folds choose the threshold that the outer test fold is
    then judged at, so they estimate how the rule does on new documents. A number
    fixes the threshold for every code instead (the rule ``suggest(min_confidence=…)``
    applies). Refused codes carry ``refused=True`` and a ``reason``, and no figures.

    >>> cross_validate(project, folds=5)   # doctest: +SKIP
          code  n_positive  n_negative  base_rate ... ap   auc  threshold  tp  fp  fn ...  f1  refused reason
    """
    if folds < 2:
        raise InputError(project.location, f"--folds {folds} is too few", "use 2 or more folds (5 is usual)")
    _check_confidence(project, threshold, "--threshold")
    pool = build_pool(project, unit, nlp)
    _require_training(project, pool)
    frame, _ = _evaluate(pool, folds, min_examples, threshold)
    return frame


# -- suggesting -----------------------------------------------------------------------


@dataclass
class SuggestResult:
    """What ``suggest`` wrote, what it refused and why, and the figures behind it."""

    written: int
    by_code: dict[str, int]
    refused: dict[str, str]
    already_coded: int
    below_confidence: int
    training_segments: int
    trained_at: str
    cv: pd.DataFrame
    ids: list[int] = field(default_factory=list)
    thresholds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"written": self.written, "by_code": self.by_code, "refused": self.refused,
                "already_coded": self.already_coded, "below_confidence": self.below_confidence,
                "training_segments": self.training_segments, "trained_at": self.trained_at,
                "thresholds": self.thresholds, "cv": self.cv, "ids": self.ids}


def _explain(row, coef: np.ndarray, names: np.ndarray, probability: float, held_out: bool = False,
             top: int = 3) -> str:
    """``learned: 'group supervision' (+1.80), 'near unit' (+0.90); P=0.82``: the
    features of the segment whose weight times value pushed the score up most, shown
    with their weights (those of the model trained on every coded document). A segment
    of a coded document is marked ``learned, its document held out``: P comes from the
    cross-validation model that did not see that document."""
    idx, values = row.indices, row.data
    contribution = values * coef[idx]
    order = np.argsort(-contribution, kind="stable")
    terms = [f"'{names[idx[i]]}' ({coef[idx[i]]:+.2f})" for i in order[:top] if contribution[i] > 0]
    head = "learned, its document held out" if held_out else "learned"
    return f"{head}: {', '.join(terms) or '(no strong terms)'}; P={probability:.2f}"


def _candidate_scores(model, decision: Decision, x_all, candidates: np.ndarray, trainable: np.ndarray,
                      position: np.ndarray) -> np.ndarray:
    """Decision scores of the candidate segments, each from a model that did not learn it.

    A segment of a coded document was a negative when the final model was fitted, so
    that model scores it low by construction, and the calibration (fitted on
    out-of-fold scores) would not hold for it; its out-of-fold score, from the fold model
    that held its document out, is the honest one. Segments of uncoded documents get
    the final model's score.
    """
    scores = np.full(len(candidates), np.nan)
    coded = trainable[candidates]
    if decision.held_out is not None:
        scores[coded] = decision.held_out[position[candidates[coded]]]
    if (~coded).any():
        scores[~coded] = model.decision_function(x_all[candidates[~coded]])
    return scores


def suggest(project: Project, unit: str = "sentence", min_confidence: float | None = None, coder: str = METHOD,
            folds: int = 5, min_examples: int = 8, nlp: "Language | None" = None) -> SuggestResult:
    """Train on the accepted codings and write suggestions for segments not yet coded.

    A segment is suggested for a code when its calibrated confidence reaches the code's
    threshold, chosen by cross-validation (see ``cross_validate``), or
    ``min_confidence`` for every code when given. Each suggestion is a coding with
    status ``suggested``, method ``learned``, coder ``coder`` (a method coder), the
    calibrated confidence, an explanation naming the features that drove it, and
    provenance recording the model, threshold, training size and date. Segments any
    coding of the code already covers (suggested, accepted or rejected) are skipped, so
    running it again adds nothing new unless the coding changed.

    Segments of documents people coded are scored by the cross-validation model that
    held their document out (the final model learned them as negatives, so it cannot
    judge them): these are the passages the coding may have missed. Segments of
    uncoded documents are scored by the model trained on every coded document.
    """
    _check_confidence(project, min_confidence, "--min-confidence")
    pool = build_pool(project, unit, nlp)
    _require_training(project, pool)
    cv, decisions = _evaluate(pool, folds, min_examples, min_confidence)
    refused = dict(zip(cv.loc[cv["refused"], "code"], cv.loc[cv["refused"], "reason"]))
    if not decisions:
        listing = "; ".join(f"{c}: {r}" for c, r in refused.items()) or "the project has no active codes"
        raise NotEnoughData(
            f"{project.location}: no code has enough examples to learn from ({listing}). "
            f"Fix: code more segments of these codes by hand, in at least two documents."
        )
    train_rows = np.flatnonzero(pool.trainable)
    features = Features.fit(pool, train_rows)
    x_train = features.transform(pool, train_rows)
    x_all = features.transform(pool, np.arange(len(pool.terms)))
    names = features.names()
    position = np.full(len(pool.terms), -1)
    position[train_rows] = np.arange(len(train_rows))  # pool row -> index into held-out scores
    trained_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    new, by_code, already, below = [], {}, 0, 0
    figures_of = cv.set_index("code")
    for code, decision in decisions.items():
        y = pool.positive[code][pool.trainable]
        model = _classifier().fit(x_train, y)
        candidates = np.flatnonzero(~pool.covered[code])
        already += int(pool.covered[code].sum())
        if candidates.size == 0:
            continue
        probability = decision.platt(_candidate_scores(model, decision, x_all, candidates, pool.trainable, position))
        figures = figures_of.loc[code]
        provenance = {
            "model": MODEL, "calibration": CALIBRATION, "unit": pool.unit, "trained_at": trained_at,
            "threshold": round(decision.threshold, 4),
            "threshold_rule": "given" if min_confidence is not None else THRESHOLD_RULE,
            "training_segments": int(len(y)), "positives": int(y.sum()), "negatives": int((~y).sum()),
            "training_documents": pool.n_documents, "random_state": RANDOM_STATE,
            "cv": {"folds": int(figures["folds"]), "ap": _num(figures["ap"]), "auc": _num(figures["auc"]),
                   "base_rate": _num(figures["base_rate"]), "precision": _num(figures["precision"]),
                   "recall": _num(figures["recall"]), "f1": _num(figures["f1"])},
        }
        held_out_provenance = {**provenance, "scored_by": HELD_OUT}
        provenance["scored_by"] = ALL_CODED
        coef = model.coef_[0]
        for i, p in zip(candidates, probability):
            if not p >= decision.threshold:  # NaN too: no fold model could score it
                below += 1
                continue
            held_out = bool(pool.trainable[i])
            new.append(NewCoding(
                int(pool.document[i]), int(pool.start[i]), int(pool.end[i]), code, coder,
                status="suggested", confidence=round(float(p), 4), method=METHOD,
                provenance=held_out_provenance if held_out else provenance,
                explanation=_explain(x_all[i], coef, names, float(p), held_out),
                codebook_version=pool.codebook_version.get(code),
            ))
            by_code[code] = by_code.get(code, 0) + 1
    ids = project.add_codings(new) if new else []
    thresholds = {code: round(d.threshold, 4) for code, d in decisions.items()}
    return SuggestResult(len(ids), by_code, refused, already, below, int(pool.trainable.sum()), trained_at, cv,
                         ids, thresholds)


def _num(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def review_queue(project: Project, method: str | None = None, code: str | None = None) -> pd.DataFrame:
    """Pending suggestions, most informative first: confidence closest to its decision point.

    Uncertainty sampling: a reviewer's decision on a borderline suggestion teaches the
    model most; near-certain ones can go in bulk (``review accept --min-confidence 0.9``).
    The decision point is the code's threshold for learned suggestions (recorded in their
    provenance; rare codes have thresholds far below 0.5) and 0.5 for everything else.
    Suggestions without a confidence come last.
    """
    frame = project.codings(status="suggested", code=code, method=method)
    if frame.empty:
        return frame.assign(uncertainty=pd.Series(dtype=float))
    point = frame["provenance"].map(_decision_point)
    frame["uncertainty"] = (frame["confidence"].astype(float) - point).abs().round(4)
    return frame.sort_values(["uncertainty", "id"], na_position="last", kind="stable").reset_index(drop=True)


def _decision_point(provenance: str) -> float:
    try:
        threshold = json.loads(provenance or "{}").get("threshold")
    except (ValueError, AttributeError):
        return 0.5
    return float(threshold) if isinstance(threshold, (int, float)) else 0.5


# -- keyword discovery ----------------------------------------------------------------


def _codebook_phrases(project: Project) -> dict[str, list[str]]:
    """Each code's keywords and exact phrases, as written in the loaded codebooks."""
    from .codebook import parse_codebook
    from .codebook_sync import loaded_versions

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


def _codebook_terms(project: Project, code: str, nlp: "Language") -> set[str]:
    """The code's keywords and exact phrases from the loaded codebook, as our terms and
    as written (lower-cased), so discovery leaves out what the codebook already has."""
    phrases = _codebook_phrases(project).get(code, [])
    return {segment_terms(nlp(p)) for p in phrases} | {p.lower() for p in phrases}


def _ngram_counts(terms: Iterable[str]):
    from sklearn.feature_extraction.text import CountVectorizer

    vec = CountVectorizer(token_pattern=r"\S+", lowercase=False, ngram_range=(1, 2))
    return vec, vec.fit_transform(list(terms))


def discover_keywords(project: Project, code: str, top: int = 20, unit: str = "sentence",
                      prior: float = 500.0, min_count: int = 2, nlp: "Language | None" = None) -> pd.DataFrame:
    """Terms over-represented in a code's accepted segments, not yet among its keywords.

    Log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008,
    "Fightin' words"): the prior is the corpus's own term frequencies scaled to ``prior``
    pseudo-counts, which shrinks rare terms; ``z`` is the log-odds difference over its
    standard error. Compares the code's segments with the other segments of coded
    documents. Columns: term, z, log_odds, in_code, in_rest, segments (code segments
    holding the term).

    >>> discover_keywords(project, "feature.group_case_discussion", top=5)   # doctest: +SKIP
                 term     z  log_odds  in_code  in_rest  segments
       reflective space  3.1      2.4        6        0         6
    """
    from .nlp import load_pipeline

    nlp = nlp or load_pipeline()
    pool = build_pool(project, unit, nlp)
    if code not in pool.positive:
        keys = list(pool.positive)
        close = difflib.get_close_matches(code, keys, n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise NotFoundError(f"{project.location}: no active code {code!r}{hint}. "
                            f"Fix: use one of: {', '.join(keys) or '(no codes loaded)'}.")
    mask = pool.positive[code] & pool.trainable
    if not mask.any():
        raise NotEnoughData(f"{project.location}: code {code!r} has no accepted codings yet. "
                            "Fix: code or accept some segments of it first.")
    rest = ~pool.positive[code] & pool.trainable
    terms = np.array(pool.terms, dtype=object)
    vec, counts = _ngram_counts(terms[mask | rest])
    in_code_rows = mask[mask | rest]
    y_code = np.asarray(counts[in_code_rows].sum(axis=0)).ravel().astype(float)
    y_rest = np.asarray(counts[~in_code_rows].sum(axis=0)).ravel().astype(float)
    seg_code = np.asarray((counts[in_code_rows] > 0).sum(axis=0)).ravel()
    total = y_code + y_rest
    alpha = prior * total / total.sum()
    a0 = alpha.sum()
    n_code, n_rest = y_code.sum(), y_rest.sum()
    delta = (np.log((y_code + alpha) / (n_code + a0 - y_code - alpha))
             - np.log((y_rest + alpha) / (n_rest + a0 - y_rest - alpha)))
    z = delta / np.sqrt(1.0 / (y_code + alpha) + 1.0 / (y_rest + alpha))
    known = _codebook_terms(project, code, nlp)
    frame = pd.DataFrame({"term": vec.get_feature_names_out(), "z": z.round(3), "log_odds": delta.round(3),
                          "in_code": y_code.astype(int), "in_rest": y_rest.astype(int), "segments": seg_code})
    frame = frame[(frame["in_code"] >= min_count) & (frame["z"] > 0) & ~frame["term"].isin(known)]
    return frame.sort_values(["z", "term"], ascending=[False, True]).head(top).reset_index(drop=True)
