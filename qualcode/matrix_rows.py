"""The rows of a matrix: which row each document belongs to, and what describes each row.

``rows="case"`` is the framework-analysis unit (Ritchie & Spencer; NVivo's cases):
a document's case when it has one (a family, whose interviews and case notes share
it), else its participant (a social worker interviewed in two waves is one row), else
the document itself (a survey comment). Staff and partner interviews carry a
participant but no case (the demo's ``attributes.csv`` gives ``case`` for family
interviews only), so grouping by case alone put them all in one "(not recorded)" row.

A row is described by the attributes of its documents (role, site, wave …), each
value once, several joined with "; " (a participant seen in Wave 1 and Wave 2), and by
its sources ("2 staff interviews"). Attributes that name each document on its own
(a note id, a date, a response id) describe documents, not rows, and are left out.

>>> docs = pd.DataFrame({"id": [1, 2, 3, 4], "name": ["W1_SW01.txt", "W2_SW01.txt", "notes.csv#N1", "notes.csv#N2"],
...                      "case": [None, None, "C001", "C001"], "participant": ["SW01", "SW01", None, None],
...                      "wave": ["Wave 1", "Wave 2", None, None], "note_id": [None, None, "N1", "N2"],
...                      "source_type": ["staff interview", "staff interview", "case note", "case note"]})
>>> list(row_labels(docs, "case"))
['SW01', 'SW01', 'C001', 'C001']
>>> for record in row_attributes(docs, row_labels(docs, "case")).to_dict("records"):
...     print(record)
{'row': 'C001', 'participant': '', 'wave': '', 'sources': '2 case notes'}
{'row': 'SW01', 'participant': '', 'wave': 'Wave 1; Wave 2', 'sources': '2 staff interviews'}
"""

from __future__ import annotations

import re
from typing import Sequence

import pandas as pd

from .errors import InputError
from .locators import document_labels

MISSING = "(not recorded)"  # row label for documents without the attribute asked for
FRAMEWORK_ROWS = "case"  # case, else participant, else the document
# Document columns that are bookkeeping, not attributes of a case or participant.
NOT_ATTRIBUTES = ("id", "name", "version", "source_type", "format", "case", "words", "turns", "sha256", "encoding",
                  "source_file", "imported_at", "text", "case_id", "speakers", "duration")
FIRST = ("participant", "role", "role_group", "site", "team", "wave")  # the usual design attributes, in this order


def row_labels(documents: pd.DataFrame, rows: str) -> pd.Series:
    """The row label of each document (aligned with ``documents``) for ``rows``.

    ``case``: the framework unit (case, else participant, else document label);
    ``document``: the document's display label; anything else: that attribute,
    with documents that lack it under "(not recorded)".
    """
    if rows == FRAMEWORK_ROWS:
        labels = pd.Series(document_labels(documents["name"]), dtype=object)
        own = documents["name"].map(labels)
        participant = _present(documents, "participant")
        return _present(documents, "case").fillna(participant).fillna(own).astype(str)
    if rows == "document":
        return documents["name"].map(document_labels(documents["name"])).astype(str)
    if rows not in documents.columns:
        known = sorted(set(documents.columns) - set(NOT_ATTRIBUTES))
        raise InputError("--rows", f"no document attribute or column {rows!r} in the project",
                         f"use case, document or one of: {', '.join(known) or '(no attributes yet)'}")
    return documents[rows].where(documents[rows].notna() & (documents[rows].astype(str) != ""), MISSING).astype(str)


def _present(documents: pd.DataFrame, column: str) -> pd.Series:
    if column not in documents.columns:
        return pd.Series(None, index=documents.index, dtype=object)
    values = documents[column].astype(object)
    return values.where(values.notna() & (values.astype(str).str.strip() != ""), None)


def describing_keys(documents: pd.DataFrame) -> list[str]:
    """The document attributes that describe a row: every attribute column except those
    whose value differs on every document that has it (ids, dates); the study-design
    attributes evaluators sort by first (``FIRST``), then the rest as the project has them."""
    keys = []
    for column in documents.columns:
        if column in NOT_ATTRIBUTES:
            continue
        values = documents[column].dropna().astype(str)
        values = values[values.str.strip() != ""]
        if values.empty or (column not in FIRST and len(values) > 1 and values.nunique() == len(values)):
            continue
        keys.append(column)
    return sorted(keys, key=lambda k: (FIRST.index(k) if k in FIRST else len(FIRST), keys.index(k)))


