"""The evidence report: built once as a model from the project, rendered to Word and HTML.

``build_report`` computes every table, quote and figure from the store (through
``matrices``, ``quotes``, ``evidence``, ``survey`` and ``agreement``) into a ``Report``:
a list of sections holding paragraphs, numbered tables, quotes and numbered figures.
``Report.to_docx`` writes native Word tables, Heading 1/2 styles, a table-of-contents
field and captions numbered with Word SEQ fields; ``Report.to_html`` writes the same
model as one self-contained page (``_repr_html_`` shows it in Jupyter).

Section titles, intros and order come from a YAML template the user can copy and edit
(``templates/report.yaml``). A section whose input is absent (no theory of change, no
second coder, no survey) is left out, and the "About" section says so in one line.

>>> report = build_report(project, toc=load_toc("toc.yaml"), coders=["alex", "sam"])  # doctest: +SKIP
>>> report.to_docx("out/report.docx"); report.to_html("out/report.html")               # doctest: +SKIP
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import pandas as pd
import yaml

from . import matrices
from .errors import InputError
from .matrices import Filters
from .project import Project
from .quotes import Quote, QuotePool, QuoteRules

SECTION_KEYS = ("about", "contents", "sample", "evidence", "impacts", "themes", "survey", "agreement",
                "figures", "codebook")
FIGURE_WIDTH_CM = 16.0


# -- the template -----------------------------------------------------------------


@dataclass
class Template:
    """Titles, intros, order and quote rules of the report, read from YAML."""

    title: str
    subtitle: str
    sections: dict[str, dict[str, str]]  # key -> {title, intro}, in report order
    rules: QuoteRules
    per_outcome: int
    table_style: str = "Light Grid Accent 1"
    docx_template: str | None = None
    path: str = "<default>"


def load_template(path: str | Path | None = None) -> Template:
    """Read a report template (the shipped one when ``path`` is None), checking its keys.

    >>> load_template().sections["themes"]["title"]
    'Findings by theme'
    """
    if path is None:
        text, where = resources.files("qualcode").joinpath("templates/report.yaml").read_text("utf-8"), "report.yaml"
    else:
        path = Path(path)
        if not path.exists():
            raise InputError(str(path), "no such report template", "check the path, or copy qualcode/templates/report.yaml")
        text, where = path.read_text("utf-8"), str(path)
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(where, f"not valid YAML ({getattr(exc, 'problem', exc)})",
                         "fix the indentation or quoting there", f"line {mark.line + 1}" if mark else None) from exc
    if not isinstance(data, dict):
        raise InputError(where, "the template must be a mapping of keys", "start from qualcode/templates/report.yaml")
    sections = data.get("sections") or {}
    if not isinstance(sections, dict):
        raise InputError(where, "`sections` must be a mapping of section keys", "write `sections:` then `themes:` …")
    unknown = [k for k in sections if k not in SECTION_KEYS]
    if unknown:
        raise InputError(where, f"unknown section {unknown[0]!r} under `sections`",
                         f"use one of: {', '.join(SECTION_KEYS)}")
    for key, value in sections.items():
        if not isinstance(value, dict) or not value.get("title"):
            raise InputError(where, f"section {key!r} needs a `title`", f"write `{key}:` then `title: …` and `intro: …`")
    quotes = data.get("quotes") or {}
    rule_fields = {"per_theme": "per_code", "max_chars": "max_chars", "min_words": "min_words", "gap": "gap"}
    bad = [k for k in quotes if k not in (*rule_fields, "per_outcome")]
    if bad:
        raise InputError(where, f"unknown quote setting {bad[0]!r}",
                         f"use: {', '.join([*rule_fields, 'per_outcome'])}")
    try:
        rules = QuoteRules(**{rule_fields[k]: int(v) for k, v in quotes.items() if k in rule_fields})
        per_outcome = int(quotes.get("per_outcome", 3))
    except (TypeError, ValueError) as exc:
        raise InputError(where, f"a quote setting is not a whole number ({exc})", "write numbers such as 3 or 300") from exc
    return Template(
        title=str(data.get("title") or "Evaluation report"), subtitle=str(data.get("subtitle") or ""),
        sections={k: {"title": str(v["title"]), "intro": str(v.get("intro") or "")} for k, v in sections.items()},
        rules=rules, per_outcome=per_outcome, table_style=str(data.get("table_style") or "Table Grid"),
        docx_template=data.get("docx_template") or None, path=where,
    )


# -- the report model -------------------------------------------------------------


@dataclass
class Paragraph:
    text: str
    style: str = "Normal"  # Normal | List Bullet | Note


@dataclass
class Heading:
    text: str
    level: int = 2


@dataclass
class Table:
    """A native table with a numbered caption; cells are text, ``\\n`` starts a new line."""

    number: int
    caption: str
    frame: pd.DataFrame


@dataclass
class Figure:
    number: int
    caption: str
    png: bytes


@dataclass
class QuoteBlock:
    quote: Quote


@dataclass
class Contents:
    """Where the table of contents goes (a TOC field in Word, links in HTML)."""


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
    quotes: list[Quote]  # every quote used, for tracing back to codings
    table_style: str = "Table Grid"
    docx_template: str | None = None

    def tables(self) -> list[Table]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Table)]

    def figures(self) -> list[Figure]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Figure)]

    def to_docx(self, path: str | Path) -> Path:
        return render_docx(self, path)

    def to_html(self, path: str | Path | None = None) -> str:
        page = render_html(self)
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
        return page

    def _repr_html_(self) -> str:
        return render_html(self, full_page=False)


class _Numbers:
    """Hands out table and figure numbers in the order they appear."""

    def __init__(self) -> None:
        self.tables = 0
        self.figures = 0

    def table(self, caption: str, frame: pd.DataFrame) -> Table:
        self.tables += 1
        return Table(self.tables, caption, _as_text(frame))

    def figure(self, caption: str, png: bytes) -> Figure:
        self.figures += 1
        return Figure(self.figures, caption, png)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    def cell(value: Any) -> str:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return ""
        if isinstance(value, float) and value.is_integer():
            return f"{int(value):,}"
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{value:,}"
        return str(value)

    frame = frame.reset_index(drop=not frame.index.name) if frame.index.name else frame
    return pd.DataFrame({str(c): [cell(v) for v in frame[c]] for c in frame.columns}, columns=[str(c) for c in frame.columns])


# -- building ---------------------------------------------------------------------


@dataclass
class _Inputs:
    project: Project
    template: Template
    filters: Filters
    pool: QuotePool
    toc: Any = None
    codebooks: list = field(default_factory=list)
    coders: list[str] = field(default_factory=list)
    evidence: Any = None
    segments: pd.DataFrame | None = None  # coded_segments, read once for every table and figure
    numbers: _Numbers = field(default_factory=_Numbers)
    omitted: list[str] = field(default_factory=list)
    table_quotes: list[Quote] = field(default_factory=list)  # quotes inside table cells


def build_report(project: Project, toc: Any = None, codebooks: Sequence[Any] = (),
                 coders: Sequence[str] | None = None, template: Template | str | Path | None = None,
                 level: int = 1, status: str = "accepted") -> Report:
    """Compute the whole report from the project: tables, quotes and figures.

    ``toc``: a loaded ``TheoryOfChange`` (or a path to one); ``codebooks``: loaded
    ``Codebook`` records or paths, for the appendix; ``coders``: two or more coder
    names for the agreement table; ``level``: the code level treated as themes.
    """
    template = template if isinstance(template, Template) else load_template(template)
    toc = _load_toc(toc, codebooks)
    codebooks = [_load_codebook(cb) for cb in codebooks]
    inputs = _Inputs(project, template, Filters(status=status, level=level), QuotePool(project, template.rules, status),
                     toc=toc, codebooks=codebooks, coders=list(coders or []))
    inputs.segments = matrices.coded_segments(project, inputs.filters)
    if toc is not None:
        from .evidence import evidence

        inputs.evidence = evidence(project, toc, statuses=(status,), codebooks=codebooks)
    sections = []
    for key, spec in template.sections.items():
        section = Section(key, spec["title"])
        if spec["intro"] and key != "about":
            section.blocks.append(Paragraph(spec["intro"]))
        produced = _BUILDERS[key](inputs, section)
        if produced:
            sections.append(section)
    about = next((s for s in sections if s.key == "about"), None)
    if about is not None:
        about.blocks.extend(Paragraph(line, "List Bullet") for line in inputs.omitted)
    quotes = [b.quote for s in sections for b in s.blocks if isinstance(b, QuoteBlock)]
    quotes += inputs.table_quotes
    return Report(template.title, template.subtitle, sections, inputs.omitted, quotes,
                  template.table_style, template.docx_template)


def _load_toc(toc: Any, codebooks: Sequence[Any]) -> Any:
    if toc is None or not isinstance(toc, (str, Path)):
        return toc
    from .toc import load_toc

    return load_toc(toc)


def _load_codebook(codebook: Any) -> Any:
    if not isinstance(codebook, (str, Path)):
        return codebook
    from .codebook import load_codebook

    return load_codebook(codebook)


def _about(inputs: _Inputs, section: Section) -> bool:
    project, filters, rules = inputs.project, inputs.filters, inputs.template.rules
    intro = inputs.template.sections["about"]["intro"]
    if intro:
        section.blocks.append(Paragraph(intro))
    versions = matrices.codebook_versions(project)
    books = ", ".join(f"{n} version {v}" for n, v in zip(versions["name"], versions["version"])) or "none recorded"
    facts = [
        f"Project: {Path(project.location).name}; codings counted: {filters.status}; themes are codes at "
        f"level {filters.level} of the codebook.",
        f"Codebooks: {books}."
        + (f" Theory of change: {inputs.toc.name}" + (f" version {inputs.toc.version}." if inputs.toc.version else ".")
           if inputs.toc is not None else ""),
        f"Quote rules: up to {rules.per_code} per theme, at least {rules.min_words} words, none from an "
        f"interviewer's turn, spread across roles and waves, shortest first, no two within {rules.gap} "
        f"characters of each other in one document, trimmed to {rules.max_chars} characters; the researcher's "
        "pins and exclusions override them.",
    ]
    section.blocks.extend(Paragraph(f) for f in facts)
    return True


def _contents(inputs: _Inputs, section: Section) -> bool:
    section.blocks.append(Contents())
    return True


def _sample(inputs: _Inputs, section: Section) -> bool:
    """Interviews by role and wave (the achieved sample), then other sources by type and wave."""
    documents = inputs.project.documents()
    if documents.empty:
        inputs.omitted.append(f"{section.title}: left out — the project holds no documents.")
        return False
    is_interview = documents["source_type"].astype(str).str.endswith("interview")
    interviews = documents[is_interview] if is_interview.any() else documents
    rows = "role" if "role" in interviews and interviews["role"].notna().any() else "source_type"
    label = "role" if rows == "role" else "source type"
    what = "interviews" if is_interview.any() else "documents"
    section.blocks.append(inputs.numbers.table(f"Achieved sample: {what} by {label} and wave",
                                               achieved_sample(interviews, rows)))
    others = documents[~is_interview]
    if is_interview.any() and not others.empty:
        section.blocks.append(inputs.numbers.table("Other sources: documents by source type and wave",
                                                   achieved_sample(others, "source_type")))
    return True


def achieved_sample(documents: pd.DataFrame, rows: str = "role", columns: str = "wave") -> pd.DataFrame:
    """Documents by ``rows`` × ``columns`` (role × wave), with totals; blanks as not recorded.

    >>> achieved_sample(project.documents())    # doctest: +SKIP
    """
    frame = documents.copy()
    for column in (rows, columns):
        if column not in frame:
            frame[column] = None
        frame[column] = frame[column].fillna(matrices.MISSING).astype(str)
    frame[columns] = frame[columns].map(_wave_label)
    table = pd.crosstab(frame[rows], frame[columns], margins=True, margins_name=matrices.TOTAL)
    order = sorted((c for c in table.columns if c != matrices.TOTAL), key=matrices._natural) + [matrices.TOTAL]
    index = sorted((r for r in table.index if r != matrices.TOTAL), key=matrices._natural) + [matrices.TOTAL]
    table = table.reindex(index=index, columns=order)
    table.index = [_role_label(r) for r in table.index]
    table.index.name = "Role" if rows == "role" else rows.replace("_", " ").capitalize()
    table.columns.name = None
    return table.reset_index()


def _wave_label(value: str) -> str:
    from .quotes import _wave

    return _wave(value) or value if value != matrices.MISSING else value


def _role_label(value: str) -> str:
    return value.title() if value.islower() and value != matrices.MISSING else value


def _evidence(inputs: _Inputs, section: Section) -> bool:
    if inputs.evidence is None:
        inputs.omitted.append(f"{section.title}: left out — no theory of change given (--toc TOC.yaml).")
        return False
    summary = inputs.evidence.summary
    outcomes = summary[summary["kind"] == "outcome"]
    if outcomes.empty:
        inputs.omitted.append(f"{section.title}: left out — the theory of change has no outcomes.")
        return False
    rows, used = [], []
    for row in outcomes.itertuples():
        chosen = inputs.pool.select(row.codes, n=inputs.template.per_outcome).quotes
        used.extend(chosen)
        rows.append({
            "Outcome": row.name,
            "Assessment": _assessment(row),
            "Sources": _sources(row),
            "Illustrative quotes": "\n".join(q.formatted() for q in chosen) or "No quotable coded segment.",
        })
    inputs.table_quotes.extend(used)
    name = inputs.toc.name
    section.blocks.append(inputs.numbers.table(f"Evidence for each outcome of the theory of change ({name})",
                                               pd.DataFrame(rows)))
    return True


def _assessment(row: Any) -> str:
    lines = [f"Strength: {row.strength} ({row.reason})"]
    if row.segments:
        lines.append(f"Direction: {row.direction}")
    lines += [f"Indicator: {j}" for j in row.indicators] or ["Indicator: none in the theory of change"]
    return "\n".join(lines)


def _sources(row: Any) -> str:
    if not row.segments and not row.survey_items:
        return "No coded evidence."
    kinds = "; ".join(f"{kind}: {n}" for kind, n in row.source_types.items())
    by_wave: dict[str, int] = {}
    for wave, n in row.by_wave.items():  # '2' and 'Wave 2' are one wave
        label = _wave_label(str(wave))
        by_wave[label] = by_wave.get(label, 0) + int(n)
    waves = "; ".join(f"{w}: {n}" for w, n in by_wave.items())
    lines = [f"{row.segments} segments in {row.documents} documents from {row.participants} participants"]
    if kinds:
        lines.append(f"By source: {kinds}")
    if waves:
        lines.append(f"By wave: {waves}")
    return "\n".join(lines)


def _impacts(inputs: _Inputs, section: Section) -> bool:
    if inputs.evidence is None:
        inputs.omitted.append(f"{section.title}: left out — no theory of change given (--toc TOC.yaml).")
        return False
    summary = inputs.evidence.summary
    impacts = summary[summary["kind"] == "impact"]
    if impacts.empty:
        inputs.omitted.append(f"{section.title}: left out — the theory of change lists no impacts.")
        return False
    rows = [{
        "Planned impact": row.name,
        "Judgement": "\n".join(row.indicators) or "No indicator: judged on the qualitative evidence only.",
        "Evidence": f"Strength: {row.strength} ({row.reason})\n{_sources(row)}",
    } for row in impacts.itertuples()]
    section.blocks.append(inputs.numbers.table("Planned impacts: judgement and evidence", pd.DataFrame(rows)))
    return True


def _themes(inputs: _Inputs, section: Section) -> bool:
    project, filters = inputs.project, inputs.filters
    frequencies = matrices.code_frequencies(project, filters, segments=inputs.segments)
    if frequencies.empty:
        inputs.omitted.append(f"{section.title}: left out — the project has no codes (load a codebook).")
        return False
    codes = project.codes(include_retired=True)
    definitions = dict(zip(codes["key"], codes["definition"]))
    members = _members(codes, filters.level)
    by_source = matrices.crosstab(project, "source_type", "segments", filters, segments=inputs.segments).set_index("code")
    summaries = matrices.framework_summaries(project)
    table = frequencies[["name", "segments", "documents", "participants"]].rename(columns={
        "name": "Theme", "segments": "Coded segments", "documents": "Documents", "participants": "Participants"})
    section.blocks.append(inputs.numbers.table("Themes: coded segments, documents and participants", table))
    for row in frequencies.itertuples():
        section.blocks.append(Heading(row.name, 2))
        if definitions.get(row.code):
            section.blocks.append(Paragraph(f"Definition: {definitions[row.code]}"))
        section.blocks.append(Paragraph(_theme_counts(row, by_source.loc[row.code] if row.code in by_source.index else None)))
        own = summaries[summaries["code"] == row.code]
        for case, text in zip(own["case"], own["text"]):
            section.blocks.append(Paragraph(f"{case}: {text}", "List Bullet"))
        if row.segments:
            selection = inputs.pool.select(members.get(row.code, [row.code]))
            section.blocks.extend(QuoteBlock(q) for q in selection.quotes)
    return True


def _theme_counts(row: Any, by_source: pd.Series | None) -> str:
    if not row.segments:
        return "Not coded in any document."
    text = (f"Coded {row.segments} times in {row.documents} documents "
            f"from {row.participants} participants")
    if by_source is not None:
        parts = [f"{kind} {int(n)}" for kind, n in by_source.items()
                 if kind not in ("name", matrices.TOTAL) and int(n)]
        if parts:
            text += f" ({', '.join(parts)})"
    return text + "."


def _members(codes: pd.DataFrame, level: int | None) -> dict[str, list[str]]:
    """Theme key -> every code key rolled up into it (itself included)."""
    out: dict[str, list[str]] = {}
    for key, theme in matrices.theme_of(codes, level).items():
        out.setdefault(theme, []).append(key)
    return out


def _survey(inputs: _Inputs, section: Section) -> bool:
    from .survey import likert_table, survey_items_frame

    items = survey_items_frame(inputs.project)
    if items.empty:
        inputs.omitted.append(f"{section.title}: left out — no survey imported.")
        return False
    for survey in dict.fromkeys(items["survey"]):
        table = likert_table(inputs.project, survey=survey).drop(columns=["item"])
        section.blocks.append(inputs.numbers.table(f"Survey: {survey}, responses by wave", table))
    return True


def _agreement(inputs: _Inputs, section: Section) -> bool:
    if len(inputs.coders) < 2:
        inputs.omitted.append(f"{section.title}: left out — no second coder named (--coders A B).")
        return False
    from .agreement import agreement

    result = agreement(inputs.project, inputs.coders)
    caption = f"Agreement between {' and '.join(inputs.coders)} by code ({result.unit_label})"
    section.blocks.append(inputs.numbers.table(caption, result.table_for_report()))
    return True


def _figures(inputs: _Inputs, section: Section) -> bool:
    from .report_figures import frequency_figure, heatmap_figure

    project, filters = inputs.project, inputs.filters
    by_source = matrices.crosstab(project, "source_type", "segments", filters, segments=inputs.segments)
    if by_source.loc[by_source["code"] == matrices.TOTAL, matrices.TOTAL].iloc[0] == 0:
        inputs.omitted.append(f"{section.title}: left out — no {filters.status} codings to draw.")
        return False
    section.blocks.append(inputs.numbers.figure("Coded segments per theme, by source type", frequency_figure(by_source)))
    overlap = matrices.cooccurrence(project, filters, segments=inputs.segments)
    section.blocks.append(inputs.numbers.figure(
        "Co-occurrence of themes: overlapping coded segments (diagonal: each theme's own count)",
        heatmap_figure(overlap)))
    toc_png = _toc_figure(inputs)
    if toc_png is not None:
        section.blocks.append(inputs.numbers.figure(f"Theory of change: {inputs.toc.name}", toc_png))
    return True


def _toc_figure(inputs: _Inputs) -> bytes | None:
    """The ToC diagram shaded by evidence strength, when a theory of change was given."""
    if inputs.toc is None:
        return None
    import tempfile

    from .toc_figure import draw_toc

    with tempfile.TemporaryDirectory() as tmp:
        return draw_toc(inputs.toc, inputs.evidence, Path(tmp) / "toc.png").read_bytes()


def _codebook(inputs: _Inputs, section: Section) -> bool:
    if inputs.codebooks:
        for book in inputs.codebooks:
            caption = f"Codebook: {book.name}, version {book.version}"
            section.blocks.append(inputs.numbers.table(caption, codebook_table(book)))
        return True
    codes = inputs.project.codes()
    if codes.empty:
        inputs.omitted.append(f"{section.title}: left out — the project has no codes.")
        return False
    depths = matrices.code_depths(codes)
    table = pd.DataFrame({
        "Code": ["\u2003" * (depths[k] - 1) + n for k, n in zip(codes["key"], codes["name"])],
        "Definition": codes["definition"].fillna(""),
    })
    section.blocks.append(inputs.numbers.table("Codebook: the project's codes and definitions", table))
    return True


def codebook_table(codebook: Any) -> pd.DataFrame:
    """A loaded codebook as an outline table: Code (indented), Definition, Include, Exclude."""
    rows = []

    def walk(parent: str | None) -> None:
        for code in codebook.children(parent):
            rows.append({"Code": "\u2003" * codebook.depth(code.id) + code.name, "Definition": code.definition,
                         "Include": "\n".join(code.include), "Exclude": "\n".join(code.exclude)})
            walk(code.id)

    walk(None)
    return pd.DataFrame(rows, columns=["Code", "Definition", "Include", "Exclude"])


_BUILDERS = {
    "about": _about, "contents": _contents, "sample": _sample, "evidence": _evidence, "impacts": _impacts,
    "themes": _themes, "survey": _survey, "agreement": _agreement, "figures": _figures, "codebook": _codebook,
}


# -- Word --------------------------------------------------------------------------


def render_docx(report: Report, path: str | Path) -> Path:
    """Write the report as .docx: headings, native tables, SEQ-numbered captions, a TOC field."""
    from docx import Document

    path = Path(path)
    if not path.parent.exists():
        raise InputError(str(path), f"folder {path.parent} does not exist", "create it first or choose another path")
    document = Document(report.docx_template) if report.docx_template else Document()
    _update_fields_on_open(document)
    document.add_heading(report.title, level=0)
    if report.subtitle:
        document.add_paragraph(report.subtitle, style=_style(document, "Subtitle"))
    for section in report.sections:
        document.add_heading(section.title, level=1)
        for block in section.blocks:
            _docx_block(document, block, report.table_style)
    document.save(str(path))
    return path


def _docx_block(document, block: Block, table_style: str) -> None:
    from docx.shared import Cm

    if isinstance(block, Heading):
        document.add_heading(block.text, level=block.level)
    elif isinstance(block, Paragraph):
        document.add_paragraph(block.text, style=_style(document, block.style))
    elif isinstance(block, Contents):
        _field_paragraph(document, 'TOC \\o "1-2" \\h \\z \\u',
                         "Right-click and choose Update Field to build the table of contents.")
    elif isinstance(block, QuoteBlock):
        paragraph = document.add_paragraph(style=_style(document, "Quote"))
        paragraph.add_run(f"'{block.quote.shown}'")
        paragraph.add_run(f" ({block.quote.attribution})").italic = False
    elif isinstance(block, Table):
        _caption(document, "Table", block.number, block.caption)
        _docx_table(document, block.frame, table_style)
    elif isinstance(block, Figure):
        document.add_picture(io.BytesIO(block.png), width=Cm(FIGURE_WIDTH_CM))
        _caption(document, "Figure", block.number, block.caption)


def _style(document, name: str) -> str:
    """The style if the document defines it, else Normal (user templates may lack some)."""
    names = {s.name for s in document.styles}
    return name if name in names else "Normal"


def _docx_table(document, frame: pd.DataFrame, table_style: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    table = document.add_table(rows=1, cols=len(frame.columns))
    table.style = table_style if table_style in {s.name for s in document.styles} else "Table Grid"
    for cell, title in zip(table.rows[0].cells, frame.columns):
        cell.paragraphs[0].add_run(str(title)).bold = True
    header = table.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")  # the header row repeats on every page
    repeat.set(qn("w:val"), "true")
    header.append(repeat)
    for values in frame.itertuples(index=False):
        cells = table.add_row().cells
        for cell, value in zip(cells, values):
            lines = str(value).split("\n")
            cell.text = lines[0]
            for line in lines[1:]:
                cell.add_paragraph(line)
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(9)


def _caption(document, label: str, number: int, text: str) -> None:
    """'Table 3: …' in the Caption style, the number a SEQ field Word can renumber."""
    paragraph = document.add_paragraph(style=_style(document, "Caption"))
    paragraph.add_run(f"{label} ")
    _field_runs(paragraph, f"SEQ {label} \\* ARABIC", str(number))
    paragraph.add_run(f": {text}")


def _field_paragraph(document, instruction: str, placeholder: str) -> None:
    _field_runs(document.add_paragraph(), instruction, placeholder)


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


def _update_fields_on_open(document) -> None:
    """Ask Word to refresh fields (the TOC, caption numbers) when the file is opened."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    settings = document.settings.element
    if settings.find(qn("w:updateFields")) is None:
        update = OxmlElement("w:updateFields")
        update.set(qn("w:val"), "true")
        settings.append(update)


