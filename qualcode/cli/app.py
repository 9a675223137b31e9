"""The Typer application and the one place failures become exit codes.

Every way a verb can fail ends here as a non-zero exit and one line on stderr,
``error: <what, where>. Fix: <what to do>.`` (a list of problems, or of the names a
report would print, follows its line, and the fix comes last): qualcode's own errors, usage errors
(missing argument, unknown option), a project another process is writing, a damaged
database, an unreadable file, Ctrl-C. Only an error nobody foresaw (a bug) says so,
and shows its traceback when ``QUALCODE_DEBUG=1``.

>>> _one_line(ValueError("first\\nsecond"))
'first'
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Sequence

import typer

from ..errors import NamesInReport, QualcodeError, ValidationProblems

app = typer.Typer(
    name="qualcode",
    help="A local, reproducible qualitative-evaluation workbench.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # what shells report for Ctrl-C

INTERRUPTED = ("interrupted. Nothing half-done was kept: each file, batch of codings or review "
               "is written in one transaction. Fix: run the command again.")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: run the app, then exit with its code; failures print one line (see above)."""
    _log_to_stderr()
    try:
        code = app(args=argv, standalone_mode=False, prog_name="qualcode")
    except KeyboardInterrupt:
        _fail(INTERRUPTED, EXIT_INTERRUPTED)
    except typer.Abort:
        _fail(INTERRUPTED, EXIT_INTERRUPTED)
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - this is the one place that turns them into exit codes
        if type(exc).__name__ == "NoArgsIsHelpError":  # `qualcode` or `qualcode codebook` alone: the help
            exc.show()  # type: ignore[attr-defined]
            sys.exit(EXIT_USAGE)
        message, code = explain(exc)
        if code == EXIT_ERROR and os.environ.get("QUALCODE_DEBUG") and not isinstance(exc, QualcodeError):
            raise
        _fail(message, code)
    if code == EXIT_INTERRUPTED:  # typer turns Ctrl-C inside a verb into Exit(130)
        _fail(INTERRUPTED, EXIT_INTERRUPTED)
    sys.exit(code if isinstance(code, int) else 0)


def explain(exc: BaseException) -> tuple[str, int]:
    """The one-line message (and any detail lines after it) and exit code for a failure."""
    import click  # typer vendors its own copy of click; users' code may raise either
    from typer._click import exceptions as typer_click

    if isinstance(exc, (ValidationProblems, NamesInReport)):  # a list the researcher needs whole, then the fix
        return str(exc), EXIT_ERROR
    if isinstance(exc, QualcodeError):
        return _one_line(exc), EXIT_ERROR
    if isinstance(exc, (typer_click.UsageError, click.UsageError)):
        where = f"qualcode {exc.ctx.command_path.partition(' ')[2]}".strip() if exc.ctx else "qualcode"
        what = _one_line(exc.format_message()).rstrip(".")
        return f"{what}. Fix: see `{where} --help`.", EXIT_USAGE
    if isinstance(exc, (typer_click.ClickException, click.ClickException)):
        return f"{_one_line(exc.format_message()).rstrip('.')}. Fix: check the command's arguments.", exc.exit_code
    return _library_failure(exc), EXIT_ERROR


def _library_failure(exc: BaseException) -> str:
    """Errors from the database driver, the file system and the interpreter, said plainly."""
    import sqlite3

    import sqlalchemy as sa

    from ..write_lock import is_lock_error

    if isinstance(exc, sa.exc.DBAPIError) and is_lock_error(exc):
        return ("the project is locked: another qualcode process (an import, auto-coding or review) is "
                "writing to it. Fix: let it finish, then run this again.")
    doubled = ("uq_codings_suggestion", "codings.document_id, codings.start")  # PostgreSQL's words, SQLite's
    if isinstance(exc, sa.exc.IntegrityError) and any(d in str(exc.orig) for d in doubled):
        return ("another run wrote the same suggestions while this one worked; nothing of this run was kept. "
                "Fix: run it again: it adds only what is still missing.")
    if isinstance(exc, (sa.exc.DatabaseError, sqlite3.DatabaseError)):  # the fast reads use sqlite3 directly
        orig = getattr(exc, "orig", None) or exc
        return (f"the project database is damaged or unreadable ({_one_line(orig)}). Fix: run "
                "`qualcode check` on it, and restore the latest copy `qualcode backup` made.")
    if isinstance(exc, UnicodeDecodeError):
        return (f"stored text is damaged (not valid UTF-8 at byte {exc.start}). Fix: run `qualcode check` "
                "to find the damaged rows, and restore the latest copy `qualcode backup` made.")
    if isinstance(exc, PermissionError):
        return f"{exc.filename}: permission denied. Fix: check the file's permissions, or choose another path."
    if isinstance(exc, FileNotFoundError):
        return f"{exc.filename}: no such file or folder. Fix: check the path."
    if isinstance(exc, IsADirectoryError):
        return f"{exc.filename}: is a folder. Fix: give a file name."
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}. Fix: check the disk (free space, permissions) and run again."
    if isinstance(exc, MemoryError):
        return "out of memory. Fix: import or code fewer or smaller files at a time."
    return (f"unexpected {type(exc).__name__}: {_one_line(exc)}. This is a bug in qualcode. Fix: run again "
            "with QUALCODE_DEBUG=1 for the details and report them.")


def _one_line(exc: object) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _fail(message: str, code: int) -> None:
    first, *rest = message.splitlines() or [""]
    typer.echo(f"error: {first}", err=True)
    for line in rest:
        typer.echo(line, err=True)
    sys.exit(code)


def _log_to_stderr() -> None:
    """Show the library's messages (e.g. 'waiting for another process') on stderr."""
    log = logging.getLogger("qualcode")
    if not any(isinstance(h, _Stderr) for h in log.handlers):
        handler = _Stderr()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


class _Stderr(logging.StreamHandler):
    """A handler writing to whatever ``sys.stderr`` is now (tests and notebooks swap it)."""

    @property  # type: ignore[override]
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass
