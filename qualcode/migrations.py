"""Schema migrations as named, recorded steps (the sqlite-utils habit).

Opening a project applies every step it has not recorded yet, in list order, after
backing the file up. A project that records a step this qualcode does not know was
written by a newer version: we refuse to open it rather than corrupt it.

To change the schema, append a ``Migration`` here; never edit an applied one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa

from . import store, store_measures


@dataclass(frozen=True)
class Migration:
    name: str
    apply: Callable[[sa.Connection], None]


def _create(*tables: sa.Table) -> Callable[[sa.Connection], None]:
    def apply(conn: sa.Connection) -> None:
        store.metadata.create_all(conn, tables=list(tables), checkfirst=True)

    return apply


def _add_code_direction(conn: sa.Connection) -> None:
    # New projects get the column from 0001 (the table definition has it); older ones need it added.
    columns = {c["name"] for c in sa.inspect(conn).get_columns("codes")}
    if "direction" not in columns:
        conn.execute(sa.text("ALTER TABLE codes ADD COLUMN direction VARCHAR(16)"))


def _unique_suggestions(conn: sa.Connection) -> None:
    """Remove doubled suggestions (kept: the first), each with a 'delete' event, then index.

    Two auto-coding runs at once could write every suggestion twice before this step.
    The copies are identical, unreviewed machine output; the audit trail records each
    removal, and opening the project backed the file up first.
    """
    k = store.codings
    key = [k.c[name] for name in store.SUGGESTION_KEY]
    first = (sa.select(sa.func.min(k.c.id)).where(k.c.status == "suggested").group_by(*key))
    doubled = conn.execute(
        sa.select(k).where(k.c.status == "suggested", k.c.id.not_in(first))
    ).mappings().all()
    if doubled:
        stamp = store.now()
        conn.execute(sa.insert(store.coding_events), [
            {"coding_id": row["id"], "action": "delete", "actor": "qualcode (0004_unique_suggestions)",
             "at": stamp, "before": json.dumps({c: row[c] for c in (*store.SUGGESTION_KEY, "status", "confidence")}),
             "after": None, "batch": "0004_unique_suggestions"}
            for row in doubled
        ])
        conn.execute(sa.delete(k).where(k.c.id.in_([row["id"] for row in doubled])))
    store.uq_codings_suggestion.create(conn, checkfirst=True)


MIGRATIONS: list[Migration] = [
    Migration(
        "0001_initial",
        _create(
            store.meta,
            store.cases,
            store.documents,
            store.turns,
            store.document_attributes,
            store.case_attributes,
            store.codebooks,
            store.codes,
            store.coders,
            store.codings,
            store.coding_events,
            store.memos,
        ),
    ),
    Migration(
        "0002_indicators_surveys",
        _create(store_measures.indicator_values, store_measures.survey_items, store_measures.survey_responses),
    ),
    Migration("0003_code_direction", _add_code_direction),
    Migration("0004_unique_suggestions", _unique_suggestions),
]

KNOWN = [m.name for m in MIGRATIONS]


def applied(conn: sa.Connection) -> list[str]:
    """Names of the steps this database has recorded (empty for a new database)."""
    if not sa.inspect(conn).has_table("migrations"):
        return []
    return [r[0] for r in conn.execute(sa.select(store.migrations.c.name))]


def pending(conn: sa.Connection) -> list[Migration]:
    done = set(applied(conn))
    return [m for m in MIGRATIONS if m.name not in done]


def unknown(conn: sa.Connection) -> list[str]:
    """Steps recorded by a newer qualcode that this one does not know."""
    return [name for name in applied(conn) if name not in KNOWN]


def migrate(conn: sa.Connection) -> list[str]:
    """Apply pending steps inside the caller's transaction; return their names."""
    store.metadata.create_all(conn, tables=[store.migrations], checkfirst=True)
    names = []
    for step in pending(conn):
        step.apply(conn)
        conn.execute(sa.insert(store.migrations).values(name=step.name, applied_at=store.now()))
        names.append(step.name)
    return names
