"""Verbs for the theory of change and the numbers beside it.

``toc validate``, ``toc figure``, ``evidence``, ``indicators import|status`` and
``survey import|table``: each parses arguments, calls one API function and shows
what it returns.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..errors import ValidationProblems
from .lazy import Project
from .app import app
from .location import ProjectArgument
from .output import ColumnsOption, JsonOption, LimitOption, emit

toc_app = typer.Typer(help="Theory of change: validate it, draw it.", no_args_is_help=True)
indicators_app = typer.Typer(help="Management information: import indicator values, judge them.",
                             no_args_is_help=True)
survey_app = typer.Typer(help="Likert surveys: import responses, tabulate them.", no_args_is_help=True)
app.add_typer(toc_app, name="toc")
app.add_typer(indicators_app, name="indicators")
app.add_typer(survey_app, name="survey")


@toc_app.command("validate")
def toc_validate(
    toc: Path = typer.Argument(..., help="The theory-of-change YAML file."),
    codebook: List[Path] = typer.Option([], "--codebook", help="Also check code links against this codebook (repeatable)."),
    as_json: bool = JsonOption,
) -> None:
    """Check a theory of change; every problem is listed with its line and a fix."""
    from ..toc import check_toc

    model, errors, warnings = check_toc(toc, list(codebook) or None)
    if as_json:
        emit({"file": str(toc), "valid": model is not None,
              "errors": [p.to_dict() for p in errors], "warnings": [p.to_dict() for p in warnings],
              "nodes": sorted(model.node_ids()) if model else []}, True)
    else:
        for problem in warnings:
            typer.echo(f"warning: {problem}")
        if model is not None:
            counts = ", ".join(f"{len(model.of_kind(k))} {k}" for k in
                               ("inputs", "activities", "outputs", "outcomes", "impacts", "assumptions"))
            typer.echo(f"{toc}: valid ({counts}; {len(model.indicators())} indicators)")
    if errors:
        if as_json:
            raise typer.Exit(1)
        raise ValidationProblems(str(toc), errors)


@toc_app.command("figure")
def toc_figure_cmd(
    project: str = ProjectArgument(),
    toc: Path = typer.Option(..., "--toc", help="The theory-of-change YAML file."),
    out: Path = typer.Option(..., "--out", help="Where to write the figure (.png or .svg)."),
    as_json: bool = JsonOption,
) -> None:
    """Draw the theory of change, outcomes shaded by evidence strength and marked with indicator status."""
    from ..evidence import evidence
    from ..toc import load_toc
    from ..toc_figure import draw_toc

    model = load_toc(toc)
    with Project.open(project) as p:
        result = evidence(p, model)
    written = draw_toc(model, result, out)
    emit({"figure": str(written)}, as_json)


@app.command("evidence")
def evidence_cmd(
    project: str = ProjectArgument(),
    toc: Path = typer.Option(..., "--toc", help="The theory-of-change YAML file."),
    status: List[str] = typer.Option(["accepted"], "--status", help="Coding statuses that count (repeatable)."),
    limit: int = LimitOption,
    columns: Optional[str] = ColumnsOption,
    as_json: bool = JsonOption,
) -> None:
    """Evidence per outcome, impact and assumption: how much, which way, the indicator, and
    one judgement with its rule and reason; conflicts and gaps."""
    from ..evidence import evidence
    from ..toc import load_toc

    model = load_toc(toc)
    with Project.open(project) as p:
        result = evidence(p, model, statuses=status)
    if as_json:
        emit(result.to_dict(), True)
        return
    summary = result.summary
    table = summary[["node", "kind", "segments", "participants", "n_source_types", "strength", "direction",
                     "indicator", "judgement"]].rename(columns={
        "n_source_types": "sources", "strength": "amount", "segments": "segs", "participants": "people"})
    emit(table, False, title=f"Evidence against {model.name}", limit=limit, columns=columns, wrap=("judgement",))
    typer.echo("\nWhy (the rule and the figures behind each judgement; amount: how much evidence)")
    for r in summary.head(limit or None).itertuples():
        typer.echo(f"  {r.node}: {r.judgement_reason}")
        typer.echo(f"  {' ' * len(r.node)}  amount {r.reason}")
    conflicts = summary[summary["conflict"] != ""]
    if not conflicts.empty:
        typer.echo("\nThe coded evidence and the indicator disagree:")
        for r in conflicts.itertuples():
            typer.echo(f"  {r.node}: {r.conflict}")
    waves = {r.node: ", ".join(f"{w} {n}" for w, n in r.by_wave.items()) for r in summary.itertuples() if r.by_wave}
    if waves:
        emit(waves, False, title="\nSegments by wave")
    if not result.indicators.empty:
        emit(list(f"{m} {j}" for m, j in zip(result.indicators["mark"], result.indicators["judgement"])),
             False, title="\nIndicators")
    typer.echo(f"\nGaps (no evidence): {', '.join(result.gaps) or 'none'}")
    if result.missing_codes:
        typer.echo(f"Codes named in the ToC but not in the project: {', '.join(result.missing_codes)}")


@indicators_app.command("import")
def indicators_import(
    project: str = ProjectArgument(),
    file: Path = typer.Argument(..., help="CSV or XLSX with columns indicator, period, value[, unit]."),
    toc: Optional[Path] = typer.Option(None, "--toc", help="Report indicators this ToC does not define."),
    as_json: bool = JsonOption,
) -> None:
    """Import management information (one value per indicator and period)."""
    from ..indicators import import_indicators
    from ..toc import load_toc

    model = load_toc(toc) if toc else None
    with Project.open(project) as p:
        result = import_indicators(p, file, model)
    emit(result.to_dict(), as_json)
    if result.unknown and not as_json:
        typer.echo(f"warning: not in {toc}: {', '.join(result.unknown)} (imported anyway)", err=True)


@indicators_app.command("status")
def indicators_status(
    project: str = ProjectArgument(),
    toc: Path = typer.Option(..., "--toc", help="The theory-of-change YAML file."),
    as_json: bool = JsonOption,
) -> None:
    """Each ToC indicator against its baseline and target: met, progress, not met or no data."""
    from ..indicators import indicator_status
    from ..toc import load_toc

    with Project.open(project) as p:
        frame = indicator_status(p, load_toc(toc))
    emit(frame if as_json else frame[["node", "indicator", "status", "judgement"]], as_json)


@survey_app.command("import")
def survey_import(
    project: str = ProjectArgument(),
    file: Path = typer.Argument(..., help="Responses CSV: one row per respondent, a wave column, item columns."),
    items: Path = typer.Option(..., "--items", help="Items CSV: item, question, outcome."),
    name: Optional[str] = typer.Option(None, "--name", help="Survey name (default: the file name)."),
    toc: Optional[Path] = typer.Option(None, "--toc", help="Report item outcomes this ToC does not define."),
    as_json: bool = JsonOption,
) -> None:
    """Import Likert survey responses (replaces an earlier import of the same survey)."""
    from ..survey import import_survey
    from ..toc import load_toc

    model = load_toc(toc) if toc else None
    with Project.open(project) as p:
        result = import_survey(p, file, items, survey=name, toc=model)
    emit(result.to_dict(), as_json)


@survey_app.command("table")
def survey_table(
    project: str = ProjectArgument(),
    item: Optional[str] = typer.Option(None, "--item", help="One item only."),
    pooled: bool = typer.Option(False, "--pooled", help="All waves together instead of by wave."),
    limit: int = LimitOption,
    columns: Optional[str] = ColumnsOption,
    as_json: bool = JsonOption,
) -> None:
    """Likert tables as reports show them: 45% (82), nets, Not sure and missing apart, change in pp."""
    from ..survey import likert_table

    with Project.open(project) as p:
        emit(likert_table(p, item=item, by=None if pooled else "wave"), as_json, limit=limit, columns=columns)
