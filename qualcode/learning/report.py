"""Does the machine agree with us as well as we agree with each other?

``assess`` runs the cross-validation of ``evaluate`` and sets its out-of-fold
decisions beside each person's own coding: per code, Cohen's kappa between the
machine and every human coder who coded those documents, and between each pair of
people on the documents both coded. One table answers the question; a macro row sums
it up; ``predictions`` lists every out-of-fold decision, item by item, to see where
the machine is wrong.

>>> report = assess(project)                       # doctest: +SKIP
>>> report.table()[["code", "f1", "kappa_machine_vs_alex", "kappa_alex_vs_sam"]]   # doctest: +SKIP
>>> report.predictions.query("outcome == 'FP'")    # doctest: +SKIP
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from .. import store
from ..agreement.stats import cohen_kappa
from ..errors import InputError
from ..progress import step
from ..project import Project
from .evaluate import Decision, _check_confidence, _evaluate, _require_training
from .pool import Pool, _overlapping, build_pool

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language

MACHINE = "machine"
EXCERPT = 160
FIGURES = ["base_rate", "precision", "recall", "f1", "ap", "auc"]
_PATTERNS = np.array([[0, 0, 1, 1], [0, 1, 0, 1]])  # (machine or coder a, coder b) for kappa counts


def binary_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two yes/no codings of the same units (``agreement.stats``),
    NaN when undefined (no units, or both coders said the same thing of every unit).

    >>> binary_kappa(np.array([1, 1, 0, 0], bool), np.array([1, 0, 0, 0], bool))
    0.5
    """
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    if a.size == 0:
        return math.nan
    counts = np.bincount(a.astype(int) * 2 + b.astype(int), minlength=4)
    keep = counts > 0
    return float(cohen_kappa(_PATTERNS[:, keep], unit_counts=counts[keep]).value)


@dataclass
class People:
    """The human coders behind the training labels, over the trainable segments:
    which segments each one's documents hold (``coded``) and, per code, which of
    them the person coded (``labels``)."""

    coders: list[str]
    coded: dict[str, np.ndarray]
    labels: dict[tuple[str, str], np.ndarray]

    def label(self, coder: str, code: str) -> np.ndarray:
        return self.labels.get((coder, code), np.zeros_like(self.coded[coder]))

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """Pairs of people who coded some of the same documents."""
        return [(a, b) for a, b in itertools.combinations(self.coders, 2) if (self.coded[a] & self.coded[b]).any()]


def people(pool: Pool) -> People:
    """Each human coder's own accepted coding, laid over the trainable segments."""
    rows = np.flatnonzero(pool.trainable)
    doc, start, end = pool.document[rows], pool.start[rows], pool.end[rows]
    accepted = pool.accepted if pool.accepted is not None else pd.DataFrame(
        columns=["document_id", "start", "end", "code", "coder", "coder_kind"])
    human = accepted[accepted["coder_kind"] == "human"]
    coders = sorted(str(c) for c in human["coder"].unique())
    coded = {c: np.isin(doc, human.loc[human["coder"] == c, "document_id"].unique()) for c in coders}
    labels = {(str(c), str(k)): _overlapping(doc, start, end, group)
              for (c, k), group in human.groupby(["coder", "code"])}
    return People(coders, coded, labels)


def _kappa_columns(crowd: People) -> list[str]:
    return ([f"kappa_{MACHINE}_vs_{c}" for c in crowd.coders]
            + [f"kappa_{a}_vs_{b}" for a, b in crowd.pairs])


def _kappas(crowd: People, code: str, predicted: np.ndarray | None) -> dict[str, float]:
    """Machine vs each person on the segments of the documents that person coded;
    person vs person on the documents both coded."""
    out = {}
    for coder in crowd.coders:
        mask = crowd.coded[coder]
        out[f"kappa_{MACHINE}_vs_{coder}"] = (math.nan if predicted is None
                                              else binary_kappa(predicted[mask], crowd.label(coder, code)[mask]))
    for a, b in crowd.pairs:
        mask = crowd.coded[a] & crowd.coded[b]
        out[f"kappa_{a}_vs_{b}"] = binary_kappa(crowd.label(a, code)[mask], crowd.label(b, code)[mask])
    return out


