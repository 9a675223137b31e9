"""Excel and CSV output made for reading, and safe to open.

One sheet per table, header row bold and frozen (with the first column, which names
the row), columns sized to their content, long text wrapped, an autofilter on the
header, and an "About" sheet saying what was counted (filters, codebook version, when).

Formula safety: a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
return would run as a formula in Excel or LibreOffice (a quote such as
``=SUM(A1:A9) is what my manager says I am`` is a real example). In .xlsx we store such
text as a string cell with Excel's quote prefix, so its text stays exact and it
never evaluates; in .csv, which has no cell types, we prefix it with a single quote.

>>> write_xlsx("matrix.xlsx", {"Framework matrix": frame}, about={"status": "accepted"})  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from .errors import InputError

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_WIDTH = 60  # characters; wider text wraps
MIN_WIDTH = 8
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class SheetLayout:
    """How one sheet is laid out beyond the defaults, for tables read across and down.

    ``frozen_columns``: how many columns stay in view when scrolling right (the row's
    label and its attributes); ``groups``: ``(label, columns)`` for a header row above
    the column names, each label merged across its columns (a theme over its codes);
    ``widths``: column name -> width in characters (otherwise sized to the content).

    >>> SheetLayout(frozen_columns=3, widths={"Barrier": 40}).frozen_columns
    3
    """

    frozen_columns: int = 1
    groups: Sequence[tuple[str, Sequence[str]]] = ()
    widths: Mapping[str, float] = field(default_factory=dict)


def is_formula_like(value: object) -> bool:
    """True for text that a spreadsheet would try to evaluate."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_safe(value: object) -> object:
    """A value fit for a CSV cell: formula-like text gets a leading single quote.

    >>> csv_safe("=1+1"), csv_safe("plain"), csv_safe(-3)
    ("'=1+1", 'plain', -3)
    """
    return f"'{value}" if is_formula_like(value) else value


def csv_unquote(value: str) -> str:
    """Undo ``csv_safe`` when reading our own CSV back: a quote before a formula character is ours.

    >>> csv_unquote("'=1+1"), csv_unquote("'quoted"), csv_unquote("plain")
    ('=1+1', "'quoted", 'plain')
    """
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_STARTS) else value


def sheet_name(title: str, taken: set[str]) -> str:
    """A valid, unique Excel sheet name (31 characters, no ``[]:*?/\\``)."""
    base = _BAD_SHEET_CHARS.sub(" ", str(title)).strip().strip("'")[:31] or "Sheet"
    name, n = base, 2
    while name.lower() in {t.lower() for t in taken}:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name)
    return name


def write_xlsx(path: str | Path, tables: Mapping[str, pd.DataFrame], about: Mapping[str, object] | None = None,
               layouts: Mapping[str, SheetLayout] | None = None) -> Path:
    """Write each DataFrame to its own sheet, with an "About" sheet first if given.

    ``layouts``: a ``SheetLayout`` by table title for sheets that need more than the
    defaults (bold frozen header, first column frozen, widths from the content).
    """
    path = Path(path)
    _check_folder(path)
    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    if about:
        about_frame = pd.DataFrame({"item": [str(k) for k in about], "value": [_plain(v) for v in about.values()]})
        _write_sheet(book.create_sheet(sheet_name("About", taken)), about_frame)
    for title, frame in tables.items():
        _write_sheet(book.create_sheet(sheet_name(title, taken)), _flat(frame), (layouts or {}).get(title))
    book.save(path)
    return path


def write_csv(path: str | Path, frame: pd.DataFrame) -> Path:
    """Write one table as UTF-8 CSV (with a BOM, so Excel reads the accents), formula-safe."""
    path = Path(path)
    _check_folder(path)
    frame = _flat(frame)
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow([csv_safe(str(c)) for c in frame.columns])
        for row in frame.itertuples(index=False):
            writer.writerow([csv_safe(_plain(v)) for v in row])
    return path


