"""Load a codebook into a project: work out what changed, then write it in one transaction.

Codes keep their integer id in the project for ever; a code's ``id`` in the YAML is
its ``key``. So a renamed label changes ``name`` only; an id changed with
``renamed_from: [old.id]`` updates the key of the existing row (its codings follow);
a code dropped from the codebook is *retired*, never deleted, and the diff says how
many codings it still holds. Several codebooks can live in one project (DfE features
and Signs of Safety): each code row records its codebook id, so removals are detected
per codebook.

>>> diff = load_into_project(project, codebook, text)     # doctest: +SKIP
>>> print(diff.summary())                                  # doctest: +SKIP
dfe_practice_features 1.0 -> 1.1: 1 added, 1 renamed, 0 moved, 1 removed, 0 definitions changed
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa
import yaml

from . import colours, store
from .codebook import Code, Codebook, version_key
from .errors import CodebookError

CHANGE_KINDS = ("added", "renamed", "moved", "definition", "restored", "removed")


@dataclass
class Change:
    """One difference between the project's codes and the codebook being loaded."""

    change: str  # one of CHANGE_KINDS
    code: str  # the code id (the new one for a renamed id)
    old: str | None = None
    new: str | None = None
    codings: int = 0  # codings the code holds (reported for removed codes)


@dataclass
class CodebookDiff:
    """What loading a codebook changed (or would have changed) in a project."""

    codebook: str
    version: str
    previous_version: str | None
    changes: list[Change] = field(default_factory=list)
    unchanged: bool = False  # the same version was already loaded: nothing written

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.change == kind)

    def to_frame(self) -> pd.DataFrame:
        """One row per change: change, code, old, new, codings."""
        return pd.DataFrame([c.__dict__ for c in self.changes], columns=["change", "code", "old", "new", "codings"])

    def summary(self) -> str:
        """One line for people, e.g. ``dfe 1.0 -> 1.1: 2 added, 1 renamed, ...``."""
        if self.unchanged:
            return f"{self.codebook} {self.version} is already loaded: nothing changed"
        before = f"{self.previous_version} -> " if self.previous_version else "new, "
        parts = [f"{self.count('added')} added", f"{self.count('renamed')} renamed",
                 f"{self.count('moved')} moved", f"{self.count('removed')} removed",
                 f"{self.count('definition')} definitions changed"]
        if self.count("restored"):
            parts.append(f"{self.count('restored')} restored")
        held = sum(c.codings for c in self.changes if c.change == "removed")
        if held:
            parts.append(f"{held} codings keep their retired codes")
        return f"{self.codebook} {before}{self.version}: " + ", ".join(parts)

    def to_dict(self) -> dict:
        return {"codebook": self.codebook, "version": self.version,
                "previous_version": self.previous_version, "unchanged": self.unchanged,
                "summary": self.summary(), "changes": [c.__dict__ for c in self.changes]}


def loaded_versions(conn: sa.Connection) -> dict[str, tuple[str, str]]:
    """For each codebook id, the ``(version, source)`` most recently loaded.

    The ``codebooks`` table keeps the YAML as loaded; its id is read back from there.
    """
    out: dict[str, tuple[str, str]] = {}
    rows = conn.execute(sa.select(store.codebooks.c.version, store.codebooks.c.source)
                        .order_by(store.codebooks.c.id))
    for version, source in rows:
        codebook_id = _top_level_id(source)
        if codebook_id is not None:
            out[codebook_id] = (version, source)
    return out


_ID_LINE = re.compile(r"^id:[ \t]*(.+?)[ \t]*(?:#.*)?$", re.MULTILINE)


def _top_level_id(source: str) -> str | None:
    """The codebook id of a stored YAML source, read from its top-level ``id:`` line
    (parsing whole sources again on every load would be slow for big codebooks)."""
    found = _ID_LINE.search(source)
    if found is None:
        return None
    value = yaml.safe_load(found.group(1))
    return None if value is None else str(value)


