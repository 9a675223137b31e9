"""Rich Text Format files (.rtf), as written by WordPad, TextEdit and older
transcription services. Formatting is dropped; the text keeps its paragraphs.

>>> from pathlib import Path
>>> data = rb"{\\rtf1\\ansi{\\fonttbl\\f0 Arial;}\\f0 I: Caf\\'e9?\\par R: Yes.\\par I: Good.\\par R: Bye.}"
>>> parse_rtf(Path("a.rtf"), data, ImportOptions())[0].text
'I: Café?\\nR: Yes.\\nI: Good.\\nR: Bye.'
"""

from __future__ import annotations

from pathlib import Path

from striprtf.striprtf import rtf_to_text

from qualcode.errors import ImportFailed
from qualcode.importers.base import ImportOptions, ParsedDocument, importer
from qualcode.importers.text import text_document
from qualcode.textnorm import decode_text


@importer(".rtf")
def parse_rtf(path: Path, data: bytes, options: ImportOptions) -> list[ParsedDocument]:
    """One document from an RTF file."""
    raw, _ = decode_text(data, path.name)
    if not raw.lstrip().startswith("{\\rtf"):
        raise ImportFailed(
            path.name,
            "this is not an RTF file (it does not start with {\\rtf)",
            "check the file; if it was renamed, import it with its real extension",
        )
    try:
        text = rtf_to_text(raw, errors="replace")
    except Exception as err:  # noqa: BLE001 - striprtf raises many types on damaged files
        raise ImportFailed(
            path.name,
            f"the RTF is damaged and cannot be read ({err})",
            "open it in Word or LibreOffice and save it again (as .rtf or .docx)",
        ) from None
    return [text_document(path, text.strip("\n"), "rtf", options)]