def write_table(path: str | Path, tables: Mapping[str, pd.DataFrame], about: Mapping[str, object] | None = None,
                layouts: Mapping[str, SheetLayout] | None = None) -> Path:
    """Write by extension: .xlsx gets every table, .csv the first one only."""
    suffix = Path(path).suffix.lower()
    if suffix == ".xlsx":
        return write_xlsx(path, tables, about, layouts)
    if suffix == ".csv":
        return write_csv(path, next(iter(tables.values())))
    raise InputError(str(path), f"cannot write tables to a '{suffix or '(no extension)'}' file",
                     "name the output .xlsx or .csv")


def _check_folder(path: Path) -> None:
    if not path.parent.exists():
        raise InputError(str(path), f"folder {path.parent} does not exist", "create it first or choose another path")


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """Bring a labelled index (e.g. the co-occurrence table's codes) into a column."""
    if isinstance(frame.index, pd.RangeIndex) and frame.index.name is None:
        return frame
    return frame.reset_index()


def _plain(value: object) -> object:
    """Numpy scalars and missing values as plain Python values openpyxl accepts."""
    if value is None:
        return None
    if isinstance(value, float) and pd.isna(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    if isinstance(value, (list, tuple, set, dict)):
        return str(value)
    return value


def _write_sheet(sheet, frame: pd.DataFrame, layout: SheetLayout | None = None) -> None:
    layout = layout or SheetLayout()
    header_font = Font(bold=True)
    top = Alignment(wrap_text=True, vertical="top")
    columns = [str(name) for name in frame.columns]
    header = 2 if layout.groups else 1  # a group row sits above the column names
    if layout.groups:
        _write_groups(sheet, columns, layout.groups, header_font)
    widths: list[int] = []
    for col, name in enumerate(columns, start=1):
        cell = sheet.cell(row=header, column=col)
        _set(cell, name)
        cell.font = header_font
        cell.alignment = top
        widths.append(_width(name))
    for r, row in enumerate(frame.itertuples(index=False), start=header + 1):
        for col, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=col)
            value = _plain(value)
            _set(cell, value)
            if isinstance(value, str):
                cell.alignment = top
                widths[col - 1] = max(widths[col - 1], _width(value))
            else:
                widths[col - 1] = max(widths[col - 1], _width(str(value if value is not None else "")))
    for col, (name, width) in enumerate(zip(columns, widths), start=1):
        sheet.column_dimensions[get_column_letter(col)].width = layout.widths.get(name, width)
    frozen = min(max(layout.frozen_columns, 0), max(len(columns) - 1, 0))
    sheet.freeze_panes = f"{get_column_letter(frozen + 1)}{header + 1}"
    if len(columns):
        sheet.auto_filter.ref = f"A{header}:{get_column_letter(len(columns))}{max(len(frame) + header, header)}"


def _write_groups(sheet, columns: list[str], groups: Sequence[tuple[str, Sequence[str]]], font: Font) -> None:
    """The row above the column names: each group's label merged across its (adjacent) columns."""
    position = {name: i + 1 for i, name in enumerate(columns)}
    for label, members in groups:
        spots = sorted(position[m] for m in members if m in position)
        if not spots:
            continue
        first, last = spots[0], spots[-1]
        cell = sheet.cell(row=1, column=first)
        _set(cell, str(label))
        cell.font = font
        cell.alignment = Alignment(wrap_text=True, vertical="top", horizontal="center" if last > first else "general")
        if last > first:
            sheet.merge_cells(start_row=1, start_column=first, end_row=1, end_column=last)


def _set(cell, value: object) -> None:
    """Store ``value``; text that looks like a formula becomes a quoted string cell."""
    cell.value = value
    if is_formula_like(value):
        cell.data_type = "s"  # never 'f': the text is kept exactly and never evaluated
        cell.quotePrefix = True  # Excel shows it as typed text even after editing


def _width(text: str) -> int:
    longest = max((len(line) for line in text.splitlines()), default=0)
    return max(MIN_WIDTH, min(MAX_WIDTH, longest + 2))
