"""Verbs that write the last mile: ``matrix`` (framework matrix and crosstabs) and ``report``."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..errors import InputError
from .lazy import Lazy, Project

Filters = Lazy("qualcode.matrices", "Filters")
export_matrix = Lazy("qualcode.matrices", "export_matrix")
build_report = Lazy("qualcode.report", "build_report")
report_files = Lazy("qualcode.report", "report_files")
COUNTS = ("segments", "documents", "participants")  # qualcode.matrices.COUNTS (tested)
from .app import app
from .location import ProjectArgument
from .output import JsonOption, emit, working


@app.command()
def matrix(
    project: str = ProjectArgument(),
    rows: str = typer.Option("case", "--rows", help="case (a case, else a participant, else a document), document, "
                             "or a document attribute (role, wave, site …)."),
    cols: str = typer.Option("code", "--cols", help="What the columns are: code (themes)."),
    level: Optional[int] = typer.Option(1, "--level", help="Code level used as columns (1 = top-level themes); 0 for every code."),
    status: str = typer.Option("accepted", "--status", help="Which codings count: accepted, suggested, rejected or any."),
    coder: Optional[str] = typer.Option(None, "--coder", help="Count one coder's codings only."),
    count: str = typer.Option("segments", "--count", help=f"Crosstab cells: {', '.join(COUNTS)}."),
    out: Path = typer.Option(..., "--out", help="FILE.xlsx (every table) or FILE.csv (the framework matrix)."),
    attribute: List[str] = typer.Option([], "--attribute", help="Attributes shown beside each case or participant "
                                        "(repeatable, e.g. --attribute role --attribute wave); default: all that "
                                        "describe a row."),
    as_json: bool = JsonOption,
) -> None:
    """Write the framework matrix (one row per case or participant, their attributes, a column per theme
    with the summary and where the evidence is), crosstabs, frequencies and co-occurrence to Excel or CSV."""
    if cols != "code":
        raise InputError("--cols", f"columns {cols!r} are not supported", "use --cols code (themes as columns)")
    filters = Filters(status=None if status == "any" else status, coder=coder, level=level or None)
    with working("writing the matrix", enabled=not as_json), Project.open(project) as p:
        result = export_matrix(p, out, rows=rows, filters=filters, count=count, attributes=attribute or None)
    if as_json:
        emit(result, True)
        return
    result.pop("matrix")  # text cells read in the workbook; the terminal shows how many codings each cell holds
    counts = result.pop("counts")
    emit({k: (", ".join(v) if isinstance(v, list) else v) for k, v in result.items()}, False)
    typer.echo("")
    emit(counts, False, title=f"Codings per cell (summaries and references: {result['file']})")


@app.command()
def report(
    project: str = ProjectArgument(),
    toc: Optional[Path] = typer.Option(None, "--toc", help="The theory of change (YAML) to judge the evidence against."),
    out: Path = typer.Option(..., "--out", help="The Word report to write, e.g. report.docx."),
    html: Optional[Path] = typer.Option(None, "--html", help="Also write the report as one HTML page."),
    pdf: Optional[Path] = typer.Option(None, "--pdf", help="Also write it as PDF, laid out by LibreOffice (needed); "
                                       "the .docx's contents then shows the same page numbers."),
    codebook: List[Path] = typer.Option([], "--codebook", help="Codebook YAML(s) for the appendix (repeatable)."),
    coders: List[str] = typer.Option([], "--coders", help="Two or more coders for the agreement table: --coders A B."),
    template: Optional[Path] = typer.Option(None, "--template", help="Your copy of qualcode/templates/report.yaml."),
    level: int = typer.Option(1, "--level", help="Code level reported as themes (1 = top level)."),
    allow_names: bool = typer.Option(False, "--allow-names", help="Write it even if the name check finds names in "
                                     "an unpseudonymised project; the first page then says so."),
    as_json: bool = JsonOption,
    extra_coders: List[str] = typer.Argument(None, hidden=True),
) -> None:
    """Write the evidence report (.docx, and .html with --html, .pdf with --pdf) from the project."""
    if out.suffix.lower() != ".docx":
        raise InputError(str(out), "the report is written as Word", "name the --out file .docx (add --html for HTML)")
    if pdf is not None and pdf.suffix.lower() != ".pdf":
        raise InputError(str(pdf), "--pdf names the PDF to write", "name the --pdf file .pdf")
    names = [*coders, *(extra_coders or [])]
    with working("writing the report", enabled=not as_json) as tick, Project.open(project) as p:
        built = build_report(p, toc=toc, codebooks=codebook, coders=names, template=template, level=level,
                             allow_names=allow_names, progress=tick)
        tick("writing the files (and laying out the PDF with LibreOffice)" if pdf else "writing the files")
        summary = report_files(built, out, html, pdf)
    if as_json:
        emit(summary, True)
        return
    emit({k: ("; ".join(v) if isinstance(v, list) else v) for k, v in summary.items()}, False)
