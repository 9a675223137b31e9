"""Cross-validated quality of learned suggestions, per code: out-of-fold scores grouped
by document, thresholds chosen on inner folds, and the refusals.

>>> _figures(np.array([True, False, True]), np.array([True, True, False]))["f1"]
0.5
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import InputError, NotEnoughData
from ..progress import step
from ..project import Project
from .folds import document_folds
from .model import INNER_FOLDS, Features, Platt, _classifier, best_f1_threshold
from .pool import Pool, build_pool

if TYPE_CHECKING:  # pragma: no cover
    from scipy import sparse
    from spacy.language import Language


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
    fold: np.ndarray  # which outer fold held each trainable segment out (1-based)


def _inner_thresholds(x: "sparse.csr_matrix", labels: dict[str, np.ndarray], groups: np.ndarray,
                      codes: list[str]) -> dict[str, float | None]:
    """Per code, the max-F1 threshold on out-of-fold scores of inner folds by document of
    one outer training part. The outer fitted featuriser is reused: its vocabulary and
    IDF use no labels, so only the classifiers need refitting."""
    n_groups = len(set(groups.tolist()))
    if n_groups < 2:
        return {code: None for code in codes}
    scores = {code: np.full(len(groups), np.nan) for code in codes}
    matrix = np.column_stack([labels[c] for c in codes]) if codes else np.zeros((len(groups), 0), bool)
    for train, test in document_folds(groups, matrix, min(INNER_FOLDS, n_groups)):
        fold = _scores(x[train], {c: labels[c][train] for c in codes}, x[test], codes, len(test))
        for code in codes:
            scores[code][test] = fold[code]
    return {code: best_f1_threshold(scores[code], labels[code]) for code in codes}


def _out_of_fold(pool: Pool, codes: list[str], folds: int, nested: bool = True) -> _Folds:
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
    fold_of = np.zeros(len(rows), dtype=int)
    matrix = np.column_stack([labels[c] for c in codes]) if codes else np.zeros((len(rows), 0), bool)
    for number, (train, test) in enumerate(document_folds(groups, matrix, folds), start=1):
        step(f"cross-validating: fold {number} of {folds}", number - 1, folds)
        fold_of[test] = number
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
    return _Folds(folds, scores, predicted, fold_of)


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


# Quality a code must show on unseen documents before its suggestions are written
# (unless the researcher asks for the code by name): ranking clearly better than chance,
# and average precision clearly above what guessing at the base rate scores.
MIN_AUC = 0.6
MIN_AP_GAIN = 0.1  # (AP - base rate) / (1 - base rate): the share of the way from guessing to perfect


def quality_refusal(ap: float, auc: float, base_rate: float) -> str | None:
    """Why cross-validated figures are too poor to suggest from, or None.

    >>> quality_refusal(ap=0.04, auc=0.45, base_rate=0.03)
    'cross-validated AUC 0.45 is under 0.6 (0.5 is chance): its suggestions would be guesses'
    >>> quality_refusal(ap=0.08, auc=0.7, base_rate=0.03)
    'average precision 0.080 is not clearly above the base rate 0.030 (needs 0.127)'
    >>> quality_refusal(ap=0.5, auc=0.9, base_rate=0.03) is None
    True
    """
    if not auc >= MIN_AUC:
        return f"cross-validated AUC {auc:.2f} is under {MIN_AUC} (0.5 is chance): its suggestions would be guesses"
    needed = base_rate + MIN_AP_GAIN * (1 - base_rate)
    if not ap >= needed:
        return f"average precision {ap:.3f} is not clearly above the base rate {base_rate:.3f} (needs {needed:.3f})"
    return None


@dataclass
class Decision:
    """How a code's suggestions are made: calibration and the confidence to reach."""

    platt: Platt
    threshold: float  # calibrated probability at or above which a segment is suggested
    # Out-of-fold decision scores of the trainable segments (in pool order): for a coded
    # document's segments, the score of the model that did not see the document.
    held_out: np.ndarray | None = None
    # Why the code's figures are too poor to suggest from (None: good enough).
    poor: str | None = None
    predicted: np.ndarray | None = None  # the out-of-fold decisions (nested thresholds)
    fold: np.ndarray | None = None


COLUMNS = ["code", "n_positive", "n_negative", "base_rate", "documents", "folds", "ap", "auc", "threshold",
           "tp", "fp", "fn", "tn", "precision", "recall", "f1", "refused", "reason"]


def _evaluate(pool: Pool, folds: int, min_examples: int, threshold: float | None
              ) -> tuple[pd.DataFrame, dict[str, Decision]]:
    """Per-code cross-validated figures and how each learnable code's suggestions are made.

    ``threshold=None`` chooses each code's threshold (max F1 on out-of-fold scores) and
    reports the nested figures; a number fixes the calibrated threshold for every code.
    Codes too thin to learn are refused with no figures; codes learned but too poor
    (``quality_refusal``) are refused with their figures, and keep a ``Decision`` so a
    researcher who names them can still have their suggestions.
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
                ranking = _ranking(y, scores)
                poor = quality_refusal(ranking["ap"], ranking["auc"], float(y.mean()))
                decisions[code] = Decision(platt, cut, scores, poor, predicted, oof.fold)
                row.update(ranking, threshold=cut, **_figures(y, predicted))
                if poor:
                    row.update(refused=True, reason=poor)
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


def cross_validate(project: Project, folds: int = 5, unit: str | None = "sentence", min_examples: int = 8,
                   threshold: float | None = None, nlp: "Language | None" = None,
                   embeddings: bool = False) -> pd.DataFrame:
    """Cross-validated quality per code, with the counts behind it.

    Splits are grouped by document (at most one fold per coded document), shuffled with
    a fixed seed and balanced so each code's positives spread over the folds
    (``folds.document_folds``): the same folds on every run.
    Columns: ``base_rate`` (share of segments with the code), ``ap`` (average precision
    of the out-of-fold scores; guessing scores the base rate) and ``auc`` (ROC AUC;
    guessing scores 0.5); ``threshold``, the calibrated confidence ``suggest`` requires
    for the code; and TP/FP/FN/TN, precision, recall and F1 of predicting the code.

    By default (``threshold=None``) each code's threshold maximises F1 on the
    out-of-fold scores, and the counts come from nested cross-validation: within each
    outer training part, inner folds choose the threshold that the outer test fold is
    then judged at, so they estimate how the rule does on new documents. A number
    fixes the threshold for every code instead (the rule ``suggest(min_confidence=…)``
    applies). Refused codes carry ``refused=True`` and a ``reason``: codes too thin to
    learn have no figures; codes whose figures are too poor to suggest from
    (``quality_refusal``: AUC under 0.6, or average precision not clearly above the
    base rate) keep them. ``unit=None`` follows the training data (``choose_unit``).
    ``assess`` gives the same figures beside each person's own coding.

    >>> cross_validate(project, folds=5)   # doctest: +SKIP
          code  n_positive  n_negative  base_rate ... ap   auc  threshold  tp  fp  fn ...  f1  refused reason
    """
    if folds < 2:
        raise InputError(project.location, f"--folds {folds} is too few", "use 2 or more folds (5 is usual)")
    _check_confidence(project, threshold, "--threshold")
    pool = build_pool(project, unit, nlp, embeddings=embeddings)
    _require_training(project, pool)
    frame, _ = _evaluate(pool, folds, min_examples, threshold)
    return frame

