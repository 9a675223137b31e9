"""PDF files with a text layer (.pdf).

The text is each page's text layer, pages separated by a blank line. PDFs are
often where transcripts and case-file extracts end up, so turns are detected as
in plain text. A scanned PDF has only pictures of text: we say so and point to
OCR rather than import an empty document.

Attributes: ``pages`` (the page count).

Text extraction is capped per page, in words (``MAX_PAGE_WORDS``) and in seconds
(``MAX_PAGE_SECONDS``), and per file in words (``MAX_WORDS``): a PDF of a few KB
whose pages all draw one compressed stream of text can otherwise take minutes and
store millions of words. The caps are checked while pypdf reads the page (its visitor
callbacks), so a hostile page is refused in moments, not after it has been read.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

from pypdf import PdfReader
from pypdf import PasswordType
from pypdf.errors import DependencyError

from qualcode.errors import ImportFailed
from qualcode.importers.base import ImportOptions, ParsedDocument, importer
from qualcode.importers.text import text_document

MAX_PAGE_WORDS = 20_000  # a dense A4 page in a small font holds about 2,000
MAX_PAGE_SECONDS = 10.0  # a real page's text takes milliseconds
MAX_WORDS = 2_000_000  # about 4,000 pages of prose
_CHECK_EVERY = 256  # operators between looks at the clock


class _TooMuch(Exception):
    """A page (or the file) went past a cap; carries the reason for the user."""


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
        pages = _extract(reader)
    except _TooMuch as err:
        raise ImportFailed(
            name, f"{err}; no real document does that, so the PDF is damaged or built to exhaust the reader",
            "open it in a PDF reader and print it to a new PDF (or export its text as .txt), then import that",
        ) from None
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


def _extract(reader: PdfReader) -> list[str]:
    """Every page's text, each page within the word and time caps, the file within its word cap."""
    pages: list[str] = []
    total = 0
    for number, page in enumerate(reader.pages, start=1):
        text = _page_text(page, number, MAX_WORDS - total)
        total += len(text.split())
        pages.append(text)
    return pages


def _page_text(page, number: int, words_left: int) -> str:
    started = time.monotonic()
    operators = words = 0
    cap = min(MAX_PAGE_WORDS, words_left)

    def on_operator(*_args) -> None:
        nonlocal operators
        operators += 1
        if operators % _CHECK_EVERY == 0 and time.monotonic() - started > MAX_PAGE_SECONDS:
            raise _TooMuch(f"page {number} took over {MAX_PAGE_SECONDS:.0f} s to read")

    def on_text(text: str, *_args) -> None:
        nonlocal words
        words += len(text.split())
        if words > cap:
            if cap < MAX_PAGE_WORDS:
                raise _TooMuch(f"its text passes {MAX_WORDS:,} words by page {number}")
            raise _TooMuch(f"page {number} holds over {MAX_PAGE_WORDS:,} words")

    return page.extract_text(visitor_operand_before=on_operator, visitor_text=on_text) or ""
