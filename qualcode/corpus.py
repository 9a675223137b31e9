"""Corpus import: files and folders in, documents, turns, cases and attributes stored.

``import_paths`` walks what the user named, hands each file's bytes to the parser
registered for its extension (``importers/``), and stores each file in its own
transaction: a file that fails leaves nothing behind, and the rest of a folder goes on.

>>> report = import_paths(project, ["corpus/interviews"], attributes="corpus/attributes.csv")  # doctest: +SKIP
>>> report.to_frame()                                                                          # doctest: +SKIP
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import importlib
import os
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import pandas as pd
import sqlalchemy as sa
from tqdm.auto import tqdm

from . import bulk_write, store
from .errors import ImportFailed, InputError, ProjectLocked, QualcodeError
from .importers import ImportOptions, ParsedDocument, known_extensions, parser_for
from .importers.base import SOURCE_TYPES
from .importers.tabular import TABLE_SUFFIXES, read_csv, stream_table
from .project import Project
from .textnorm import count_words, is_mixed, mixed_warning

# Sidecar columns with a meaning of their own; every other column is an attribute.
_SIDECAR_KEY = ("file", "filename", "file_name", "document")
_TURNS_PER_INSERT = 10_000
_DOCS_PER_BATCH = 2_000  # documents written per executemany when a table streams its rows
_ROLE_GROUP_SOURCE = {"staff": "staff interview", "family": "family interview", "partner": "partner interview"}


@dataclass
class FileResult:
    """What happened to one file."""

    file: str
    status: str  # imported | new version | unchanged | failed | skipped
    documents: int = 0
    words: int = 0
    turns: int = 0
    message: str = ""


@dataclass
class ImportReport:
    """One row per file, in the order they were read."""

    results: list[FileResult] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([r.__dict__ for r in self.results],
                            columns=["file", "status", "documents", "words", "turns", "message"])

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    def counts(self) -> dict[str, int]:
        """How many files ended in each status."""
        out: dict[str, int] = {}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out


def read_sidecar(path: str | Path) -> dict[str, dict[str, str]]:
    """Read ``attributes.csv``: file name -> {attribute: value}.

    The first column named file/filename/document is the key; other columns are
    attributes (``case`` and ``source_type`` are used as such too).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such attributes file", "check the path given to --attributes")
    try:  # the strict reader: a ragged row or an open quote is an error naming the row
        sheet = read_csv(path, path.read_bytes(), ImportOptions())
        header = sheet.header
        rows = [(number, dict(zip(header, cells))) for number, cells in sheet.rows]
    except ImportFailed as exc:
        raise InputError(path, exc.reason, exc.fix, where=exc.where) from None
    columns = [c for c in header if c]
    key = next((c for c in columns if c.lower() in _SIDECAR_KEY), None)
    if key is None:
        raise InputError(
            path, f"no file-name column; columns are: {', '.join(columns) or '(none)'}",
            "add a column 'file' holding each document's file name", where="line 1",
        )
    table: dict[str, dict[str, str]] = {}
    for number, row in rows:
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        name = row.pop(key, "")
        if not name:
            raise InputError(path, f"empty '{key}' cell", "give each row a file name or delete the row",
                             where=f"row {number}")
        table[name] = {k: v for k, v in row.items() if k and v}
    return table


