"""Verbs for team projects: ``copy`` between SQLite and PostgreSQL, ``team add``."""

from __future__ import annotations

import typer

from .app import app
from .location import ProjectArgument
from .output import JsonOption, emit


@app.command("copy")
def copy_cmd(
    source: str = ProjectArgument("The project to copy: a .qc file or a PostgreSQL URL."),
    dest: str = ProjectArgument("Where to copy it: a new .qc file, or an empty PostgreSQL database's URL."),
    as_json: bool = JsonOption,
) -> None:
    """Copy a project between SQLite and PostgreSQL: same documents, codings, events and memos."""
    from ..team.copy import copy_project

    result = copy_project(source, dest)
    if as_json:
        emit(result.summary(), True)
        return
    emit(result.rows, False, title=f"copied {result.source} -> {result.dest}")
