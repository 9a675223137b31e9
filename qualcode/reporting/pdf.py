"""The report as PDF, laid out by LibreOffice, and the page each contents entry points at.

The contents' page numbers are PAGEREF fields to bookmarks on the headings (see
``word``): LibreOffice computes them as it lays out the pages, so the PDF it writes
carries them. The same render tells Word's copy what to show: LibreOffice exports
each bookmark as a named destination, whose page ``heading_pages`` reads back (with
pypdf), and the .docx is written again with those pages as the fields' shown values.

LibreOffice is run headless with a profile of its own in a temporary folder, so two
renders at once (tests in parallel, a user's open LibreOffice) never share one.

>>> pdf = write_pdf(report, "out/report.docx", "out/report.pdf")   # doctest: +SKIP
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import InputError, ProgramNotInstalled
from .model import Report

# Export each bookmark as a named destination (LibreOffice >= 7.4 takes filter options as JSON).
PDF_FILTER = 'pdf:writer_pdf_Export:{"ExportBookmarksToPDFDestination":{"type":"boolean","value":"true"}}'
TIMEOUT_S = 300


def office_program() -> str | None:
    """LibreOffice's command on this machine (``soffice`` or ``libreoffice``), or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def _office(pdf: Path) -> str:
    """LibreOffice's command, or a clear error naming the PDF and the fix; checks the folder too."""
    if pdf.suffix.lower() != ".pdf":
        raise InputError(str(pdf), "the PDF's name does not end in .pdf", "name it FILE.pdf")
    if not pdf.parent.exists():
        raise InputError(str(pdf), f"folder {pdf.parent} does not exist", "create it first or choose another path")
    office = office_program()
    if office is None:
        raise ProgramNotInstalled(
            f"{pdf}: writing PDF needs LibreOffice, which is not installed on this machine. Fix: install it "
            "(Debian/Ubuntu: apt-get install libreoffice-writer-nogui) or leave out --pdf and open the .docx "
            "in LibreOffice or Word.")
    return office


def render_pdf(docx: str | Path, pdf: str | Path) -> Path:
    """Convert ``docx`` to ``pdf`` with LibreOffice, headless; fields are computed as it lays out."""
    docx, pdf = Path(docx), Path(pdf)
    office = _office(pdf)
    with tempfile.TemporaryDirectory(prefix="qualcode-pdf-") as tmp:
        profile = Path(tmp) / "profile"
        done = subprocess.run(
            [office, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", PDF_FILTER,
             "--outdir", tmp, str(docx)], capture_output=True, text=True, timeout=TIMEOUT_S)
        written = Path(tmp) / f"{docx.stem}.pdf"
        if done.returncode != 0 or not written.exists():
            raise ProgramNotInstalled(
                f"{docx}: LibreOffice did not write a PDF (exit {done.returncode}: "
                f"{(done.stderr or done.stdout).strip()[:300]}). Fix: open the .docx in LibreOffice to see "
                "what it objects to, or leave out --pdf.")
        shutil.move(str(written), pdf)
    return pdf


def heading_pages(pdf: str | Path, entries: int) -> list[int]:
    """The page (1-based) of each contents entry's heading, from the PDF's named destinations.

    LibreOffice writes bookmark ``_Toc00000003`` as destination ``5FToc00000003`` (the
    underscore hex-escaped); both spellings are read.
    """
    from pypdf import PdfReader

    from .word import bookmark_name

    reader = PdfReader(str(pdf))
    pages: dict[str, int] = {}
    for name, destination in reader.named_destinations.items():
        key = name.lstrip("/")
        key = "_" + key[2:] if key.startswith("5F") else key
        pages[key] = reader.get_destination_page_number(destination) + 1
    return [pages.get(bookmark_name(i), 0) for i in range(entries)]


def write_pdf(report: Report, docx: str | Path, pdf: str | Path) -> Path:
    """Write ``docx`` and ``pdf``; the .docx's contents then shows the pages of the PDF.

    The PDF's own contents is computed by LibreOffice as it lays out the pages; the
    pages read back from it are written into the .docx so that Word, before it
    updates any field, shows the same numbers.
    """
    _office(Path(pdf))  # before anything is written
    docx = report.to_docx(docx)
    render_pdf(docx, pdf)
    pages = heading_pages(pdf, len(report.headings()))
    if all(pages):
        report.to_docx(docx, pages=pages)
    return Path(pdf)
