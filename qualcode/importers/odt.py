"""OpenDocument text (.odt), as saved by LibreOffice and Google Docs.

Like .docx: headings and paragraphs in reading order, one per line (list items
included), and each table row as one line with cells joined by `` | ``.

>>> import io
>>> from odf.opendocument import OpenDocumentText
>>> from odf.text import P
>>> doc = OpenDocumentText(); doc.text.addElement(P(text="Hello")); buf = io.BytesIO()
>>> doc.save(buf)
>>> parse_odt(Path("a.odt"), buf.getvalue(), ImportOptions())[0].text
'Hello'
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Iterator

from odf import teletype
from odf.namespaces import TABLENS, TEXTNS
from odf.opendocument import load

from qualcode.errors import ImportFailed
from qualcode.importers.base import ImportOptions, ParsedDocument, importer
from qualcode.importers.text import text_document
from qualcode.safezip import check_zip

_PARAGRAPHS = {(TEXTNS, "p"), (TEXTNS, "h")}
_ROW = (TABLENS, "table-row")
_CELL = (TABLENS, "table-cell")
_SKIP = {(TEXTNS, "tracked-changes"), (TEXTNS, "note"), (TEXTNS, "sequence-decls")}


@importer(".odt")
def parse_odt(path: Path, data: bytes, options: ImportOptions) -> list[ParsedDocument]:
    """One document from an .odt file."""
    archive = check_zip(data, path.name)
    try:
        manifest = archive.read("META-INF/manifest.xml")
    except KeyError:
        manifest = b""
    if b"encryption-data" in manifest:
        raise ImportFailed(
            path.name,
            "the document is password-protected",
            "open it in LibreOffice, remove the password (File > Properties > Security, "
            "or Save As without 'Save with password'), then import the new copy",
        )
    try:
        document = load(io.BytesIO(data))
        lines = list(_lines(document.text))
    except Exception as err:  # noqa: BLE001 - odfpy raises many types on damaged files
        raise ImportFailed(
            path.name,
            f"the document is damaged and cannot be read ({type(err).__name__}: {err})",
            "open it in LibreOffice, save it again as .odt (or .docx), and import the new copy",
        ) from None
    return [text_document(path, "\n".join(lines), "odt", options)]


def _lines(element) -> Iterator[str]:
    """Text lines of ``element``'s paragraphs and table rows, in document order."""
    for child in element.childNodes:
        if child.nodeType != child.ELEMENT_NODE or child.qname in _SKIP:
            continue
        if child.qname in _PARAGRAPHS:
            yield teletype.extractText(child)
        elif child.qname == _ROW:
            cells = [c for c in child.childNodes if getattr(c, "qname", None) == _CELL]
            yield " | ".join(" ".join(_lines(cell)) for cell in cells)
        else:
            yield from _lines(child)