def load_into_project(project, codebook: Codebook, source_text: str) -> CodebookDiff:
    """Write ``codebook`` into ``project`` (codebooks row + codes upsert) in one transaction.

    Raises CodebookError, leaving the project as it was, when the project holds a newer
    version of this codebook, the same version with different content, or a code id
    that belongs to another codebook.
    """
    with project.transaction() as conn:
        previous = loaded_versions(conn).get(codebook.id)
        diff = CodebookDiff(codebook.id, codebook.version, previous[0] if previous else None)
        if previous is not None:
            _check_version(project, codebook, previous, source_text)
            if version_key(previous[0]) == version_key(codebook.version):
                diff.unchanged = True
                return diff
        rows = {r.key: r for r in conn.execute(sa.select(store.codes))}
        stamp = store.now()
        seen: set[str] = set()
        added: list[dict] = []  # written in one statement after the loop
        for code in codebook.codes:
            row = rows.get(code.id) or _renamed_row(rows, code, codebook.id, seen)
            if row is not None and row.codebook not in (None, codebook.id):
                raise CodebookError(
                    project.location,
                    f"code id '{code.id}' already belongs to codebook '{row.codebook}'",
                    f"give the code in {codebook.id} another id (e.g. prefix it with '{codebook.id}.')")
            values = _values(code, codebook, stamp)
            if row is None:
                added.append({"created_at": stamp, **values})
                diff.changes.append(Change("added", code.id, None, code.name))
            else:
                diff.changes += _differences(row, code)
                if code.colour is None:  # keep the colour the code was given (colours.py)
                    values.pop("colour")
                conn.execute(sa.update(store.codes).where(store.codes.c.id == row.id).values(**values))
                seen.add(row.key)
            seen.add(code.id)
        if added:
            conn.execute(sa.insert(store.codes), added)
        for row in rows.values():
            if row.codebook == codebook.id and row.key not in seen and row.status == "active":
                held = conn.execute(sa.select(sa.func.count()).select_from(store.codings)
                                    .where(store.codings.c.code_id == row.id)).scalar_one()
                conn.execute(sa.update(store.codes).where(store.codes.c.id == row.id)
                             .values(status="retired", updated_at=stamp))
                diff.changes.append(Change("removed", row.key, row.name, None, held))
        conn.execute(sa.insert(store.codebooks).values(
            name=codebook.name, version=codebook.version, source=source_text, loaded_at=stamp))
        colours.assign_missing(conn)
        return diff


def _check_version(project, codebook: Codebook, previous: tuple[str, str], source_text: str) -> None:
    old_version, old_source = previous
    old, new = version_key(old_version), version_key(codebook.version)
    if new < old:
        raise CodebookError(
            project.location,
            f"the project holds version {old_version} of codebook '{codebook.id}'; "
            f"loading the older version {codebook.version} would undo its changes",
            "load the newest version of the codebook file (or give your edits a version above "
            f"{old_version})")
    if new == old and source_text.strip() != old_source.strip():
        if _codes_of(old_source, codebook.id) != [c.model_dump() for c in codebook.codes]:
            raise CodebookError(
                project.location,
                f"version {codebook.version} of codebook '{codebook.id}' is already loaded with "
                "different codes; codings record the version, so one version must mean one codebook",
                "raise `version:` in the file and add a changelog entry, then load it again")


def _codes_of(source: str, codebook_id: str) -> list[dict]:
    from .codebook import parse_codebook

    try:
        return [c.model_dump() for c in parse_codebook(source, codebook_id).codes]
    except Exception:  # an old source that no longer validates cannot be equal
        return []


def _renamed_row(rows: dict, code: Code, codebook_id: str, seen: set[str]):
    """The row of an old id listed in ``renamed_from`` (its codings follow the new id)."""
    for old_id in code.renamed_from:
        row = rows.get(old_id)
        if row is not None and old_id not in seen and row.codebook in (None, codebook_id):
            return row
    return None


def _values(code: Code, codebook: Codebook, stamp: str) -> dict:
    return {
        "key": code.id, "name": code.name, "parent_key": code.parent,
        "definition": code.definition, "colour": code.colour, "kind": code.kind,
        "direction": code.direction, "outcomes": json.dumps(code.outcomes), "codebook": codebook.id,
        "codebook_version": codebook.version, "status": "active", "updated_at": stamp,
    }


def _differences(row, code: Code) -> list[Change]:
    changes = []
    if row.key != code.id:
        changes.append(Change("renamed", code.id, row.key, code.id))
    if row.name != code.name:
        changes.append(Change("renamed", code.id, row.name, code.name))
    if row.parent_key != code.parent:
        changes.append(Change("moved", code.id, row.parent_key, code.parent))
    if (row.definition or "") != code.definition:
        changes.append(Change("definition", code.id, row.definition, code.definition))
    if row.status != "active":
        changes.append(Change("restored", code.id, row.status, "active"))
    return changes
