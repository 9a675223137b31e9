"""The report as a Word document a researcher can send.

Decisions, each from reading the rendered pages:

- A4 (or Letter) with 2.5 cm margins, the document language en-GB (settable), Arial
  throughout (Word has it; LibreOffice maps it to the metric-compatible Liberation
  Sans), so a column wide enough in one is wide enough in the other.
- A title page from the report configuration (programme, organisation, authors,
  date, version), which also fills the document properties; any first-page notice
  (an override of the name check) sits on it in bold.
- The contents list is written out as paragraphs, so it shows in every viewer
  without updating a field; each entry's page is a PAGEREF field to a bookmark on
  its heading, which LibreOffice (and a PDF made with it) computes as it lays out
  the pages. Page numbers ("Page 3 of 20") are fields in the footer, which every
  viewer computes as it lays out the pages.
- Tables: the caption is kept with the table, the header row repeats on each page,
  no row splits across pages, and column widths are set from the text: every column
  is at least as wide as its longest word, so no word is ever broken inside a cell;
  the space left goes to the columns with the longest text. A table whose words do
  not fit the page's width goes into a landscape section of its own.
- Figures carry alt text (Word's "Description") and their caption stays with them.
"""

from __future__ import annotations

import datetime as dt
import io
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from ..errors import InputError
from .model import PAPER_SIZES_MM, Block, Contents, Figure, Heading, Paragraph, QuoteBlock, Report, Table

FONT = "Arial"
TABLE_PT = 9
MARGIN_CM = 2.5
FIGURE_WIDTH_CM = 16.0
CHAR_CM_PER_PT = 0.024  # an Arial character, bold capitals included, is at most ~0.68 em: 9 pt ≈ 0.22 cm
CELL_PADDING_CM = 0.6  # the cell margins (0.19 cm a side in Word, a little more in LibreOffice) and air
MAX_NATURAL_CHARS = 48  # a column never asks for more than this many characters per line


def render_docx(report: Report, path: str | Path, pages: Sequence[int] | None = None) -> Path:
    """Write the report as .docx (see the module notes for the layout).

    ``pages``: the page of each contents entry (``report.headings()`` order) as a
    LibreOffice render laid them out (``reporting.pdf``); they become the fields'
    shown values, so Word shows them before it updates anything.
    """
    from docx import Document

    path = Path(path)
    if not path.parent.exists():
        raise InputError(str(path), f"folder {path.parent} does not exist", "create it first or choose another path")
    document = Document(report.docx_template) if report.docx_template else Document()
    _page(document.sections[0], report.config.paper, landscape=False)
    _fonts_and_language(document, report.config.language)
    _properties(document, report)
    _footer(document.sections[0])
    _title_page(document, report)
    portrait_cm = _text_width_cm(document.sections[0])
    marks = _Marks(list(pages or []))
    for section in report.sections:
        first = next((b for b in section.blocks if not isinstance(b, Paragraph)), None)
        # A section whose first table needs a landscape page opens on it, heading and all, rather than
        # leaving its heading alone on a portrait page; anything else goes back to portrait first.
        opens_wide = isinstance(first, Table) and _needs_landscape(first, portrait_cm)
        _orientation(document, report.config.paper, landscape=opens_wide)
        title = _heading(document, section.title, 1)
        if section.key != "contents":  # the contents does not list itself
            marks.bookmark(title)
        before_first = True
        for block in section.blocks:
            before_first = before_first and block is not first
            if not isinstance(block, (Table, Figure)) and not (opens_wide and before_first):
                _orientation(document, report.config.paper, landscape=False)
            _block(document, block, report, marks)
    document.save(str(path))
    return path


# -- page, fonts, properties ------------------------------------------------------------


def _page(section, paper: str, landscape: bool) -> None:
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Mm

    width, height = PAPER_SIZES_MM.get(paper, PAPER_SIZES_MM["A4"])
    if landscape:
        width, height = height, width
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(width), Mm(height)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(MARGIN_CM))


def _orientation(document, paper: str, landscape: bool) -> None:
    """Continue on a page of this orientation: a new section (and page) only when it changes."""
    from docx.enum.section import WD_ORIENT, WD_SECTION

    if (document.sections[-1].orientation == WD_ORIENT.LANDSCAPE) != landscape:
        _page(document.add_section(WD_SECTION.NEW_PAGE), paper, landscape=landscape)


