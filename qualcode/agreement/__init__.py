"""Intercoder agreement from a project's codings: who coded the same text the same way.

Coders are people or methods (a rule set, the learned suggester): anything that has
codings under a coder name, and ``learned:cv`` (``LEARNED_CODER``): the learned
suggester's cross-validated decisions on the documents people coded, each made by a
model that never saw the document, so "does the machine agree with us as well as we
agree with each other?" has the same statistics as any pair of people. Three units of comparison, as evaluators know them:

- ``character``: every character of each compared document is a unit, coded or not
  by each coder for each code (NVivo's coding comparison). Krippendorff's unitizing
  alpha is reported beside it, so boundaries that differ by a few characters cost a
  little rather than a whole disagreement.
- ``segment``: sentences, paragraphs or speaker turns (``qualcode.segments``); a
  segment is coded for a code when any of the coder's spans of that code overlaps it.
- ``document``: a code is present in a document or not.

Every code is a binary decision per unit, so the statistics are percent agreement,
Cohen's kappa (two coders) or Fleiss' kappa (more), Krippendorff's nominal alpha and
the Brennan–Prediger kappa with q = 2 (see ``agreement.stats``).

Rules, decided here once:
- Which codings count: every coding of each named coder except rejected ones
  (``statuses``); a method's codings are 'suggested', a person's 'accepted', and both
  are that coder's judgement.
- Which documents are compared: those every named coder coded at least once (any
  code), unless ``documents`` names them; then a coder who coded nothing in one of
  them counts as having left all of it uncoded (as NVivo does for selected files).
- Which codes: those any of the coders used in the compared documents, unless
  ``codes`` names them.
- Too little data: a code with fewer than ``min_coded`` coded units (segments or
  documents coded by at least one coder; at the character level, codings) gets no
  statistics, only its counts and a flag. A statistic that is undefined (one
  category only) is blank with the reason as its flag.

>>> result = agreement(project, ["alex", "sam"], unit="segment", segment="paragraph")   # doctest: +SKIP
>>> result.by_code[["code", "n_units", "kappa", "alpha", "flag"]]                     # doctest: +SKIP
"""


from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd

from . import stats
from .consensus import CONSENSUS_CODER, EXCERPT_CHARS, disagreements, settle
from .units import (COUNTED_STATUSES, LEARNED_CODER, SEGMENT_KINDS, UNITS, _check_choice, _coded_pairs, _compare,
                    _Comparison, _doc_units, _masks, _patterns, _pattern_matrix, _unit_matrix)
from ..project import Project

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language

__all__ = ["AgreementResult", "CONSENSUS_CODER", "COUNTED_STATUSES", "EXCERPT_CHARS", "LEARNED_CODER", "MIN_CODED",
           "SEGMENT_KINDS", "UNITS", "agreement", "disagreements", "settle"]

MIN_CODED = 5


