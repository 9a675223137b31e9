"""Management information: import indicator series and judge them against the ToC.

An evaluator receives a spreadsheet of administrative indicators (re-referrals within
12 months, looked-after children per 10,000, staff turnover …) per year or quarter.
``import_indicators`` stores it; ``indicator_status`` compares each ToC indicator's
latest value with its baseline and target and writes the one-line judgement a report
uses:

>>> indicator_status(project, toc).iloc[0]["judgement"]          # doctest: +SKIP
'Re-referrals within 12 months: not met — 24% (2022-23) → 17% → 21% (2024-25); target 15%'

Status rules (direction ``up``; ``down`` mirrors them): latest ≥ target → *met*;
latest better than the baseline → *progress*; otherwise *not met*; no observed
value → *no data*.
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
from .errors import InputError, ValidationProblems
from .project import Project
from .store_measures import indicator_values
from .toc import Indicator, TheoryOfChange

REQUIRED_COLUMNS = ("indicator", "period", "value")
STATUSES = ("met", "progress", "not met", "no data")
STATUS_MARKS = {"met": "✓", "progress": "→", "not met": "✗", "no data": "?"}


@dataclass
class IndicatorImport:
    """What an import wrote, and which indicators the ToC does not know."""

    file: str
    rows: int
    indicators: list[str]
    replaced: int = 0
    unknown: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"file": self.file, "rows": self.rows, "indicators": self.indicators,
                "replaced": self.replaced, "unknown_to_toc": self.unknown}


def read_indicator_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV/XLSX of ``indicator, period, value[, unit]`` into clean rows.

    Headers are case- and space-insensitive; values may carry a ``%`` sign or
    thousands separators. Every bad value is reported at once with its line.
    """
    path = Path(path)
    rows = _raw_rows(path)
    if not rows:
        raise InputError(path, "the file has no rows", "export the indicator table with a header row and values")
    header = {_norm_header(k): k for k in rows[0] if k is not None}
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputError(path, f"missing column(s) {', '.join(missing)} (found: {', '.join(map(str, rows[0]))})",
                         "name the columns indicator, period, value (and optionally unit)")
    problems, out = [], []
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        indicator = _cell(row.get(header["indicator"]))
        period = _cell(row.get(header["period"]))
        raw_value = _cell(row.get(header["value"]))
        if not (indicator or period or raw_value):
            continue  # blank line
        if not indicator or not period:
            problems.append(Problem(str(path), line, "a row without an indicator or a period",
                                    "fill in both, or delete the row"))
            continue
        value = _number(raw_value)
        if value is None:
            problems.append(Problem(str(path), line, f"value {raw_value!r} of {indicator} ({period}) is not a number",
                                    "write a plain number such as 17 or 17.5 (leave the row out when there is no value)"))
            continue
        unit = _cell(row.get(header["unit"])) if "unit" in header else ""
        out.append({"indicator": indicator, "period": period, "value": value, "unit": unit, "line": line})
    if problems:
        raise ValidationProblems(str(path), problems)
    frame = pd.DataFrame(out, columns=["indicator", "period", "value", "unit", "line"])
    dupes = frame[frame.duplicated(["indicator", "period"], keep=False)]
    if not dupes.empty:
        raise ValidationProblems(str(path), [
            Problem(str(path), int(r.line), f"{r.indicator} has more than one value for {r.period}",
                    "keep one row per indicator and period") for r in dupes.itertuples()])
    return frame


def _raw_rows(path: Path) -> list[dict]:
    if not path.exists():
        raise InputError(path, "no such file", "check the path to the management-information table")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            frame = pd.read_excel(path, dtype=str, engine="openpyxl")
        except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
            raise InputError(path, f"cannot read the workbook ({exc.__class__.__name__})",
                             "open it in Excel and save it again as .xlsx, or export a CSV") from exc
        return frame.where(frame.notna(), None).to_dict("records")
    if path.suffix.lower() != ".csv":
        raise InputError(path, f"unsupported file type {path.suffix or '(none)'}", "give a .csv or .xlsx file")
    return list(csv.DictReader(io.StringIO(decode_csv(path))))


def decode_csv(path: Path) -> str:
    """CSV text as Excel writes it: UTF-8 (with or without BOM), else Windows-1252."""
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(path, "the file is neither UTF-8 nor Windows-1252 text", "save it as CSV UTF-8 from Excel")


def _norm_header(name: object) -> str:
    return re.sub(r"\s+", "_", str(name).strip().lower())


def _cell(value: object) -> str:
    return "" if value is None else str(value).strip()


def _number(text: str) -> float | None:
    cleaned = text.replace(",", "").replace("%", "").strip()
    try:
        return float(cleaned)
    except ValueError:
        return None


def import_indicators(project: Project, path: str | Path, toc: TheoryOfChange | None = None) -> IndicatorImport:
    """Store an indicator table in one transaction; a period already stored is replaced.

    Indicators the ToC does not define are imported anyway (management information
    often carries extra series) and listed in ``unknown`` so the user sees them.
    """
    frame = read_indicator_table(path)
    t = indicator_values
    stamp = store.now()
    replaced = 0
    with project.transaction() as conn:
        for row in frame.itertuples():
            gone = conn.execute(sa.delete(t).where(t.c.indicator == row.indicator, t.c.period == row.period))
            replaced += gone.rowcount or 0
        if not frame.empty:
            conn.execute(sa.insert(t), [
                {"indicator": r.indicator, "period": r.period, "value": r.value, "unit": r.unit,
                 "source_file": Path(path).name, "imported_at": stamp} for r in frame.itertuples()])
    names = list(dict.fromkeys(frame["indicator"]))
    unknown = [n for n in names if toc is not None and n not in toc.indicators()]
    return IndicatorImport(str(path), len(frame), names, replaced, unknown)


