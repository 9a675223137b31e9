"""The records detection and apply pass around: detections, known names, reports."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .key import write_rows_csv
from .patterns import CSV_COLUMNS

@dataclass
class Detection:
    """One found (or researcher-added) identifier: where it is, what it is, its label.

    ``decision`` is what the reviewer says: confirm (the default), reject, or add (a row
    the reviewer wrote: ``text`` and ``type``, ``document`` blank for every document).
    """

    document_id: int | None
    document: str
    start: int | None
    end: int | None
    text: str
    type: str  # the label prefix: Parent, Child, Staff, Person, Place, Postcode, ...
    rule: str = ""
    label: str = ""
    context: str = ""
    decision: str = "confirm"

    def to_row(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in CSV_COLUMNS}


@dataclass(frozen=True)
class Span:
    """An identifier found in a text: ``text[start:end]``, its type and the rule that found it."""

    start: int
    end: int
    text: str
    type: str
    rule: str


@dataclass
class KnownName:
    """A name the team supplies: a participant, family member or member of staff."""

    name: str
    type: str  # parent | child | staff | other
    label: str = ""  # "[Mum]" is used as is; "Social Worker" is a prefix to number


@dataclass
class Detections:
    """What ``detect`` found, ready for review, plus what it could not look for."""

    rows: list[Detection]
    not_checked: list[str]
    model: str | None = None

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([r.to_row() for r in self.rows], columns=CSV_COLUMNS)

    def counts(self) -> dict[str, int]:
        """Detections by type, most frequent first."""
        return dict(Counter(r.type for r in self.rows).most_common())

    def write_csv(self, path: str | Path) -> Path:
        """Write the review file. It holds the originals: keep it with the key, not the project."""
        return write_rows_csv(path, [r.to_row() for r in self.rows], CSV_COLUMNS)


@dataclass
class PseudonymiseReport:
    """What ``apply`` did: replacements by type and label, codings moved, what is left."""

    batch: str
    by: str
    documents: int
    replaced: dict[str, int]
    labels: dict[str, int]
    codings_moved: int
    turns_moved: int
    other_fields: dict[str, int]
    rejected: int
    key_file: str
    not_checked: list[str] = field(default_factory=list)
    residual: dict[str, int] = field(default_factory=dict)  # "table.column" -> rows still holding an original
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