@dataclass
class AgreementResult:
    """The agreement figures for one comparison, as DataFrames.

    ``by_code``: one row per code; ``overall``: one row pooling every code's
    decisions; ``by_document``: one row per document and code; ``documents``: the
    documents compared. ``table_for_report()`` formats ``by_code`` and ``overall``
    for a report.

    Columns: ``n_units`` (characters, segments or documents compared),
    ``coded_by_<coder>`` (units each coder coded), ``all_coded`` / ``any_coded``,
    ``percent_agreement`` (0-1, mean pairwise), ``percent_all_agree`` (0-1, units on
    which every coder agrees; the same for two coders), ``kappa`` (Cohen's for two
    coders, Fleiss' for more; see ``kappa_name``), ``scott_pi`` (two coders; Fleiss'
    kappa for more), ``gwet_ac1`` (q = 2), ``alpha`` (Krippendorff, nominal), ``brennan_prediger``
    (q = 2), ``unitizing_alpha`` (character unit only) and ``flag`` ("" when nothing
    is wrong). ``overall`` adds ``n_codes``, ``n_documents``, ``mean_code_kappa``.
    """

    coders: list[str]
    unit: str
    segment: str | None
    documents: pd.DataFrame
    by_code: pd.DataFrame
    overall: pd.DataFrame
    by_document: pd.DataFrame
    statuses: tuple[str, ...] = COUNTED_STATUSES
    min_coded: int = MIN_CODED

    @property
    def kappa_name(self) -> str:
        return "Cohen's kappa" if len(self.coders) == 2 else "Fleiss' kappa"

    @property
    def unit_label(self) -> str:
        return self.segment if self.unit == "segment" and self.segment else self.unit

    def table_for_report(self) -> pd.DataFrame:
        """``by_code`` plus an 'All codes' row, with readable headers and rounded figures.

        Percentages to one decimal, coefficients to three; a blank figure shows as
        an en dash and its reason sits in the Note column.
        """
        frame = pd.concat([self.by_code, self.overall.assign(code="All codes (pooled)", code_name="")],
                          ignore_index=True)
        kappa = "Cohen's κ" if len(self.coders) == 2 else "Fleiss' κ"
        table = pd.DataFrame({
            "Code": [name or key for key, name in zip(frame["code"], frame["code_name"])],
            f"{self.unit_label.capitalize()}s": frame["n_units"].map(_count),
        })
        for coder in self.coders:
            table[f"Coded by {coder}"] = frame[f"coded_by_{coder}"].map(_count)
        table["Agreement %"] = frame["percent_agreement"].map(lambda v: _fmt(v * 100, 1))
        table[kappa] = frame["kappa"].map(_fmt)
        if len(self.coders) > 2:
            table["All agree %"] = frame["percent_all_agree"].map(lambda v: _fmt(v * 100, 1))
        else:
            table["Scott's π"] = frame["scott_pi"].map(_fmt)
        table["Gwet's AC1"] = frame["gwet_ac1"].map(_fmt)
        table["Krippendorff's α"] = frame["alpha"].map(_fmt)
        table["Brennan–Prediger κ"] = frame["brennan_prediger"].map(_fmt)
        if self.unit == "character":
            table["Unitizing α"] = frame["unitizing_alpha"].map(_fmt)
        table["Note"] = frame["flag"].fillna("")
        return table

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain data (what ``qualcode agreement --json`` prints)."""
        return {
            "coders": self.coders, "unit": self.unit, "segment": self.segment,
            "statuses": list(self.statuses), "kappa": self.kappa_name, "min_coded": self.min_coded,
            "documents": self.documents, "overall": self.overall, "by_code": self.by_code,
            "by_document": self.by_document,
        }


def _fmt(value: float, digits: int = 3) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:.{digits}f}"


def _count(value: float) -> str:
    return f"{int(value):,}" if not pd.isna(value) else "–"


# -- statistics per row ---------------------------------------------------------------


def _row(coders: list[str], counts: np.ndarray, n_coded_spans: int, unit_word: str, min_coded: int,
         unitizing: stats.Statistic | None) -> dict[str, Any]:
    """Counts and statistics for one set of binary decisions, flagged when thin."""
    n = len(coders)
    matrix = _pattern_matrix(n)
    full = (1 << n) - 1
    row: dict[str, Any] = {"n_units": float(counts.sum())}
    for r, coder in enumerate(coders):
        row[f"coded_by_{coder}"] = float(counts[matrix[r] == 1].sum())
    row["all_coded"] = float(counts[full])
    row["any_coded"] = float(counts.sum() - counts[0])
    coded = n_coded_spans if unit_word == "coding" else row["any_coded"]
    flags = []
    if row["any_coded"] == 0:
        flags.append("not coded by any coder")
    elif coded < min_coded:
        noun = "coding" if unit_word == "coding" else f"coded {unit_word}"
        flags.append(f"too little data: {int(coded)} {noun}{'s' if coded != 1 else ''} (fewer than {min_coded})")
    blank = bool(flags)
    idle = [c for c in coders if row[f"coded_by_{c}"] == 0]
    if idle and row["any_coded"] > 0:
        flags.append(f"{', '.join(idle)} did not use this code")
    keep = counts > 0
    data, weights = matrix[:, keep], counts[keep]
    values = {
        "percent_agreement": stats.percent_agreement(data, unit_counts=weights),
        "kappa": (stats.cohen_kappa(data, unit_counts=weights) if n == 2
                  else stats.fleiss_kappa(data, unit_counts=weights)),
        "alpha": stats.krippendorff_alpha(data, "nominal", unit_counts=weights),
        "brennan_prediger": stats.brennan_prediger(data, q=2, unit_counts=weights),
        # Scott's pi for two coders; Fleiss' kappa is its many-coder form (the kappa column).
        "scott_pi": stats.scott_pi(data, unit_counts=weights) if n == 2 else stats.fleiss_kappa(data, unit_counts=weights),
        "gwet_ac1": stats.gwet_ac1(data, q=2, unit_counts=weights),
        "percent_all_agree": stats.percent_agreement(data, unit_counts=weights, definition="all_agree"),
    }
    if unitizing is not None:
        values["unitizing_alpha"] = unitizing
    for name, stat in values.items():
        row[name] = math.nan if blank else stat.value
    if not blank:
        reasons = dict.fromkeys(s.reason for s in values.values() if s.reason)
        flags.extend(reasons)
    row["flag"] = "; ".join(flags)  # "" when nothing to say
    return row


def _sections_alpha(comparison: _Comparison, code: str) -> stats.Statistic:
    """Unitizing alpha for one code over all compared documents laid end to end."""
    offset, breaks = 0, []
    spans: list[list[tuple[int, int]]] = [[] for _ in comparison.coders]
    for doc_id, _, text in comparison.documents:
        for r, coder_spans in enumerate(comparison.coder_spans(doc_id, code)):
            spans[r].extend((offset + s, offset + e) for s, e in coder_spans)
        offset += len(text)
        breaks.append(offset)
    return stats.unitizing_alpha(spans, offset, breaks=breaks)


def agreement(
    project: Project,
    coders: Sequence[str],
    unit: str = "character",
    segment: str = "sentence",
    codes: Sequence[str] | None = None,
    documents: Sequence[int | str] | None = None,
    statuses: Sequence[str] = COUNTED_STATUSES,
    min_coded: int = MIN_CODED,
    nlp: "Language | None" = None,
    by_document: bool = False,
) -> AgreementResult:
    """Agreement between ``coders`` per code, overall and, when asked, per document.

    ``unit`` is character, segment or document; ``segment`` says which segments
    (sentence, paragraph, turn) when ``unit="segment"``. See the module docstring for
    which codings, documents and codes are compared. ``by_document=True`` also fills
    ``result.by_document`` (one row per document and code, each with its statistics):
    on a survey of hundreds of answers and codes that is most of the work, so it is
    computed only when asked. Only the codes someone used in a document cost work
    there; the rest count as units nobody coded.

    >>> agreement(project, ["alex", "sam"]).table_for_report()   # doctest: +SKIP
    """
    _check_choice(project, "unit", unit, UNITS)
    _check_choice(project, "segment", segment, SEGMENT_KINDS)
    comparison = _compare(project, coders, codes, documents, statuses)
    coders = comparison.coders
    unit_word = {"character": "coding", "document": "document"}.get(unit, segment)
    code_index = {code: j for j, code in enumerate(comparison.codes)}
    counts = np.zeros((len(comparison.codes), 1 << len(coders)))  # codes x coder patterns, summed over documents
    coded_pairs = _coded_pairs(comparison)
    documents_rows: list[dict[str, Any]] = []
    used_rows: dict[int, dict[str, Any]] = {}  # position in the documents x codes rows: the row
    for doc_id, name, text, bounds, segments in _doc_units(comparison, project, unit, segment, nlp):
        n_units = {"character": len(text), "document": 1}.get(unit, len(segments))
        documents_rows.append({"document_id": doc_id, "document": name, "characters": len(text), "units": n_units})
        counts[:, 0] += n_units  # every unit of every code uncoded by all ...
        here = {}
        for code in coded_pairs.get(doc_id, ()):  # ... but for the codes someone used here
            here[code] = _patterns(_unit_matrix(_masks(comparison.coder_spans(doc_id, code), len(text)), unit, bounds))
            counts[code_index[code], 0] -= n_units
            counts[code_index[code]] += here[code]
        if not by_document:
            continue
        for code in here:  # a code nobody used here has the same row everywhere (_by_document)
            spans = comparison.coder_spans(doc_id, code)
            n_spans = comparison.n_codings.get((doc_id, code), 0)
            unitizing = stats.unitizing_alpha(spans, len(text)) if unit == "character" else None
            used_rows[(len(documents_rows) - 1) * len(comparison.codes) + code_index[code]] = _row(
                coders, here[code], n_spans, unit_word, min_coded, unitizing)
    totals = {code: counts[j] for code, j in code_index.items()}
    by_code, unitizing = [], {}
    for code in comparison.codes:
        n_spans = sum(comparison.n_codings.get((d, code), 0) for d, _, _ in comparison.documents)
        if unit == "character":
            unitizing[code] = _sections_alpha(comparison, code)
        by_code.append({"code": code, "code_name": comparison.code_names.get(code, code),
                        **_row(coders, totals[code], n_spans, unit_word, min_coded, unitizing.get(code))})
    by_code_frame = pd.DataFrame(by_code, columns=_columns(coders, unit, leading=["code", "code_name"]))
    overall = _overall(comparison, totals, by_code_frame, unitizing, unit, unit_word, min_coded)
    return AgreementResult(
        coders=list(coders), unit=unit, segment=segment if unit == "segment" else None,
        documents=pd.DataFrame(documents_rows, columns=["document_id", "document", "characters", "units"]),
        by_code=by_code_frame, overall=overall,
        by_document=_by_document(comparison, documents_rows, used_rows if by_document else None, unit),
        statuses=tuple(statuses), min_coded=min_coded,
    )


def _by_document(comparison: _Comparison, documents_rows: list[dict[str, Any]],
                 used_rows: dict[int, dict[str, Any]] | None, unit: str) -> pd.DataFrame:
    """One row per document and code (documents in order, codes in codebook order).

    Most of a survey's documents x codes rows are codes nobody used in the document:
    each is ``n_units`` units coded by no one, with no statistics and the flag "not
    coded by any coder" (what ``_row`` gives for such counts), so they are laid out as
    columns over every row at once, and only the ``used_rows`` (position -> ``_row``)
    are computed one by one. ``None``: not asked for, an empty frame.

    >>> c = _Comparison(["a", "b"], [(1, "d1", "xy")], ["k"], {})
    >>> _by_document(c, [{"units": 1}], {}, "document")[["n_units", "coded_by_a", "kappa", "flag"]].values.tolist()
    [[1.0, 0.0, nan, 'not coded by any coder']]
    """
    columns = _columns(comparison.coders, unit, ["document_id", "document", "code"])
    if used_rows is None:
        return pd.DataFrame(columns=columns)
    n_codes = len(comparison.codes)
    frame = pd.DataFrame({
        "document_id": np.repeat(np.array([d for d, _, _ in comparison.documents], dtype=np.int64), n_codes),
        "document": np.repeat(np.array([n for _, n, _ in comparison.documents], dtype=object), n_codes),
        "code": np.tile(np.array(comparison.codes, dtype=object), len(comparison.documents)),
        "n_units": np.repeat(np.array([r["units"] for r in documents_rows], dtype=float), n_codes),
    })
    for column in columns[4:-1]:
        frame[column] = 0.0 if column.startswith("coded_by_") or column in ("all_coded", "any_coded") else math.nan
    frame["flag"] = "not coded by any coder"
    frame = frame[columns]
    if used_rows:
        positions = np.fromiter(used_rows, dtype=np.int64, count=len(used_rows))
        computed = pd.DataFrame(list(used_rows.values()), columns=columns[3:])
        for column in columns[3:]:
            frame.loc[positions, column] = computed[column].to_numpy()
    return frame


def _columns(coders: list[str], unit: str, leading: list[str]) -> list[str]:
    columns = leading + ["n_units"] + [f"coded_by_{c}" for c in coders] + [
        "all_coded", "any_coded", "percent_agreement", "percent_all_agree", "kappa", "scott_pi", "gwet_ac1", "alpha",
        "brennan_prediger"]
    if unit == "character":
        columns.append("unitizing_alpha")
    return columns + ["flag"]


def _overall(comparison: _Comparison, totals: dict[str, np.ndarray], by_code: pd.DataFrame,
             unitizing_by_code: dict[str, stats.Statistic], unit: str, unit_word: str,
             min_coded: int) -> pd.DataFrame:
    """Every (unit, code) decision pooled, plus the mean of the per-code kappas.

    The pooled unitizing alpha is 1 - mean(D_o) / mean(D_e) over the codes, the way
    Krippendorff's alpha combines categories.
    """
    coders = comparison.coders
    pooled = sum(totals.values()) if totals else np.zeros(1 << len(coders))
    n_spans = sum(comparison.n_codings.values())
    unitizing = None
    if unit == "character":
        parts = [p for p in unitizing_by_code.values() if p.details.get("D_e", 0) > 0]
        if parts:
            d_o = float(np.mean([p.details["D_o"] for p in parts]))
            d_e = float(np.mean([p.details["D_e"] for p in parts]))
            unitizing = stats.Statistic("Krippendorff's unitizing alpha", 1 - d_o / d_e, 0.0)
        else:
            unitizing = stats.Statistic("Krippendorff's unitizing alpha", math.nan, 0.0, "no code was used")
    row = _row(coders, pooled, n_spans, unit_word, min_coded, unitizing)
    kappas = by_code["kappa"].dropna()
    row.update({"n_codes": len(comparison.codes), "n_documents": len(comparison.documents),
                "mean_code_kappa": float(kappas.mean()) if len(kappas) else math.nan,
                "codes_with_kappa": int(len(kappas))})
    columns = ["n_codes", "n_documents"] + _columns(coders, unit, [])[:-1] + ["mean_code_kappa",
                                                                              "codes_with_kappa", "flag"]
    return pd.DataFrame([row], columns=columns)
