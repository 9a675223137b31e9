"""Learned suggestions: codes suggested from the researcher's own accepted coding.

This is what NVivo calls autocoding from existing patterns, done locally and reported
honestly. The model, per code, is TF-IDF over lemma 1–2-grams (stop words dropped) and
a logistic regression with balanced class weights (scikit-learn, fixed random state).

Training examples are segments (sentences, paragraphs or turns) of participant speech
in the documents people have coded: a segment is positive for a code when an accepted
coding of that code overlaps it, negative otherwise. Quality is measured by
cross-validation grouped by document (GroupKFold), so sentences of one interview never
sit on both sides of a split. The same out-of-fold scores calibrate the confidence:
Platt scaling (a one-feature logistic regression from decision score to probability),
fitted on out-of-fold scores so a code's confidence means what it says on unseen text.

Codes with too few examples are refused, not guessed at: fewer than ``min_examples``
positive segments, or positives from a single document only.

>>> cross_validate(project, folds=5)                         # doctest: +SKIP
>>> result = suggest(project, min_confidence=0.6)             # doctest: +SKIP
>>> review_queue(project).head()                              # doctest: +SKIP
>>> discover_keywords(project, "feature.group_case_discussion")   # doctest: +SKIP
"""

from __future__ import annotations

import difflib
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
from .segments import UNITS, load_turns, segment_document

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language

METHOD = "learned"
MODEL = "tfidf(lemma 1-2-grams)+logistic-regression(balanced)"
CALIBRATION = "platt-scaling on out-of-fold scores (GroupKFold by document)"
RANDOM_STATE = 0
C = 1.0  # inverse regularisation; TF-IDF rows are L2-normalised, so 1.0 is the usual scale


# -- the examples -----------------------------------------------------------------------