def _text_width_cm(section) -> float:
    return (section.page_width - section.left_margin - section.right_margin) / 360000


def _fonts_and_language(document, language: str) -> None:
    """Arial and ``language`` in the document defaults and in every built-in style that names a font."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is None:
        defaults = OxmlElement("w:docDefaults")
        styles.insert(0, defaults)
    rpr_default = defaults.find(qn("w:rPrDefault"))
    if rpr_default is None:
        rpr_default = OxmlElement("w:rPrDefault")
        defaults.insert(0, rpr_default)
    rpr = rpr_default.find(qn("w:rPr"))
    if rpr is None:
        rpr = OxmlElement("w:rPr")
        rpr_default.append(rpr)
    _set_fonts(rpr, language)
    for style in document.styles:
        element = style.element
        style_rpr = element.find(qn("w:rPr"))
        if style_rpr is not None and (style_rpr.find(qn("w:rFonts")) is not None
                                      or style_rpr.find(qn("w:lang")) is not None):
            _set_fonts(style_rpr, language)


def _set_fonts(rpr, language: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for tag in ("w:rFonts", "w:lang"):
        old = rpr.find(qn(tag))
        if old is not None:
            rpr.remove(old)
    fonts = OxmlElement("w:rFonts")
    for attribute in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attribute), FONT)
    rpr.insert(0, fonts)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), language)
    lang.set(qn("w:bidi"), language)
    rpr.append(lang)


def _properties(document, report: Report) -> None:
    """Document properties from the report configuration, not python-docx's defaults."""
    config = report.config
    props = document.core_properties
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0, tzinfo=None)
    props.title = report.title
    props.subject = config.programme or report.subtitle
    props.author = config.byline() or config.organisation or "qualcode"
    props.last_modified_by = props.author
    props.comments = f"Written by qualcode from the project's coded data. {report.subtitle}".strip()
    props.keywords = "evaluation; qualitative evidence; theory of change"
    props.category = "Evaluation report"
    props.version = config.version
    props.revision = 1
    props.language = config.language
    props.created = now
    props.modified = now
    props.last_printed = now
    props.identifier = ""
    props.content_status = "Draft" if not config.version else f"Version {config.version}"


def _footer(section) -> None:
    """'Page N of M', centred; the numbers are fields every viewer computes."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run("Page ")
    _field_runs(paragraph, "PAGE", "1")
    paragraph.add_run(" of ")
    _field_runs(paragraph, "NUMPAGES", "1")


def _title_page(document, report: Report) -> None:
    from docx.enum.text import WD_BREAK
    from docx.shared import Pt, RGBColor

    config = report.config
    _heading(document, report.title, 0)
    if report.subtitle:
        _paragraph(document, report.subtitle, "Subtitle")
    for line in (config.programme, config.organisation, config.byline(), config.date,
                 f"Version {config.version}" if config.version else ""):
        if line:
            _paragraph(document, line)
    for notice in report.notices:
        run = _paragraph(document).add_run(notice)
        run.bold = True
        run.font.size = Pt(12)
        run.font.color.rgb = RGBColor(0xA0, 0x00, 0x00)
    _paragraph(document).add_run().add_break(WD_BREAK.PAGE)


# -- blocks -------------------------------------------------------------------------------


def _block(document, block: Block, report: Report, marks: "_Marks") -> None:
    if isinstance(block, Heading):
        marks.bookmark(_heading(document, block.text, block.level))
    elif isinstance(block, Paragraph):
        _paragraph(document, block.text, block.style)
    elif isinstance(block, Contents):
        _contents(document, report, marks)
    elif isinstance(block, QuoteBlock):
        paragraph = _paragraph(document, style="Quote")
        paragraph.add_run(f"'{block.quote.shown}'")
        paragraph.add_run(f" ({block.quote.attribution})").italic = False
    elif isinstance(block, Table):
        _table_block(document, block, report)
    elif isinstance(block, Figure):
        _figure(document, block, report)


@dataclass
class _Marks:
    """Hands out the bookmarks the contents' page fields point at, in ``report.headings()`` order."""

    pages: list[int]
    count: int = 0

    def bookmark(self, paragraph) -> None:
        """Put bookmark ``_TocNNNNNNNN`` (Word's hidden-bookmark name) around the heading's text."""
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        start, end = OxmlElement("w:bookmarkStart"), OxmlElement("w:bookmarkEnd")
        start.set(qn("w:id"), str(self.count))
        start.set(qn("w:name"), bookmark_name(self.count))
        end.set(qn("w:id"), str(self.count))
        paragraph._p.insert(paragraph._p.index(paragraph.runs[0]._r) if paragraph.runs else len(paragraph._p), start)
        paragraph._p.append(end)
        self.count += 1

    def page(self, index: int) -> str:
        return str(self.pages[index]) if index < len(self.pages) else ""


