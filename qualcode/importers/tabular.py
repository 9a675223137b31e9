"""Tables (.csv, .tsv, .xlsx): one document per row, or per transcript of rows.

A staff survey's comment column or a case-management export becomes one document
per row. The text column is the one named with ``--text-column`` (several are joined
by a blank line); without it, the one column of long free text, or the one named
text, note, comment, answer or response, and the import says which it used. Other
columns (or those named with ``--attribute-column``) become attributes, so comments
can be compared by role, team or wave. ``options.case_column``, or else a column
called ``case_id`` or ``case``, sets the document's case.

A spreadsheet of utterances (one row per turn, as transcription services and
focus-group logs export them) becomes one document per transcript with
``--document-column``: rows sharing its value, in file order, are that document's
turns, with the speaker from ``--speaker-column`` and the time from ``--time-column``.

Tables are read strictly: a column name written twice, a quote that never closes, a
row with more or fewer cells than the header are errors that name the row, since
each would otherwise put text under the wrong column without a word. Rows stream: a
million-row export is read, checked and stored a batch at a time.

Rows whose text is empty are not returned (an unanswered comment box is not a
document). Documents are named ``survey.csv#row 12`` (12th data row, header not
counted), or ``survey.csv#R_0042`` when an ``id``, ``note_id`` or ``response_id``
column holds a unique value on every row.

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
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from qualcode import turns as turn_rules
from qualcode.errors import ImportFailed
from qualcode.importers.base import ImportOptions, ParsedDocument, importer
from qualcode.safezip import check_zip, is_ole
from qualcode.textnorm import decode_text, is_mixed, mixed_warning, normalise_text

ID_COLUMNS = ("id", "note_id", "response_id")
CASE_COLUMNS = ("case_id", "case")
TEXT_NAMES = ("text", "texts", "note", "notes", "comment", "comments", "answer", "answers", "response",
              "responses", "free text", "free_text")
LONG_TEXT_WORDS = 8  # a column whose typical cell has this many words is free text, not a category
SAMPLE_ROWS = 500  # rows looked at to choose the text column
_DELIMITERS = ",;\t"
# Tables qualcode reads with another verb: said so instead of importing them as documents.
_OTHER_VERBS = (
    ({"document", "start", "end", "code"}, "a codings file", "qualcode codings import PROJECT FILE"),
    ({"item", "question"}, "a survey's item list", "qualcode survey import PROJECT RESPONSES --items FILE"),
    ({"indicator", "period", "value"}, "management information", "qualcode indicators import PROJECT FILE"),
    ({"file"}, "an attributes (sidecar) file", "qualcode import PROJECT FOLDER --attributes FILE"),
)


@dataclass
class Table:
    """A checked header and its rows, streamed: ``(data row number, cells)``."""

    name: str
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    encoding: str | None = None
    estimated_rows: int | None = None
    notes: list[str] = field(default_factory=list)


def read_csv(path: Path, data: bytes, options: ImportOptions) -> Table:
    """A CSV/TSV as a ``Table``; the rows are checked as they are read."""
    _check_size(path, data, options)
    text, encoding = decode_text(data, path.name)
    text = normalise_text(text)
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, [])
    except csv.Error as err:
        raise _unreadable(path.name, 0, reader.line_num, err) from None
    notes = [mixed_warning(encoding)] if is_mixed(encoding) else []
    table = Table(path.name, _header(path.name, header), iter(()), encoding, data.count(b"\n"), notes)
    table.rows = _csv_rows(path.name, reader, len(header))
    return table


def _csv_rows(name: str, reader, width: int) -> Iterator[tuple[int, list[str]]]:
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise _unreadable(name, number + 1, reader.line_num, err) from None
        number += 1
        if not cells:
            continue  # a blank line
        if len(cells) != width:
            if len(cells) > width and not any(c.strip() for c in cells[width:]):
                cells = cells[:width]  # trailing empty cells, as spreadsheets write them
            else:
                raise ImportFailed(
                    name, f"row {number} has {len(cells)} cells but the header names {width} columns",
                    "quote cells that contain the delimiter (or a line break), and give every column a "
                    "name in the first row; then save it again as CSV",
                    where=f"line {reader.line_num}")
        yield number, cells


def _unreadable(name: str, number: int, line: int, err: Exception) -> ImportFailed:
    why = str(err)
    if "end of data" in why or "expected after" in why:
        why = "a quote (\") opens a cell that is never closed, so rows run together"
    return ImportFailed(name, f"row {number} cannot be read as CSV: {why}",
                        "close the quote (or double a quote inside a cell: \"\"), or save it again from "
                        "Excel or LibreOffice as CSV (UTF-8)", where=f"line {line}")


def read_xlsx(path: Path, data: bytes, options: ImportOptions) -> Table:
    """The first worksheet (or ``options.sheet``) as a ``Table``."""
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
        cells = ws.iter_rows(values_only=True)
        first = next(cells, None)
        estimated = max((ws.max_row or 1) - 1, 0)
    except ImportFailed:
        raise
    except Exception as err:  # noqa: BLE001 - openpyxl raises many types on damaged files
        raise _damaged(path.name, err) from None
    if first is None:
        raise ImportFailed(path.name, "the table is empty", "export it again with its rows")
    header = _header(path.name, [normalise_text(_cell_text(v)) for v in first])
    return Table(path.name, header, _xlsx_rows(path.name, book, cells, len(header)), None, estimated)


def _xlsx_rows(name: str, book, cells: Iterator[tuple], width: int) -> Iterator[tuple[int, list[str]]]:
    """The worksheet's rows after the header, read one at a time (read-only mode streams
    the sheet's XML), so a case-note extract of 100,000 rows never sits in memory whole."""
    try:
        for number, values in enumerate(cells, start=1):
            row = [normalise_text(_cell_text(v)) for v in values]
            if any(row):
                yield number, row + [""] * (width - len(row))
    except Exception as err:  # noqa: BLE001 - a sheet damaged past its first row
        raise _damaged(name, err) from None
    finally:
        book.close()


