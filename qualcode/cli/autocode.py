"""``qualcode autocode``: rule-based suggestions from codebook files (thin over ``autocode``)."""

from __future__ import annotations

from pathlib import Path

import typer

from .app import app
from .location import ProjectArgument
from .output import JsonOption, emit


@app.command("autocode")
def autocode_cmd(
    project: str = ProjectArgument(),
    codebook: list[Path] = typer.Option(..., "--codebook", help="A codebook YAML file; repeat for several. "
                                        "Loaded into the project first if it is not there yet."),
    model: str = typer.Option(None, "--model", help="An installed spaCy pipeline (e.g. en_core_web_sm) or a folder a "
                              "pipeline was saved to; default: the built-in one, nothing downloaded."),
    documents: list[str] = typer.Option(None, "--documents", help="Only this document (name or id); repeat for several."),
    coder: str = typer.Option("rules", "--coder", help="The coder name the suggestions are recorded under."),
    workers: int = typer.Option(None, "--workers", help="Parse and match on a local Dask cluster of this many "
                                "worker processes (needs qualcode[dask]); default: in this process."),
    scheduler: str = typer.Option(None, "--scheduler", help="The address of a running Dask scheduler, e.g. "
                                  "tcp://10.0.0.5:8786 (every worker needs qualcode installed)."),
    as_json: bool = JsonOption,
) -> None:
    """Suggest codes from the codebooks' keywords, phrases, patterns and regexes.

    Suggestions are codings with status 'suggested'; review them with `qualcode review`.
    Running it again adds only new suggestions.
    """
    from ..autocode import autocode
    from ..project import Project

    with Project.open(project) as opened:
        result = autocode(opened, codebook, model=model, documents=documents or None, coder=coder,
                          progress=not as_json, workers=workers, scheduler=scheduler)
    if as_json:
        emit({**result.summary(), "per_code": result.per_code}, True)
        return
    summary = result.summary()
    summary["codebooks_loaded"] = ", ".join(result.codebooks_loaded) or "(already in the project)"
    emit(summary, False, title=f"{project}: {result.suggestions} suggestion(s) written")
    typer.echo("")
    emit(result.to_frame(), False)
