"""`qualcode demo`: the whole workflow on the shipped corpus."""

from __future__ import annotations

from pathlib import Path

import typer

from .lazy import Lazy

run_demo = Lazy("qualcode.demo", "run_demo")
from .app import app
from .output import JsonOption, emit


@app.command()
def demo(out: Path = typer.Option(Path("out"), "--out", help="Folder for the project and its outputs."),
         as_json: bool = JsonOption) -> None:
    """Build a project from corpus/ and write its outputs under --out."""
    result = run_demo(out, progress=not as_json)
    if as_json:
        emit({"project": str(result.project_path), "tables": result.tables,
              "files": [str(f) for f in result.files]}, True)
        return
    typer.echo(f"project: {result.project_path}")
    for title, table in result.tables.items():
        typer.echo("")
        emit(table, False, title=f"== {title} ==")
    typer.echo("")
    for path in result.files:
        typer.echo(f"wrote {path}")
