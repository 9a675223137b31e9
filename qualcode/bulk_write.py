"""Writing many rows at once: codings with their 'create' events, documents, attributes.

Auto-coding writes tens of thousands of suggestions in one run and an import thousands
of documents, so these skip SQLAlchemy's per-row handling: on SQLite one executemany
with ids handed out under the write lock, on PostgreSQL ids from the table's sequence
and one COPY. The events are built by the database from the rows just written.
``Project`` calls these inside the caller's transaction; nothing here commits.

>>> EVENT_FIELDS[:4]
('document_id', 'code_id', 'coder_id', 'start')
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from . import store


def insert_rows(conn: sa.Connection, table: sa.Table, rows: list[dict], want_ids: bool = True,
                 bulk: bool = True) -> list[int]:
    """Insert many rows at once and return their ids, in order.

    Auto-coding writes tens of thousands of suggestions, so on SQLite we skip
    SQLAlchemy's per-row parameter handling and RETURNING: we take the write lock
    first, so the ids after the current maximum are ours, and hand the driver one
    executemany. On PostgreSQL we take the ids from the table's sequence in one query
    and stream the rows with COPY (``_copy_rows``) unless ``bulk`` is off (row-level
    security applies: PostgreSQL refuses COPY FROM there). Other databases take the
    portable RETURNING path.
    """
    if not rows:
        return []
    if conn.dialect.name == "postgresql" and bulk:
        return _copy_rows(conn, table, rows, want_ids)
    if conn.dialect.name != "sqlite":
        if not want_ids:
            conn.execute(sa.insert(table), rows)
            return []
        return list(conn.execute(sa.insert(table).returning(table.c.id), rows).scalars())
    columns = list(rows[0])
    if want_ids:
        conn.exec_driver_sql("UPDATE meta SET value = value WHERE key = 'app'")  # takes the write lock
        first = (conn.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0) + 1
        ids = list(range(first, first + len(rows)))
        columns = ["id", *columns]
        params = [(i, *r.values()) for i, r in zip(ids, rows)]
    else:
        ids = []
        params = [tuple(r.values()) for r in rows]
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", params)
    return ids


def insert_tuples(conn: sa.Connection, table: sa.Table, columns: tuple[str, ...], rows: list[tuple],
                   head: tuple = ()) -> list[int]:
    """``insert_rows``' bulk path for rows already in column order, each after the
    values ``head`` that every row shares: new ids after the current maximum under
    SQLite's write lock and one executemany, or PostgreSQL's sequence and one COPY.
    Returns the ids, in order."""
    if conn.dialect.name == "postgresql":
        return _copy_tuples(conn, table, columns, [(*head, *row) for row in rows])
    conn.exec_driver_sql("UPDATE meta SET value = value WHERE key = 'app'")  # takes the write lock
    first = (conn.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0) + 1
    ids = range(first, first + len(rows))
    names = ", ".join(f'"{c}"' for c in ("id", *columns))
    marks = ", ".join("?" for _ in range(len(columns) + 1))
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})",
                         [(i, *head, *row) for i, row in zip(ids, rows)])
    return list(ids)


def _copy_tuples(conn: sa.Connection, table: sa.Table, columns: tuple[str, ...], rows: list[tuple]) -> list[int]:
    """COPY ``rows`` (in ``columns`` order) with ids reserved from the table's sequence."""
    cursor = conn.connection.dbapi_connection.cursor()
    cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                   (table.name, len(rows)))
    ids = [r[0] for r in cursor.fetchall()]
    names = ", ".join(f'"{c}"' for c in ("id", *columns))
    with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for i, row in zip(ids, rows):
            copy.write_row((i, *row))
    cursor.close()
    return ids


def _copy_rows(conn: sa.Connection, table: sa.Table, rows: list[dict], want_ids: bool) -> list[int]:
    """PostgreSQL's bulk path: ids reserved from the sequence, then one COPY FROM STDIN.

    COPY skips per-row statement handling on both sides; for tens of thousands of
    suggestions it is what keeps writing to a server near writing to a local file.
    It runs on the SQLAlchemy connection's own psycopg connection, so it is part of the
    caller's transaction.
    """
    cursor = conn.connection.dbapi_connection.cursor()
    columns = list(rows[0])
    ids: list[int] = []
    if want_ids:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                       (table.name, len(rows)))
        ids = [r[0] for r in cursor.fetchall()]
        columns = ["id", *columns]
    names = ", ".join(f'"{c}"' for c in columns)
    with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        if want_ids:
            for i, r in zip(ids, rows):
                copy.write_row((i, *r.values()))
        else:
            for r in rows:
                copy.write_row(tuple(r.values()))
    cursor.close()
    return ids


