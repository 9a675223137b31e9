"""Is the project whole? Checks a team runs before a report and after a crash.

``check`` never changes anything: it reports each problem with what to do about it.

>>> check(project).ok                      # doctest: +SKIP
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa

from . import store
from .project import Project


@dataclass
class CheckResult:
    """The checks run and the problems found, one row each."""

    checks: list[str] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.problems, columns=["check", "where", "problem", "fix"])


def check(project: Project) -> CheckResult:
    """Database integrity, coding spans inside their documents, codes known, no drift."""
    result = CheckResult()
    with project.engine.connect() as conn:
        _database(conn, result)
        _spans(conn, result)
        _turns(conn, result)
    return result


def _database(conn: sa.Connection, result: CheckResult) -> None:
    if conn.dialect.name != "sqlite":
        return
    result.checks.append("sqlite integrity_check")
    rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
    if rows != ["ok"]:
        for row in rows:
            result.problems.append({"check": "database", "where": "file", "problem": row,
                                    "fix": "restore the latest backup (qualcode backup makes one)"})
    result.checks.append("sqlite foreign_key_check")
    for table, rowid, parent, _ in conn.exec_driver_sql("PRAGMA foreign_key_check"):
        result.problems.append({"check": "foreign keys", "where": f"{table} row {rowid}",
                                "problem": f"points at a missing {parent} row",
                                "fix": "restore the latest backup"})


def _spans(conn: sa.Connection, result: CheckResult) -> None:
    k, d, c = store.codings, store.documents, store.codes
    result.checks.append("coding spans inside their documents, text as when coded")
    query = (
        sa.select(k.c.id, k.c.start, k.c.end, k.c.snippet, d.c.name, sa.func.length(d.c.text).label("length"),
                  sa.func.substr(d.c.text, k.c.start + 1, sa.func.length(k.c.snippet)).label("now"),
                  c.c.key)
        .select_from(k.join(d, k.c.document_id == d.c.id).outerjoin(c, k.c.code_id == c.c.id))
    )
    for row in conn.execute(query):
        where = f"coding {row.id} in {row.name}"
        if row.key is None:
            result.problems.append({"check": "codes", "where": where, "problem": "its code is unknown",
                                    "fix": "load the codebook that defines it"})
        if not (0 <= row.start < row.end <= row.length):
            result.problems.append({"check": "spans", "where": where,
                                    "problem": f"span [{row.start}, {row.end}) outside the text (length {row.length})",
                                    "fix": "delete or re-code it"})
        elif row.snippet and row.now != row.snippet:
            result.problems.append({"check": "drift", "where": where,
                                    "problem": "the text under the span changed since it was coded",
                                    "fix": "re-code the passage; the document text must not be edited"})


def _turns(conn: sa.Connection, result: CheckResult) -> None:
    t, d = store.turns, store.documents
    result.checks.append("speaker turns inside their documents")
    query = (sa.select(t.c.seq, t.c.start, t.c.end, d.c.name, sa.func.length(d.c.text).label("length"))
             .select_from(t.join(d, t.c.document_id == d.c.id))
             .where(sa.or_(t.c.start < 0, t.c.end < t.c.start, t.c.end > sa.func.length(d.c.text))))
    for row in conn.execute(query):
        result.problems.append({"check": "turns", "where": f"turn {row.seq} in {row.name}",
                                "problem": f"span [{row.start}, {row.end}) outside the text (length {row.length})",
                                "fix": "re-import the document"})
