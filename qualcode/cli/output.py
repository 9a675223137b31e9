"""How every verb shows its result: a readable table by default, ``--json`` for scripts."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import typer

JsonOption = typer.Option(False, "--json", help="Print JSON instead of a table.")


def _jsonable(value: Any) -> Any:
    if isinstance(value, pd.DataFrame):
        return json.loads(value.to_json(orient="records", date_format="iso"))
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "to_dict"):
        return _jsonable(value.to_dict())
    if hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict

        return _jsonable(asdict(value))
    return value


def emit(value: Any, as_json: bool, title: str | None = None) -> None:
    """Print ``value`` (DataFrame, dict, list or text) as a table or as JSON."""
    if as_json:
        typer.echo(json.dumps(_jsonable(value), indent=2, default=str, ensure_ascii=False))
        return
    if title:
        typer.echo(title)
    if isinstance(value, pd.DataFrame):
        if value.empty:
            typer.echo("(none)")
        else:
            with pd.option_context("display.max_rows", 500, "display.max_columns", 50,
                                   "display.width", 200, "display.max_colwidth", 60):
                typer.echo(value.to_string(index=False))
    elif isinstance(value, dict):
        width = max((len(str(k)) for k in value), default=0)
        for key, item in value.items():
            typer.echo(f"{str(key).ljust(width)}  {item}")
    elif isinstance(value, (list, tuple)):
        for item in value:
            typer.echo(str(item))
    else:
        typer.echo(str(value))