def iter_files(paths: Iterable[str | Path]) -> Iterable[Path]:
    """Files named, and files below folders named, sorted; hidden files left out."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path)
                if child.is_file() and not any(p.startswith(".") for p in rel.parts):
                    yield child
        else:
            yield path


def import_paths(
    project: Project,
    paths: Sequence[str | Path],
    attributes: str | Path | dict[str, dict[str, str]] | None = None,
    source_type: str | None = None,
    text_columns: Sequence[str] = (),
    attribute_columns: Sequence[str] = (),
    case_column: str | None = None,
    progress: bool = False,
    interviewer_names: Sequence[str] = (),
    document_column: str | None = None,
    speaker_column: str | None = None,
    time_column: str | None = None,
) -> ImportReport:
    """Import files and folders into ``project``; one transaction per file.

    ``attributes`` is a sidecar CSV (or its parsed dict) mapping file names to
    attributes such as role, site, wave and case; its ``interviewer`` column names
    the speaker(s) whose turns are the interviewer's in that file (``;`` between
    several), as ``interviewer_names`` does for every file. ``document_column`` groups a
    table's rows (one utterance each) into one document per transcript, with
    ``speaker_column`` and ``time_column`` giving each turn's speaker and start.
    """
    if source_type is not None and source_type not in SOURCE_TYPES:
        raise InputError("--source-type", f"unknown source type {source_type!r}",
                         f"use one of: {', '.join(SOURCE_TYPES)}")
    sidecar = attributes if isinstance(attributes, dict) else (read_sidecar(attributes) if attributes else {})
    sidecar_path = Path(attributes).resolve() if isinstance(attributes, (str, Path)) else None
    options = ImportOptions(source_type=source_type, text_columns=list(text_columns),
                            attribute_columns=list(attribute_columns), case_column=case_column,
                            interviewer_names=list(interviewer_names), document_column=document_column,
                            speaker_column=speaker_column, time_column=time_column)
    report = ImportReport()
    files = [f for f in iter_files(paths) if f.resolve() != sidecar_path]
    _refuse_same_names(files)
    for path in tqdm(files, desc="importing", unit="file", disable=not progress):
        report.results.append(_import_file(project, path, options, sidecar.get(path.name, {}), progress))
    return report


def _refuse_same_names(files: Sequence[Path]) -> None:
    """Two files of one name in one import would become two versions of one document.

    Documents are named by file name (a re-import of a changed file is a new version),
    so ``site_a/interview_01.docx`` and ``site_b/interview_01.docx`` cannot both be
    documents. Refuse before anything is written, naming both files.
    """
    seen: dict[str, Path] = {}
    for path in files:
        if path.name.startswith("~$"):
            continue  # Office lock files are skipped anyway
        first = seen.setdefault(path.name, path)
        if first is not path:
            raise InputError(
                str(path), f"has the same file name as {first}; qualcode names documents by file name, "
                "so the second would be taken as a new version of the first",
                f"rename one of them so each file name is unique (for example "
                f"{path.parent.name}_{path.name}), then import again")


# Files holding a whole project (documents, codes, codings, memos), each read by one
# function ``(project, path, options) -> FileResult``, imported when first needed.
PROJECT_FORMATS = {
    ".qdpx": "qualcode.refi.project_import:import_file",  # REFI-QDA: NVivo, ATLAS.ti, MAXQDA
    ".sqlite3": "qualcode.taguette:import_file",  # a Taguette project database
}


def _project_importer(path: Path):
    target = PROJECT_FORMATS.get(path.suffix.lower())
    if target is None:
        return None
    module, function = target.split(":")
    return getattr(importlib.import_module(module), function)


def _import_file(project: Project, path: Path, options: ImportOptions, extra: dict[str, str],
                 progress: bool = False) -> FileResult:
    name = path.name
    if name.startswith("~$"):
        return FileResult(name, "skipped", message="an Office lock file, not a document")
    if extra.get("interviewer"):  # the sidecar names who asked the questions in this file
        names = [n.strip() for n in extra["interviewer"].split(";") if n.strip()]
        options = replace(options, interviewer_names=[*options.interviewer_names, *names])
        extra = {k: v for k, v in extra.items() if k != "interviewer"}
    whole = _project_importer(path)
    if whole is not None:
        return whole(project, path, options)
    parser = parser_for(path)
    if parser is None:
        return FileResult(name, "failed", message=(
            f"{name}: unknown file type '{path.suffix or '(none)'}'. Fix: convert it to one of "
            f"{', '.join([*known_extensions(), *PROJECT_FORMATS])}, or leave it out."))
    try:
        _check_file_name(name)
        if not path.exists():
            raise ImportFailed(name, "no such file", "check the path")
        size = path.stat().st_size
        if size > options.max_bytes:
            raise ImportFailed(name, f"the file is {_mib(size)}, over the {_mib(options.max_bytes)} limit for one file",
                               "split it into smaller files")
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if _already_imported(project, name, digest):
            return FileResult(name, "unchanged", message="same bytes already imported; nothing to do")
        if path.suffix.lower() in TABLE_SUFFIXES:  # rows stream from the file into the store
            table, rows = stream_table(path, data, options)
            rows = tqdm(rows, total=table.estimated_rows, desc=name, unit="row", disable=not progress,
                        leave=False, miniters=1000)
            with project.transaction() as conn, _fewer_gc_pauses():
                result = _store(conn, path, digest, rows, options, extra)
            result.message = "; ".join(filter(None, [*table.notes, result.message]))
            return result
        parsed = parser(path, data, options)
        if not parsed:
            raise ImportFailed(name, "no text found in the file", "check that it is not empty")
        for doc in parsed:
            if is_mixed(doc.encoding) and not doc.warnings:
                doc.warnings.append(mixed_warning(doc.encoding))
        with project.transaction() as conn:
            result = _store(conn, path, digest, parsed, options, extra)
        return result
    except ProjectLocked:
        raise  # every other file would wait as long: stop and say so once
    except QualcodeError as exc:
        return FileResult(name, "failed", message=str(exc))
    except Exception as exc:  # a parser library choked: report it, keep going
        return FileResult(name, "failed", message=(
            f"{name}: could not be read ({type(exc).__name__}: {exc}). Fix: open and re-save it "
            "in the program that made it, or export it as .txt."))


@contextmanager
def _fewer_gc_pauses() -> Iterator[None]:
    """Run the cycle collector less often while a table streams in, then as before.

    A million rows allocate tens of millions of short-lived objects that reference
    counting frees; at CPython's default thresholds the collector still runs thousands
    of times over the batch in hand: 40% of a 100,000-row import's time, measured.
    """
    before = gc.get_threshold()
    gc.set_threshold(100_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _check_file_name(name: str) -> None:
    """A name that is not valid UTF-8 (made on an old system) cannot be stored or shown; say rename it."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(name).decode("utf-8", errors="replace")
        raise ImportFailed(shown, "the file name is not valid UTF-8 (it was made on a system with another "
                           "character set)", "rename the file (retype its accented letters) and import it again") from None