def bookmark_name(index: int) -> str:
    """The bookmark of the ``index``-th contents entry (``_Toc00000003``).

    >>> bookmark_name(3)
    '_Toc00000003'
    """
    return f"_Toc{index:08d}"


def _contents(document, report: Report, marks: _Marks) -> None:
    """Every section and sub-heading, written out, each with the page its heading sits on.

    The page is a PAGEREF field to a bookmark on the heading: LibreOffice (and so a PDF
    made with it) computes it as it lays out the pages; Word shows the value stored
    with the field (the page from a LibreOffice render when the report was written
    with ``--pdf``) and recomputes it when fields update or the document is printed.
    The entries are plain paragraphs, not a TOC field: nothing asks to be updated.
    """
    from docx.enum.text import WD_TAB_ALIGNMENT, WD_TAB_LEADER
    from docx.shared import Cm

    width = _text_width_cm(document.sections[-1])
    for index, (level, text) in enumerate(report.headings()):
        paragraph = _paragraph(document)
        paragraph.add_run(text).bold = level == 1
        paragraph.add_run("\t")
        _field_runs(paragraph, f"PAGEREF {bookmark_name(index)} \\h", marks.page(index))
        form = paragraph.paragraph_format
        form.left_indent = Cm(0.8 * (level - 1))
        form.space_after = 0
        form.tab_stops.add_tab_stop(Cm(width - 0.8 * (level - 1) - 0.05), WD_TAB_ALIGNMENT.RIGHT,
                                    WD_TAB_LEADER.DOTS)


def _figure(document, block: Figure, report: Report) -> None:
    """The picture with its alt text and caption; a landscape page of its own when asked."""
    from docx.shared import Cm

    width = FIGURE_WIDTH_CM
    _orientation(document, report.config.paper, landscape=block.landscape)
    if block.landscape:
        section = document.sections[-1]
        text_height = (section.page_height - section.top_margin - section.bottom_margin) / 360000 - 1.5
        pixels_w, pixels_h = _png_size(block.png)
        width = min(_text_width_cm(section), text_height * pixels_w / pixels_h)
    document.add_picture(io.BytesIO(block.png), width=Cm(width))
    picture = document.paragraphs[-1]
    picture.paragraph_format.keep_with_next = True
    inline = document.inline_shapes[-1]._inline
    inline.docPr.set("descr", block.alt)
    inline.docPr.set("title", block.caption)
    _caption(document, "Figure", block.number, block.caption)


def _png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels, from the PNG header."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _style(document, name: str) -> str:
    """The style if the document defines it, else Normal (user templates may lack some)."""
    return name if name in _style_ids(document) else "Normal"


def _paragraph(document, text: str = "", style: str | None = None):
    """``document.add_paragraph`` with the style set by its id.

    python-docx looks a style up by walking every style of the document for each
    paragraph (two thirds of the time spent writing a long report); the ids are read
    once per document instead.
    """
    paragraph = document.add_paragraph(text)
    style_id = _style_ids(document).get(style or "Normal")
    if style_id is not None:
        paragraph._p.style = style_id
    return paragraph


def _heading(document, text: str, level: int):
    """``document.add_heading`` through ``_paragraph``: Title for level 0, else Heading N."""
    return _paragraph(document, text, "Title" if level == 0 else f"Heading {level}")


