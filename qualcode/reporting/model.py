"""The report as data: sections of blocks (paragraphs, tables, quotes, figures), and its configuration.

``build`` fills the model from the project; ``word`` and ``html`` render it. Keeping
the model apart means both renderings hold the same tables, quotes and numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from ..quotes import Quote

PAPER_SIZES_MM = {"A4": (210, 297), "Letter": (215.9, 279.4)}


@dataclass
class ReportConfig:
    """Who the report is for and by, and how it is printed: fills the title page and document properties.

    >>> ReportConfig(programme="Whole-family reform", authors=["A. Evaluator"]).byline()
    'A. Evaluator'
    """

    programme: str = ""
    authors: list[str] = field(default_factory=list)
    date: str = ""  # as printed, e.g. "May 2026"; empty: today
    version: str = ""
    organisation: str = ""
    paper: str = "A4"  # A4 | Letter
    language: str = "en-GB"

    def byline(self) -> str:
        return ", ".join(self.authors)


@dataclass
class Paragraph:
    text: str
    style: str = "Normal"  # Normal | List Bullet | Note
    from_data: bool = False  # written by a researcher or a participant (a memo): the name check reads it


@dataclass
class Heading:
    text: str
    level: int = 2


@dataclass
class Table:
    """A native table with a numbered caption; cells are text, ``\\n`` starts a new line.

    ``groups``: (row index, text) pairs: a full-width row with ``text`` goes before that
    row (the survey table's question above its waves). ``note``: a line under the table
    (a reading guide). ``check_names``: the columns whose cells come from the data
    (names of roles, outcomes, codes; quotes; questions) and so pass the name check;
    None for every column. Text the report writes itself ("Unclear", "+33 pp") is
    not a name, and a statistical NER model should not be asked.
    """

    number: int
    caption: str
    frame: pd.DataFrame
    groups: list[tuple[int, str]] = field(default_factory=list)
    note: str = ""
    check_names: tuple[str, ...] | None = None


@dataclass
class Figure:
    number: int
    caption: str
    png: bytes
    alt: str  # what the figure shows, for readers who cannot see it
    landscape: bool = False  # a wide diagram gets a landscape page, so its text prints at 7 pt or more


@dataclass
class QuoteBlock:
    quote: "Quote"


@dataclass
class Contents:
    """Where the list of contents goes: every section and sub-heading, written out."""


Block = Paragraph | Heading | Table | Figure | QuoteBlock | Contents


@dataclass
class Section:
    key: str
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Report:
    """The whole report as data: render it with ``to_docx`` or ``to_html``."""

    title: str
    subtitle: str
    sections: list[Section]
    omitted: list[str]  # one line per section left out, with the reason
    quotes: list["Quote"]  # every quote used, for tracing back to codings
    table_style: str = "Table Grid"
    docx_template: str | None = None
    config: ReportConfig = field(default_factory=ReportConfig)
    notices: list[str] = field(default_factory=list)  # first-page statements (an override of the name check)

    def tables(self) -> list[Table]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Table)]

    def figures(self) -> list[Figure]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Figure)]

    def headings(self) -> list[tuple[int, str]]:
        """(level, text) of every section and sub-heading: the contents list."""
        out = []
        for section in self.sections:
            if section.key == "contents":
                continue
            out.append((1, section.title))
            out += [(2, b.text) for b in section.blocks if isinstance(b, Heading)]
        return out

    def to_docx(self, path: str | Path, pages: list[int] | None = None) -> Path:
        """Write .docx; ``pages`` are the contents entries' pages from a render (``reporting.pdf``)."""
        from .word import render_docx

        return render_docx(self, path, pages)

    def to_pdf(self, docx: str | Path, pdf: str | Path) -> Path:
        """Write .docx and, laid out by LibreOffice, .pdf; the contents carries page numbers in both."""
        from .pdf import write_pdf

        return write_pdf(self, docx, pdf)

    def to_html(self, path: str | Path | None = None) -> str:
        from .html import render_html

        page = render_html(self)
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
        return page

    def _repr_html_(self) -> str:
        from .html import render_html

        return render_html(self, full_page=False)


class Numbers:
    """Hands out table and figure numbers in the order they appear."""

    def __init__(self) -> None:
        self.tables = 0
        self.figures = 0

    def table(self, caption: str, frame: pd.DataFrame, **extra) -> Table:
        self.tables += 1
        return Table(self.tables, caption, as_text(frame), **extra)

    def figure(self, caption: str, png: bytes, alt: str, landscape: bool = False) -> Figure:
        self.figures += 1
        return Figure(self.figures, caption, png, alt, landscape)


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as the text a reader sees: blanks for missing, thousands separators.

    >>> as_text(pd.DataFrame({"n": [1200, None], "x": ["a", None]})).to_dict("list")
    {'n': ['1,200', ''], 'x': ['a', '']}
    """
    def cell(value) -> str:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return ""
        if isinstance(value, float) and value.is_integer():
            return f"{int(value):,}"
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{value:,}"
        return str(value)

    frame = frame.reset_index(drop=not frame.index.name) if frame.index.name else frame
    return pd.DataFrame({str(c): [cell(v) for v in frame[c]] for c in frame.columns},
                        columns=[str(c) for c in frame.columns])