@dataclass
class LearnReport:
    """What ``learn`` shows: per-code figures beside machine–human and human–human
    kappa (``by_code``), macro means (``overall``), every out-of-fold decision
    (``predictions``), the unit learned and why (``unit``, ``unit_note``)."""

    unit: str
    unit_note: str
    coders: list[str]
    by_code: pd.DataFrame
    overall: pd.DataFrame
    predictions: pd.DataFrame

    def table(self) -> pd.DataFrame:
        """``by_code`` with the macro rows beneath it."""
        # The macro rows leave per-code columns empty; left out here they come back
        # empty, and pandas stops warning that such columns will one day set the dtypes.
        return pd.concat([self.by_code, self.overall.dropna(axis=1, how="all")], ignore_index=True)

    def summary(self) -> pd.DataFrame:
        """The table a person reads: per code and macro, the figures and kappas with
        readable headers, and whether ``suggest`` uses the code (or why not)."""
        table = self.table()
        out = pd.DataFrame({"code": table["code"], "positives": table["n_positive"].astype("Int64"),
                            "base rate": table["base_rate"]})
        for column, header in (("precision", "P"), ("recall", "R"), ("f1", "F1"), ("ap", "AP"), ("auc", "AUC")):
            out[header] = table[column]
        for column in table.columns:
            if column.startswith("kappa_"):
                a, _, b = column[len("kappa_"):].partition("_vs_")
                out[f"κ {'m' if a == MACHINE else a}~{b}"] = table[column]
        out["suggested"] = ["" if code.startswith("(macro") else ("no: " + reason if refused else "yes")
                            for code, refused, reason in zip(table["code"], table["refused"], table["reason"])]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "unit_note": self.unit_note, "coders": self.coders,
                "by_code": self.by_code, "overall": self.overall}


def _macro(by_code: pd.DataFrame, kappas: list[str]) -> pd.DataFrame:
    """Macro means (each code counts once) over the codes with figures, and over the
    codes ``suggest`` uses; counts summed."""
    evaluated = by_code[by_code["f1"].notna()]
    rows = []
    for label, part in ((f"(macro, {len(evaluated)} codes learned)", evaluated),
                        (f"(macro, {int((~evaluated['refused']).sum())} codes suggested)",
                         evaluated[~evaluated["refused"]])):
        row: dict[str, Any] = {"code": label, "refused": False, "reason": ""}
        for column in ("n_positive", "n_negative", "tp", "fp", "fn", "tn"):
            row[column] = int(part[column].sum()) if len(part) else 0
        for column in FIGURES + kappas:
            row[column] = round(float(part[column].astype(float).mean()), 3) if len(part) else math.nan
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=by_code.columns)


