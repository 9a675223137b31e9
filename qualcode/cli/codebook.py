"""``qualcode codebook validate | load | convert``: thin verbs over the codebook API."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from .lazy import Lazy, Project

load_codebook = Lazy("qualcode.codebook", "load_codebook")

if TYPE_CHECKING:
    from ..codebook import Codebook
from ..errors import ValidationProblems
from .app import app
from .location import ProjectArgument
from .output import JsonOption, emit

codebook_app = typer.Typer(help="Validate, load and convert codebooks.", no_args_is_help=True)
app.add_typer(codebook_app, name="codebook")


def _summary(path: Path, codebook: Codebook) -> dict:
    return {"file": str(path), "valid": True, "id": codebook.id, "name": codebook.name,
            "version": codebook.version, "codes": len(codebook.codes),
            "cross_cutting": sum(c.kind == "cross-cutting" for c in codebook.codes),
            "terms": codebook.n_terms(), "problems": [], "warnings": [str(w) for w in codebook.warnings]}


def _warn(warnings: list) -> None:
    """Warnings go to stderr, one a line, so --json output stays parseable."""
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)


@codebook_app.command("validate")
def validate_cmd(
    file: Path = typer.Argument(..., help="The codebook YAML file."),
    toc: Path = typer.Option(None, "--toc", help="A theory-of-change YAML: check outcome links against it."),
    as_json: bool = JsonOption,
) -> None:
    """Check a codebook and list every problem with its line and fix."""
    outcome_ids = None
    if toc is not None:
        from ..toc import load_toc  # written alongside; imported only when asked for

        outcome_ids = set(load_toc(toc).node_ids())
    try:
        codebook = load_codebook(file, outcome_ids)
    except ValidationProblems as exc:
        if not as_json:
            raise
        emit({"file": str(file), "valid": False, "problems": [p.to_dict() for p in exc.problems]}, True)
        raise typer.Exit(1)
    _warn(codebook.warnings)
    emit(_summary(file, codebook), as_json, title=None if as_json else f"{file}: valid")


@codebook_app.command("load")
def load_cmd(
    project: str = ProjectArgument(),
    file: Path = typer.Argument(..., help="The codebook YAML file."),
    as_json: bool = JsonOption,
) -> None:
    """Add or update the project's codebook and show what changed."""
    from ..codebook_sync import load_into_project
    from ..project import Project

    codebook = load_codebook(file)
    _warn(codebook.warnings)
    source = file.read_text(encoding="utf-8-sig")
    with Project.open(project) as opened:
        diff = load_into_project(opened, codebook, source)
    if as_json:
        emit(diff.to_dict(), True)
    else:
        emit(diff.to_frame(), False, title=diff.summary())


@codebook_app.command("convert")
def convert_cmd(
    source: Path = typer.Argument(..., help="Input: .yaml, .qdc, .qdpx, .csv or .xlsx."),
    target: Path = typer.Argument(..., help="Output: .yaml, .qdc, .docx or .md."),
    reference: Path = typer.Option(None, "--reference", help="Codebook YAML whose ids, criteria and keywords to keep when reading a .qdc/.qdpx."),
    as_json: bool = JsonOption,
) -> None:
    """Convert a codebook between formats (chosen by extension)."""
    from ..codebook_formats import convert

    result = convert(source, target, reference)
    _warn(result["warnings"])
    if as_json:
        emit(result, True)
    else:
        emit(f"wrote {result['target']}: {result['codes']} codes from {result['source']}", False)
