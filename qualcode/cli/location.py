"""The PROJECT argument every verb takes: a SQLite file or a PostgreSQL database URL.

One helper so every verb reads it the same way: a URL stays a URL (a file path type
would fold ``postgresql://`` into ``postgresql:/``), and a URL holding a password is
refused before anything connects, since a command line is kept in shell history.
"""

from __future__ import annotations

import typer

PROJECT_HELP = ("The project: a .qc file, or a PostgreSQL URL such as postgresql://USER@HOST/DATABASE "
                "(password from PGPASSWORD, a service file or ~/.pgpass).")


def project_location(value: str) -> str:
    """A PROJECT argument as the API takes it: the path, or the URL with no password in it.

    >>> project_location("eval.qc")
    'eval.qc'
    >>> project_location("postgresql://alex@db.example.org/eval")
    'postgresql://alex@db.example.org/eval'
    """
    from ..team.connection import is_url, refuse_password_in_url  # SQLAlchemy: not for --help

    value = str(value)
    if "://" in value:  # a URL (team.connection.is_url); SQLAlchemy is imported only then
        from ..team.connection import refuse_password_in_url

        refuse_password_in_url(value)
    return value


def ProjectArgument(help: str = PROJECT_HELP):  # noqa: N802  (reads like typer.Argument)
    """``typer.Argument`` for a verb's PROJECT: a file or a database URL."""
    return typer.Argument(..., help=help, parser=project_location, metavar="PROJECT")
