"""Likert surveys: import responses, tabulate them the way evaluation reports do.

A staff survey arrives as a CSV, one row per respondent, a ``wave`` column and one
column per Likert item, with an items file (``item, question, outcome``) saying what
each column asked and which ToC outcome it is evidence for. ``likert_table`` gives
the report table: percent and count per option of the base (``45% (82)``), "Not
sure" and missing answers counted apart from the base, agree / disagree nets, and
the wave-on-wave change in percentage points.

>>> import_survey(project, "corpus/staff_survey.csv", "corpus/staff_survey_items.csv")  # doctest: +SKIP
>>> likert_table(project, item="q1_confident")                                          # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from . import store
from .problems import Problem
from .errors import InputError, NotFoundError, ValidationProblems
from .indicators import decode_csv, period_key
from .project import Project
from .store_measures import survey_items, survey_responses
from .toc import TheoryOfChange

SCALE = ("Strongly agree", "Agree", "Neither agree nor disagree", "Disagree", "Strongly disagree")
AGREE = ("Strongly agree", "Agree")
DISAGREE = ("Disagree", "Strongly disagree")
NOT_SURE = "Not sure"
MISSING = "Missing"
_ALIASES = {
    **{label.lower(): label for label in SCALE},
    "neither agree or disagree": "Neither agree nor disagree",
    "not sure": NOT_SURE, "don't know": NOT_SURE, "dont know": NOT_SURE,
    "not sure / don't know": NOT_SURE, "don't know / not sure": NOT_SURE,
}
ALLOWED = ", ".join([*SCALE, "Not sure", "Don't know"]) + " (or a blank cell for no answer)"
_RESPONDENT_COLUMNS = ("respondent", "respondent_id", "response_id", "id")


def normalise_response(text: str | None) -> str | None:
    """The canonical scale label for an answer, ``None`` for a blank; ``KeyError`` if unknown.

    >>> normalise_response("  strongly   AGREE "), normalise_response("Don’t know"), normalise_response("")
    ('Strongly agree', 'Not sure', None)
    """
    if text is None:
        return None
    key = re.sub(r"\s+", " ", str(text).replace("’", "'").replace("‘", "'")).strip().lower()
    if not key:
        return None
    return _ALIASES[key]


@dataclass
class SurveyImport:
    """What one survey import stored."""

    survey: str
    respondents: int
    items: list[str]
    waves: list[str]
    missing_answers: int
    ignored_columns: list[str] = field(default_factory=list)
    unknown_outcomes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def read_items(path: str | Path) -> pd.DataFrame:
    """The items file: one row per item with ``item, question[, outcome]``."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such items file", "check the path given to --items")
    rows = list(csv.DictReader(io.StringIO(decode_csv(path))))
    header = {str(k).strip().lower(): k for k in (rows[0].keys() if rows else [])}
    missing = [c for c in ("item", "question") if c not in header]
    if not rows or missing:
        raise InputError(path, f"missing column(s) {', '.join(missing or ['item', 'question'])}",
                         "give the items file a header row: item,question,outcome")
    problems, out, seen = [], [], {}
    for line, row in enumerate(rows, start=2):
        item = (row.get(header["item"]) or "").strip()
        if not item:
            continue
        if item in seen:
            problems.append(Problem(str(path), line, f"item {item!r} is listed twice (first on line {seen[item]})",
                                    "keep one row per item"))
            continue
        seen[item] = line
        outcome = (row.get(header["outcome"]) or "").strip() if "outcome" in header else ""
        out.append({"item": item, "question": (row.get(header["question"]) or "").strip(),
                    "outcome": outcome or None, "seq": len(out)})
    if problems:
        raise ValidationProblems(str(path), problems)
    return pd.DataFrame(out, columns=["item", "question", "outcome", "seq"])


def read_responses(path: str | Path, items: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Long-form answers ``respondent, wave, item, response`` and the columns left unused.

    Every unknown answer is reported at once with its line, column and the allowed values.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such survey file", "check the path to the survey responses")
    reader = csv.DictReader(io.StringIO(decode_csv(path)))
    columns = [c for c in (reader.fieldnames or []) if c is not None]
    by_name = {c.strip().lower(): c for c in columns}
    if "wave" not in by_name:
        raise InputError(path, f"no wave column (found: {', '.join(columns) or 'no header'})",
                         "add a column named wave (e.g. Wave 1, Wave 2); use one value for a single wave")
    item_columns = {}
    for item in items["item"]:
        column = by_name.get(item.strip().lower())
        if column is None:
            raise InputError(path, f"item {item!r} from the items file has no column here",
                             f"add a column {item!r} or correct the item id in the items file")
        item_columns[item] = column
    respondent_col = next((by_name[c] for c in _RESPONDENT_COLUMNS if c in by_name), None)
    used = set(item_columns.values()) | {by_name["wave"], respondent_col}
    ignored = [c for c in columns if c not in used]
    problems, out = [], []
    for line, row in enumerate(reader, start=2):
        respondent = (row.get(respondent_col) or "").strip() if respondent_col else ""
        respondent = respondent or f"row {line}"
        wave = (row.get(by_name["wave"]) or "").strip()
        for item, column in item_columns.items():
            try:
                response = normalise_response(row.get(column))
            except KeyError:
                problems.append(Problem(str(path), line, f"column {column!r}: unknown answer {row.get(column)!r}",
                                        f"use one of: {ALLOWED}"))
                continue
            out.append({"respondent": respondent, "wave": wave, "item": item, "response": response})
    if problems:
        raise ValidationProblems(str(path), problems)
    if not out:
        raise InputError(path, "the survey has no responses", "export the responses with one row per respondent")
    return pd.DataFrame(out, columns=["respondent", "wave", "item", "response"]), ignored


def import_survey(project: Project, responses: str | Path, items: str | Path, survey: str | None = None,
                  toc: TheoryOfChange | None = None) -> SurveyImport:
    """Store a survey (items and answers) in one transaction, replacing an earlier import of it.

    ``survey`` names it (default: the responses file's stem, e.g. ``staff_survey``).
    With ``toc``, item outcomes that are not ToC node ids are listed in ``unknown_outcomes``.
    """
    items_frame = read_items(items)
    answers, ignored = read_responses(responses, items_frame)
    name = survey or Path(responses).stem
    stamp = store.now()
    with project.transaction() as conn:
        conn.execute(sa.delete(survey_responses).where(survey_responses.c.survey == name))
        conn.execute(sa.delete(survey_items).where(survey_items.c.survey == name))
        conn.execute(sa.insert(survey_items), [{"survey": name, **r} for r in items_frame.to_dict("records")])
        conn.execute(sa.insert(survey_responses), [
            {"survey": name, "imported_at": stamp, **r} for r in answers.to_dict("records")])
    outcomes = [o for o in items_frame["outcome"].dropna().unique()]
    unknown = [o for o in outcomes if toc is not None and o not in toc.node_ids()]
    waves = sorted(answers["wave"].unique(), key=period_key)
    return SurveyImport(name, answers["respondent"].nunique(), list(items_frame["item"]), waves,
                        int(answers["response"].isna().sum()), ignored, unknown)


def survey_items_frame(project: Project, survey: str | None = None) -> pd.DataFrame:
    """The stored items: survey, item, question, outcome."""
    t = survey_items
    query = sa.select(t.c.survey, t.c.item, t.c.question, t.c.outcome).order_by(t.c.survey, t.c.seq)
    if survey is not None:
        query = query.where(t.c.survey == survey)
    with project.engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=["survey", "item", "question", "outcome"])


def likert_counts(project: Project, item: str | None = None, by: str | None = "wave",
                  survey: str | None = None) -> pd.DataFrame:
    """Numbers behind the table: one row per survey, item and wave.

    Columns: ``base`` (answers on the five-point scale), ``n_<option>`` and
    ``pct_<option>`` for each scale option (``n_strongly_agree`` …), ``n_not_sure``,
    ``n_missing``, the nets ``n_agree_net``/``pct_agree_net`` and
    ``n_disagree_net``/``pct_disagree_net``, and the change in
    percentage points from the previous wave (``agree_change_pp``,
    ``disagree_change_pp``). ``by=None`` pools the waves.
    """
    if by not in ("wave", None):
        raise InputError("likert_table", f"cannot tabulate by {by!r}", "use by='wave' or by=None")
    items = survey_items_frame(project, survey)
    r = survey_responses
    query = sa.select(r.c.survey, r.c.item, r.c.wave, r.c.response)
    if survey is not None:
        query = query.where(r.c.survey == survey)
    if item is not None:
        if item not in set(items["item"]):
            known = ", ".join(items["item"]) or "none imported yet"
            raise NotFoundError(f"{project.location}: no survey item {item!r}. Fix: use one of: {known}.")
        query = query.where(r.c.item == item)
    with project.engine.connect() as conn:
        answers = pd.DataFrame(conn.execute(query).all(), columns=["survey", "item", "wave", "response"])
    if by is None:
        answers["wave"] = "All"
    rows = []
    for spec in items.itertuples():
        own = answers[(answers["survey"] == spec.survey) & (answers["item"] == spec.item)]
        waves = sorted(own["wave"].unique(), key=period_key)
        previous = None
        for wave in waves:
            row = _count_row(own[own["wave"] == wave]["response"])
            row = {"survey": spec.survey, "item": spec.item, "question": spec.question,
                   "outcome": spec.outcome, "wave": wave, **row}
            for net in ("agree", "disagree"):
                row[f"{net}_change_pp"] = (
                    None if previous is None or previous["base"] == 0 or row["base"] == 0
                    else row[f"pct_{net}_net"] - previous[f"pct_{net}_net"])
            rows.append(row)
            previous = row
    return pd.DataFrame(rows)


