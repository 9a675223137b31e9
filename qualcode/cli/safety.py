"""Verbs that keep a project safe: backup and check."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import ProjectError
from .lazy import Lazy, Project

check_location = Lazy("qualcode.integrity", "check_location")
from .app import app
from .location import ProjectArgument
from .output import JsonOption, emit


@app.command()
def backup(project: str = ProjectArgument(),
           dest: Path = typer.Argument(..., help="Where to write the copy."),
           as_json: bool = JsonOption) -> None:
    """Make a consistent copy of a project, even while it is open elsewhere."""
    if dest.exists():
        raise ProjectError(f"{dest}: already exists. Fix: choose a new file name; backups never overwrite.")
    with Project.open(project) as p:
        written = p.backup(dest)
    emit({"project": str(project), "backup": str(written), "bytes": written.stat().st_size}, as_json)


@app.command()
def check(project: str = ProjectArgument(),
          as_json: bool = JsonOption) -> None:
    """Verify integrity: the database, every row, every coding's span, code and audit trail. Exit 1 on problems."""
    result = check_location(project)
    if as_json:
        emit({"ok": result.ok, "checks": result.checks, "problems": result.to_frame()}, True)
    else:
        for name in result.checks:
            typer.echo(f"checked: {name}")
        emit(result.to_frame(), False, title="problems:" if not result.ok else "no problems found")
    if not result.ok:
        raise typer.Exit(1)
