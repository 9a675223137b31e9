"""Word documents (.docx), including Microsoft Teams transcript downloads.

The text is the body in reading order: each paragraph (headings included) on its
own line, and each table row as one line with its cells joined by `` | `` so that
case-audit forms kept in tables stay readable and codable. Headers, footers,
footnotes and comments are left out: they hold page furniture, not data.

Speaker turns are found as in plain text; a Teams transcript (``Jane Smith
0:03`` on one line, the words below) is read that way too.

>>> import io, docx as python_docx
>>> buf = io.BytesIO(); d = python_docx.Document(); _ = d.add_paragraph("Hello")
>>> d.save(buf)
>>> parse_docx(Path("a.docx"), buf.getvalue(), ImportOptions())[0].text
'Hello'
"""

from __future__ import annotations

import io
from pathlib import Path

import docx as python_docx
from docx.table import Table

from qualcode.errors import ImportFailed
from qualcode.importers.base import ImportOptions, ParsedDocument, importer
from qualcode.importers.text import text_document
from qualcode.safezip import check_zip, is_ole


@importer(".docx")
def parse_docx(path: Path, data: bytes, options: ImportOptions) -> list[ParsedDocument]:
    """One document from a .docx file."""
    if not data.strip():
        raise ImportFailed(path.name, "the file is empty", "save it again from Word")
    if is_ole(data):
        raise ImportFailed(
            path.name,
            "the file is password-protected (encrypted), or is an old Word .doc "
            "file renamed to .docx",
            "open it in Word, remove the password (File > Info > Protect Document > "
            "Encrypt with Password, clear it) and save it as .docx, then import again",
        )
    check_zip(data, path.name)
    try:
        document = python_docx.Document(io.BytesIO(data))
        lines = [_block_text(block) for block in document.iter_inner_content()]
    except Exception as err:  # noqa: BLE001 - python-docx raises many types on damaged files
        raise ImportFailed(
            path.name,
            f"Word could have written this file, but it is damaged and cannot be read ({err})",
            "open it in Word or LibreOffice, save it again as .docx, and import the new copy",
        ) from None
    return [text_document(path, "\n".join(lines), "docx", options)]


@importer(".doc")
def parse_doc(path: Path, data: bytes, options: ImportOptions) -> list[ParsedDocument]:
    """Old binary Word files are not read: ask for a .docx instead."""
    raise ImportFailed(
        path.name,
        "this is an old Word 97-2003 .doc file, which qualcode cannot read",
        "open it in Word or LibreOffice and save it as .docx (Word Document), "
        "then import the .docx",
    )


def _block_text(block) -> str:
    """A paragraph's text, or a table as one line per row."""
    if isinstance(block, Table):
        return "\n".join(_row_text(row) for row in block.rows)
    return block.text


def _row_text(row) -> str:
    """Cells joined by " | ", a merged cell once (python-docx repeats it)."""
    cells, seen = [], set()
    for cell in row.cells:
        if id(cell._tc) in seen:
            continue
        seen.add(id(cell._tc))
        cells.append(cell.text.replace("\n", " "))
    return " | ".join(cells)