def _mib(size: int) -> str:
    """A size in bytes and MiB: exact, so a file just over a limit never reads as equal to it.

    >>> _mib(200 * 1024 * 1024 + 1)
    '209,715,201 bytes (200.0 MiB)'
    """
    return f"{size:,} bytes ({size / (1024 * 1024):,.1f} MiB)"


def _already_imported(project: Project, name: str, digest: str) -> bool:
    d = store.documents
    with project.engine.connect() as conn:
        row = conn.execute(
            sa.select(d.c.id).where(d.c.sha256 == digest, d.c.source_file == name,
                                    d.c.superseded_by.is_(None)).limit(1)
        ).first()
    return row is not None


def _resolve_source_type(options: ImportOptions, doc: ParsedDocument, attrs: dict[str, str]) -> str:
    if options.source_type:
        return options.source_type
    explicit = attrs.get("source_type")
    if explicit:
        if explicit not in SOURCE_TYPES:
            raise ImportFailed(doc.name, f"source_type {explicit!r} in the attributes is not known",
                               f"use one of: {', '.join(SOURCE_TYPES)}")
        return explicit
    if doc.source_type:
        return doc.source_type
    return _ROLE_GROUP_SOURCE.get(attrs.get("role_group", "").lower(), "other")


def _store(conn: sa.Connection, path: Path, digest: str, parsed: Iterable[ParsedDocument],
           options: ImportOptions, extra: dict[str, str]) -> FileResult:
    """Store the documents of one file, a batch at a time (a table may stream a million rows)."""
    stamp = store.now()
    result = FileResult(path.name, "imported")
    cases: dict[str, int] = {}
    versions = 0
    warnings: list[str] = []
    batch: list[ParsedDocument] = []
    seen = 0
    for doc in itertools.chain(parsed, [None]):
        if doc is not None:
            seen += 1
            warnings += doc.warnings
            batch.append(doc)
        if batch and (doc is None or len(batch) >= _DOCS_PER_BATCH):
            versions += _store_batch(conn, path, digest, batch, options, extra, stamp, cases, result)
            batch = []
    if not seen:
        raise ImportFailed(path.name, "no text found in the file (no row has text)",
                           "check that it is not empty, and that the text column holds the notes or comments")
    if result.documents == 0:
        return FileResult(path.name, "unchanged", message="text identical to the stored documents")
    messages = list(dict.fromkeys(warnings))
    if versions:
        result.status = "new version"
        messages.append(f"{versions} document(s) changed since the last import: stored as new versions; "
                        "earlier versions keep their codings")
    result.message = "; ".join(messages)
    return result


