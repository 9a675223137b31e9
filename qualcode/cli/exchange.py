"""``qualcode export``: the project as a REFI-QDA file other QDA tools open.

(Importing a .qdpx or a Taguette database is ``qualcode import``, like any file.)
"""

from __future__ import annotations

from pathlib import Path
from typing import List

import typer

from .lazy import Project
from .app import app
from .location import ProjectArgument
from .output import JsonOption, emit


@app.command("export")
def export_cmd(
    project: str = ProjectArgument(),
    out: Path = typer.Argument(..., help="The REFI-QDA project to write, e.g. eval.qdpx."),
    status: List[str] = typer.Option(["accepted"], "--status", help="Coding statuses to export (repeatable)."),
    as_json: bool = JsonOption,
) -> None:
    """Write the project as REFI-QDA (.qdpx) for NVivo, ATLAS.ti and MAXQDA, validated against the schema."""
    from ..refi.project_export import export_qdpx

    with Project.open(project) as opened:
        result = export_qdpx(opened, out, statuses=status)
    emit(result, as_json, title=None if as_json else f"wrote {result.file}")