def _style_ids(document) -> dict[str, str | None]:
    """Style name -> style id (None for the default paragraph style), read once per document."""
    ids = _STYLE_IDS.get(document.part)
    if ids is None:
        from docx.enum.style import WD_STYLE_TYPE

        default = document.styles.default(WD_STYLE_TYPE.PARAGRAPH)
        default_id = default.style_id if default is not None else None
        ids = {s.name: (None if s.style_id == default_id else s.style_id) for s in document.styles}
        _STYLE_IDS[document.part] = ids
    return ids


_STYLE_IDS: "weakref.WeakKeyDictionary[Any, dict[str, str | None]]" = weakref.WeakKeyDictionary()  # by document part


# -- tables -------------------------------------------------------------------------------


def column_widths(frame: pd.DataFrame, available_cm: float, points: float = TABLE_PT) -> list[float] | None:
    """Widths (cm) for ``frame``'s columns within ``available_cm``, or None if its words cannot fit.

    Each column gets at least its longest word (header included); the rest of the
    width goes to the columns whose text is longer, in proportion to what they lack.

    >>> column_widths(pd.DataFrame({"Code": ["Whole-family working"], "n": ["12"]}), 16.0)
    [13.23, 2.77]
    """
    char = CHAR_CM_PER_PT * points
    minimum, natural = [], []
    for column in frame.columns:
        texts = [str(column), *map(str, frame[column])]
        words = [len(w) for text in texts for w in text.split()] or [1]
        lines = [len(line) for text in texts for line in text.split("\n")] or [1]
        minimum.append(max(words) * char + CELL_PADDING_CM)
        natural.append(min(max(lines), MAX_NATURAL_CHARS) * char + CELL_PADDING_CM)
    if sum(minimum) > available_cm:
        return None
    widths = list(minimum)
    spare = available_cm - sum(widths)
    lacking = [max(0.0, n - w) for n, w in zip(natural, widths)]
    # Short cells first get their whole line ("Wave 1" never wraps), then the long text shares the rest.
    for i in sorted(range(len(widths)), key=lambda i: lacking[i]):
        if 0 < lacking[i] <= spare and lacking[i] <= 2.5:
            widths[i] += lacking[i]
            spare -= lacking[i]
            lacking[i] = 0.0
    total_lack = sum(lacking)
    if total_lack > 0:
        give = min(spare, total_lack)
        widths = [w + give * lack / total_lack for w, lack in zip(widths, lacking)]
        spare -= give
    if spare > 0:  # every column has what it needs: the rest goes in proportion to width
        total = sum(widths)
        widths = [w + spare * w / total for w in widths]
    return [round(w, 2) for w in widths]


def _table_block(document, block: Table, report: Report) -> None:
    """Caption, table and note; on a landscape page when the words need it."""
    from docx.enum.section import WD_ORIENT

    section = document.sections[-1]
    paper = report.config.paper
    already = section.orientation == WD_ORIENT.LANDSCAPE  # the section opened on a landscape page
    width_mm, height_mm = PAPER_SIZES_MM.get(paper, PAPER_SIZES_MM["A4"])
    portrait, wide = width_mm / 10 - 2 * MARGIN_CM, height_mm / 10 - 2 * MARGIN_CM
    # Portrait at 9 then 8 pt; else a landscape page at 9, 8, then 7 pt; else even columns at 7 pt.
    tries = [(False, TABLE_PT, portrait), (False, 8, portrait), (True, TABLE_PT, wide), (True, 8, wide), (True, 7, wide)]
    landscape, points, widths = True, 7, [wide / len(block.frame.columns)] * len(block.frame.columns)
    for turn, size, available in tries:
        fitted = column_widths(block.frame, available, size)
        if fitted is not None:
            landscape, points, widths = turn, size, fitted
            break
    if already and not landscape:  # a narrow table after a wide one: back to portrait first
        _orientation(document, paper, landscape=False)
    elif landscape and not already:
        _orientation(document, paper, landscape=True)
    _caption(document, "Table", block.number, block.caption, keep_with_next=True)
    _docx_table(document, block, report.table_style, widths, points)
    if block.note:
        from docx.shared import Pt

        note = _paragraph(document)
        run = note.add_run(block.note)
        run.italic = True
        run.font.size = Pt(points)