def _damaged(name: str, err: Exception) -> ImportFailed:
    return ImportFailed(
        name,
        f"the workbook is damaged and cannot be read ({type(err).__name__}: {err})",
        "open it in Excel or LibreOffice, save it again as .xlsx, and import the new copy",
    )


def _header(name: str, cells: Sequence[str]) -> list[str]:
    header = [cell.strip() for cell in cells]
    if not any(header):
        raise ImportFailed(name, "the first row (the column names) is empty",
                           "put the column names in the first row", where="row 1")
    seen: dict[str, int] = {}
    for i, column in enumerate(header, start=1):
        key = column.casefold()
        if key and key in seen:
            raise ImportFailed(name, f"the column name {column!r} is written twice (columns {seen[key]} and {i})",
                               "rename one of them, so each column's cells go where they belong",
                               where="row 1")
        seen[key] = i
    return header


def iter_documents(table: Table, fmt: str, options: ImportOptions) -> Iterator[ParsedDocument]:
    """The documents of a table: one per row, or one per transcript with ``document_column``."""
    header = table.header
    sample = list(itertools.islice(table.rows, SAMPLE_ROWS))
    rows = itertools.chain(sample, table.rows)
    text_cols = _text_columns(table, sample, options)
    if options.case_column:
        case_col = _columns(table.name, header, [options.case_column], "--case-column")[0]
    else:
        case_col = next((i for i, h in enumerate(header) if h.lower() in CASE_COLUMNS), None)
    if options.document_column:
        yield from _transcripts(table, rows, text_cols, case_col, fmt, options)
        return
    if options.attribute_columns:
        attr_cols = _columns(table.name, header, options.attribute_columns, "--attribute-column")
    else:
        attr_cols = [i for i, h in enumerate(header) if h and i not in text_cols]
    id_col = _id_column(header, sample)
    seen_ids: set[str] = set()
    only = text_cols[0] if len(text_cols) == 1 else None
    for number, cells in rows:
        if only is not None:
            text = cells[only].strip()
        else:
            text = "\n\n".join(part for part in (cells[i].strip() for i in text_cols) if part)
        if not text:
            continue
        name = f"{table.name}#row {number}"
        if id_col is not None:
            value = cells[id_col].strip()
            if value and value not in seen_ids:
                seen_ids.add(value)
                name = f"{table.name}#{value}"
        yield ParsedDocument(
            name=name, text=text, format=fmt,
            attributes={header[i]: cells[i].strip() for i in attr_cols},
            case=(cells[case_col].strip() or None) if case_col is not None else None,
            source_type=options.source_type, encoding=table.encoding,
        )


