"""Codebooks in and out of other formats: spreadsheets in; Word and Markdown out; ``convert``.

Most teams keep their codebook in a spreadsheet or a Word table today. We read a
CSV/XLSX with one row per code (columns ``name``, ``parent``, ``definition``, and
optionally ``id``, ``include``, ``exclude``, ``examples``, ``keywords``, ``colour``,
``kind``, ``outcomes``; lists separated by ``;``) and write the codebook as a Word
table or Markdown for a report appendix. ``convert(source, target)`` picks the reader
and writer from the file extensions; adding a format is adding one entry to
``READERS`` or ``WRITERS``.

>>> convert("codebooks/signs_of_safety.yaml", "out/sos.docx")     # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pandas as pd

from .codebook import Code, Codebook, ChangeEntry, load_codebook, validate
from .problems import Problem
from .errors import CodebookError, ValidationProblems
from .refi.codebook import read_refi, slugify, unique_id, write_qdc

REQUIRED_COLUMNS = ("name", "parent", "definition")
LIST_COLUMNS = ("include", "exclude", "examples", "keywords", "outcomes")
OPTIONAL_COLUMNS = ("id", "colour", "kind") + LIST_COLUMNS
COLUMN_ALIASES = {"color": "colour", "code": "name", "code name": "name", "theme": "parent",
                  "description": "definition", "example": "examples", "keyword": "keywords"}


# -- spreadsheets in ------------------------------------------------------------


def read_spreadsheet(path: str | Path) -> Codebook:
    """A codebook from a CSV or XLSX table, one row per code; parents named by name or id.

    Ids are slugified from names when the ``id`` column is absent or blank (made unique
    with ``_2``, ``_3``); problems are reported with the spreadsheet row number.
    """
    path = Path(path)
    frame = _read_table(path)
    frame.columns = [COLUMN_ALIASES.get(str(c).strip().lower(), str(c).strip().lower()) for c in frame.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise CodebookError(str(path), f"no column {', '.join(repr(m) for m in missing)} "
                            f"(columns found: {', '.join(map(str, frame.columns))})",
                            "name the header cells name, parent and definition (parent may be empty)",
                            where="1")
    problems: list[Problem] = []
    rows = [_row(frame.iloc[i], i + 2) for i in range(len(frame))]  # row 1 is the header
    rows = [r for r in rows if r["name"]]
    taken: set[str] = set()
    for row in rows:
        row["id"] = unique_id(row["id"] or slugify(row["name"]), taken)
    by_name = {r["name"].lower(): r["id"] for r in rows}
    ids = {r["id"] for r in rows}
    codes, lines = [], {}
    for row in rows:
        parent = row["parent"]
        parent_id = parent if parent in ids else by_name.get(parent.lower()) if parent else None
        if parent and parent_id is None:
            problems.append(Problem(str(path), row["line"], f"code '{row['name']}' names unknown parent '{parent}'",
                                    "write the parent's name exactly as in its own row, or leave the cell empty"))
        try:
            codes.append(Code(id=row["id"], name=row["name"], parent=parent_id, definition=row["definition"],
                              include=row["include"], exclude=row["exclude"], examples=row["examples"],
                              colour=row["colour"] or None, kind=row["kind"] or "topic", outcomes=row["outcomes"],
                              match={"keywords": row["keywords"]}))
            lines[("codes", len(codes) - 1)] = row["line"]
        except ValueError as exc:
            first = str(exc).splitlines()
            problems.append(Problem(str(path), row["line"], f"code '{row['name']}': {' '.join(first[1:3]).strip()}",
                                    "colour as #RRGGBB, kind as topic or cross-cutting, id without spaces"))
    codebook = Codebook(id=slugify(path.stem), name=path.stem.replace("_", " "), version="1.0",
                        changelog=[ChangeEntry(version="1.0", changes=[f"Imported from {path.name}."])],
                        codes=codes)
    codebook._file = str(path)
    codebook._lines = lines
    codebook._code_paths = {i: ("codes", i) for i in range(len(codes))}
    problems += validate(codebook)
    if problems:
        raise ValidationProblems(str(path), sorted(problems, key=lambda p: p.line or 0))
    return codebook


def _read_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if not path.exists():
        raise CodebookError(str(path), "no such file", "check the path")
    try:
        if suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        from .safezip import check_zip

        check_zip(path.read_bytes(), path)
        return pd.read_excel(path, dtype=str, keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
        raise CodebookError(str(path), f"cannot read the table ({str(exc).splitlines()[0]})",
                            "save it as UTF-8 CSV or as .xlsx with one header row") from None


def _row(series: pd.Series, line: int) -> dict:
    def text(column: str) -> str:
        return str(series.get(column, "") or "").strip()

    row = {c: text(c) for c in REQUIRED_COLUMNS + ("id", "colour", "kind")}
    for column in LIST_COLUMNS:
        row[column] = [part.strip() for part in text(column).split(";") if part.strip()]
    row["line"] = line
    return row


# -- Word and Markdown out -------------------------------------------------------


def _examples(code: Code) -> str:
    return "\n".join(f"“{e}”" for e in code.examples[:2])


def write_docx(codebook: Codebook, path: str | Path) -> Path:
    """A Word document with the codebook as a native table, one row per code.

    Columns: Code, Definition, Include, Exclude, Example; children are indented under
    their parent and theme rows are bold, so the table reads as an outline.
    """
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    path = Path(path)
    document = Document()
    document.add_heading(f"{codebook.name} (version {codebook.version})", level=1)
    if codebook.description:
        document.add_paragraph(codebook.description)
    headers = ["Code", "Definition", "Include", "Exclude", "Example"]
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, title in zip(table.rows[0].cells, headers):
        cell.text = ""
        cell.paragraphs[0].add_run(title).bold = True
    header_props = table.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")  # repeat the header row on every page
    repeat.set(qn("w:val"), "true")
    header_props.append(repeat)
    for code in _outline(codebook):
        depth = codebook.depth(code.id)
        cells = table.add_row().cells
        name = cells[0].paragraphs[0]
        name.paragraph_format.left_indent = Cm(0.4 * depth)
        name.add_run(code.name).bold = bool(codebook.children(code.id))
        cells[1].text = code.definition
        cells[2].text = "\n".join(code.include)
        cells[3].text = "\n".join(code.exclude)
        cells[4].text = _examples(code)
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(9)
    document.add_paragraph(f"Table: codebook {codebook.id}, version {codebook.version}, "
                           f"{len(codebook.codes)} codes.", style="Caption")
    document.save(str(path))
    return path


def _outline(codebook: Codebook) -> list[Code]:
    """Codes depth-first (each parent followed by its children), the order of an outline."""
    out: list[Code] = []

    def walk(parent: str | None) -> None:
        for code in codebook.children(parent):
            out.append(code)
            walk(code.id)

    walk(None)
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def to_markdown(codebook: Codebook) -> str:
    """The codebook as Markdown: a heading, then a table per top-level theme.

    >>> print(to_markdown(Codebook(id="x", name="X", version="1", codes=[
    ...     Code(id="a", name="A", definition="Alpha.")])))   # doctest: +NORMALIZE_WHITESPACE
    # X (version 1)
    <BLANKLINE>
    | Code | Definition | Include | Exclude | Example |
    |---|---|---|---|---|
    | **A** | Alpha. |  |  |  |
    <BLANKLINE>
    """
    lines = [f"# {codebook.name} (version {codebook.version})", ""]
    if codebook.description:
        lines += [codebook.description.strip(), ""]
    header = ["| Code | Definition | Include | Exclude | Example |", "|---|---|---|---|---|"]
    roots = codebook.roots()
    themed = any(codebook.children(r.id) for r in roots)
    if not themed:
        lines += header
    for root in roots:
        group = [root] + [c for c in _outline(codebook) if c.id != root.id and _under(codebook, c, root.id)]
        if themed:
            lines += [f"## {root.name}", ""] + header
        for code in group:
            indent = "&nbsp;&nbsp;" * codebook.depth(code.id)
            name = f"**{code.name}**" if codebook.children(code.id) or not themed else code.name
            lines.append("| " + " | ".join([
                indent + _cell(name), _cell(code.definition), _cell("; ".join(code.include)),
                _cell("; ".join(code.exclude)), _cell(_examples(code))]) + " |")
        if themed:
            lines.append("")
    if not themed:
        lines.append("")
    return "\n".join(lines)


def _under(codebook: Codebook, code: Code, ancestor: str) -> bool:
    current = code.parent
    while current is not None:
        if current == ancestor:
            return True
        current = codebook.code(current).parent
    return False


def write_markdown(codebook: Codebook, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(to_markdown(codebook), encoding="utf-8")
    return path


def write_yaml(codebook: Codebook, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(codebook.to_yaml(), encoding="utf-8")
    return path


# -- the registry and convert ----------------------------------------------------

Reader = Callable[[Path, "Codebook | None"], Codebook]
Writer = Callable[[Codebook, Path], Path]

READERS: dict[str, Reader] = {
    ".yaml": lambda p, ref: load_codebook(p),
    ".yml": lambda p, ref: load_codebook(p),
    ".qdc": lambda p, ref: read_refi(p, ref),
    ".qdpx": lambda p, ref: read_refi(p, ref),
    ".csv": lambda p, ref: read_spreadsheet(p),
    ".xlsx": lambda p, ref: read_spreadsheet(p),
}

WRITERS: dict[str, Writer] = {
    ".yaml": write_yaml,
    ".yml": write_yaml,
    ".qdc": write_qdc,
    ".docx": write_docx,
    ".md": write_markdown,
}


def read_any(path: str | Path, reference: Codebook | None = None) -> Codebook:
    """A codebook from any supported file, chosen by extension."""
    path = Path(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise CodebookError(str(path), f"cannot read codebooks from '{path.suffix or 'no extension'}' files",
                            f"give one of {', '.join(sorted(READERS))}")
    return reader(path, reference)


def convert(source: str | Path, target: str | Path, reference: str | Path | None = None) -> dict:
    """Read ``source`` and write ``target``, formats chosen by extension.

    ``reference`` (a codebook YAML) restores what REFI files cannot carry (ids,
    criteria, keywords ...) when ``source`` is a .qdc/.qdpx. Returns a summary dict.
    """
    source, target = Path(source), Path(target)
    writer = WRITERS.get(target.suffix.lower())
    if writer is None:
        raise CodebookError(str(target), f"cannot write codebooks as '{target.suffix or 'no extension'}'",
                            f"give one of {', '.join(sorted(WRITERS))}")
    if not target.parent.exists():
        raise CodebookError(str(target), f"folder {target.parent} does not exist", "create it first")
    ref = load_codebook(reference) if reference else None
    codebook = read_any(source, ref)
    if codebook.origin:  # from another tool: say what it lacks (definitions), and go on
        codebook._file = str(source)
        validate(codebook)
    writer(codebook, target)
    return {"source": str(source), "target": str(target), "codebook": codebook.id,
            "version": codebook.version, "codes": len(codebook.codes), "terms": codebook.n_terms(),
            "warnings": [str(w) for w in codebook.warnings]}
