"""``qualcode pseudonymise detect | apply | status``: find, review, replace identifiers.

The review happens between the two steps: ``detect --out detections.csv`` writes one
row per identifier with its context; the researcher sets ``decision`` (confirm,
reject, add) and may change ``type`` or ``label``; ``apply`` replaces what was
confirmed and writes the key to a file kept away from the project.
"""

from __future__ import annotations

from pathlib import Path

import typer

from .lazy import Lazy, Project

ps = Lazy("qualcode.pseudonymise")
from .app import app
from .location import ProjectArgument
from .output import JsonOption, emit, working

privacy_app = typer.Typer(help="Find personal identifiers, review them, replace them with labels.",
                          no_args_is_help=True)
app.add_typer(privacy_app, name="pseudonymise")


@privacy_app.command("detect")
def detect_cmd(
    project: str = ProjectArgument(),
    names: Path = typer.Option(None, "--names", help="Known names CSV: name,type(parent/child/staff/other),label."),
    key: Path = typer.Option(None, "--key", help="An existing key CSV, so proposed labels continue it."),
    out: Path = typer.Option(None, "--out", help="Write the detections CSV here for review."),
    model: str = typer.Option("auto", "--model",
                              help="An installed spaCy NER pipeline; 'auto' uses one if installed, 'none' never."),
    document: list[str] = typer.Option(None, "--document", help="Only these documents (name or id); repeatable."),
    workers: int = typer.Option(None, "--workers", help="Scan on a local Dask cluster of this many worker "
                                "processes (needs qualcode[dask]); default: in this process."),
    scheduler: str = typer.Option(None, "--scheduler", help="The address of a running Dask scheduler, e.g. "
                                  "tcp://10.0.0.5:8786 (every worker needs qualcode and the model installed)."),
    as_json: bool = JsonOption,
) -> None:
    """List every identifier found, with a proposed label and its context."""
    with working("finding identifiers", enabled=not as_json), Project.open(project) as p:
        found = ps.detect(p, names=names, key=key, documents=document or None,
                          model=None if model.lower() == "none" else model, workers=workers, scheduler=scheduler)
    summary = {"detections": len(found.rows), "by_type": found.counts(), "ner_model": found.model,
               "not_checked": found.not_checked}
    if out is not None:
        found.write_csv(out)
        summary["written"] = str(out)
        summary["next"] = (f"review {out} (decision: confirm/reject/add; edit type or label), then run "
                           f"`qualcode pseudonymise apply {project} --detections {out} --key KEY.csv`; "
                           f"keep {out} and the key away from the project: they hold the originals")
        emit(summary, as_json)
    elif as_json:
        emit({**summary, "rows": found.to_frame()}, True)
    else:
        emit(found.to_frame().drop(columns=["document_id"]), False, title="detections:")
        emit(summary, False)


@privacy_app.command("apply")
def apply_cmd(
    project: str = ProjectArgument(),
    detections: Path = typer.Option(..., "--detections", help="The reviewed detections CSV."),
    key: Path = typer.Option(..., "--key", help="The key CSV (label -> original): created or extended."),
    by: str = typer.Option(None, "--by", help="Who applies it (recorded in the audit trail)."),
    as_json: bool = JsonOption,
) -> None:
    """Replace the confirmed identifiers, move codings with them, write the key."""
    with working("pseudonymising", enabled=not as_json), Project.open(project) as p:
        report = ps.apply(p, detections, key, by=by)
    emit(report.to_dict(), as_json)


@privacy_app.command("status")
def status_cmd(
    project: str = ProjectArgument(),
    clean: bool = typer.Option(False, "--clean", help="Also empty the write-ahead log and vacuum the file."),
    as_json: bool = JsonOption,
) -> None:
    """The labels the project uses and how often each was used (never the originals)."""
    with Project.open(project) as p:
        emit(ps.status(p, clean=clean), as_json, title="labels:")
