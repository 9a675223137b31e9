"""How every verb shows its result: a table that fits the terminal, ``--json`` for scripts.

Tables are drawn with rich at the terminal's width (80 columns when output is piped):
long cells are trimmed with an ellipsis, empty values (None, NaN, <NA>) are blank,
True/False read yes/no, lists read as comma-separated text and dicts as ``key: value``
pairs, never as Python reprs. ``--limit`` and ``--columns`` cut long output down; the
full table is always one ``--json`` away. ``working`` shows a progress line on stderr
for steps that take more than a moment.

This module is imported to build ``qualcode --help``: pandas and rich load only
when a verb prints.

>>> cell_text(None), cell_text(float("nan")), cell_text(True), cell_text(["a", "b"])
('', '', 'yes', 'a, b')
>>> cell_text({"Wave 1": 3, "Wave 2": 5}), cell_text(0.83333), cell_text(12000.0)
('Wave 1: 3; Wave 2: 5', '0.833', '12,000')
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import sys
from typing import Any, Iterator

import typer

from ..errors import InputError

JsonOption = typer.Option(False, "--json", help="Print JSON instead of a table.")
LimitOption = typer.Option(50, "--limit", help="Show at most this many rows (0: all). --json always gives all.")
ColumnsOption = typer.Option(None, "--columns", help="Only these columns, comma-separated, e.g. --columns id,code,text.")

MAX_CELL = 60  # characters a cell may take before it is trimmed (wider terminals allow more)
MIN_CELL = 6


def _is_frame(value: Any) -> bool:
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(value, pandas.DataFrame)


def _jsonable(value: Any) -> Any:
    if _is_frame(value):
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


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return type(value).__name__ in ("NAType", "NaTType")


def cell_text(value: Any) -> str:
    """One value as a person reads it in a table cell (see the module examples)."""
    if _is_missing(value):
        return ""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "yes" if value else "no"
    if isinstance(value, float) or type(value).__name__.startswith("float"):
        value = float(value)
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:.3g}" if abs(value) < 1 else f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, int) or type(value).__name__.startswith("int"):
        return str(int(value))
    if isinstance(value, dict):
        return "; ".join(f"{k}: {cell_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)) or type(value).__name__ == "ndarray":
        return ", ".join(cell_text(v) for v in value)
    return " ".join(str(value).split())  # line breaks and runs of spaces read as one space


def select_columns(frame: Any, columns: str | None) -> Any:
    """``frame`` cut to ``columns`` (comma-separated), refusing names it does not have."""
    if not columns:
        return frame
    wanted = [c.strip() for c in columns.split(",") if c.strip()]
    unknown = [c for c in wanted if c not in frame.columns]
    if unknown:
        raise InputError("--columns", f"no column {unknown[0]!r}",
                         f"choose from: {', '.join(map(str, frame.columns))}")
    return frame[wanted]


def _console(stderr: bool = False):
    from rich.console import Console

    width = None
    if not (sys.stderr if stderr else sys.stdout).isatty():
        width = int(os.environ.get("COLUMNS", "0") or 0) or 100
    return Console(stderr=stderr, width=width, highlight=False, soft_wrap=False)


def print_table(frame: Any, limit: int | None = None, title: str | None = None,
                wrap: tuple[str, ...] = ()) -> None:
    """Draw ``frame`` as a table that fits the terminal; rows past ``limit`` are counted, not shown.

    Columns in ``wrap`` (a passage of text) wrap over a few lines; every other long cell
    is trimmed with an ellipsis. Columns that are blank in every row are left out, and
    when the rest do not fit, the right-most are left out and named, so no header is
    cut to a stub.
    """
    from rich import box
    from rich.table import Table

    console = _console()
    total = len(frame)
    shown = frame if not limit or total <= limit else frame.head(limit)
    texts = {c: [cell_text(v) for v in shown[c]] for c in shown.columns}
    blank = [str(c) for c, cells in texts.items() if not any(cells) and str(c) not in wrap]
    keep = [c for c in shown.columns if str(c) not in blank]
    budget = 18 if any(str(c) in wrap for c in keep) else MAX_CELL  # beside a passage, the rest stay narrow
    widths, hidden = _fit_widths(keep, texts, wrap, budget, console.width)
    if title:
        typer.echo(title)  # a title is a sentence: it keeps its own line, not the table's width
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for column, width in widths.items():
        wraps = str(column) in wrap
        table.add_column(str(column).replace("_", " "), justify="right" if _numeric(shown[column]) else "left",
                         overflow="fold" if wraps else "ellipsis", width=width)
    for i in range(len(shown)):
        table.add_row(*(_trim(texts[c][i], w * 3 if str(c) in wrap else w) for c, w in widths.items()))
    console.print(table)
    notes = []
    if len(shown) < total:
        notes.append(f"{total - len(shown)} more rows (--limit 0 shows all)")
    if hidden:
        notes.append(f"{len(hidden)} more columns: {', '.join(hidden)} (choose with --columns)")
    if blank:
        notes.append(f"blank in every row: {', '.join(blank)}")
    if notes:
        console.print("… " + "; ".join(notes) + "; --json gives everything")


GAP = 3  # characters between two columns


def _fit_widths(columns: list, texts: dict, wrap: tuple[str, ...], budget: int,
                total: int) -> tuple[dict, list[str]]:
    """Column -> width so the table fits ``total``; columns that cannot fit are returned apart.

    Every column gets at least its header's longest word (headers wrap between words,
    never inside one), left to right while they fit; the space left goes to the
    columns whose cells are longer, in proportion to what they lack.
    """
    natural, minimum = {}, {}
    for column in columns:
        word = max((len(w) for w in str(column).replace("_", " ").split()), default=1)
        longest = max((len(x) for x in texts[column]), default=0)
        if str(column) in wrap:
            natural[column] = max(word, min(longest, total))
            minimum[column] = max(word, min(longest, 20, total // 3))
        else:
            natural[column] = max(word, min(max(longest, len(str(column))), budget))
            minimum[column] = max(word, min(longest, 8))
    chosen, hidden, used = [], [], 0
    for column in columns:
        if chosen and used + GAP + minimum[column] > total:
            hidden.append(str(column))
            continue
        chosen.append(column)
        used += minimum[column] + (GAP if len(chosen) > 1 else 0)
    widths = {c: minimum[c] for c in chosen}
    spare = total - used
    first = chosen[0]  # the row's label (a code, a document): read in full before the rest
    give = min(spare, natural[first] - widths[first])
    widths[first] += give
    spare -= give
    lacking = {c: natural[c] - widths[c] for c in chosen if natural[c] > widths[c]}
    while spare > 0 and lacking:
        share = max(1, spare // len(lacking))
        for column in list(lacking):
            give = min(share, lacking[column], spare)
            widths[column] += give
            lacking[column] -= give
            spare -= give
            if not lacking[column]:
                del lacking[column]
            if spare <= 0:
                break
    return widths, hidden


def _numeric(series: Any) -> bool:
    return series.dtype.kind in "iuf"


def _trim(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def emit(value: Any, as_json: bool, title: str | None = None, limit: int | None = None,
         columns: str | None = None, wrap: tuple[str, ...] = ()) -> None:
    """Print ``value`` (DataFrame, dict, list or text) as a readable table, or as JSON.

    ``limit`` and ``columns`` apply to tables only; JSON always carries everything.
    """
    if as_json:
        typer.echo(json.dumps(_jsonable(value), indent=2, default=str, ensure_ascii=False))
        return
    if _is_frame(value):
        value = select_columns(value, columns)
        if value.empty:
            if title:
                typer.echo(title)
            typer.echo("(none)")
        else:
            print_table(value, limit, title, wrap)
        return
    if title:
        typer.echo(title)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # a result record: its fields, not a repr
        value = dataclasses.asdict(value)
    if isinstance(value, dict):
        width = max((len(str(k)) for k in value), default=0)
        for key, item in value.items():
            typer.echo(f"{str(key).ljust(width)}  {cell_text(item)}")
    elif isinstance(value, (list, tuple)):
        for item in value:
            typer.echo(cell_text(item))
    else:
        typer.echo(str(value))


@contextlib.contextmanager
def working(label: str, enabled: bool = True) -> Iterator[Any]:
    """A progress line on stderr while a long step runs: spinner, label, bar, elapsed time.

    Yields a ``tick(description, advance=1)`` callable; with ``total`` unknown the bar
    shows activity and the step being done. The library's own steps
    (``qualcode.progress.step``: folds, documents, sections) move the same bar while
    the block runs. Shown only when stderr is a terminal, so pipes, logs and
    ``--json`` stay clean.

    >>> with working("building report", enabled=False) as tick:
    ...     tick("tables")
    """
    if not enabled or not sys.stderr.isatty():
        yield lambda description=None, advance=1, total=None: None
        return
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from ..progress import reporting_to

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=_console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def tick(description: str | None = None, advance: int = 1, total: int | None = None) -> None:
            if total is not None:
                bar.update(task, total=total)
            bar.update(task, advance=advance,
                       description=f"{label}: {description}" if description else label)

        def step(text: str, done: int | None, total: int | None) -> None:
            bar.update(task, description=f"{label}: {text}", total=total, completed=done or 0)

        with reporting_to(step):
            yield tick
