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


team_app = typer.Typer(help="Who may do what in a PostgreSQL team project (enforced by the database).",
                       no_args_is_help=True)
app.add_typer(team_app, name="team")


@team_app.command("add")
def team_add(
    project: str = ProjectArgument(),
    name: str = typer.Argument(..., help="The team member's database login, e.g. alex."),
    role: str = typer.Option(..., "--role", help="coder (own codings only), reviewer (accept, reject, settle) "
                             "or reader (read only)."),
    as_json: bool = JsonOption,
) -> None:
    """Give NAME a role in the project (the lead runs this; the database enforces it)."""
    from ..project import Project
    from ..team.roles import add_member

    with Project.open(project) as opened:
        member = add_member(opened, name, role)
    emit({"project": project, "member": member.name, "role": member.role}, as_json)
    if not as_json:
        typer.echo(f"{member.name} logs in with their own password (the lead sets it: ALTER ROLE ... PASSWORD, "
                   "never on a command line); give them the URL with their name in it.")


@team_app.command("list")
def team_list(project: str = ProjectArgument(), as_json: bool = JsonOption) -> None:
    """Everyone with a role in the project."""
    import pandas as pd

    from ..project import Project
    from ..team.roles import members

    with Project.open(project) as opened:
        found = members(opened)
    emit(pd.DataFrame([{"member": m.name, "role": m.role} for m in found], columns=["member", "role"]), as_json)