# What a 'create' event records: the fields review can change later. The descriptive
# ones (provenance, explanation, snippet) never change and stay on the coding row,
# so auto-coding does not write them twice.
EVENT_FIELDS = ("document_id", "code_id", "coder_id", "start", "end", "status", "confidence", "method",
                 "codebook_version", "direction")


def _public(row: dict) -> dict:
    return {k: row[k] for k in EVENT_FIELDS}


def record_creates(conn: sa.Connection, ids: list[int], rows: list[dict], coders: list[str],
                    actor: str | None, stamp: str) -> None:
    """One 'create' event per new coding, by ``actor`` (default: the coding's coder).

    ``rows`` (the codings as written) and ``coders`` (their coders' names) are read only
    where the database cannot build the events from the rows it holds.

    On SQLite the events are made by one INSERT … SELECT from the rows just written,
    with the JSON built by SQLite's ``json_object``: for tens of thousands of
    suggestions that is several times faster than encoding each row in Python. The ids
    ``insert_rows`` hands out on SQLite are consecutive, which the range relies on.
    """
    if not ids:
        return
    if conn.dialect.name == "sqlite" and ids[-1] - ids[0] == len(ids) - 1 and sqlite_has_json(conn):
        conn.exec_driver_sql(_CREATE_EVENTS_SQL, (actor or None, stamp, ids[0], ids[-1]))
        return
    if conn.dialect.name == "postgresql":
        if ids[-1] - ids[0] == len(ids) - 1 and ids == sorted(ids):  # one range scan, not an index probe per id
            conn.exec_driver_sql(_PG_CREATE_EVENTS_RANGE_SQL, (actor or None, stamp, ids[0], ids[-1]))
        else:
            conn.exec_driver_sql(_PG_CREATE_EVENTS_SQL, (actor or None, stamp, ids))
        return
    insert_rows(conn, store.coding_events, [
        {"coding_id": i, "action": "create", "actor": actor or coder, "at": stamp,
         "before": None, "after": json.dumps(_public(r)), "batch": None}
        for i, r, coder in zip(ids, rows, coders)
    ], want_ids=False)


_CREATE_EVENTS_SQL = (
    "INSERT INTO coding_events (coding_id, action, actor, at, after) "
    "SELECT k.id, 'create', coalesce(?, c.name), ?, json_object("
    + ", ".join(f"'{name}', k.\"{name}\"" for name in EVENT_FIELDS)
    + ") FROM codings k JOIN coders c ON c.id = k.coder_id WHERE k.id BETWEEN ? AND ?"
)


# PostgreSQL builds the same events server-side from the rows just written.
_PG_CREATE_EVENTS_FROM = (
    "INSERT INTO coding_events (coding_id, action, actor, at, after) "
    "SELECT k.id, 'create', coalesce(%s, c.name), %s, json_build_object("
    + ", ".join(f"'{name}', k.\"{name}\"" for name in EVENT_FIELDS)
    + ")::text FROM codings k JOIN coders c ON c.id = k.coder_id WHERE "
)
_PG_CREATE_EVENTS_SQL = _PG_CREATE_EVENTS_FROM + "k.id = ANY(%s) ORDER BY k.id"
_PG_CREATE_EVENTS_RANGE_SQL = _PG_CREATE_EVENTS_FROM + "k.id BETWEEN %s AND %s ORDER BY k.id"


_HAS_JSON: dict[str, bool] = {}  # by SQLite library version: asked once, not per batch


def sqlite_has_json(conn: sa.Connection) -> bool:
    """Whether this SQLite has the JSON functions (built in since 3.38; optional before)."""
    version = str(getattr(conn.dialect.dbapi, "sqlite_version", ""))
    if version not in _HAS_JSON:
        try:
            conn.exec_driver_sql("SELECT json_object('a', 1)")
            _HAS_JSON[version] = True
        except sa.exc.OperationalError:
            _HAS_JSON[version] = False
    return _HAS_JSON[version]
