"""The project file's own bytes: no old page may keep an original."""

from __future__ import annotations

import sqlite3

from ..project import Project


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
        return ["another program has the project open, so its write-ahead log could not be emptied: close "
                "it and run `qualcode pseudonymise status` (which retries), or copies of the originals may "
                "remain in the -wal file"]
    return []