def _store_batch(conn: sa.Connection, path: Path, digest: str, batch: list[ParsedDocument], options: ImportOptions,
                 extra: dict[str, str], stamp: str, cases: dict[str, int], result: FileResult) -> int:
    """One batch: earlier versions looked up in one query, rows written with one executemany each."""
    d = store.documents
    previous = {row.name: row for row in conn.execute(
        sa.select(d.c.id, d.c.name, d.c.version, d.c.text)
        .where(d.c.name.in_([doc.name for doc in batch]), d.c.superseded_by.is_(None)))}
    guarded = _pseudonymised(conn)
    passed = []
    for doc in batch:
        attrs = {**doc.attributes, **extra}
        case_name = attrs.pop("case", None) or doc.case
        kind = _resolve_source_type(options, doc, attrs)
        attrs.pop("source_type", None)
        before = previous.get(doc.name)
        if before is not None and before.text == doc.text:
            continue  # this row or file is as it was
        if before is not None and _was_pseudonymised(conn, before.id):
            raise ImportFailed(
                doc.name, "this document was pseudonymised; a new version would bring back the names and "
                "other identifiers that were replaced",
                "keep the pseudonymised version; to add the changed file, pseudonymise it first in a new project "
                "with the same key file (qualcode pseudonymise detect / apply) or replace its names with labels")
        if guarded and _guard(conn, doc, digest, attrs, case_name):
            continue  # the original of a pseudonymised document: as it was
        passed.append((doc, attrs, case_name, kind, before))
    new_cases = {case for _, _, case, _, _ in passed if case and case not in cases}
    if new_cases:  # only for documents that passed the checks: a case name can be a person's
        _case_ids(conn, new_cases, cases)
    rows: list[dict] = []
    kept: list[tuple[ParsedDocument, dict[str, str], object]] = []
    for doc, attrs, case_name, kind, before in passed:
        words = count_words(doc.text)
        rows.append({"name": doc.name, "version": (before.version + 1) if before else 1, "source_file": path.name,
                     "format": doc.format, "sha256": digest, "encoding": doc.encoding, "source_type": kind,
                     "case_id": cases.get(case_name) if case_name else None, "text": doc.text, "words": words,
                     "imported_at": stamp})
        kept.append((doc, attrs, before))
        result.documents += 1
        result.words += words
        result.turns += len(doc.turns)
    ids = bulk_write.insert_rows(conn, d, rows)
    superseded = [{"old": before.id, "new": i} for i, (_, _, before) in zip(ids, kept) if before is not None]
    if superseded:
        conn.execute(sa.update(d).where(d.c.id == sa.bindparam("old")).values(superseded_by=sa.bindparam("new")),
                     superseded)
    turns = [{"document_id": i, "seq": n, "start": t.start, "end": t.end, "speaker": t.speaker,
              "is_interviewer": bool(t.is_interviewer), "time_start": t.time_start, "time_end": t.time_end}
             for i, (doc, _, _) in zip(ids, kept) for n, t in enumerate(doc.turns)]
    for first in range(0, len(turns), _TURNS_PER_INSERT):  # bounded statements for huge transcripts
        conn.execute(sa.insert(store.turns), turns[first:first + _TURNS_PER_INSERT])
    attributes = [{"document_id": i, "key": k, "value": str(v)}
                  for i, (_, attrs, _) in zip(ids, kept) for k, v in attrs.items()]
    bulk_write.insert_rows(conn, store.document_attributes, attributes, want_ids=False)
    return len(superseded)


def _pseudonymised(conn: sa.Connection) -> bool:
    from .privacy.guard import is_pseudonymised  # spaCy loads only when it matters

    return is_pseudonymised(conn)


def _guard(conn: sa.Connection, doc: ParsedDocument, digest: str, attrs: dict[str, str], case: str | None) -> bool:
    """True for a pseudonymised document's original file; raises when a new one holds names."""
    from .privacy.guard import check_import, same_file_as_pseudonymised

    if same_file_as_pseudonymised(conn, digest):
        return True
    check_import(doc.name, doc.text, {t.speaker for t in doc.turns}, {**attrs, **({"case": case} if case else {})})
    return False


def _was_pseudonymised(conn: sa.Connection, doc_id: int) -> bool:
    from .pseudonymise import pseudonymised_documents  # spaCy loads only when it matters

    return doc_id in pseudonymised_documents(conn)


def _case_ids(conn: sa.Connection, names: set[str], cache: dict[str, int]) -> None:
    """Add the ids of cases ``names`` to ``cache``, creating those that do not exist (one query each way)."""
    if not names:
        return
    c = store.cases
    found = dict(conn.execute(sa.select(c.c.name, c.c.id).where(c.c.name.in_(sorted(names)))).all())
    missing = sorted(names - set(found))
    if missing:
        stamp = store.now()
        conn.execute(sa.insert(c), [{"name": name, "created_at": stamp} for name in missing])
        found.update(conn.execute(sa.select(c.c.name, c.c.id).where(c.c.name.in_(missing))).all())
    cache.update(found)


def _case_id(conn: sa.Connection, name: str) -> int:
    c = store.cases
    row = conn.execute(sa.select(c.c.id).where(c.c.name == name)).first()
    if row:
        return row[0]
    return conn.execute(sa.insert(c).values(name=name, created_at=store.now()).returning(c.c.id)).scalar_one()


def import_summary(project: Project) -> dict[str, pd.DataFrame]:
    """The tables a researcher checks after an import: by source type, role, wave; totals."""
    docs = project.documents()
    tables: dict[str, pd.DataFrame] = {}
    if docs.empty:
        return {"totals": pd.DataFrame([{"documents": 0, "words": 0, "turns": 0}])}
    for key in ("source_type", "role", "wave"):
        if key in docs.columns:
            grouped = (docs.fillna({key: "(none)"}).groupby(key)
                       .agg(documents=("id", "count"), words=("words", "sum"), turns=("turns", "sum"))
                       .reset_index())
            tables[f"by {key.replace('_', ' ')}"] = grouped
    tables["totals"] = pd.DataFrame([{
        "documents": len(docs), "words": int(docs["words"].sum()), "turns": int(docs["turns"].sum()),
        "cases": int(docs["case"].nunique()),
    }])
    return tables
