"""The team's list of known names (participants, family members, staff)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..errors import InputError, ValidationProblems
from ..problems import Problem
from ..textnorm import decode_text
from .key import _prefix
from .patterns import KNOWN_TYPES
from .records import KnownName

def read_known_names(path: str | Path) -> list[KnownName]:
    """The team's list of names: CSV with ``name``, ``type`` (parent/child/staff/other), ``label``.

    >>> # name,type,label
    >>> # Kerry Ashdown,parent,
    >>> # Priya Shah,staff,Social Worker
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such names file", "check the path given to --names")
    text, _ = decode_text(path.read_bytes(), path.name)
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    if "name" not in columns:
        raise InputError(path, f"no 'name' column; columns are: {', '.join(columns) or '(none)'}",
                         "give the CSV a header line: name,type,label", where="line 1")
    problems, names = [], []
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        name, kind = row.get("name", ""), (row.get("type") or "other").lower()
        if not name:
            continue
        if kind not in KNOWN_TYPES:
            problems.append(Problem(str(path), line, f"type {kind!r} is not one of {', '.join(KNOWN_TYPES)}",
                                    "use parent, child, staff or other"))
            continue
        names.append(KnownName(name, kind, row.get("label", "")))
    if problems:
        raise ValidationProblems(path, problems)
    return names


def _known_prefix(known: KnownName) -> tuple[str, str]:
    """(type prefix, fixed label or '') for a known name."""
    label = known.label.strip()
    if label.startswith("[") and label.endswith("]"):
        return _prefix(label), label
    if label:
        return label, ""
    return KNOWN_TYPES[known.type], ""