def _slug(label: str) -> str:
    return re.sub(r"\W+", "_", label.lower()).strip("_")


def _count_row(responses: pd.Series) -> dict:
    counts = responses.value_counts(dropna=False)
    row: dict = {}
    base = int(sum(counts.get(label, 0) for label in SCALE))
    row["base"] = base
    for label in SCALE:
        n = int(counts.get(label, 0))
        row[f"n_{_slug(label)}"] = n
        row[f"pct_{_slug(label)}"] = 100.0 * n / base if base else None
    row["n_not_sure"] = int(counts.get(NOT_SURE, 0))
    row["n_missing"] = int(responses.isna().sum())
    for net, labels in (("agree", AGREE), ("disagree", DISAGREE)):
        n = int(sum(counts.get(label, 0) for label in labels))
        row[f"n_{net}_net"] = n  # "_net": n_agree is the plain "Agree" option
        row[f"pct_{net}_net"] = 100.0 * n / base if base else None
    return row


def percent_count(pct: float | None, n: int) -> str:
    """``45% (82)``: percent rounded half up, the count in brackets; ``– (0)`` with no base."""
    if pct is None:
        return f"– ({n})"
    return f"{int(pct + 0.5 + 1e-9)}% ({n})"  # half up; the epsilon absorbs float error


def signed_pp(value: float | None) -> str:
    """``+12 pp`` / ``−3 pp`` / ``0 pp``; blank for the first wave."""
    if value is None or pd.isna(value):
        return ""
    rounded = int(abs(value) + 0.5)
    sign = "+" if value > 0 and rounded else "−" if value < 0 and rounded else ""
    return f"{sign}{rounded} pp"


def likert_table(project: Project, item: str | None = None, by: str | None = "wave",
                 survey: str | None = None) -> pd.DataFrame:
    """The report table: one row per item and wave, cells like ``45% (82)``.

    Percentages are of the base (answers on the five-point scale); "Not sure" and
    missing answers are counted in their own columns and kept out of the base.
    """
    counts = likert_counts(project, item, by, survey)
    columns = ["item", "question", "wave", "base", *SCALE, "Agree (net)", "Disagree (net)",
               NOT_SURE, MISSING, "Agree change", "Disagree change"]
    if counts.empty:
        return pd.DataFrame(columns=columns)
    table = counts[["item", "question", "wave", "base"]].copy()
    for label in SCALE:
        slug = _slug(label)
        table[label] = [percent_count(p, n) for p, n in zip(counts[f"pct_{slug}"], counts[f"n_{slug}"])]
    for net, title in (("agree", "Agree (net)"), ("disagree", "Disagree (net)")):
        table[title] = [percent_count(p, n) for p, n in zip(counts[f"pct_{net}_net"], counts[f"n_{net}_net"])]
    table[NOT_SURE] = counts["n_not_sure"]
    table[MISSING] = counts["n_missing"]
    table["Agree change"] = counts["agree_change_pp"].map(signed_pp)
    table["Disagree change"] = counts["disagree_change_pp"].map(signed_pp)
    return table[columns]


def survey_evidence(project: Project) -> pd.DataFrame:
    """Items linked to ToC nodes, with the agree net per wave: further evidence for outcomes."""
    counts = likert_counts(project)
    if counts.empty:
        return pd.DataFrame(columns=["outcome", "survey", "item", "question", "wave", "base", "agree"])
    linked = counts[counts["outcome"].notna()].copy()
    linked["agree"] = [percent_count(p, n) for p, n in zip(linked["pct_agree_net"], linked["n_agree_net"])]
    return linked[["outcome", "survey", "item", "question", "wave", "base", "agree", "pct_agree_net",
                   "agree_change_pp"]].reset_index(drop=True)
