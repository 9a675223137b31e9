"""Document and case attributes as a sheet: read them wide, change one cell at a time.

Attributes (role, wave, site, team; a case's family type or outcome) are what
retrieval, matrices and quotes filter and attribute by. They are stored long, one row
per (document or case, key) in ``document_attributes`` / ``case_attributes``; this
module gives them to people as a grid and writes single cells back, checked first.

>>> attribute_sheet(project, "document")                      # doctest: +SKIP
>>> set_attribute(project, "document", "W1_SW01_social_worker.txt", "wave", "Wave 2")  # doctest: +SKIP
"""

from __future__ import annotations

import re

import pandas as pd
import sqlalchemy as sa

from . import store
from .errors import InputError, NotFoundError
from .project import Project

ENTITIES = ("document", "case")
_KEY = re.compile(r"^[A-Za-z_][\w .-]{0,127}$")
# Columns of the sheet that are not attributes (and cannot be set as one).
FIXED = {"document": ("id", "name", "case"), "case": ("id", "name", "documents")}


def attribute_sheet(project: Project, entity: str = "document") -> pd.DataFrame:
    """One row per current document (or case): id, name, its case (documents), then every attribute."""
    _check_entity(project, entity)
    if entity == "document":
        frame = project.documents()
        keys = sorted(set(project.attributes("document")["key"]))
        return frame[["id", "name", "case", *[k for k in keys if k in frame.columns]]].reset_index(drop=True)
    frame = project.cases()
    keys = sorted(set(project.attributes("case")["key"]))
    return frame[["id", "name", "documents", *[k for k in keys if k in frame.columns]]].reset_index(drop=True)


def _check_entity(project: Project, entity: str) -> None:
    if entity not in ENTITIES:
        raise InputError(project.location, f"{entity!r} has no attributes", "use 'document' or 'case'")


def _row_id(conn: sa.Connection, project: Project, entity: str, ref: int | str) -> int:
    table = store.documents if entity == "document" else store.cases
    row = None
    if isinstance(ref, int) or str(ref).isdigit():
        row = conn.execute(sa.select(table.c.id).where(table.c.id == int(ref))).first()
    if row is None:
        query = sa.select(table.c.id).where(table.c.name == str(ref))
        if entity == "document":
            query = query.order_by(table.c.version.desc())
        row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"{project.location}: no {entity} {ref!r}. Fix: take its name or id from "
                            f"attribute_sheet(project, {entity!r}).")
    return row[0]


def set_attribute(project: Project, entity: str, ref: int | str, key: str, value: str | None) -> None:
    """Set one attribute of a document or case; an empty value removes it.

    Keys are names such as ``role`` or ``wave`` (letters, digits, space, ``._-``); the
    sheet's own columns (id, name, case) are not attributes and are refused.
    """
    _check_entity(project, entity)
    key = (key or "").strip()
    if not _KEY.match(key) or key in FIXED[entity]:
        raise InputError(project.location, f"{key!r} cannot be an attribute name",
                         "use a name such as role, wave or site (letters, digits, spaces, . _ -), "
                         f"not one of {', '.join(FIXED[entity])}")
    table = store.document_attributes if entity == "document" else store.case_attributes
    owner = table.c.document_id if entity == "document" else table.c.case_id
    value = "" if value is None else str(value).strip()
    with project.transaction() as conn:
        row_id = _row_id(conn, project, entity, ref)
        conn.execute(sa.delete(table).where(owner == row_id, table.c.key == key))
        if value:
            conn.execute(sa.insert(table).values({owner.name: row_id, "key": key, "value": value}))