def _needs_landscape(block: Table, portrait_cm: float) -> bool:
    """Whether ``block``'s words cannot fit a portrait page even at 8 pt."""
    return all(column_widths(block.frame, portrait_cm, size) is None for size in (TABLE_PT, 8))


def _docx_table(document, block: Table, table_style: str, widths: list[float], points: float) -> None:
    """The table, its rows written as WordprocessingML in one piece each.

    python-docx's cell objects re-read the row's XML at every access (most of the time
    spent writing a long table); each row is built as text and parsed once instead.
    Rows never split across pages; the header row repeats on each page and keeps with
    the first row; a group row (a survey question) spans the table, shaded.
    """
    from docx.oxml import parse_xml
    from docx.oxml.ns import qn

    frame = block.frame
    groups = dict(block.groups)
    table = document.add_table(rows=0, cols=len(frame.columns))
    table.style = table_style if _style(document, table_style) == table_style else "Table Grid"
    table.autofit = False
    _fixed_layout(table)
    for col, width in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths):
        col.set(qn("w:w"), str(_twips(width)))
    size = int(round(points * 2))  # half-points
    rows = [_row_xml([(str(c), w) for c, w in zip(frame.columns, widths)], size, header=True)]
    for i, values in enumerate(frame.itertuples(index=False)):
        if i in groups:
            rows.append(_row_xml([(groups[i], sum(widths))], size, span=len(widths), shade="EEF2F7"))
        rows.append(_row_xml([(str(v), w) for v, w in zip(values, widths)], size))
    for row in rows:
        table._tbl.append(parse_xml(row))


def _twips(cm: float) -> int:
    return int(cm * 567)  # twentieths of a point per cm


def _row_xml(cells: list[tuple[str, float]], size: int, header: bool = False, span: int = 1,
             shade: str | None = None) -> str:
    """One ``w:tr``: each cell's lines as paragraphs, at ``size`` half-points, 1 pt after each."""
    from xml.sax.saxutils import escape

    from docx.oxml.ns import nsdecls

    bold = "<w:b/>" if header or shade else ""
    keep = "<w:keepNext/>" if header or shade else ""
    flags = '<w:cantSplit w:val="true"/>' + ('<w:tblHeader w:val="true"/>' if header else "")
    out = [f"<w:tr {nsdecls('w')}><w:trPr>{flags}</w:trPr>"]
    for text, width in cells:
        properties = f'<w:tcW w:w="{_twips(width)}" w:type="dxa"/>'
        if span > 1:
            properties += f'<w:gridSpan w:val="{span}"/>'
        if shade:
            properties += f'<w:shd w:val="clear" w:color="auto" w:fill="{shade}"/>'
        out.append(f"<w:tc><w:tcPr>{properties}</w:tcPr>")
        for line in text.split("\n"):
            out.append(f'<w:p><w:pPr>{keep}<w:spacing w:after="20"/></w:pPr><w:r><w:rPr>{bold}<w:sz w:val="{size}"/>'
                       f'</w:rPr><w:t xml:space="preserve">{escape(line)}</w:t></w:r></w:p>')
        out.append("</w:tc>")
    out.append("</w:tr>")
    return "".join(out)


def _fixed_layout(table) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    table._tbl.tblPr.append(layout)


def _caption(document, label: str, number: int, text: str, keep_with_next: bool = False) -> None:
    """'Table 3: …' in the Caption style, the number a SEQ field Word can renumber."""
    paragraph = _paragraph(document, style="Caption")
    paragraph.paragraph_format.keep_with_next = keep_with_next
    paragraph.add_run(f"{label} ")
    _field_runs(paragraph, f"SEQ {label} \\* ARABIC", str(number))
    paragraph.add_run(f": {text}")


def _field_runs(paragraph, instruction: str, shown: str) -> None:
    """A complex field (begin, instruction, separate, cached result, end) in ``paragraph``."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def char(kind: str):
        run = paragraph.add_run()
        element = OxmlElement("w:fldChar")
        element.set(qn("w:fldCharType"), kind)
        run._r.append(element)

    char("begin")
    run = paragraph.add_run()
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run._r.append(instr)
    char("separate")
    paragraph.add_run(shown)
    char("end")