@dataclass
class Pool:
    """Every participant segment of the project, with its terms and what codes it has.

    ``trainable`` marks segments of documents people have coded (where absence of a
    code is evidence); ``positive[code]`` marks segments an accepted coding of the code
    overlaps; ``covered[code]`` those any coding of it overlaps (so suggestions skip them).
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
        for seg in segment_document(doc.text, turns.get(doc_id, []), unit, doc=doc):
            if seg.is_interviewer:
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
    return Pool(unit, pool_doc, pool_start, pool_end, terms, trainable, positive, covered,
                {key: version for key, version in codes})


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


# -- the model ------------------------------------------------------------------------


def _vectorizer():
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(token_pattern=r"\S+", lowercase=False, ngram_range=(1, 2), sublinear_tf=True)


def _classifier():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, class_weight="balanced", solver="liblinear", random_state=RANDOM_STATE)


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


@dataclass
class _Folds:
    """Out-of-fold decision scores per code (NaN where a fold had no positive to learn from)."""

    folds: int
    scores: dict[str, np.ndarray]


def _out_of_fold(pool: Pool, codes: list[str], folds: int) -> _Folds:
    from sklearn.model_selection import GroupKFold

    terms = [t for t, keep in zip(pool.terms, pool.trainable) if keep]
    groups = pool.document[pool.trainable]
    n_groups = len(set(groups.tolist()))
    if n_groups < 2:
        raise NotEnoughData("cross-validation by document needs coded segments in at least 2 documents. "
                            "Fix: code (or accept suggestions in) a second document.")
    folds = max(2, min(folds, n_groups))
    scores = {code: np.full(len(terms), np.nan) for code in codes}
    labels = {code: pool.positive[code][pool.trainable] for code in codes}
    for train, test in GroupKFold(n_splits=folds).split(terms, groups=groups):
        vec = _vectorizer()
        x_train = vec.fit_transform([terms[i] for i in train])
        x_test = vec.transform([terms[i] for i in test])
        for code in codes:
            y = labels[code][train]
            if y.all() or not y.any():
                continue  # nothing to contrast in this fold: leave its scores NaN (predicted no)
            scores[code][test] = _classifier().fit(x_train, y).decision_function(x_test)
    return _Folds(folds, scores)


def _figures(y: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    tp = int((y & predicted).sum())
    fp = int((~y & predicted).sum())
    fn = int((y & ~predicted).sum())
    tn = int((~y & ~predicted).sum())
    precision = tp / (tp + fp) if tp + fp else math.nan
    recall = tp / (tp + fn) if tp + fn else math.nan
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": precision, "recall": recall, "f1": f1}


def _evaluate(pool: Pool, folds: int, min_examples: int, threshold: float
              ) -> tuple[pd.DataFrame, dict[str, Platt]]:
    """Per-code cross-validated figures and the calibration each usable code gets."""
    codes = list(pool.positive)
    refused = {code: _refusal(pool, code, min_examples) for code in codes}
    usable = [c for c in codes if refused[c] is None]
    oof = _out_of_fold(pool, usable, folds) if usable else None
    rows, calibration = [], {}
    for code in codes:
        y = pool.positive[code][pool.trainable]
        row = {"code": code, "n_positive": int(y.sum()), "n_negative": int((~y).sum()),
               "documents": len(set(pool.document[pool.trainable][y].tolist())),
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
                calibration[code] = platt
                predicted = np.zeros(len(y), dtype=bool)
                predicted[seen] = platt(scores[seen]) >= threshold
                row.update(_figures(y, predicted))
        rows.append(row)
    columns = ["code", "n_positive", "n_negative", "documents", "folds", "tp", "fp", "fn", "tn",
               "precision", "recall", "f1", "refused", "reason"]
    frame = pd.DataFrame(rows).reindex(columns=columns)
    for column in ("precision", "recall", "f1"):
        frame[column] = frame[column].astype(float).round(3)
    for column in ("folds", "tp", "fp", "fn", "tn"):
        frame[column] = frame[column].astype("Int64")  # counts stay whole beside refused rows
    return frame, calibration


def _require_training(project: Project, pool: Pool) -> None:
    if not pool.trainable.any():
        raise NotEnoughData(
            f"{project.location}: no accepted codings to learn from. Fix: code some segments by hand "
            f"(or import codings, or accept suggestions with `qualcode review {project.location} accept`) first."
        )


def cross_validate(project: Project, folds: int = 5, unit: str = "sentence", min_examples: int = 8,
                   threshold: float = 0.5, nlp: "Language | None" = None) -> pd.DataFrame:
    """Cross-validated precision, recall and F1 per code, with the counts behind them.

    Splits are grouped by document (GroupKFold, at most one fold per coded document). A
    segment counts as predicted when its calibrated confidence reaches ``threshold``, the
    same rule ``suggest(min_confidence=threshold)`` applies. Refused codes carry
    ``refused=True`` and a ``reason``, and no figures.

    >>> cross_validate(project, folds=5)   # doctest: +SKIP
          code  n_positive  n_negative  documents  folds  tp  fp  fn ...  f1  refused reason
    """
    if folds < 2:
        raise InputError(project.location, f"--folds {folds} is too few", "use 2 or more folds (5 is usual)")
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

    def to_dict(self) -> dict[str, Any]:
        return {"written": self.written, "by_code": self.by_code, "refused": self.refused,
                "already_coded": self.already_coded, "below_confidence": self.below_confidence,
                "training_segments": self.training_segments, "trained_at": self.trained_at,
                "cv": self.cv, "ids": self.ids}


def _explain(row, coef: np.ndarray, names: np.ndarray, probability: float, top: int = 3) -> str:
    """``learned: 'group supervision' (+1.80), 'unit' (+0.90); P=0.82``: the terms of the
    segment whose weight times TF-IDF pushed the score up most, shown with their weights."""
    idx, values = row.indices, row.data
    contribution = values * coef[idx]
    order = np.argsort(-contribution)
    terms = [f"'{names[idx[i]]}' ({coef[idx[i]]:+.2f})" for i in order[:top] if contribution[i] > 0]
    return f"learned: {', '.join(terms) or '(no strong terms)'}; P={probability:.2f}"


def suggest(project: Project, unit: str = "sentence", min_confidence: float = 0.5, coder: str = METHOD,
            folds: int = 5, min_examples: int = 8, nlp: "Language | None" = None) -> SuggestResult:
    """Train on the accepted codings and write suggestions for segments not yet coded.

    Each suggestion is a coding with status ``suggested``, method ``learned``, coder
    ``coder`` (a method coder), a calibrated confidence, an explanation naming the terms
    that drove it, and provenance recording the model, its training size and date.
    Segments any coding of the code already covers (suggested, accepted or rejected) are
    skipped, so running it again adds nothing new unless the coding changed.
    """
    if not 0.0 <= min_confidence <= 1.0:
        raise InputError(project.location, f"--min-confidence {min_confidence} is outside 0..1",
                         "give a confidence between 0 and 1, e.g. 0.6")
    pool = build_pool(project, unit, nlp)
    _require_training(project, pool)
    cv, calibration = _evaluate(pool, folds, min_examples, min_confidence)
    refused = dict(zip(cv.loc[cv["refused"], "code"], cv.loc[cv["refused"], "reason"]))
    if not calibration:
        listing = "; ".join(f"{c}: {r}" for c, r in refused.items()) or "the project has no active codes"
        raise NotEnoughData(
            f"{project.location}: no code has enough examples to learn from ({listing}). "
            f"Fix: code more segments of these codes by hand, in at least two documents."
        )
    train_terms = [t for t, keep in zip(pool.terms, pool.trainable) if keep]
    vec = _vectorizer()
    x_train = vec.fit_transform(train_terms)
    x_all = vec.transform(pool.terms)
    names = vec.get_feature_names_out()
    trained_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    new, by_code, already, below = [], {}, 0, 0
    for code, platt in calibration.items():
        y = pool.positive[code][pool.trainable]
        model = _classifier().fit(x_train, y)
        candidates = np.flatnonzero(~pool.covered[code])
        already += int(pool.covered[code].sum())
        if candidates.size == 0:
            continue
        probability = platt(model.decision_function(x_all[candidates]))
        figures = cv.set_index("code").loc[code]
        provenance = {
            "model": MODEL, "calibration": CALIBRATION, "unit": pool.unit, "trained_at": trained_at,
            "training_segments": int(len(y)), "positives": int(y.sum()), "negatives": int((~y).sum()),
            "training_documents": pool.n_documents, "random_state": RANDOM_STATE,
            "cv": {"folds": int(figures["folds"]), "precision": _num(figures["precision"]),
                   "recall": _num(figures["recall"]), "f1": _num(figures["f1"])},
        }
        coef = model.coef_[0]
        for i, p in zip(candidates, probability):
            if p < min_confidence:
                below += 1
                continue
            new.append(NewCoding(
                int(pool.document[i]), int(pool.start[i]), int(pool.end[i]), code, coder,
                status="suggested", confidence=round(float(p), 4), method=METHOD, provenance=provenance,
                explanation=_explain(x_all[i], coef, names, float(p)),
                codebook_version=pool.codebook_version.get(code),
            ))
            by_code[code] = by_code.get(code, 0) + 1
    ids = project.add_codings(new) if new else []
    return SuggestResult(len(ids), by_code, refused, already, below, int(pool.trainable.sum()), trained_at, cv, ids)


def _num(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def review_queue(project: Project, method: str | None = None, code: str | None = None) -> pd.DataFrame:
    """Pending suggestions, most informative first: confidence closest to 0.5 first.

    Uncertainty sampling: a reviewer's decision on a 0.5 suggestion teaches the model
    most; near-certain ones can go in bulk (``review accept --min-confidence 0.9``).
    Suggestions without a confidence come last.
    """
    frame = project.codings(status="suggested", code=code, method=method)
    if frame.empty:
        return frame.assign(uncertainty=pd.Series(dtype=float))
    frame["uncertainty"] = (frame["confidence"].astype(float) - 0.5).abs().round(4)
    return frame.sort_values(["uncertainty", "id"], na_position="last", kind="stable").reset_index(drop=True)


# -- keyword discovery ----------------------------------------------------------------


def _codebook_terms(project: Project, code: str, nlp: "Language") -> set[str]:
    """The code's keywords and exact phrases from the loaded codebook, as our terms."""
    from .codebook import parse_codebook
    from .codebook_sync import loaded_versions

    with project.engine.connect() as conn:
        sources = loaded_versions(conn)
    phrases: list[str] = []
    for codebook_id, (_, source) in sources.items():
        try:
            book = parse_codebook(source, codebook_id)
        except Exception:  # an old source that no longer validates has nothing to add
            continue
        for c in book.codes:
            if c.id == code:
                phrases += c.match.keywords + c.match.exact
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
