"""Tables (.csv, .xlsx): one document per row, for survey free text and case notes.

A staff survey's comment column or a case-management export becomes one document
per row. The user names the text column(s) (``--text-column``); with several, their
values are joined by a blank line. The other columns (or those named with
``--attribute-column``) become attributes, so comments can later be compared by
role, team or wave. ``options.case_column``, or else a column called ``case_id``
or ``case``, sets the document's case.

Rows whose text is empty are not returned (an unanswered comment box is not a
document); the caller can report ``rows read - documents returned`` as skipped.
Documents are named ``survey.csv#row 12`` (12th data row, header not counted), or
``survey.csv#R_0042`` when an ``id``, ``note_id`` or ``response_id`` column holds
a unique value on every row.

>>> from pathlib import Path
>>> data = b"response_id,wave,comment\\nr1,1,More time with families\\nr2,1,\\n"
>>> docs = parse_csv(Path("s.csv"), data, ImportOptions(text_columns=["comment"]))
>>> [(d.name, d.text, d.attributes) for d in docs]
[('s.csv#r1', 'More time with families', {'response_id': 'r1', 'wave': '1'})]
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Iterable, Sequence

from qualcode.errors import ImportFailed
from qualcode.importers.base import ImportOptions, ParsedDocument, importer
from qualcode.safezip import check_zip, is_ole
from qualcode.textnorm import decode_text, normalise_text

ID_COLUMNS = ("id", "note_id", "response_id")
CASE_COLUMNS = ("case_id", "case")
_DELIMITERS = ",;\t"


@importer(".csv", ".tsv")
def parse_csv(path: Path, data: bytes, options: ImportOptions) -> list[ParsedDocument]:
    """One document per row of a comma-, semicolon- or tab-separated file."""
    _check_size(path, data, options)
    text, encoding = decode_text(data, path.name)
    text = normalise_text(text)
    delimiter = _sniff_delimiter(text)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as err:
        raise ImportFailed(
            path.name,
            f"the file cannot be read as CSV ({err})",
            "open it in Excel or LibreOffice and save it again as CSV (UTF-8)",
        ) from None
    return _documents(path, rows, "csv", options, encoding)


@importer(".xlsx", ".xlsm")
def parse_xlsx(path: Path, data: bytes, options: ImportOptions) -> list[ParsedDocument]:
    """One document per row of the first worksheet (or ``options.sheet``)."""
    import openpyxl  # imported here: it is slow to load and only needed for Excel

    _check_size(path, data, options)
    if is_ole(data):
        raise ImportFailed(
            path.name,
            "the workbook is password-protected (encrypted), or is an old Excel .xls "
            "file renamed to .xlsx",
            "open it in Excel, remove the password (File > Info > Protect Workbook > "
            "Encrypt with Password, clear it) and save it as .xlsx, then import again",
        )
    check_zip(data, path.name)
    sheet = options.sheet
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        if sheet is not None and sheet not in book.sheetnames:
            raise ImportFailed(
                path.name,
                f"there is no sheet {sheet!r}; sheets are: {', '.join(book.sheetnames)}",
                "name one of those sheets",
            )
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        rows = [[_cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
        book.close()
    except ImportFailed:
        raise
    except Exception as err:  # noqa: BLE001 - openpyxl raises many types on damaged files
        raise ImportFailed(
            path.name,
            f"the workbook is damaged and cannot be read ({type(err).__name__}: {err})",
            "open it in Excel or LibreOffice, save it again as .xlsx, and import the new copy",
        ) from None
    return _documents(path, rows, "xlsx", options, None)


@importer(".xls")
def parse_xls(path: Path, data: bytes, options: ImportOptions) -> list[ParsedDocument]:
    """Old binary Excel files are not read: ask for .xlsx or .csv instead."""
    raise ImportFailed(
        path.name,
        "this is an old Excel 97-2003 .xls workbook, which qualcode cannot read",
        "open it in Excel or LibreOffice and save it as .xlsx (or CSV UTF-8), then import that",
    )


def _documents(
    path: Path,
    rows: list[Sequence[str]],
    fmt: str,
    options: ImportOptions,
    encoding: str | None,
) -> list[ParsedDocument]:
    """The shared part: header, column choice, one document per non-empty row."""
    if not rows or not any(cell.strip() for row in rows for cell in row):
        raise ImportFailed(path.name, "the table is empty", "export it again with its rows")
    header = [cell.strip() for cell in rows[0]]
    if not any(header):
        raise ImportFailed(path.name, "the first row (the column names) is empty",
                           "put the column names in the first row")
    text_cols = _columns(path, header, options.text_columns, "--text-column")
    if not text_cols:
        raise ImportFailed(
            path.name,
            f"no text column was named; columns are: {_listing(header)}",
            "pass --text-column with the column that holds the text",
        )
    if options.case_column:
        case_col = _columns(path, header, [options.case_column], "--case-column")[0]
    else:
        case_col = next((i for i, h in enumerate(header) if h.lower() in CASE_COLUMNS), None)
    if options.attribute_columns:
        attr_cols = _columns(path, header, options.attribute_columns, "--attribute-column")
    else:
        attr_cols = [i for i, h in enumerate(header) if h and i not in text_cols]

    kept: list[tuple[int, list[str], str]] = []  # (data row number, cells, text)
    for number, row in enumerate(rows[1:], start=1):
        cells = list(row) + [""] * (len(header) - len(row))
        parts = [normalise_text(cells[i]).strip() for i in text_cols]
        text = "\n\n".join(part for part in parts if part)
        if text:
            kept.append((number, cells, text))
    names = _row_names(path, header, kept)
    return [
        ParsedDocument(
            name=name,
            text=text,
            format=fmt,
            attributes={header[i]: cells[i].strip() for i in attr_cols},
            case=(cells[case_col].strip() or None) if case_col is not None else None,
            source_type=options.source_type,
            encoding=encoding,
        )
        for name, (_, cells, text) in zip(names, kept)
    ]


def _columns(path: Path, header: list[str], wanted: Iterable[str], flag: str) -> list[int]:
    """Indexes of the ``wanted`` columns (exact name first, then any case)."""
    found = []
    for want in wanted:
        if want in header:
            found.append(header.index(want))
            continue
        folded = [h.casefold() for h in header]
        if want.strip().casefold() in folded:
            found.append(folded.index(want.strip().casefold()))
            continue
        raise ImportFailed(
            path.name,
            f"no column {want!r}; columns are: {_listing(header)}",
            f"pass {flag} with one of them",
        )
    return found


def _row_names(path: Path, header: list[str], kept: list[tuple[int, list[str], str]]) -> list[str]:
    """``file#<id>`` when an id column is filled and unique, else ``file#row N``."""
    for i, h in enumerate(header):
        if h.lower() in ID_COLUMNS:
            ids = [cells[i].strip() for _, cells, _ in kept]
            if all(ids) and len(set(ids)) == len(ids):
                return [f"{path.name}#{value}" for value in ids]
    return [f"{path.name}#row {number}" for number, _, _ in kept]


def _listing(header: list[str]) -> str:
    return ", ".join(h for h in header if h) or "(none)"


def _sniff_delimiter(text: str) -> str:
    """Comma, semicolon (European Excel) or tab, judged from the first lines."""
    sample = text[:64 * 1024]
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        first = sample.split("\n", 1)[0]
        return max(_DELIMITERS, key=first.count)


def _cell_text(value: object) -> str:
    """A worksheet value as the text a researcher sees: 3 not 3.0, dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _check_size(path: Path, data: bytes, options: ImportOptions) -> None:
    if len(data) > options.max_bytes:
        raise ImportFailed(
            path.name,
            f"the file is {len(data):,} bytes, over the {options.max_bytes:,}-byte limit",
            "split it into smaller files (e.g. one per wave) and import those",
        )
