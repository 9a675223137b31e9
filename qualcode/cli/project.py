"""Verbs that make a project and bring documents into it: init, import, documents."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .lazy import Lazy, Project

import_paths = Lazy("qualcode.corpus", "import_paths")
from .app import app
from .location import ProjectArgument
from .output import ColumnsOption, JsonOption, LimitOption, emit


@app.command()
def init(project: str = ProjectArgument("The project to create: a new file such as eval.qc, or an empty PostgreSQL database's URL (postgresql://USER@HOST/DATABASE)."),
         as_json: bool = JsonOption) -> None:
    """Create a new, empty project file."""
    with Project.create(project) as p:
        emit({"project": str(project), "created": True, "location": p.location}, as_json)


@app.command("import")
def import_(
    project: str = ProjectArgument(),
    paths: List[Path] = typer.Argument(..., help="Files or folders to import."),
    attributes: Optional[Path] = typer.Option(None, "--attributes", help="Sidecar CSV: file name -> role, site, wave, case …"),
    source_type: Optional[str] = typer.Option(None, "--source-type", help="staff interview, family interview, case note …"),
    text_column: List[str] = typer.Option([], "--text-column", help="CSV/XLSX column(s) holding the text."),
    attribute_column: List[str] = typer.Option([], "--attribute-column", help="CSV/XLSX columns to keep as attributes."),
    case_column: Optional[str] = typer.Option(None, "--case-column", help="CSV/XLSX column naming the case."),
    document_column: Optional[str] = typer.Option(None, "--document-column", help="CSV/XLSX of utterances: rows with the same value here form one document (a transcript), each row a turn."),
    speaker_column: Optional[str] = typer.Option(None, "--speaker-column", help="With --document-column: the column naming each turn's speaker."),
    time_column: Optional[str] = typer.Option(None, "--time-column", help="With --document-column: the column with each turn's start (seconds or h:mm:ss)."),
    interviewer: List[str] = typer.Option([], "--interviewer", help="A speaker whose turns are the interviewer's (repeatable), e.g. for Otter, Descript, Teams and caption exports."),
    as_json: bool = JsonOption,
) -> None:
    """Import transcripts, case notes, spreadsheets, REFI-QDA (.qdpx) and Taguette projects."""
    with Project.open(project) as p:
        report = import_paths(p, paths, attributes=attributes, source_type=source_type,
                              text_columns=text_column, attribute_columns=attribute_column,
                              case_column=case_column, progress=not as_json, interviewer_names=interviewer,
                              document_column=document_column, speaker_column=speaker_column, time_column=time_column)
    emit(report.to_frame(), as_json)
    if not as_json:
        from ..corpus import PROJECT_FORMATS  # loaded already by the import

        for result in report.results:  # a whole project (.qdpx, Taguette): what came in, what could not
            if result.status != "failed" and Path(result.file).suffix.lower() in PROJECT_FORMATS:
                typer.echo("\n" + result.message)
        counts = ", ".join(f"{n} {status}" for status, n in report.counts().items())
        typer.echo(f"\n{counts}")
    if report.failed:  # the rest is imported; say which failed, and exit non-zero so scripts notice
        typer.echo(f"error: {len(report.failed)} of {len(report.results)} file(s) failed:", err=True)
        for failed in report.failed:
            typer.echo(f"  {failed.message}", err=True)
        raise typer.Exit(1)


@app.command()
def documents(project: str = ProjectArgument(),
              limit: int = LimitOption, columns: Optional[str] = ColumnsOption,
              as_json: bool = JsonOption) -> None:
    """List the project's documents, one row each."""
    with Project.open(project) as p:
        frame = p.documents()
    shown = [c for c in frame.columns if c not in ("sha256", "source_file", "imported_at", "encoding")]
    emit(frame if as_json else frame[shown], as_json, limit=limit, columns=columns)
