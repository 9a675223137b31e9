"""Codings in and out as CSV: bring in coding done elsewhere, hand codings to a spreadsheet.

Import reads ``document,start,end,code,coder[,status][,confidence][,memo]`` (one coding a
row; ``document`` is a document's name or id, ``code`` a code's key or name). Every row
is checked before anything is written, and every problem is reported with its line;
either all rows go in, in one transaction, or none do.

Export writes one row per coding with the coded text. Cells a spreadsheet would run as a
formula (starting ``=``, ``+``, ``-``, ``@``, tab or carriage return) get a leading
single quote; import takes it off again, so an export imports back unchanged.

>>> import_codings(project, "coded_by_sam.csv")      # doctest: +SKIP
CodingsImport(file='coded_by_sam.csv', rows=120, added=118, duplicates=2, ...)
>>> export_codings(project, "out.csv", status="accepted")   # doctest: +SKIP
"""

from __future__ import annotations

import csv
import difflib
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from . import store
from .problems import Problem
from .errors import InputError, ValidationProblems
from .project import NewCoding, Project
from .textnorm import decode_text
from .xlsx_export import csv_safe, csv_unquote

REQUIRED = ("document", "start", "end", "code", "coder")
OPTIONAL = ("status", "confidence", "memo")
# Columns an export writes beyond the importable ones; import reads past them.
EXPORT_ONLY = ("id", "code_name", "method", "text", "explanation", "created_at", "updated_at")
EXPORT_COLUMNS = ("id", "document", "start", "end", "code", "code_name", "coder", "status", "confidence",
                  "method", "text", "explanation", "memo", "created_at", "updated_at")


@dataclass
class CodingsImport:
    """What an import did: rows read, codings added, exact duplicates skipped."""

    file: str
    rows: int
    added: int
    duplicates: int
    memos: int
    ids: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "rows": self.rows, "added": self.added, "duplicates": self.duplicates,
                "memos": self.memos, "ids": self.ids}


# -- cells ----------------------------------------------------------------------------


# One rule for every CSV qualcode writes: xlsx_export's.
safe_cell = csv_safe
unquote_cell = csv_unquote


# -- import ---------------------------------------------------------------------------


@dataclass
class _Lookup:
    """The project's documents and codes, read once, to check every row against."""

    doc_by_name: dict[str, int]
    doc_ids: set[int]
    doc_length: dict[int, int]
    code_by_key: dict[str, str]  # key or name -> key
    existing: set[tuple]

    @classmethod
    def read(cls, conn: sa.Connection) -> "_Lookup":
        d, c, k, co = store.documents, store.codes, store.codings, store.coders
        doc_by_name: dict[str, int] = {}
        lengths: dict[int, int] = {}
        for doc_id, name, length in conn.execute(
            sa.select(d.c.id, d.c.name, sa.func.length(d.c.text)).order_by(d.c.name, d.c.version)
        ):
            doc_by_name[name] = doc_id  # the newest version wins, as in Project.document_id
            lengths[doc_id] = length
        by_key: dict[str, str] = {}
        for key, name in conn.execute(sa.select(c.c.key, c.c.name)):
            by_key.setdefault(name, key)
        for key, _ in conn.execute(sa.select(c.c.key, c.c.name)):
            by_key[key] = key  # keys win over names
        existing = set(conn.execute(
            sa.select(k.c.document_id, k.c.start, k.c.end, c.c.key, co.c.name)
            .select_from(k.join(c, k.c.code_id == c.c.id).join(co, k.c.coder_id == co.c.id))
        ).tuples())
        return cls(doc_by_name, set(lengths), lengths, by_key, existing)


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


