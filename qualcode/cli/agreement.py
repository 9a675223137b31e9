"""Verbs for intercoder agreement: agreement, disagreements, settle.

``--coders A B``, ``--codes X Y`` and ``--documents D E`` take several values after one
flag, as DESIGN.md §6 writes them. Click options take one value each, so these three
are read from the command's extra arguments in order (``_list_options``); repeating
the flag (``--coders A --coders B``) works too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click
import typer

from .lazy import Lazy, Project

agreement = Lazy("qualcode.agreement", "agreement")
disagreements = Lazy("qualcode.agreement", "disagreements")
settle = Lazy("qualcode.agreement", "settle")
MIN_CODED = 5  # qualcode.agreement.MIN_CODED, written out so --help need not import it (tested)
from .app import app
from .location import ProjectArgument
from .output import ColumnsOption, JsonOption, LimitOption, emit

LIST_OPTIONS = {"--coders": "coders", "--codes": "codes", "--code": "codes", "--documents": "documents"}
_EXTRA = {"allow_extra_args": True, "ignore_unknown_options": True}
_LISTS_HELP = (
    "Lists: --coders A B [C …] (required, two or more coders: people or methods; learned:cv is the "
    "learned suggester's cross-validated decisions), "
    "--codes X Y (default: every code the coders used), --documents D E (names or ids; "
    "default: the documents every coder coded)."
)


def _list_options(args: list[str], ctx: typer.Context | None = None) -> dict[str, list[str]]:
    """Collect ``--coders A B --codes X`` style lists from the extra arguments, in order.

    A mistake is a usage error of ``ctx``'s command, so its fix names that command's help.

    >>> _list_options(["--coders", "alex", "sam", "--codes=x"])
    {'coders': ['alex', 'sam'], 'codes': ['x']}
    """
    lists: dict[str, list[str]] = {}
    current = None
    for token in args:
        if token.startswith("-"):
            name, has_value, value = token.partition("=")
            if name not in LIST_OPTIONS:
                raise click.UsageError(f"No such option: {name}. {_LISTS_HELP}", ctx)
            current = LIST_OPTIONS[name]
            lists.setdefault(current, [])
            if has_value:
                lists[current].append(value)
        elif current is None:
            raise click.UsageError(f"Got unexpected extra argument ({token}). {_LISTS_HELP}", ctx)
        else:
            lists[current].append(token)
    for name, values in lists.items():
        if not values:
            raise click.UsageError(f"--{name} needs at least one value. {_LISTS_HELP}", ctx)
    return lists


def _coders(lists: dict[str, list[str]], ctx: typer.Context | None = None) -> list[str]:
    if "coders" not in lists:
        raise click.UsageError(
            f"Missing option '--coders'. Name two or more coders, e.g. --coders alex sam. {_LISTS_HELP}", ctx)
    return lists["coders"]


@app.command("agreement", context_settings=_EXTRA, epilog=_LISTS_HELP)
def agreement_command(
    ctx: typer.Context,
    project: str = ProjectArgument(),
    unit: str = typer.Option("character", "--unit", help="character | segment | document"),
    segment: str = typer.Option("sentence", "--segment", help="With --unit segment: sentence | paragraph | turn"),
    min_coded: int = typer.Option(MIN_CODED, "--min-coded", help="Fewer coded units than this: flagged, no figures."),
    by_document: bool = typer.Option(False, "--by-document", help="Also show one row per document and code."),
    as_json: bool = JsonOption,
) -> None:
    """Intercoder agreement per code and overall: percent, kappa, alpha, Brennan–Prediger.

    qualcode agreement PROJECT.qc --coders A B [C …] [--unit character|segment|document]
    [--segment sentence|paragraph|turn] [--codes …] [--documents …] [--json]
    """
    lists = _list_options(ctx.args, ctx)
    with Project.open(project) as p:
        result = agreement(p, _coders(lists, ctx), unit=unit, segment=segment, codes=lists.get("codes"),
                           documents=lists.get("documents"), min_coded=min_coded, by_document=by_document)
    if as_json:
        emit(result.to_dict(), True)
        return
    n_docs = len(result.documents)
    emit(result.table_for_report(), False, title=(
        f"Agreement between {', '.join(result.coders)} — unit: {result.unit_label}, "
        f"{n_docs} document{'s' if n_docs != 1 else ''}, {result.kappa_name}"))
    if by_document:
        typer.echo("")
        emit(result.by_document, False, title="By document")


@app.command("disagreements", context_settings=_EXTRA, epilog=_LISTS_HELP)
def disagreements_command(
    ctx: typer.Context,
    project: str = ProjectArgument(),
    unit: str = typer.Option("character", "--unit", help="character | segment | document"),
    segment: str = typer.Option("sentence", "--segment", help="With --unit segment: sentence | paragraph | turn"),
    limit: int = LimitOption,
    columns: Optional[str] = ColumnsOption,
    as_json: bool = JsonOption,
) -> None:
    """The text where coders differ, and who coded what, to discuss and settle.

    qualcode disagreements PROJECT.qc --coders A B [--codes X] [--unit …] [--documents …] [--json]
    """
    lists = _list_options(ctx.args, ctx)
    with Project.open(project) as p:
        frame = disagreements(p, _coders(lists, ctx), code=lists.get("codes"), unit=unit, segment=segment,
                              documents=lists.get("documents"))
    emit(frame, as_json, limit=limit, columns=columns, wrap=("text",))


@app.command("settle")
def settle_command(
    project: str = ProjectArgument(),
    document: str = typer.Argument(..., help="Document name or id."),
    start: int = typer.Argument(..., help="Start offset (as listed by `qualcode disagreements`)."),
    end: int = typer.Argument(..., help="End offset (exclusive)."),
    code: str = typer.Argument(..., help="Code key."),
    decided_by: str = typer.Option(..., "--by", help="Who decided (a name or 'team meeting 12 May')."),
    drop: bool = typer.Option(False, "--drop", help="The code does not apply here (records a rejected consensus coding)."),
    as_json: bool = JsonOption,
) -> None:
    """Record a consensus decision as a coding by coder 'consensus'; the originals stay."""
    with Project.open(project) as p:
        ids = settle(p, [(document, start, end, code)], decided_by=decided_by, keep=not drop)
    emit({"written": len(ids), "coding_ids": ids, "status": "rejected" if drop else "accepted"}, as_json)