def indicator_values_frame(project: Project, indicator: str | None = None) -> pd.DataFrame:
    """Stored values: indicator, period, value, unit, source_file; periods in order."""
    t = indicator_values
    query = sa.select(t.c.indicator, t.c.period, t.c.value, t.c.unit, t.c.source_file)
    if indicator is not None:
        query = query.where(t.c.indicator == indicator)
    with project.engine.connect() as conn:
        rows = conn.execute(query).all()
    frame = pd.DataFrame(rows, columns=["indicator", "period", "value", "unit", "source_file"])
    if frame.empty:
        return frame
    frame["_key"] = frame["period"].map(period_key)
    return frame.sort_values(["indicator", "_key"]).drop(columns="_key").reset_index(drop=True)


def period_key(period: str) -> tuple:
    """Sort key for periods such as ``2022-23``, ``2023 Q1``, ``2024-03``: numbers in order."""
    return tuple(int(n) for n in re.findall(r"\d+", period)), period


@dataclass(frozen=True)
class IndicatorStatus:
    """An indicator judged against its baseline and target."""

    indicator: str
    name: str
    node: str
    status: str  # one of STATUSES
    series: list[tuple[str, float]]  # (period, value), baseline first when known
    latest: float | None
    judgement: str


def judge(indicator: Indicator, observed: list[tuple[str, float]], node: str = "") -> IndicatorStatus:
    """The status of one indicator given its observed ``(period, value)`` series.

    >>> from qualcode.toc import Indicator, Measure
    >>> ind = Indicator("rr", "Re-referrals", "down", "%", Measure(24, "2022-23"), Measure(15))
    >>> judge(ind, [("2023-24", 17), ("2024-25", 21)]).judgement
    'Re-referrals: progress — 24% (2022-23) → 17% → 21% (2024-25); target 15%'
    """
    base = indicator.baseline
    observed = sorted(_same_kind(observed, base.period if base else None), key=lambda pv: period_key(pv[0]))
    series = list(observed)
    if base is not None and base.value is not None and not any(p == base.period for p, _ in observed):
        series.insert(0, (base.period or "baseline", base.value))
    latest = observed[-1][1] if observed else None
    status = _status(indicator, latest)
    return IndicatorStatus(indicator.id, indicator.name, node, status, series, latest,
                           _judgement(indicator, status, series))


def period_shape(period: str) -> str:
    """``2022-23`` → ``9999-99``; ``2024-Q1`` → ``9999-Q9``: annual and quarterly differ."""
    return re.sub(r"\d", "9", period.strip())


def _same_kind(observed: list[tuple[str, float]], baseline_period: str | None) -> list[tuple[str, float]]:
    """Values of the baseline's kind of period (years with a yearly baseline, not quarters).

    Management information often mixes financial years and quarters in one series; a
    judgement compares like with like, so the baseline's kind wins when present.
    """
    if not baseline_period:
        return observed
    shape = period_shape(baseline_period)
    same = [pv for pv in observed if period_shape(pv[0]) == shape]
    return same or observed


def _status(ind: Indicator, latest: float | None) -> str:
    if latest is None:
        return "no data"
    sign = 1 if ind.direction == "up" else -1  # compare "better" as "greater" after the sign
    target = ind.target.value if ind.target else None
    baseline = ind.baseline.value if ind.baseline else None
    if target is not None and sign * latest >= sign * target:
        return "met"
    if baseline is not None and sign * latest > sign * baseline:
        return "progress"
    return "not met"


def format_value(value: float, unit: str) -> str:
    """``24`` with unit ``%`` → ``24%``; with ``per 10,000`` → ``24 per 10,000``."""
    number = f"{value:,.1f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value):,}"
    if unit.strip().lower() in ("%", "percent", "pct", "per cent"):
        return f"{number}%"
    return f"{number} {unit}".strip()


def _judgement(ind: Indicator, status: str, series: list[tuple[str, float]]) -> str:
    target = ""
    if ind.target is not None and ind.target.value is not None:
        target = f"; target {format_value(ind.target.value, ind.unit)}"
        if ind.target.period:
            target += f" ({ind.target.period})"
    if not series:
        return f"{ind.name}: no data{target}"
    parts = [format_value(v, ind.unit) for _, v in series]
    parts[0] += f" ({series[0][0]})"
    if len(parts) > 1:
        parts[-1] += f" ({series[-1][0]})"
    return f"{ind.name}: {status} — {' → '.join(parts)}{target}"


def indicator_status(project: Project, toc: TheoryOfChange) -> pd.DataFrame:
    """One row per ToC indicator: node, indicator, name, status, mark, latest, series, judgement.

    Every indicator of the ToC appears, those without values as *no data*.
    """
    values = indicator_values_frame(project)
    rows = []
    for ind_id, (node, ind) in toc.indicators().items():
        own = values[values["indicator"] == ind_id] if not values.empty else values
        observed = [(r.period, float(r.value)) for r in own.itertuples()]
        result = judge(ind, observed, node.id)
        rows.append({
            "node": node.id, "indicator": ind_id, "name": ind.name, "status": result.status,
            "mark": STATUS_MARKS[result.status], "unit": ind.unit, "direction": ind.direction,
            "baseline": ind.baseline.value if ind.baseline else None,
            "target": ind.target.value if ind.target else None, "latest": result.latest,
            "series": [{"period": p, "value": v} for p, v in result.series], "judgement": result.judgement,
        })
    return pd.DataFrame(rows, columns=["node", "indicator", "name", "status", "mark", "unit", "direction",
                                       "baseline", "target", "latest", "series", "judgement"])