def _header_problems(file: str, header: list[str]) -> list[Problem]:
    problems = []
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        problems.append(Problem(file, 1, f"missing column(s) {', '.join(missing)} (header is {', '.join(header) or 'empty'})",
                                f"the first row must name the columns {', '.join(REQUIRED)} "
                                f"(optional: {', '.join(OPTIONAL)})"))
    known = REQUIRED + OPTIONAL + EXPORT_ONLY
    for column in header:
        if column in known or not column:
            continue
        close = difflib.get_close_matches(column, known, n=1, cutoff=0.75)
        if close:  # a near miss is a typo; any other extra column is the user's own and is ignored
            problems.append(Problem(file, 1, f"unknown column {column!r}", f"did you mean {close[0]!r}?"))
    return problems


def _check_row(file: str, line: int, row: dict[str, str], look: _Lookup) -> tuple[list[Problem], NewCoding | None, str]:
    """Check one row; return its problems, or the coding it describes and its memo."""
    problems: list[Problem] = []

    def bad(message: str, fix: str) -> None:
        problems.append(Problem(file, line, message, fix))

    document = row.get("document", "")
    doc_id = None
    if not document:
        bad("empty document", "name the document (as `qualcode documents` lists it) or give its id")
    elif document in look.doc_by_name:
        doc_id = look.doc_by_name[document]
    elif document.isdigit() and int(document) in look.doc_ids:
        doc_id = int(document)
    else:
        hint = _suggest(document, look.doc_by_name)
        bad(f"unknown document {document!r}", hint or "use a name `qualcode documents PROJECT.qc` lists, or an id")

    code = row.get("code", "")
    key = look.code_by_key.get(code)
    if key is None:
        hint = _suggest(code, look.code_by_key)
        bad(f"unknown code {code!r}" if code else "empty code",
            hint or "use a code key from the project's codebook (`qualcode codebook load` adds codes)")

    coder = row.get("coder", "")
    if not coder:
        bad("empty coder", "name who (or which method) made the coding")

    span = []
    for column in ("start", "end"):
        value = row.get(column, "")
        try:
            span.append(int(value))
        except ValueError:
            bad(f"{column} {value!r} is not a whole number", f"give {column} as a character offset, e.g. 120")
    if len(span) == 2 and doc_id is not None:
        start, end = span
        length = look.doc_length[doc_id]
        if not 0 <= start < end <= length:
            bad(f"span [{start}, {end}) is outside {document!r} (length {length}) or empty",
                f"give 0 <= start < end <= {length}")

    status = (row.get("status") or "accepted").lower()
    if status not in store.CODING_STATUSES:
        hint = _suggest(status, store.CODING_STATUSES)
        bad(f"status {row.get('status')!r} is not one of {', '.join(store.CODING_STATUSES)}",
            hint or "leave it empty (accepted) or use suggested, accepted or rejected")

    confidence = None
    if row.get("confidence"):
        try:
            confidence = float(row["confidence"])
            if not 0.0 <= confidence <= 1.0 or math.isnan(confidence):
                raise ValueError
        except ValueError:
            bad(f"confidence {row['confidence']!r} is not a number between 0 and 1", "give e.g. 0.85, or leave it empty")

    if problems:
        return problems, None, ""
    coding = NewCoding(doc_id, span[0], span[1], key, coder, status=status, confidence=confidence,
                       method="import", provenance={"file": Path(file).name, "line": line})
    return [], coding, row.get("memo", "")


