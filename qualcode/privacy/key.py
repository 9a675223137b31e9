"""The key: label <-> original, kept in a CSV away from the project."""

from __future__ import annotations

import csv
import io
import os
import re
import uuid
from pathlib import Path
from typing import Any, Iterable

from ..errors import InputError
from ..textnorm import decode_text
from ..xlsx_export import csv_safe, csv_unquote

def normalise(original: str) -> str:
    """The form originals are compared in: case-folded, spaces collapsed.

    >>> normalise("  KERRY   Ashdown ")
    'kerry ashdown'
    """
    return " ".join(original.split()).casefold()


_LABEL_NUMBER = re.compile(r"^\[(?P<prefix>.+?) (?P<n>\d+)\]$")


class Key:
    """Label <-> original, read from and written to the team's key CSV (label,type,original)."""

    def __init__(self, path: Path | None = None):
        self.path = path
        self.by_original: dict[str, str] = {}  # normalised original -> label
        self.originals: dict[str, str] = {}  # normalised original -> original as first seen
        self.types: dict[str, str] = {}  # label -> type

    @classmethod
    def read(cls, path: str | Path | None) -> "Key":
        """The key at ``path``; an absent file is an empty key that ``write`` will create."""
        key = cls(Path(path) if path else None)
        if key.path is None or not key.path.exists():
            return key
        text, _ = decode_text(key.path.read_bytes(), key.path.name)
        reader = csv.DictReader(io.StringIO(text))
        missing = {"label", "original"} - set(reader.fieldnames or [])
        if missing:
            raise InputError(key.path, f"not a qualcode key file (no {', '.join(sorted(missing))} column)",
                             "give the key CSV an earlier `pseudonymise apply` wrote, or a new file name",
                             where="line 1")
        for line, row in enumerate(reader, start=2):
            label, original = (row.get("label") or "").strip(), csv_unquote(row.get("original") or "").strip()
            if not label or not original:
                raise InputError(key.path, "a row without a label or an original", "fill in both or delete the row",
                                 where=f"line {line}")
            known = key.by_original.get(normalise(original))
            if known and known != label:
                raise InputError(key.path, f"{original!r} has two labels, {known} and {label}",
                                 "keep one row for it", where=f"line {line}")
            key.add(original, label, (row.get("type") or "").strip() or _prefix(label))
        return key

    def add(self, original: str, label: str, type_: str) -> None:
        norm = normalise(original)
        self.by_original.setdefault(norm, label)
        self.originals.setdefault(norm, original)
        self.types.setdefault(label, type_)

    def label_for(self, original: str) -> str | None:
        return self.by_original.get(normalise(original))

    def next_label(self, prefix: str, taken: Iterable[str] = ()) -> str:
        """The next free ``[prefix N]`` after every label the key and ``taken`` hold."""
        used = 0
        for label in list(self.types) + list(taken):
            m = _LABEL_NUMBER.match(label)
            if m and m["prefix"].casefold() == prefix.casefold():
                used = max(used, int(m["n"]))
        return f"[{prefix} {used + 1}]"

    def rows(self) -> list[dict[str, str]]:
        return sorted(({"label": label, "type": self.types.get(label, ""), "original": self.originals[norm]}
                       for norm, label in self.by_original.items()),
                      key=lambda r: (_prefix(r["label"]), _label_number(r["label"]), r["original"]))

    def write(self, path: str | Path) -> Path:
        return write_rows_csv(path, self.rows(), ["label", "type", "original"])


def _prefix(label: str) -> str:
    m = _LABEL_NUMBER.match(label)
    return m["prefix"] if m else label.strip("[]")


def _label_number(label: str) -> int:
    m = _LABEL_NUMBER.match(label)
    return int(m["n"]) if m else 0


def write_rows_csv(path: str | Path, rows: list[dict[str, Any]], columns: list[str]) -> Path:
    """Write a CSV atomically (temp file, then rename), every text cell formula-safe.

    Both files written this way (the key and the detections) hold originals, so they are
    created readable and writable by their owner only (mode 0600), from the first byte:
    the temp file is opened with that mode, never loosened after the fact.
    """
    path = Path(path)
    if not path.parent.exists():
        raise InputError(path, f"folder {path.parent} does not exist", "create it first or choose another path")
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: csv_safe("" if row.get(k) is None else row.get(k)) for k in columns})
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, PRIVATE_MODE)  # a umask cannot widen it, but an inherited ACL default might
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


PRIVATE_MODE = 0o600  # owner may read and write; nobody else may do either
