"""The project file's own bytes: no old page may keep an original, at any moment.

In its usual WAL mode SQLite writes new pages to the ``-wal`` file and leaves the old
ones, originals and all, in the main file until a checkpoint. A process killed between
the commit and that checkpoint would leave the originals on disk until the next open.
So the pseudonymisation transaction runs with a rollback journal and ``secure_delete``
instead: the old pages go to ``PROJECT.qc-journal`` while the transaction is open, the
new ones are written over them in the main file (freed cells and pages zeroed), and
deleting the journal is the commit. Killed before it, the next open rolls the journal
back (the project is as it was, originals and all, as before ``apply``); killed after
it, the file already holds no original. ``tests/test_privacy_crash.py`` kills the
process at random statements and checks both halves.

>>> journal_note("p.qc")
'copies of the originals may remain in p.qc-wal and in free pages of p.qc'
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from typing import Iterator

import sqlalchemy as sa

from .. import write_lock
from ..errors import ProjectLocked
from ..project import Project


def journal_note(location: str) -> str:
    """Where copies of originals can sit while a WAL is not emptied."""
    return f"copies of the originals may remain in {location}-wal and in free pages of {location}"


def _journal_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA busy_timeout = 2000")
    try:
        cur.execute("PRAGMA journal_mode = DELETE")  # needs the only connection: checked by the caller
    except sqlite3.OperationalError:
        pass
    cur.execute("PRAGMA busy_timeout = 30000")
    cur.execute("PRAGMA synchronous = FULL")  # the journal's deletion is the commit: make it durable
    cur.execute("PRAGMA secure_delete = ON")  # freed cells and pages are zeroed, not left
    cur.close()


@contextmanager
def scrubbing_transaction(project: Project) -> Iterator[sa.Connection]:
    """One transaction after which, committed or killed, no old page keeps an original.

    On a database server this is the project's ordinary transaction (the server's own
    logs and backups are out of qualcode's reach; ``apply`` says so).
    """
    if "://" in project.location:
        with project.transaction() as conn:
            yield conn
        return
    project.engine.dispose()  # pooled connections would keep the WAL open
    engine = sa.create_engine(f"sqlite:///{project.location}", poolclass=sa.pool.NullPool)
    sa.event.listen(engine, "connect", _journal_pragmas)
    try:
        with engine.connect() as conn:
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        if str(mode).lower() != "delete":
            raise ProjectLocked(
                f"{project.location}: another program has the project open, so its write-ahead log cannot be "
                f"closed for pseudonymising ({journal_note(project.location)} after any change). Fix: close the "
                "other notebooks or programs using it and run apply again; nothing was changed.")
        with engine.begin() as conn:
            write_lock.take(conn, project.location)
            yield conn
        raw = engine.raw_connection()
        try:
            raw.cursor().execute("VACUUM")  # compact: the zeroed pages go too
        finally:
            raw.close()
    finally:
        engine.dispose()


def _clean_sqlite(project: Project) -> list[str]:
    """Checkpoint and truncate the WAL, then VACUUM: no old page keeps an original."""
    if "://" in project.location:
        return ["the project is not a SQLite file: the server's own logs and backups may keep old text"]
    project.engine.dispose()  # pooled connections would hold the WAL open
    db = sqlite3.connect(project.location, timeout=30)
    try:
        db.execute("PRAGMA secure_delete = ON")
        busy = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        db.execute("VACUUM")
        busy = busy or db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    finally:
        db.close()
    if busy:
        return [f"another program has the project open, so its write-ahead log could not be emptied: "
                f"{journal_note(project.location)}. Close it and run `qualcode pseudonymise status "
                f"{project.location} --clean`"]
    return []