# -- HTML --------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;line-height:1.45;color:#222}
.qc-report table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.9rem}
.qc-report th,.qc-report td{border:1px solid #bbb;padding:.3rem .5rem;vertical-align:top;text-align:left}
.qc-report th{background:#eef2f7}
.qc-report .caption{font-weight:600;font-size:.9rem;margin-bottom:.2rem}
.qc-report blockquote{margin:.6rem 1.5rem;font-style:italic;color:#333}
.qc-report blockquote cite{font-style:normal;color:#555}
.qc-report img{max-width:100%}
"""


def render_html(report: Report, full_page: bool = True) -> str:
    """The report as HTML: one self-contained page (figures inlined as data URIs)."""
    e = html.escape
    parts = [f'<div class="qc-report"><h1>{e(report.title)}</h1>']
    if report.subtitle:
        parts.append(f"<p><em>{e(report.subtitle)}</em></p>")
    for i, section in enumerate(report.sections):
        parts.append(f'<h2 id="s{i}">{e(section.title)}</h2>')
        for block in section.blocks:
            parts.append(_html_block(block, report))
    parts.append("</div>")
    body = "\n".join(parts)
    if not full_page:
        return f"<style>{_CSS}</style>{body}"
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{e(report.title)}</title>'
            f"<style>{_CSS}</style></head><body>\n{body}\n</body></html>\n")


def _html_block(block: Block, report: Report) -> str:
    e = html.escape
    if isinstance(block, Heading):
        return f"<h3>{e(block.text)}</h3>"
    if isinstance(block, Paragraph):
        return f"<ul><li>{e(block.text)}</li></ul>" if block.style == "List Bullet" else f"<p>{e(block.text)}</p>"
    if isinstance(block, Contents):
        links = "".join(f'<li><a href="#s{i}">{e(s.title)}</a></li>' for i, s in enumerate(report.sections))
        return f"<ol>{links}</ol>"
    if isinstance(block, QuoteBlock):
        q = block.quote
        return f"<blockquote>'{e(q.shown)}' <cite>({e(q.attribution)})</cite></blockquote>"
    if isinstance(block, Table):
        head = "".join(f"<th>{e(c)}</th>" for c in block.frame.columns)
        rows = "".join("<tr>" + "".join(f"<td>{_html_cell(v)}</td>" for v in values) + "</tr>"
                       for values in block.frame.itertuples(index=False))
        return (f'<p class="caption">Table {block.number}: {e(block.caption)}</p>'
                f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    if isinstance(block, Figure):
        data = base64.b64encode(block.png).decode("ascii")
        return (f'<figure><img alt="{e(block.caption)}" src="data:image/png;base64,{data}">'
                f'<figcaption class="caption">Figure {block.number}: {e(block.caption)}</figcaption></figure>')
    raise TypeError(f"unknown report block {type(block).__name__}")


def _html_cell(value: str) -> str:
    return "<br>".join(html.escape(line) for line in str(value).split("\n"))


def report_files(report: Report, docx: str | Path, html_path: str | Path | None = None) -> dict[str, Any]:
    """Write the .docx (and .html) and say what went in: what the CLI prints."""
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
    }
