"""What every importer returns, and the registry that picks one by file extension.

An importer turns the bytes of one file into one or more ``ParsedDocument`` records:
plain text (already normalised), speaker turns as character spans into that text, and
attributes read from the file itself. It never touches the project; ``corpus.py`` does.

Adding a format is one module that decorates a function with ``@importer(".ext")``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ..turns import Turn  # re-exported: importers return Turn spans

SOURCE_TYPES = (
    "staff interview",
    "family interview",
    "partner interview",
    "case note",
    "case audit",
    "survey response",
    "other",
)


@dataclass
class ParsedDocument:
    """One document as read from a file, before it is stored.

    ``name`` is unique within one import call: the file name, or ``file.csv#row 12``
    for a row of a table.
    """

    name: str
    text: str
    format: str
    turns: list[Turn] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    case: str | None = None
    source_type: str | None = None
    encoding: str | None = None  # the text encoding used, for plain-text formats
    warnings: list[str] = field(default_factory=list)  # what the user should check, shown with the import


@dataclass
class ImportOptions:
    """What the user said about the files (CLI flags, API keyword arguments)."""

    source_type: str | None = None
    text_columns: list[str] = field(default_factory=list)
    attribute_columns: list[str] = field(default_factory=list)
    case_column: str | None = None
    document_column: str | None = None  # tables of utterances: rows with one value here form one document
    speaker_column: str | None = None  # ... each row a turn by this column's speaker
    time_column: str | None = None  # ... starting at this time (seconds or h:mm:ss)
    sheet: str | None = None  # the .xlsx sheet to read; the first when None
    interviewer_names: list[str] = field(default_factory=list)  # speakers to mark as interviewer
    max_bytes: int = 200 * 1024 * 1024  # refuse bigger files before reading them


Parser = Callable[[Path, bytes, ImportOptions], list[ParsedDocument]]

_REGISTRY: dict[str, Parser] = {}


def importer(*extensions: str) -> Callable[[Parser], Parser]:
    """Register ``func`` as the parser for files ending in ``extensions``.

    >>> @importer(".foo")
    ... def parse_foo(path, data, options): return []
    """

    def register(func: Parser) -> Parser:
        for ext in extensions:
            _REGISTRY[ext.lower()] = func
        return func

    return register


def parser_for(path: Path) -> Parser | None:
    """The registered parser for ``path``'s extension, or None."""
    return _REGISTRY.get(path.suffix.lower())


def known_extensions() -> Iterable[str]:
    return sorted(_REGISTRY)