def _predictions(project: Project, pool: Pool, decisions: dict[str, Decision], crowd: People) -> pd.DataFrame:
    """One row per trainable segment and learned code: fold, score, calibrated
    confidence, threshold, the machine's decision, the team's label, each person's."""
    rows = np.flatnonzero(pool.trainable)
    doc_ids = pool.document[rows]
    names, texts = _documents(project, sorted(set(doc_ids.tolist())))
    starts, ends = pool.start[rows], pool.end[rows]
    excerpt = [_excerpt(texts[d][s:e]) for d, s, e in zip(doc_ids.tolist(), starts.tolist(), ends.tolist())]
    frames = []
    for code, decision in decisions.items():
        y = pool.positive[code][rows]
        predicted = decision.predicted
        confidence = decision.platt(decision.held_out)
        frame = pd.DataFrame({
            "document_id": doc_ids, "document": [names[d] for d in doc_ids.tolist()], "start": starts,
            "end": ends, "code": code, "fold": decision.fold, "score": np.round(decision.held_out, 4),
            "confidence": np.round(confidence, 4), "threshold": round(decision.threshold, 4),
            "predicted": predicted, "coded": y,
            "outcome": np.select([predicted & y, predicted & ~y, ~predicted & y], ["TP", "FP", "FN"], "TN"),
        })
        for coder in crowd.coders:
            frame[f"coded_by_{coder}"] = pd.array(np.where(crowd.coded[coder], crowd.label(coder, code), pd.NA),
                                                  dtype="boolean")
        frame["suggested"] = decision.poor is None
        frame["text"] = excerpt
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["document_id", "document", "start", "end", "code", "fold", "score",
                                     "confidence", "threshold", "predicted", "coded", "outcome", "text"])
    return pd.concat(frames, ignore_index=True)


def _documents(project: Project, ids: list[int]) -> tuple[dict[int, str], dict[int, str]]:
    d = store.documents
    with project.engine.connect() as conn:
        found = conn.execute(sa.select(d.c.id, d.c.name, d.c.text).where(d.c.id.in_(ids))).all()
    return {r[0]: r[1] for r in found}, {r[0]: r[2] for r in found}


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT else text[:EXCERPT - 1] + "…"


def assess(project: Project, folds: int = 5, unit: str | None = None, min_examples: int = 8,
           threshold: float | None = None, nlp: "Language | None" = None, embeddings: bool = False) -> LearnReport:
    """Cross-validate the learned suggester and set it beside the people who coded.

    Per code: the figures of ``cross_validate`` (base rate, AP, AUC, threshold,
    counts, precision, recall, F1, refused and why), then ``kappa_machine_vs_<coder>``
    for every human coder (Cohen's kappa between the machine's out-of-fold decisions
    and that person's own accepted coding, on the segments of the documents they
    coded) and ``kappa_<a>_vs_<b>`` for each pair of people who coded some of the
    same documents (on those documents). Kappa is on the learning unit: documents
    when the coding is of whole documents, sentences otherwise (``choose_unit``).
    ``embeddings=True`` adds sentence-embedding features (the optional extra,
    ``learning.embeddings``).

    >>> assess(project).table()      # doctest: +SKIP
    """
    if folds < 2:
        raise InputError(project.location, f"--folds {folds} is too few", "use 2 or more folds (5 is usual)")
    _check_confidence(project, threshold, "--threshold")
    pool = build_pool(project, unit, nlp, embeddings=embeddings)
    _require_training(project, pool)
    frame, decisions = _evaluate(pool, folds, min_examples, threshold)
    step("kappa against each coder, out-of-fold decisions")
    crowd = people(pool)
    kappas = _kappa_columns(crowd)
    extra = pd.DataFrame([_kappas(crowd, code, decisions[code].predicted if code in decisions else None)
                          for code in frame["code"]], columns=kappas).round(3)
    by_code = pd.concat([frame.drop(columns=["refused", "reason"]), extra, frame[["refused", "reason"]]], axis=1)
    return LearnReport(pool.unit, pool.unit_note, crowd.coders, by_code, _macro(by_code, kappas),
                       _predictions(project, pool, decisions, crowd))


def out_of_fold(project: Project, folds: int = 5, unit: str | None = None, min_examples: int = 8,
                nlp: "Language | None" = None, embeddings: bool = False) -> pd.DataFrame:
    """Every out-of-fold decision of the learned suggester, one row per segment (or
    document) and code: what the machine decided on a document it never saw, its
    score and calibrated confidence, the team's coding and each person's.

    >>> out_of_fold(project).query("outcome in ('FP', 'FN')")   # doctest: +SKIP
    """
    return assess(project, folds=folds, unit=unit, min_examples=min_examples, nlp=nlp,
                  embeddings=embeddings).predictions
