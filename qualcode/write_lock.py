"""The project's write lock: taken first in every write, waited for with a message.

SQLite lets one writer at a time. A transaction that reads before it writes can be
refused outright when another process committed in between (WAL snapshots cannot be
upgraded), and a busy timeout of 30 s turned a long auto-coding run next to an import
into a spurious "database is locked". So every write transaction takes the lock as its
first statement; while another process holds it we wait, say so once on the
``qualcode`` logger (the CLI prints it), and only after ``LOCK_WAIT_SECONDS`` give up
with a ``ProjectLocked`` error that says what to do. Reads never wait (WAL readers see
the last commit).

>>> LOCK_WAIT_SECONDS >= 60
True
"""

from __future__ import annotations

import logging
import os
import time

import sqlalchemy as sa

from .errors import ProjectLocked

log = logging.getLogger("qualcode")

# How long a write waits for another process (an auto-coding run over a large corpus
# takes minutes). QUALCODE_LOCK_WAIT overrides it, in seconds.
LOCK_WAIT_SECONDS = float(os.environ.get("QUALCODE_LOCK_WAIT", "900"))
_POLL_MS = 500  # SQLite's busy handler waits this long per attempt before we speak


def is_lock_error(exc: BaseException) -> bool:
    """Whether a database error means 'another process is writing' (SQLite busy/locked).

    >>> is_lock_error(RuntimeError("database is locked"))
    True
    >>> is_lock_error(RuntimeError("no such table: codings"))
    False
    """
    text = str(getattr(exc, "orig", None) or exc).lower()
    return "database is locked" in text or "database is busy" in text or "database table is locked" in text


def take(conn: sa.Connection, location: str, wait: float | None = None) -> None:
    """Take the write lock on an SQLite project inside ``conn``'s fresh transaction.

    Must run before the transaction reads anything. Other databases lock rows as they
    write and need nothing here.
    """
    if conn.dialect.name != "sqlite":
        return
    if wait is None:
        wait = float(os.environ.get("QUALCODE_LOCK_WAIT", LOCK_WAIT_SECONDS))
    started = time.monotonic()
    told = False
    conn.exec_driver_sql(f"PRAGMA busy_timeout = {_POLL_MS}")
    try:
        while True:
            try:
                conn.exec_driver_sql("UPDATE meta SET value = value WHERE key = 'app'")
                return
            except sa.exc.OperationalError as exc:
                if not is_lock_error(exc):
                    raise
                # Start clean: a failed write may have left a read snapshot that a
                # retry could never upgrade. Nothing was done in this transaction yet.
                conn.connection.dbapi_connection.rollback()
                waited = time.monotonic() - started
                if waited >= wait:
                    raise ProjectLocked(
                        f"{location}: another qualcode process (an import, auto-coding or review) has been "
                        f"writing to the project for {waited:.0f} s. Fix: let it finish, then run this again "
                        "(set QUALCODE_LOCK_WAIT to wait longer)."
                    ) from exc
                if not told:
                    log.warning("%s: another qualcode process is writing to the project; waiting for it "
                                "to finish …", location)
                    told = True
    finally:
        conn.exec_driver_sql("PRAGMA busy_timeout = 30000")
