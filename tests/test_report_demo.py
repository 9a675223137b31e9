"""The demo's report as a funder would get it: converted to PDF with LibreOffice and read back.

One demo run (module fixture) is checked for: A4 pages, page numbers, a contents list
that shows its entries with the page each heading sits on, no word broken inside a table cell, alt text on every figure,
document properties from the report configuration, and no name from the demo's
pseudonymisation key anywhere in the .docx, .html or .xlsx.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn

from qualcode.demo import PRIVATE, run_demo

A4_PT = (595, 842)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    run_demo(out)
    return out


@pytest.fixture(scope="module")
def pdf(demo):
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None or shutil.which("pdftotext") is None:
        pytest.skip("LibreOffice (soffice) and poppler (pdftotext) are needed to read the report as printed")
    subprocess.run([office, "--headless", "--convert-to", "pdf", "--outdir", str(demo / "pdf"),
                    str(demo / "report.docx")], check=True, capture_output=True, timeout=300)
    return demo / "pdf" / "report.pdf"


def _pdf_text(pdf: Path) -> list[str]:
    """The text of each page, as poppler reads it."""
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return text.split("\f")[:-1]


def test_pages_are_a4_and_numbered(pdf):
    from pypdf import PdfReader

    pages = PdfReader(pdf).pages
    sizes = {tuple(sorted(round(float(v)) for v in (p.mediabox.width, p.mediabox.height))) for p in pages}
    assert sizes == {A4_PT}  # portrait and any landscape table pages alike
    texts = _pdf_text(pdf)
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {len(texts)}" in text


def test_contents_list_shows_its_entries(demo, pdf):
    document = docx.Document(demo / "report.docx")
    sections = [p.text for p in document.paragraphs if p.style.name == "Heading 1" and p.text != "Contents"]
    contents_page = next(t for t in _pdf_text(pdf) if "\nContents\n" in f"\n{t}")
    for title in sections:
        assert title in contents_page, f"{title!r} missing from the contents list"
    assert "Update Field" not in "\n".join(_pdf_text(pdf))


def _layout_pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return text.split("\f")[:-1]


def _contents_entries(pages: list[str]) -> list[tuple[str, int]]:
    """(title, page) of each contents line, "Achieved sample ........ 4", in order."""
    start = next(i for i, t in enumerate(pages) if re.search(r"^\s*Contents\s*$", t, re.M))
    entries = []
    for page in pages[start:start + 3]:
        entries += [(m[1].strip(), int(m[2])) for m in re.finditer(r"^\s*(\S.*?)\s*\.{3,}\s*(\d+)\s*$", page, re.M)]
    return entries


def _check_contents_pages(pages: list[str], headings: list[str]) -> list[tuple[str, int]]:
    """Every heading is listed, in order, with the page it sits on (a line of that page is the heading)."""
    entries = _contents_entries(pages)
    assert [title for title, _ in entries] == headings
    numbers = [n for _, n in entries]
    assert numbers == sorted(numbers) and numbers[0] >= 1
    for title, number in entries:
        lines = {" ".join(line.split()) for line in pages[number - 1].splitlines()}
        assert title in lines, f"contents says {title!r} is on page {number}, but it is not there"
    return entries


def _docx_headings(path: Path) -> list[str]:
    document = docx.Document(path)
    return [p.text for p in document.paragraphs
            if p.style.name in ("Heading 1", "Heading 2") and p.text != "Contents"]


def test_contents_gives_the_page_each_heading_sits_on(demo, pdf):
    entries = _check_contents_pages(_layout_pages(pdf), _docx_headings(demo / "report.docx"))
    assert len({n for _, n in entries}) > 5  # a real spread of pages, not one number for all


def test_report_with_pdf_puts_the_same_page_numbers_in_the_docx(demo, pdf, tmp_path):
    """``qualcode report --pdf``: the PDF's contents is right, and Word's copy shows the same pages."""
    from typer.testing import CliRunner

    from qualcode.cli import app
    from qualcode.demo import CODEBOOKS, TOC_FILE

    out, written = tmp_path / "report.docx", tmp_path / "report.pdf"
    result = CliRunner().invoke(app, ["report", str(demo / "demo.qc"), "--toc", str(CODEBOOKS / TOC_FILE),
                                      "--out", str(out), "--pdf", str(written)])
    assert result.exit_code == 0, result.output
    entries = _check_contents_pages(_layout_pages(written), _docx_headings(out))
    xml = zipfile.ZipFile(out).read("word/document.xml").decode()
    shown = re.findall(r"PAGEREF _Toc(\d{8}) \\h.*?<w:t[^>]*>(\d*)</w:t>", xml)
    assert [int(n) for _, n in shown] == [n for _, n in entries]


def test_no_word_is_broken_inside_a_table_cell(demo, pdf):
    words = set()
    for page in _pdf_text(pdf):  # a line may end after a hyphen or slash: that is not a broken word
        words.update(w.strip(".,;:()'\"‘’“”…") for w in re.split(r"[\s/–—-]+", page))
    document = docx.Document(demo / "report.docx")
    broken = []
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                for token in cell.text.split():
                    if token.replace("-", "").strip(".,;:()'\"‘’“”…") in words:
                        continue  # poppler joins "lower-" + "cost" at a line end into "lowercost"
                    for word in re.split(r"[/–—-]+", token):
                        word = word.strip(".,;:()'\"‘’“”…")
                        if len(word) >= 4 and word.isalpha() and word not in words:
                            broken.append(word)
    assert not broken, f"words split across lines in table cells: {sorted(set(broken))[:20]}"


def test_figures_have_alt_text_and_captions_stay_with_tables(demo):
    document = docx.Document(demo / "report.docx")
    shapes = document.inline_shapes
    assert len(shapes) >= 3
    assert all(len(s._inline.docPr.get("descr") or "") > 40 for s in shapes)
    page = (demo / "report.html").read_text("utf-8")
    assert page.count("<img ") == len(shapes) and 'alt=""' not in page
    captions = [p for p in document.paragraphs if p.style.name == "Caption" and p.text.startswith("Table")]
    assert captions and all(p.paragraph_format.keep_with_next for p in captions)
    for table in document.tables:  # rows never split across pages; the header repeats
        assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
        assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in table.rows)


def test_properties_language_and_title_page_from_the_configuration(demo):
    document = docx.Document(demo / "report.docx")
    props = document.core_properties
    assert props.title == "Evaluation report" and props.author != "python-docx"
    assert props.created.year >= 2025 and props.language == "en-GB"
    assert "Whole-family social-work reform" in props.subject
    styles = document.styles.element.xml
    assert 'w:val="en-GB"' in styles and 'w:val="en-US"' not in styles
    section = document.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297


def _xml_text(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        return " ".join(re.sub(r"<[^>]+>", " ", archive.read(n).decode("utf-8", "ignore"))
                        for n in archive.namelist() if n.endswith(".xml"))


def test_the_study_design_survives_pseudonymisation(demo):
    document = docx.Document(demo / "report.docx")
    sample = [[c.text for c in row.cells] for row in document.tables[0].rows]
    assert sample[0][:3] == ["Role", "Wave 1", "Wave 2"]  # waves are not people
    assert "Social Worker" in [row[0] for row in sample]


def test_no_name_from_the_pseudonymisation_key_anywhere(demo):
    with open(demo / PRIVATE / "pseudonymisation_key.csv", encoding="utf-8") as handle:
        originals = [row["original"] for row in csv.DictReader(handle)]
    assert len(originals) > 20  # the demo corpus holds children's, parents' and staff names, places, dates
    page = re.sub(r'src="data:image/png;base64,[^"]*"', "", (demo / "report.html").read_text("utf-8"))
    texts = {"report.docx": _xml_text(demo / "report.docx"), "report.html": page,
             "framework_matrix.xlsx": _xml_text(demo / "framework_matrix.xlsx")}
    for name, text in texts.items():
        leaked = sorted({o for o in originals if re.search(rf"(?<!\w){re.escape(o)}(?!\w)", text)})
        assert not leaked, f"{name} holds {leaked}"


def test_the_agreement_table_names_coders_by_display_name(demo):
    document = docx.Document(demo / "report.docx")
    agreement = [t for t in document.tables if "Cohen's κ" in [c.text for c in t.rows[0].cells]]
    assert agreement, "the demo report has an agreement table"
    cells = [c.text for t in agreement for row in t.rows for c in row.cells]
    assert any("Researcher A did not use this code" in c for c in cells)  # the demo has such a code
    assert not [c for c in cells if "researcher_" in c]