def row_attributes(documents: pd.DataFrame, labels: pd.Series, keys: Sequence[str] | None = None,
                   cases: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per label (in natural order): ``row``, each attribute in ``keys`` and ``sources``.

    ``keys`` defaults to ``describing_keys``; an unknown key is an ``InputError``
    naming the attributes there are. ``cases``: ``project.cases()``, whose attributes
    (from a REFI-QDA project, say) describe the case rows named like them.
    """
    frame = documents.assign(_row=labels.to_numpy())
    case_attrs = _case_attributes(cases)
    available = list(dict.fromkeys([*describing_keys(documents), *[k for k in case_attrs.columns if k != "row"]]))
    if keys is None:
        keys = available
    else:
        unknown = [k for k in keys if k not in documents.columns and k not in case_attrs.columns]
        if unknown:
            raise InputError("--attribute", f"no attribute {unknown[0]!r} in the project",
                             f"use one of: {', '.join(available) or '(no attributes yet)'}")
    order = row_order(frame, "_row")
    grouped = frame.groupby("_row", sort=False)
    out = pd.DataFrame({"row": order})
    for key in keys:
        values = (grouped[key].agg(lambda v: list(v)) if key in frame.columns
                  else pd.Series([[] for _ in order], index=order))
        from_case = (case_attrs.set_index("row")[key] if key in case_attrs.columns
                     else pd.Series(dtype=object))
        column = []
        for row in order:
            value = joined(([from_case[row]] if row in from_case.index else []) + list(values.get(row, [])))
            column.append("" if key == "participant" and value == row else value)  # a participant's own row
        out[key] = column
    kinds = grouped["source_type"].agg(sources) if "source_type" in frame.columns else {}
    out["sources"] = [kinds.get(row, "") for row in order] if len(kinds) else ""
    return out[["row", *keys, "sources"]]


def row_order(documents: pd.DataFrame, column: str) -> list[str]:
    """Row labels in reading order: cases, then participants, then documents on their own,
    each in natural order (C2 before C10)."""
    labels = documents[column]
    rank: dict[str, int] = {}
    case, participant = _present(documents, "case"), _present(documents, "participant")
    for label, c, p in zip(labels, case, participant):
        rank[label] = min(rank.get(label, 2), 0 if c is not None else 1 if p is not None else 2)
    return sorted(rank, key=lambda label: (rank[label], natural(label)))


def _case_attributes(cases: pd.DataFrame | None) -> pd.DataFrame:
    if cases is None or cases.empty:
        return pd.DataFrame(columns=["row"])
    return cases.drop(columns=[c for c in ("id", "documents") if c in cases.columns]).rename(columns={"name": "row"})


def joined(values: Sequence[object]) -> str:
    """Distinct, non-empty values in natural order, joined with "; ".

    >>> joined(["Wave 2", None, "Wave 1", "Wave 2", ""])
    'Wave 1; Wave 2'
    """
    seen = {str(v).strip() for v in values if v is not None and not (isinstance(v, float) and pd.isna(v))}
    return "; ".join(sorted((v for v in seen if v), key=natural))


def sources(source_types: pd.Series) -> str:
    """How many documents of each source type, e.g. ``'2 family interviews, 4 case notes'``.

    >>> sources(pd.Series(["case note", "family interview", "case note"]))
    '1 family interview, 2 case notes'
    """
    counts = source_types.fillna("other").astype(str).value_counts(sort=False)
    parts = [(n, kind) for kind, n in counts.items()]
    parts.sort(key=lambda p: (p[0], p[1]))
    return ", ".join(f"{n} {kind if n == 1 else _plural(kind)}" for n, kind in parts)


def _plural(noun: str) -> str:
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def natural(value: object) -> tuple:
    """Sort 'Wave 2' before 'Wave 10', and the not-recorded label last."""
    parts = re.split(r"(\d+)", str(value))
    return (value == MISSING, [int(p) if p.isdigit() else p.lower() for p in parts])
