"""The evidence report: built once as a model from the project, rendered to Word and HTML.

- ``build``: ``build_report`` computes every table, quote and figure into a ``Report``;
- ``model``: the report as data (sections of paragraphs, tables, quotes, figures) and
  its configuration (programme, authors, date, version, paper, language);
- ``template``: the YAML template (titles, intros, order, quote rules, configuration);
- ``tables``: the tables laid out to be read (sample, survey, agreement, codebook);
- ``names``: the name check every report passes before it is written;
- ``word`` / ``html``: the two renderings; ``pdf``: the Word file laid out by
  LibreOffice, whose pages also fill the contents' page numbers.

>>> report = build_report(project, toc=load_toc("toc.yaml"), coders=["alex", "sam"])  # doctest: +SKIP
>>> report_files(report, "out/report.docx", "out/report.html")                         # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .build import build_report
from .html import render_html
from .model import (Contents, Figure, Heading, Paragraph, QuoteBlock, Report, ReportConfig, Section, Table,
                    as_text)
from .names import check_names, find_identifiers_in, report_texts
from .tables import achieved_sample, codebook_table, display_name
from .template import SECTION_KEYS, Template, load_template
from .pdf import heading_pages, render_pdf, write_pdf
from .word import column_widths, render_docx


def report_files(report: Report, docx: str | Path, html_path: str | Path | None = None,
                 pdf: str | Path | None = None) -> dict[str, Any]:
    """Write the .docx (and .html, and .pdf with LibreOffice) and say what went in: what the CLI prints."""
    if pdf is not None:
        report.to_pdf(docx, pdf)
        written = [str(docx), str(pdf)]
    else:
        written = [str(report.to_docx(docx))]
    if html_path is not None:
        report.to_html(html_path)
        written.append(str(html_path))
    return {
        "files": written,
        "sections": [s.title for s in report.sections],
        "tables": len(report.tables()),
        "figures": len(report.figures()),
        "quotes": len(report.quotes),
        "left_out": report.omitted,
        "notices": report.notices,
    }


__all__ = [
    "Contents", "Figure", "Heading", "Paragraph", "QuoteBlock", "Report", "ReportConfig", "SECTION_KEYS", "Section",
    "Table", "Template", "achieved_sample", "as_text", "build_report", "check_names", "codebook_table",
    "column_widths", "display_name", "find_identifiers_in", "load_template", "render_docx", "render_html",
    "heading_pages", "render_pdf", "report_files", "report_texts", "write_pdf",
]
