"""Imports into a pseudonymised project: checked before anything is stored.

Once a project is pseudonymised, a new file would bring names back in. ``corpus``
calls ``check_import`` for each document before storing it: the same original file
again (same sha256 as a pseudonymised document, even when its name was replaced) is
"unchanged"; a document in which the detector finds no identifier in its text, name,
speaker labels or attribute values is stored; anything else is refused with the fix,
and the message gives types and line numbers, never the identifiers themselves.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable

import sqlalchemy as sa

from .. import store
from ..errors import ImportFailed
from .detection import find_identifiers
from .record import _meta_record


def is_pseudonymised(conn: sa.Connection) -> bool:
    """True once ``apply`` has replaced anything in the project."""
    return bool(_meta_record(conn)["labels"])


def same_file_as_pseudonymised(conn: sa.Connection, digest: str) -> bool:
    """True when a pseudonymised document came from a file with this sha256."""
    d = store.documents
    ids = set(_meta_record(conn)["documents"])
    rows = conn.execute(sa.select(d.c.id).where(d.c.sha256 == digest)).scalars().all()
    return any(i in ids for i in rows)


def check_import(name: str, text: str, speakers: Iterable[str], attributes: dict[str, str]) -> None:
    """Refuse a document headed for a pseudonymised project if it holds identifiers.

    >>> check_import("notes.txt", "[Parent 1] rang about [Child 2]'s school.", [], {})
    >>> check_import("notes.txt", "Kelly rang.\\nShe lives at HV3 7QT.", [], {})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    qualcode.errors.ImportFailed: notes.txt: the project is pseudonymised and this document holds 2 identifiers (1 Person, 1 Postcode) in its text (lines 1, 2). Fix: pseudonymise it before it joins the project: ...
    """
    places: list[str] = []
    kinds: Counter[str] = Counter()
    for where, value in [("its name", name), *(("a speaker label", s) for s in speakers),
                         *((f"attribute {k}", v) for k, v in attributes.items())]:
        found = [s for s in find_identifiers(value) if not _is_label(value, s.start, s.end)]
        if found:
            places.append(where)
            kinds.update(s.type for s in found)
    found = [s for s in find_identifiers(text) if not _is_label(text, s.start, s.end)]
    if found:
        lines = sorted({text.count("\n", 0, s.start) + 1 for s in found})
        shown = ", ".join(map(str, lines[:10])) + (" ..." if len(lines) > 10 else "")
        places.insert(0, f"its text (lines {shown})")
        kinds.update(s.type for s in found)
    if kinds:
        total = sum(kinds.values())
        raise ImportFailed(
            name,
            f"the project is pseudonymised and this document holds {total} identifier{'s' * (total != 1)} "
            f"({', '.join(f'{n} {k}' for k, n in kinds.most_common())}) in {'; '.join(places)}",
            "pseudonymise it before it joins the project: import it into a new project, run `qualcode "
            "pseudonymise detect` and `apply` there with this project's key file so labels carry on, or "
            "replace the names in the file with their labels; nothing was stored")


def _is_label(text: str, start: int, end: int) -> bool:
    """A detection inside a label such as "[Parent 1]" is the label itself, not a name."""
    return text.rfind("[", 0, start) > text.rfind("]", 0, start) and "]" in text[end:end + 12]
