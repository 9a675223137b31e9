"""Is the project whole? Checks a team runs before a report and after a crash.

``check`` never changes anything: it reads every row of every table and reports each
problem with what to do about it. SQLite's own ``integrity_check`` finds broken pages
and indexes, but not a row whose bytes were flipped inside a page (a failing disk, a
half-synced copy): that row reads back as text that is not UTF-8, or JSON that does not
parse, and crashes whichever verb meets it later. So every text value is decoded and
every JSON column parsed here, and then the meaning is checked: spans inside their
documents and over the text they were coded on, codes known, and an audit trail for
every coding.

>>> check(project).ok                      # doctest: +SKIP
True
>>> check_location("eval.qc").problems     # doctest: +SKIP
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from . import store
from .errors import DamagedProject
from .project import Project

RESTORE = "restore the latest copy `qualcode backup` made (or a migration's .bak file)"
# JSON columns: a value that does not parse breaks reports, undo and exports.
JSON_COLUMNS = {("codings", "provenance"), ("coding_events", "before"), ("coding_events", "after"),
                ("codes", "outcomes")}


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

    def add(self, check: str, where: str, problem: str, fix: str) -> None:
        self.problems.append({"check": check, "where": where, "problem": problem, "fix": fix})


def check_location(location: str | Path) -> CheckResult:
    """``check`` a project by its path or URL; a file too damaged to open is reported, not raised."""
    try:
        project = Project.open(location)
    except DamagedProject as exc:
        result = CheckResult(checks=["open the database"])
        result.add("database", "file", str(exc).split(". Fix:")[0], RESTORE)
        return result
    with project:
        return check(project)


def check(project: Project) -> CheckResult:
    """Database integrity, every row readable, spans inside their documents, codes known, no drift."""
    result = CheckResult()
    with project.engine.connect() as conn:
        for step in (_database, _rows, _spans, _turns, _events):
            try:
                step(conn, result)
            except (sa.exc.DBAPIError, sqlite3.DatabaseError) as exc:  # too damaged to read: say so, go on
                conn.rollback()
                result.add("database", step.__name__.strip("_"),
                           f"could not be read ({getattr(exc, 'orig', None) or exc})", RESTORE)
    return result


def _database(conn: sa.Connection, result: CheckResult) -> None:
    if conn.dialect.name != "sqlite":
        return
    result.checks.append("sqlite integrity_check")
    rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
    if rows != ["ok"]:
        for row in rows:
            result.add("database", "file", row, RESTORE)
    result.checks.append("sqlite foreign_key_check")
    for table, rowid, parent, _ in conn.exec_driver_sql("PRAGMA foreign_key_check"):
        result.add("foreign keys", f"{table} row {rowid}", f"points at a missing {parent} row", RESTORE)


def _rows(conn: sa.Connection, result: CheckResult) -> None:
    """Every text value decodes as UTF-8 and every JSON column parses, row by row."""
    result.checks.append("every row readable: text is UTF-8, JSON parses")
    names = sa.inspect(conn).get_table_names()
    if conn.dialect.name == "sqlite":
        _sqlite_rows(conn, names, result)
        return
    for table, column in sorted(JSON_COLUMNS):  # other databases refuse invalid text on write
        if table in names:
            t = store.metadata.tables[table]
            for key, value in conn.execute(sa.select(t.c.id, t.c[column])):
                _json(table, key, column, value, result)


def _sqlite_rows(conn: sa.Connection, tables: list[str], result: CheckResult) -> None:
    raw = conn.connection.dbapi_connection
    before = raw.text_factory
    raw.text_factory = bytes  # read text as the stored bytes, so bad bytes can be reported, not raised
    try:
        for table in tables:
            try:
                cursor = raw.execute(f'SELECT rowid, * FROM "{table}"')
                columns = [d[0] for d in cursor.description][1:]
                for rowid, *values in cursor:
                    for column, value in zip(columns, values):
                        if isinstance(value, bytes):
                            _text(table, rowid, column, value, result)
            except sqlite3.DatabaseError as exc:  # a page of the table is broken: the rest may still read
                result.add("database", f"table {table}", f"could not be read to the end ({exc})", RESTORE)
    finally:
        raw.text_factory = before


def _text(table: str, rowid: int, column: str, value: bytes, result: CheckResult) -> None:
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as exc:
        result.add("damaged row", f"{table} row {rowid}, {column}",
                   f"the stored text is not valid UTF-8 (byte {exc.start}): the file was damaged on disk",
                   RESTORE)
        return
    if (table, column) in JSON_COLUMNS:
        _json(table, rowid, column, text, result)


def _json(table: str, key: int, column: str, text: str | None, result: CheckResult) -> None:
    if text is None:
        return
    try:
        json.loads(text)
    except ValueError:
        result.add("damaged row", f"{table} row {key}, {column}", "the stored JSON does not parse", RESTORE)


def _spans(conn: sa.Connection, result: CheckResult) -> None:
    k, d, c = store.codings, store.documents, store.codes
    result.checks.append("coding spans inside their documents, text as when coded, codes known")
    query = (
        sa.select(k.c.id, k.c.start, k.c.end, k.c.snippet, d.c.name, sa.func.length(d.c.text).label("length"),
                  sa.func.substr(d.c.text, k.c.start + 1, sa.func.length(k.c.snippet)).label("now"),
                  c.c.key)
        .select_from(k.join(d, k.c.document_id == d.c.id).outerjoin(c, k.c.code_id == c.c.id))
    )
    for row in _readable(conn, query, result, "codings"):
        where = f"coding {row.id} in {row.name}"
        if row.key is None:
            result.add("codes", where, "its code is unknown", "load the codebook that defines it")
        if not (0 <= row.start < row.end <= row.length):
            result.add("spans", where, f"span [{row.start}, {row.end}) outside the text (length {row.length})",
                       "delete or re-code it")
        elif row.snippet and row.now != row.snippet:
            result.add("drift", where, "the text under the span changed since it was coded",
                       "re-code the passage; the document text must not be edited")


def _turns(conn: sa.Connection, result: CheckResult) -> None:
    t, d = store.turns, store.documents
    result.checks.append("speaker turns inside their documents")
    query = (sa.select(t.c.seq, t.c.start, t.c.end, d.c.name, sa.func.length(d.c.text).label("length"))
             .select_from(t.join(d, t.c.document_id == d.c.id))
             .where(sa.or_(t.c.start < 0, t.c.end < t.c.start, t.c.end > sa.func.length(d.c.text))))
    for row in _readable(conn, query, result, "turns"):
        result.add("turns", f"turn {row.seq} in {row.name}",
                   f"span [{row.start}, {row.end}) outside the text (length {row.length})", "re-import the document")


def _events(conn: sa.Connection, result: CheckResult) -> None:
    """Every coding has its 'create' event; a coding that is gone was removed by an event."""
    k, e = store.codings, store.coding_events
    result.checks.append("audit trail: a create event for every coding, a removal for every coding gone")
    created = sa.select(e.c.coding_id).where(e.c.action == "create")
    for (coding_id,) in conn.execute(sa.select(k.c.id).where(k.c.id.not_in(created)).order_by(k.c.id)):
        result.add("audit trail", f"coding {coding_id}", "has no 'create' event",
                   f"the audit trail was damaged or edited outside qualcode: {RESTORE}")
    last = (sa.select(e.c.coding_id, sa.func.max(e.c.id).label("id"))
            .where(e.c.coding_id.not_in(sa.select(k.c.id))).group_by(e.c.coding_id).subquery())
    query = (sa.select(e.c.coding_id, e.c.action).select_from(e.join(last, e.c.id == last.c.id))
             .where(e.c.after.is_not(None)).order_by(e.c.coding_id))
    for coding_id, action in conn.execute(query):
        result.add("audit trail", f"coding {coding_id}",
                   f"is gone, but its last event ({action}) left it in place",
                   f"it was deleted outside qualcode: {RESTORE}")


def _readable(conn: sa.Connection, query: sa.Select, result: CheckResult, what: str) -> list:
    """The rows of ``query``, or none when a damaged value stops the read (reported by ``_rows``)."""
    try:
        return conn.execute(query).all()
    except sa.exc.OperationalError as exc:
        if "decode" not in str(exc.orig).lower():
            raise
        conn.rollback()
        result.checks.append(f"{what}: skipped, a damaged row cannot be read (listed above)")
        return []