def _id_column(header: list[str], sample: list[tuple[int, list[str]]]) -> int | None:
    """An id column whose sampled values are all filled and unique names the documents."""
    for i, h in enumerate(header):
        if h.lower() in ID_COLUMNS:
            ids = [cells[i].strip() for _, cells in sample]
            if all(ids) and len(set(ids)) == len(ids):
                return i
    return None


def _text_columns(table: Table, sample: list[tuple[int, list[str]]], options: ImportOptions) -> list[int]:
    """The columns named, else the one column of free text, said in ``table.notes``."""
    header = table.header
    if options.text_columns:
        return _columns(table.name, header, options.text_columns, "--text-column")
    columns = {h.casefold() for h in header}
    for needs, what, verb in _OTHER_VERBS:
        if needs <= columns:
            raise ImportFailed(table.name, f"this looks like {what} (columns {_listing(header)}), not documents",
                               f"import it with `{verb}`, or pass --text-column to import its rows as documents")
    named = [i for i, h in enumerate(header) if h.casefold() in TEXT_NAMES]
    long = [i for i in range(len(header)) if _is_free_text([cells[i] for _, cells in sample])]
    for choice in (named, long):
        if len(choice) == 1:
            table.notes.append(f"the text is column {header[choice[0]]!r} (pass --text-column to choose another)")
            return choice
    candidates = named or long
    if candidates:
        raise ImportFailed(table.name, f"several columns could hold the text: {_listing([header[i] for i in candidates])}",
                           "pass --text-column with the one (or ones) to import")
    raise ImportFailed(table.name, f"no column of free text was found; columns are: {_listing(header)}",
                       "pass --text-column with the column that holds the text")


