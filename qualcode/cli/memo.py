"""Verbs for memos: ``memo add|list|edit|export``, thin over ``qualcode.memos``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .lazy import Lazy, Project

memos = Lazy("qualcode.memos")
summaries = Lazy("qualcode.framework_summaries")
from .app import app
from .location import ProjectArgument
from .output import JsonOption, emit

memo_app = typer.Typer(help="Write, list and export memos on the project, documents, cases, codes and codings.",
                       no_args_is_help=True)
app.add_typer(memo_app, name="memo")

DocumentOption = typer.Option(None, "--document", help="A document's name or id.")
CaseOption = typer.Option(None, "--case", help="A case's name.")
CodeOption = typer.Option(None, "--code", help="A code's key.")
CodingOption = typer.Option(None, "--coding", help="A coding's id (an annotation on a coded passage).")
KindOption = typer.Option(None, "--kind", help="project, document, case, code, coding or framework.")

_SHOWN = ["id", "kind", "about", "author", "updated_at", "text"]


def _table(frame):
    """The list as people read it: what each memo is about in words, text shortened."""
    shown = frame.copy()
    shown["about"] = [memos.describe(row) for row in frame.to_dict("records")]
    shown["text"] = shown["text"].str.replace("\n", " ").str.slice(0, 80)
    return shown[_SHOWN]


@memo_app.command("add")
def memo_add(
    project: str = ProjectArgument(),
    text: str = typer.Option(..., "--text", help="The memo's text."),
    document: Optional[str] = DocumentOption,
    case: Optional[str] = CaseOption,
    code: Optional[str] = CodeOption,
    coding: Optional[int] = CodingOption,
    kind: Optional[str] = KindOption,
    author: Optional[str] = typer.Option(None, "--author", help="Who wrote it (default: your login name)."),
    as_json: bool = JsonOption,
) -> None:
    """Write a memo. Its kind follows from what it is on: nothing (the project), --document,
    --case, --code, --coding, or --code with --case or --document (a framework-matrix cell)."""
    with Project.open(project) as p:
        memo_id = memos.add_memo(p, text, document=document, case=case, code=code, coding=coding, kind=kind,
                                 author=author)
        frame = memos.list_memos(p)
    row = frame[frame["id"] == memo_id].to_dict("records")[0]
    emit({"id": memo_id, "kind": row["kind"], "about": memos.describe(row), "author": row["author"]}, as_json)


@memo_app.command("list")
def memo_list(
    project: str = ProjectArgument(),
    document: Optional[str] = DocumentOption,
    case: Optional[str] = CaseOption,
    code: Optional[str] = CodeOption,
    coding: Optional[int] = CodingOption,
    kind: Optional[str] = KindOption,
    author: Optional[str] = typer.Option(None, "--author", help="Only this author's memos."),
    search: Optional[str] = typer.Option(None, "--search", help="Only memos whose text holds every one of these words."),
    as_json: bool = JsonOption,
) -> None:
    """List memos, oldest first; --document and --code include annotations on codings there."""
    with Project.open(project) as p:
        frame = memos.list_memos(p, kind=kind, document=document, case=case, code=code, coding=coding,
                                 author=author, search=search)
    emit(frame if as_json else _table(frame), as_json, wrap=("text",))


@memo_app.command("edit")
def memo_edit(
    project: str = ProjectArgument(),
    memo_id: int = typer.Argument(..., help="The memo's id (from `qualcode memo list`)."),
    text: str = typer.Option(..., "--text", help="The memo's new text."),
    as_json: bool = JsonOption,
) -> None:
    """Replace a memo's text (its author and creation time stay)."""
    with Project.open(project) as p:
        memos.edit_memo(p, memo_id, text)
    emit({"id": memo_id, "edited": True}, as_json)


@memo_app.command("export")
def memo_export(
    project: str = ProjectArgument(),
    out: Optional[Path] = typer.Option(None, "--out", help="Write to this .md, .csv or .json file (default: Markdown on the screen)."),
    document: Optional[str] = DocumentOption,
    case: Optional[str] = CaseOption,
    code: Optional[str] = CodeOption,
    kind: Optional[str] = KindOption,
    search: Optional[str] = typer.Option(None, "--search", help="Only memos whose text holds every one of these words."),
    as_json: bool = JsonOption,
) -> None:
    """Export memos with what each is about, its author and times (Markdown, CSV or JSON)."""
    filters = dict(kind=kind, document=document, case=case, code=code, search=search)
    with Project.open(project) as p:
        if out is None:
            frame = memos.list_memos(p, **filters)
            if as_json:
                emit(frame, True)
            else:
                typer.echo(memos.memos_markdown(frame))
            return
        frame = memos.export_memos(p, out, **filters)
    emit({"file": str(out), "memos": len(frame)}, as_json)


@memo_app.command("summaries")
def memo_summaries(
    project: str = ProjectArgument(),
    file: Path = typer.Argument(..., help="A CSV with columns case,code,text and optionally author."),
    author: Optional[str] = typer.Option(None, "--author", help="Author of rows that name none (default: your login name)."),
    as_json: bool = JsonOption,
) -> None:
    """Write framework-matrix summaries from a CSV: one per case (or participant) and code.
    Every row is checked first; on an error nothing is written."""
    with Project.open(project) as p:
        written = summaries.import_framework_summaries(p, file, author or memos.default_author())
    emit({"file": str(file), "summaries": written}, as_json)