def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header (lower-cased) and ``(line, row)`` pairs, cells stripped and unquoted."""
    text, _ = decode_text(path.read_bytes(), path.name)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = []
    header: list[str] = []
    for cells in reader:
        if not header:
            header = [h.strip().lower() for h in cells]
            continue
        if not any(c.strip() for c in cells):
            continue  # blank lines spreadsheets leave at the end
        line = reader.line_num - sum(c.count("\n") for c in cells)  # where the row began
        rows.append((line, {h: unquote_cell(c.strip()) for h, c in zip(header, cells)}))
    return header, rows


def import_codings(project: Project, path: str | Path, actor: str | None = None) -> CodingsImport:
    """Import codings from a CSV file, all or nothing; exact duplicates are skipped.

    A duplicate is a row whose document, span, code and coder already exist in the
    project (or earlier in the file), so importing the same file twice adds nothing.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file", "check the path of the codings CSV")
    header, rows = _read_rows(path)
    file = str(path)
    problems = _header_problems(file, header)
    if not rows and not problems:
        problems.append(Problem(file, 2, "no codings in the file", "add one row per coding under the header"))
    if any("missing column" in p.message for p in problems):
        raise ValidationProblems(file, problems)
    with project.transaction() as conn:
        look = _Lookup.read(conn)
        new: list[tuple[NewCoding, str]] = []
        for line, row in rows:
            row_problems, coding, memo = _check_row(file, line, row, look)
            problems += row_problems
            if coding is not None:
                new.append((coding, memo))
        if problems:
            raise ValidationProblems(file, problems)
        fresh, seen = [], set(look.existing)
        for coding, memo in new:
            key = (coding.document_id, coding.start, coding.end, coding.code, coding.coder)
            if key not in seen:
                seen.add(key)
                fresh.append((coding, memo))
        ids = project.insert_codings(conn, [c for c, _ in fresh], actor) if fresh else []
        memos = _write_memos(conn, ids, fresh)
    return CodingsImport(file, len(rows), len(ids), len(new) - len(ids), memos, ids)


def _write_memos(conn: sa.Connection, ids: list[int], fresh: list[tuple[NewCoding, str]]) -> int:
    stamp = store.now()
    memos = [{"kind": "coding", "coding_id": i, "document_id": c.document_id, "text": memo,
              "author": c.coder, "created_at": stamp, "updated_at": stamp}
             for i, (c, memo) in zip(ids, fresh) if memo]
    if memos:
        conn.execute(sa.insert(store.memos), memos)
    return len(memos)


# -- export ---------------------------------------------------------------------------


def codings_table(project: Project, status: str | None = None, coder: str | None = None,
                  code: str | None = None, method: str | None = None) -> pd.DataFrame:
    """The codings an export writes, with the text each covers and its memo, unquoted."""
    if status is not None and status not in store.CODING_STATUSES:
        raise InputError(project.location, f"status {status!r} is not one of {', '.join(store.CODING_STATUSES)}",
                         "use --status suggested, accepted or rejected")
    if coder is not None and coder not in set(project.coders()["name"]):
        names = sorted(project.coders()["name"])
        raise InputError(project.location, f"no coder {coder!r}",
                         f"use one of {', '.join(names) or '(no coders yet)'}")
    frame = project.codings(status=status, coder=coder, code=code, method=method)
    if frame.empty:
        return pd.DataFrame(columns=list(EXPORT_COLUMNS))
    texts = dict(project.iter_texts(frame["document_id"].unique().tolist()))
    missing = set(frame["document_id"]) - set(texts)
    if missing:  # codings of superseded versions still export, with their own text
        with project.engine.connect() as conn:
            d = store.documents
            texts.update(conn.execute(sa.select(d.c.id, d.c.text).where(d.c.id.in_(missing))).tuples())
    frame["text"] = [texts[d][s:e] for d, s, e in zip(frame["document_id"], frame["start"], frame["end"])]
    memos = project.memos(kind="coding")
    memo_by_coding = memos.groupby("coding_id")["text"].agg("\n".join) if not memos.empty else {}
    frame["memo"] = [memo_by_coding.get(i, "") if len(memo_by_coding) else "" for i in frame["id"]]
    return frame[list(EXPORT_COLUMNS)].reset_index(drop=True)


def export_codings(project: Project, path: str | Path, status: str | None = None, coder: str | None = None,
                   code: str | None = None, method: str | None = None) -> pd.DataFrame:
    """Write codings to CSV (UTF-8 with BOM, so Excel reads accents); return what was written."""
    path = Path(path)
    if not path.parent.exists():
        raise InputError(path, f"folder {path.parent} does not exist", "create it first or choose another path")
    frame = codings_table(project, status, coder, code, method)
    safe = frame.map(safe_cell) if not frame.empty else frame
    safe.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    return frame
