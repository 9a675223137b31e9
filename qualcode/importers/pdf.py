"""PDF files with a text layer (.pdf).

The text is each page's text layer, pages separated by a blank line. PDFs are
often where transcripts and case-file extracts end up, so turns are detected as
in plain text. A scanned PDF has only pictures of text: we say so and point to
OCR rather than import an empty document.

Attributes: ``pages`` (the page count).
"""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfReader
from pypdf import PasswordType
from pypdf.errors import DependencyError

from qualcode.errors import ImportFailed
from qualcode.importers.base import ImportOptions, ParsedDocument, importer
from qualcode.importers.text import text_document

_PASSWORD_FIX = (
    "remove the password (open it, enter the password, and print or save it as a new "
    "PDF without security; or `qpdf --decrypt --password=PASS in.pdf out.pdf`), "
    "then import the new copy"
)


@importer(".pdf")
def parse_pdf(path: Path, data: bytes, options: ImportOptions) -> list[ParsedDocument]:
    """One document from a PDF's text layer."""
    name = path.name
    if b"%PDF-" not in data[:1024]:
        raise ImportFailed(
            name,
            "this is not a PDF file (it does not start with %PDF)",
            "check the file; if it was renamed, import it with its real extension",
        )
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise ImportFailed(name, "the PDF is password-protected", _PASSWORD_FIX)
        pages = [page.extract_text() or "" for page in reader.pages]
    except ImportFailed:
        raise
    except DependencyError:
        raise ImportFailed(name, "the PDF is encrypted with AES", _PASSWORD_FIX) from None
    except Exception as err:  # noqa: BLE001 - pypdf raises many types on damaged files
        raise ImportFailed(
            name,
            f"the PDF is damaged and cannot be read ({type(err).__name__}: {err})",
            "open it in a PDF reader and save or print it to a new PDF, then import that",
        ) from None
    if not any(page.strip() for page in pages):
        raise ImportFailed(
            name,
            f"none of its {len(pages)} page(s) has a text layer: it is a scan (pictures "
            "of text), so OCR is needed",
            f"run OCR, e.g. `ocrmypdf \"{name}\" \"{path.stem}-ocr.pdf\"`, then import "
            "the new file",
        )
    return [text_document(path, "\n\n".join(pages), "pdf", options,
                          attributes={"pages": str(len(pages))})]
