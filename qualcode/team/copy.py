"""``qualcode copy SOURCE DEST``: a whole project moved between SQLite and PostgreSQL.

A team often starts on a laptop and moves to a server (or takes a server project home
to archive it). The copy carries every table the source holds — documents, turns,
cases, codes, codings, the audit trail, memos, indicators, surveys, the recorded
migrations — row for row with the same ids, so coding ids in exported files and audit
events stay true. Rows stream in batches, so a large project never sits in memory.

>>> copy_project(tmp_path / "laptop.qc", "postgresql://alex@db/evaluation")  # doctest: +SKIP
CopyResult(source='…/laptop.qc', dest='postgresql://alex@db/evaluation', rows={'documents': 41, …})
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from ..errors import ProjectError
from .connection import is_url, masked

BATCH = 5_000  # rows per insert: bounded memory, few round trips
_DEST_OWNED = ("meta", "migrations")  # written by ``Project.create``; replaced by the source's


@dataclass
class CopyResult:
    """What was copied: rows per table, source and destination (passwords masked)."""

    source: str
    dest: str
    rows: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict:
        return {"source": self.source, "dest": self.dest, "tables": len(self.rows),
                "rows": sum(self.rows.values()), **{f"rows.{k}": v for k, v in self.rows.items()}}


def _tables(conn: sa.Connection) -> list[sa.Table]:
    """The database's tables as they are (reflected), parents before children."""
    reflected = sa.MetaData()
    reflected.reflect(conn)
    return list(reflected.sorted_tables)


def _self_references(table: sa.Table) -> list[str]:
    """Columns pointing at the same table (documents.superseded_by): filled in a second pass."""
    return [fk.parent.name for fk in table.foreign_keys if fk.column.table.name == table.name]


def copy_project(source: str | Path, dest: str | Path) -> CopyResult:
    """Copy the project at ``source`` into a new project at ``dest``, losslessly.

    ``dest`` must be new: a SQLite file that does not exist yet, or an empty database.
    The copy is one transaction on ``dest``: a failure leaves nothing behind in a
    database (a new SQLite file is removed).
    """
    from ..project import Project

    dest = str(dest)
    with Project.open(source) as src:
        target = Project.create(dest)
        result = CopyResult(src.location, target.location)
        try:
            with src.engine.connect() as read, target.transaction() as write:
                _check_same_schema(read, write, src.location, target.location)
                for table in _tables(read):
                    result.rows[table.name] = _copy_table(read, write, table)
                if write.dialect.name == "postgresql":
                    _reset_sequences(write, list(result.rows))
        except BaseException:
            _remove(target, dest)
            raise
        target.close()
    return result


def _remove(target, dest: str) -> None:
    """Undo ``Project.create`` after a failed copy: the new file, or the tables made in the empty database."""
    if is_url(dest):
        with target.engine.begin() as conn:
            made = sa.MetaData()
            made.reflect(conn)
            made.drop_all(conn)
    target.close()
    if not is_url(dest):
        for leftover in (dest, f"{dest}-wal", f"{dest}-shm"):
            Path(leftover).unlink(missing_ok=True)


def _check_same_schema(read: sa.Connection, write: sa.Connection, source: str, dest: str) -> None:
    """Both ends must hold the same tables and columns (both were migrated by this qualcode)."""
    theirs = {t.name: {c.name for c in t.columns} for t in _tables(read)}
    ours = {t.name: {c.name for c in t.columns} for t in _tables(write)}
    for name, columns in theirs.items():
        missing = columns - ours.get(name, set())
        if missing:
            raise ProjectError(
                f"{source}: table {name} has column(s) {', '.join(sorted(missing))} that {dest} does not. "
                "Fix: open both with the same qualcode version, then copy again."
            )


def _copy_table(read: sa.Connection, write: sa.Connection, table: sa.Table) -> int:
    target = sa.Table(table.name, sa.MetaData(), autoload_with=write)
    if table.name in _DEST_OWNED:
        write.execute(sa.delete(target))
    later = _self_references(table)
    pending: list[dict] = []  # self-references, set once every row of the table is in
    order = list(table.primary_key.columns) or list(table.columns)
    rows = read.execution_options(yield_per=BATCH).execute(sa.select(table).order_by(*order))
    count = 0
    for batch in rows.mappings().partitions(BATCH):
        values = [dict(r) for r in batch]
        for v in values:
            if any(v[c] is not None for c in later):
                pending.append({"_id": v["id"], **{f"_{c}": v[c] for c in later}})
                v.update({c: None for c in later})
        write.execute(sa.insert(target), values)
        count += len(values)
    if pending:
        write.execute(sa.update(target).where(target.c.id == sa.bindparam("_id"))
                      .values({c: sa.bindparam(f"_{c}") for c in later}), pending)
    return count


def _reset_sequences(write: sa.Connection, tables: list[str]) -> None:
    """Rows came with their ids: move each id sequence past them, so new rows do not collide."""
    for name in tables:
        sequence = write.exec_driver_sql(f"SELECT pg_get_serial_sequence('\"{name}\"', 'id')").scalar() \
            if _has_id(write, name) else None
        if sequence:
            write.exec_driver_sql(
                f'SELECT setval(%(seq)s, coalesce((SELECT max(id) FROM "{name}"), 0) + 1, false)', {"seq": sequence})


def _has_id(write: sa.Connection, name: str) -> bool:
    return any(c["name"] == "id" for c in sa.inspect(write).get_columns(name))
