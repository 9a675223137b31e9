"""The Typer application and the one place library errors become exit codes."""

from __future__ import annotations

import sys

import typer

from ..errors import QualcodeError

app = typer.Typer(
    name="qualcode",
    help="A local, reproducible qualitative-evaluation workbench.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def main() -> None:
    """Entry point: run the app; a QualcodeError becomes one line on stderr and exit 1."""
    try:
        app(standalone_mode=False)
    except QualcodeError as exc:
        message = str(exc).splitlines()
        typer.echo(f"error: {message[0]}", err=True)
        for line in message[1:]:
            typer.echo(line, err=True)
        sys.exit(1)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(1)
    except (typer.Exit, SystemExit) as exc:
        code = getattr(exc, "exit_code", None)
        sys.exit(code if code is not None else getattr(exc, "code", 0))
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
