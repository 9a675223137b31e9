"""Importers: one module per file format, each registered by extension.

Importing this package registers every built-in parser, so
``parser_for(Path("notes.docx"))`` finds the .docx one.

>>> sorted({".txt", ".docx", ".pdf", ".vtt", ".csv"} - set(known_extensions()))
[]
>>> from pathlib import Path
>>> parser_for(Path("song.mp3")) is None
True
"""


from qualcode.importers import captions, docx, odt, pdf, rtf, tabular, text  # noqa: F401
from qualcode.importers.base import (
    ImportOptions,
    ParsedDocument,
    Turn,
    known_extensions,
    parser_for,
)

__all__ = ["ImportOptions", "ParsedDocument", "Turn", "known_extensions", "parser_for"]