def _is_free_text(values: list[str]) -> bool:
    """Mostly sentences: a typical filled cell has several words, and cells differ."""
    filled = [v.strip() for v in values if v.strip()]
    if len(filled) < 1:
        return False
    words = sorted(len(v.split()) for v in filled)
    return words[len(words) // 2] >= LONG_TEXT_WORDS and len(set(filled)) >= 0.8 * len(filled)


def _transcripts(table: Table, rows: Iterable[tuple[int, list[str]]], text_cols: list[int], case_col: int | None,
                 fmt: str, options: ImportOptions) -> Iterator[ParsedDocument]:
    """Rows grouped into one document per value of the document column, each row a turn."""
    header = table.header
    doc_col = _columns(table.name, header, [options.document_column], "--document-column")[0]
    speaker_col = (_columns(table.name, header, [options.speaker_column], "--speaker-column")[0]
                   if options.speaker_column else None)
    time_col = (_columns(table.name, header, [options.time_column], "--time-column")[0]
                if options.time_column else None)
    used = {doc_col, speaker_col, time_col, *text_cols}
    attr_cols = ([c for c in _columns(table.name, header, options.attribute_columns, "--attribute-column")]
                 if options.attribute_columns else [i for i, h in enumerate(header) if h and i not in used])
    groups: dict[str, _Transcript] = {}
    for number, cells in rows:
        said = " ".join(cells[i].strip() for i in text_cols if cells[i].strip())
        key = cells[doc_col].strip()
        if not said:
            continue
        if not key:
            raise ImportFailed(table.name, f"row {number} has no value in the document column {header[doc_col]!r}",
                               "fill it with the transcript the row belongs to", where=f"row {number}")
        group = groups.setdefault(key, _Transcript({header[i]: cells[i].strip() for i in attr_cols},
                                                   cells[case_col].strip() or None if case_col is not None else None))
        speaker = cells[speaker_col].strip() if speaker_col is not None else ""
        seconds = _seconds(table.name, number, cells[time_col]) if time_col is not None else None
        group.add(speaker or "Speaker", said, seconds, options.interviewer_names)
    for key, group in groups.items():
        yield group.document(f"{table.name}#{key}", fmt, options, table.encoding)


@dataclass
class _Transcript:
    attributes: dict[str, str]
    case: str | None
    parts: list[str] = field(default_factory=list)
    turns: list = field(default_factory=list)
    length: int = 0

    def add(self, speaker: str, said: str, seconds: float | None, interviewers: Iterable[str]) -> None:
        label = f"{speaker}: "
        start = self.length + len(label)
        self.parts.append(label + said)
        if self.turns and self.turns[-1].time_end is None and seconds is not None:
            self.turns[-1].time_end = seconds
        self.turns.append(turn_rules.Turn(start, start + len(said), speaker,
                                          turn_rules.is_interviewer_label(speaker, interviewers), seconds))
        self.length = start + len(said) + 2  # turns are separated by a blank line

    def document(self, name: str, fmt: str, options: ImportOptions, encoding: str | None) -> ParsedDocument:
        return ParsedDocument(name=name, text="\n\n".join(self.parts), format=fmt, turns=self.turns,
                              attributes=self.attributes, case=self.case, source_type=options.source_type,
                              encoding=encoding)


def _seconds(name: str, number: int, value: str) -> float | None:
    value = value.strip()
    if not value:
        return None
    try:
        return float(value) if ":" not in value else turn_rules.parse_timestamp(value)
    except ValueError:
        raise ImportFailed(name, f"row {number}: the time {value!r} is not seconds or h:mm:ss",
                           "write times as 83.5 or 00:01:23", where=f"row {number}") from None


@importer(".csv", ".tsv")
def parse_csv(path: Path, data: bytes, options: ImportOptions) -> list[ParsedDocument]:
    """One document per row of a comma-, semicolon- or tab-separated file."""
    return _checked(read_csv(path, data, options), "csv", options)


@importer(".xlsx", ".xlsm")
def parse_xlsx(path: Path, data: bytes, options: ImportOptions) -> list[ParsedDocument]:
    """One document per row of the first worksheet (or ``options.sheet``)."""
    return _checked(read_xlsx(path, data, options), "xlsx", options)


def stream_table(path: Path, data: bytes, options: ImportOptions) -> tuple[Table, Iterator[ParsedDocument]]:
    """The table and its documents as a stream, for ``corpus`` to store a batch at a time."""
    suffix = path.suffix.lower()
    fmt = "xlsx" if suffix in (".xlsx", ".xlsm") else "csv"
    table = read_xlsx(path, data, options) if fmt == "xlsx" else read_csv(path, data, options)
    return table, iter_documents(table, fmt, options)


def _checked(table: Table, fmt: str, options: ImportOptions) -> list[ParsedDocument]:
    docs = list(iter_documents(table, fmt, options))
    if not docs:
        raise ImportFailed(table.name, "the table is empty (no row has text)", "export it again with its rows")
    for doc in docs[:1]:
        doc.warnings = list(table.notes)
    return docs


@importer(".xls")
def parse_xls(path: Path, data: bytes, options: ImportOptions) -> list[ParsedDocument]:
    """Old binary Excel files are not read: ask for .xlsx or .csv instead."""
    raise ImportFailed(
        path.name,
        "this is an old Excel 97-2003 .xls workbook, which qualcode cannot read",
        "open it in Excel or LibreOffice and save it as .xlsx (or CSV UTF-8), then import that",
    )


TABLE_SUFFIXES = (".csv", ".tsv", ".xlsx", ".xlsm")


def _columns(name: str, header: list[str], wanted: Iterable[str], flag: str) -> list[int]:
    """Indexes of the ``wanted`` columns (exact name first, then any case)."""
    found = []
    folded = [h.casefold() for h in header]
    for want in wanted:
        if want in header:
            found.append(header.index(want))
        elif want.strip().casefold() in folded:
            found.append(folded.index(want.strip().casefold()))
        else:
            raise ImportFailed(name, f"no column {want!r}; columns are: {_listing(header)}",
                               f"pass {flag} with one of them")
    return found


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
