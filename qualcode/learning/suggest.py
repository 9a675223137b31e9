"""Writing learned suggestions into the store, and the review queue that orders them.

>>> _decision_point('{"threshold": 0.12}')
0.12
"""

from __future__ import annotations

import difflib
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError, NotEnoughData, NotFoundError
from ..progress import step
from ..project import NewCoding, Project
from .evaluate import Decision, _check_confidence, _evaluate, _require_training
from .model import ALL_CODED, CALIBRATION, EMBEDDINGS, HELD_OUT, METHOD, MODEL, RANDOM_STATE, THRESHOLD_RULE, Features, _classifier
from .pool import Pool, build_pool

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language


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
    # Per code, how many segments reached the threshold but were left out by the cap.
    capped: dict[str, int] = field(default_factory=dict)
    max_per_code: int | None = None
    unit: str = "sentence"
    unit_note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"written": self.written, "by_code": self.by_code, "refused": self.refused,
                "already_coded": self.already_coded, "below_confidence": self.below_confidence,
                "training_segments": self.training_segments, "trained_at": self.trained_at,
                "thresholds": self.thresholds, "capped": self.capped, "max_per_code": self.max_per_code,
                "unit": self.unit, "unit_note": self.unit_note, "cv": self.cv, "ids": self.ids}


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


MAX_PER_CODE = 50  # a review queue a person can work through; the most confident go first


def suggest(project: Project, unit: str | None = None, min_confidence: float | None = None, coder: str = METHOD,
            folds: int = 5, min_examples: int = 8, nlp: "Language | None" = None,
            codes: Sequence[str] | None = None, max_per_code: int | None = MAX_PER_CODE,
            embeddings: bool = False) -> SuggestResult:
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

    It never floods the review queue: codes whose cross-validated figures are poor
    (``quality_refusal``) are refused with the reason unless named in ``codes``, and
    at most ``max_per_code`` suggestions per code are written, the most confident
    (``None``: no cap); ``capped`` says how many each code left out. ``unit=None``
    follows the training data (``choose_unit``). ``embeddings=True`` adds
    sentence-embedding features (the optional extra, ``learning.embeddings``); the
    provenance's ``model`` says so.
    """
    _check_confidence(project, min_confidence, "--min-confidence")
    if max_per_code is not None and max_per_code < 1:
        raise InputError(project.location, f"--max-per-code {max_per_code} is under 1",
                         "give 1 or more suggestions per code (50 is the default)")
    pool = build_pool(project, unit, nlp, embeddings=embeddings)
    _require_training(project, pool)
    named = _named_codes(project, pool, codes)
    cv, decisions = _evaluate(pool, folds, min_examples, min_confidence)
    if named is not None:
        cv = cv[cv["code"].isin(named)].reset_index(drop=True)
        decisions = {c: d for c, d in decisions.items() if c in named}
    else:
        decisions = {c: d for c, d in decisions.items() if d.poor is None}
    refused = {c: r for c, r, wanted in zip(cv["code"], cv["reason"], cv["refused"])
               if wanted and c not in decisions}
    if not decisions:
        listing = "; ".join(f"{c}: {r}" for c, r in refused.items()) or "the project has no active codes"
        raise NotEnoughData(
            f"{project.location}: no code can be suggested yet ({listing}). "
            f"Fix: code more segments of these codes by hand, in at least two documents, "
            f"or name a code whose figures are poor with --code to have its suggestions anyway."
        )
    step("fitting on every accepted coding")
    train_rows = np.flatnonzero(pool.trainable)
    features = Features.fit(pool, train_rows)
    x_train = features.transform(pool, train_rows)
    x_all = features.transform(pool, np.arange(len(pool.terms)))
    names = features.names()
    position = np.full(len(pool.terms), -1)
    position[train_rows] = np.arange(len(train_rows))  # pool row -> index into held-out scores
    trained_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    new, by_code, already, below, capped = [], {}, 0, 0, {}
    figures_of = cv.set_index("code")
    for number, (code, decision) in enumerate(decisions.items()):
        step(f"suggesting {code}", number, len(decisions))
        y = pool.positive[code][pool.trainable]
        model = _classifier().fit(x_train, y)
        candidates = np.flatnonzero(~pool.covered[code])
        already += int(pool.covered[code].sum())
        if candidates.size == 0:
            continue
        probability = decision.platt(_candidate_scores(model, decision, x_all, candidates, pool.trainable, position))
        figures = figures_of.loc[code]
        provenance = {
            "model": f"{MODEL} {EMBEDDINGS}" if embeddings else MODEL, "calibration": CALIBRATION, "unit": pool.unit, "trained_at": trained_at,
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
        reach = np.flatnonzero(probability >= decision.threshold)  # NaN never reaches: no fold model scored it
        below += int(candidates.size - reach.size)
        reach = reach[np.argsort(-probability[reach], kind="stable")]
        if max_per_code is not None and reach.size > max_per_code:
            capped[code] = int(reach.size - max_per_code)
            reach = reach[:max_per_code]
        for i, p in zip(candidates[np.sort(reach)], probability[np.sort(reach)]):
            held_out = bool(pool.trainable[i])
            new.append(NewCoding(
                int(pool.document[i]), int(pool.start[i]), int(pool.end[i]), code, coder,
                status="suggested", confidence=round(float(p), 4), method=METHOD,
                provenance=held_out_provenance if held_out else provenance,
                explanation=_explain(x_all[i], coef, names, float(p), held_out),
                codebook_version=pool.codebook_version.get(code),
            ))
            by_code[code] = by_code.get(code, 0) + 1
    step(f"writing {len(new):,} suggestions", len(decisions), len(decisions))
    ids: list[int] = []
    if new:
        with project.transaction() as conn:  # the write lock first: a run that finished meanwhile is seen
            fresh = _not_written_yet(project, conn, coder, new)
            ids = project.insert_codings(conn, fresh) if fresh else []
        if len(fresh) < len(new):
            already += len(new) - len(fresh)
            by_code = dict(Counter(c.code for c in fresh))
    thresholds = {code: round(d.threshold, 4) for code, d in decisions.items()}
    return SuggestResult(len(ids), by_code, refused, already, below, int(pool.trainable.sum()), trained_at, cv,
                         ids, thresholds, capped, max_per_code, pool.unit, pool.unit_note)


def _not_written_yet(project: Project, conn, coder: str, new: list[NewCoding]) -> list[NewCoding]:
    """The suggestions in ``new`` that ``coder`` has not written since the pool was read.

    Two team members running ``suggest`` on one project at once train on the same
    codings and propose the same segments; the run that takes the write lock second
    keeps only what the first did not write, instead of failing on the duplicates.
    """
    code_ids = project.code_ids(conn)
    present = project.coder_spans(conn, coder, {n.document_id for n in new})
    return [n for n in new if (n.document_id, code_ids.get(n.code), n.start, n.end) not in present]


def _named_codes(project: Project, pool: Pool, codes: Sequence[str] | None) -> set[str] | None:
    if codes is None:
        return None
    unknown = [c for c in codes if c not in pool.positive]
    if unknown:
        close = difflib.get_close_matches(unknown[0], list(pool.positive), n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise NotFoundError(f"{project.location}: no active code {unknown[0]!r}{hint}. "
                            "Fix: name codes by their key, as `qualcode learn` lists them.")
    return set(codes)


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

