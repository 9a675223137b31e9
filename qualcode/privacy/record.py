"""What the project itself keeps about pseudonymisation: labels, counts, runs; never originals."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import sqlalchemy as sa

from .. import store
from ..project import Project
from .sqlite_file import _clean_sqlite
from .key import Key, _label_number, _prefix
from .records import Detection, PseudonymiseReport

META_KEY = "pseudonymisation"
ACTION = "pseudonymise"

def _meta_record(conn: sa.Connection) -> dict[str, Any]:
    value = conn.execute(sa.select(store.meta.c.value).where(store.meta.c.key == META_KEY)).scalar()
    return json.loads(value) if value else {"labels": {}, "documents": [], "runs": []}


def pseudonymised_documents(conn: sa.Connection) -> set[int]:
    """Ids of documents whose text was pseudonymised (``corpus`` refuses new versions of them)."""
    return set(_meta_record(conn)["documents"])


def status(project: Project, clean: bool = False) -> pd.DataFrame:
    """The labels the project uses, with their type and how many times each replaced text.

    ``clean`` also empties the WAL and vacuums (a retry after a busy checkpoint).
    """
    if clean:
        _clean_sqlite(project)
    with project.engine.connect() as conn:
        record = _meta_record(conn)
    frame = pd.DataFrame([{"label": label, "type": v["type"], "count": v["count"]}
                          for label, v in record["labels"].items()], columns=["label", "type", "count"])
    if not frame.empty:
        frame = frame.assign(_n=frame["label"].map(_label_number)).sort_values(["type", "_n"]).drop(columns="_n")
    return frame.reset_index(drop=True)


def runs(project: Project) -> pd.DataFrame:
    """One row per pseudonymisation run: when, by whom, what it replaced."""
    with project.engine.connect() as conn:
        record = _meta_record(conn)
    return pd.DataFrame(record["runs"], columns=["at", "by", "batch", "replaced", "codings_moved"])




def _record(conn: sa.Connection, report: PseudonymiseReport, spans: list[Detection], key: Key,
            stamp: str) -> None:
    """Keep labels, their types and counts (never originals) in the project's meta table."""
    m = store.meta
    current = conn.execute(sa.select(m.c.value).where(m.c.key == META_KEY)).scalar()
    record = json.loads(current) if current else {"labels": {}, "documents": [], "runs": []}
    for label, n in report.labels.items():
        entry = record["labels"].setdefault(label, {"type": key.types.get(label, _prefix(label)), "count": 0})
        entry["count"] += n
    for label in key.types:  # speaker-only labels too, so a later key check knows them
        record["labels"].setdefault(label, {"type": key.types[label], "count": 0})
    record["documents"] = sorted(set(record["documents"]) | {r.document_id for r in spans})
    record["runs"].append({"at": stamp, "by": report.by, "batch": report.batch, "replaced": report.replaced,
                           "codings_moved": report.codings_moved})
    conn.execute(sa.delete(m).where(m.c.key == META_KEY))
    conn.execute(sa.insert(m).values(key=META_KEY, value=json.dumps(record, sort_keys=True)))
