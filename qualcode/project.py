"""``Project``: open a project store and read or write it as records and DataFrames.

Every reader returns a pandas DataFrame; every writer runs in one transaction, so a
failure leaves the project exactly as it was.

>>> from qualcode import Project
>>> with Project.create(tmp_path / "eval.qc") as project:   # doctest: +SKIP
...     project.documents()
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import orjson
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from . import bulk_write, migrations, store, write_lock
from .errors import DamagedProject, NewerProjectError, NotFoundError, PermissionDenied, ProjectError
from .team import connection
from .team.connection import is_url, masked

APP = "qualcode"


@dataclass
class NewCoding:
    """A coding to add: a span of a document, a code key, and who or what made it."""

    document_id: int
    start: int
    end: int
    code: str  # the code's key in the codebook
    coder: str
    status: str = "accepted"
    confidence: float | None = None
    method: str = "manual"
    provenance: dict[str, Any] = field(default_factory=dict)
    explanation: str | None = None
    codebook_version: str | None = None
    direction: str | None = None


def _is_url(location: str) -> bool:
    return is_url(location)


make_engine = connection.make_engine  # kept here too: notebooks and older code import it from project


class Project:
    """An open project. Use ``Project.create`` for a new one, ``Project.open`` otherwise."""

    def __init__(self, engine: sa.Engine, location: str):
        self.engine = engine
        self.location = masked(location)  # what messages show: never a password

    # -- opening -------------------------------------------------------------

    @classmethod
    def create(cls, location: str | Path) -> "Project":
        """Create a new, empty project; refuses to overwrite an existing file."""
        location = str(location)
        if not _is_url(location):
            path = Path(location)
            if path.exists():
                raise ProjectError(
                    f"{path}: a file already exists there. Fix: open it with Project.open, "
                    "or choose a new file name."
                )
            if not path.parent.exists():
                raise ProjectError(f"{path}: folder {path.parent} does not exist. Fix: create it first.")
        project = cls(make_engine(location), location)
        if _is_url(location):
            project._refuse_existing()
        with project.engine.begin() as conn:
            migrations.migrate(conn)
            conn.execute(sa.insert(store.meta), [
                {"key": "app", "value": APP},
                {"key": "created_at", "value": store.now()},
            ])
        return project

    @classmethod
    def open(cls, location: str | Path, create: bool = False) -> "Project":
        """Open a project, migrating an older one after backing it up."""
        location = str(location)
        if not _is_url(location):
            path = Path(location)
            if not path.exists():
                if create:
                    return cls.create(path)
                raise ProjectError(
                    f"{path}: no such project. Fix: check the path, or create one with "
                    f"`qualcode init {path}`."
                )
            _check_sqlite_header(path)
        project = cls(make_engine(location), location)
        project._upgrade()
        return project

    def _refuse_existing(self) -> None:
        """A database that already holds a qualcode project is opened, never created over."""
        try:
            with self.engine.connect() as conn:
                taken = sa.inspect(conn).has_table("meta")
        except sa.exc.OperationalError as exc:
            self.close()
            raise connection.connect_error(self.location, exc) from None
        if taken:
            self.close()
            raise ProjectError(
                f"{self.location}: this database already holds a qualcode project. Fix: open it "
                "(any verb takes the URL), or create an empty database with `createdb`."
            )

    def _upgrade(self) -> None:
        if self.engine.dialect.name != "sqlite":
            try:
                with self.engine.connect():
                    pass
            except sa.exc.OperationalError as exc:
                self.close()
                raise connection.connect_error(self.location, exc) from None
        with self.engine.connect() as conn:
            try:
                newer = migrations.unknown(conn)
                todo = migrations.pending(conn)
                has_meta = sa.inspect(conn).has_table("meta")
            except sa.exc.DatabaseError as exc:
                raise ProjectError(
                    f"{self.location}: not a qualcode project ({exc.orig}). Fix: open the .qc file "
                    "that `qualcode init` created."
                ) from exc
        if newer:
            raise NewerProjectError(
                f"{self.location}: made by a newer qualcode (unknown schema steps: "
                f"{', '.join(newer)}). Fix: upgrade qualcode (pip install -U qualcode); "
                "the project was not changed."
            )
        if not has_meta:
            raise ProjectError(
                f"{self.location}: not a qualcode project (no meta table). Fix: open the .qc "
                "file that `qualcode init` created."
            )
        if todo:
            if not _is_url(self.location):
                backup = Path(f"{self.location}.before-{todo[0].name}.bak")
                self.backup(backup)
            with self.engine.begin() as conn:
                migrations.migrate(conn)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Project":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Project {self.location}>"

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """One atomic unit of work: commits on success, rolls back on any error.

        It takes the project's write lock first (``write_lock.take``), so what it reads
        is what it writes over: two processes never both decide a row is missing.
        """
        try:
            with self.engine.begin() as conn:
                write_lock.take(conn, self.location)
                yield conn
        except sa.exc.DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == "42501":  # PostgreSQL: insufficient privilege
                raise _permission_denied(self.location, exc) from None
            raise

    def team_user(self) -> str | None:
        """The login of the team member this project was opened as (PostgreSQL), else None.

        A team member's changes are recorded under their own login; see ``team.roles``.
        """
        if self.engine.dialect.name != "postgresql":
            return None
        if not hasattr(self, "_team_user"):
            from .team.roles import team_user

            with self.engine.connect() as conn:
                self._team_user = team_user(conn)
        return self._team_user

    def backup(self, dest: str | Path) -> Path:
        """A consistent copy of the (possibly open) SQLite project, via the online backup API."""
        dest = Path(dest)
        if _is_url(self.location):
            raise ProjectError(f"{self.location}: backup works on SQLite files only. Fix: copy the "
                               f"database into a file with `qualcode copy {self.location} backup.qc`, or use pg_dump.")
        import sqlite3

        src = sqlite3.connect(self.location)
        try:
            dst = sqlite3.connect(dest)
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
        return dest

    # -- reading -------------------------------------------------------------

    def _frame(self, query: sa.Select) -> pd.DataFrame:
        """The query's rows as a DataFrame.

        On SQLite the rows come from the sqlite3 cursor as plain tuples, which pandas
        reads in one pass (``_plain_fetch``). Handing pandas a list of SQLAlchemy rows
        instead makes it probe every row (10x the read itself for 100,000 codings), so
        that path transposes with ``zip`` first (``benchmarks/report_bench.py`` prints
        the ratio against a plain cursor read).
        """
        with self.engine.connect() as conn:
            plain = _plain_fetch(conn, query)
            if plain is not None:  # plain tuples: pandas reads them fastest as they are
                return pd.DataFrame(plain[1], columns=plain[0])
            result = conn.execute(query)
            columns = list(result.keys())
            rows = result.fetchall()
        if not rows or len(set(columns)) < len(columns):
            return pd.DataFrame(rows, columns=columns)
        return pd.DataFrame(dict(zip(columns, map(list, zip(*rows)))), columns=columns)

    def documents(self, include_superseded: bool = False) -> pd.DataFrame:
        """One row per document, with its attributes as extra columns.

        Superseded versions of re-imported files are left out unless asked for.
        """
        d, c, t = store.documents, store.cases, store.turns
        n_turns = (
            sa.select(sa.func.count()).where(t.c.document_id == d.c.id).scalar_subquery()
        )
        query = (
            sa.select(
                d.c.id, d.c.name, d.c.version, d.c.source_type, d.c.format,
                c.c.name.label("case"), d.c.words, n_turns.label("turns"),
                d.c.sha256, d.c.encoding, d.c.source_file, d.c.imported_at,
            )
            .select_from(d.outerjoin(c, d.c.case_id == c.c.id))
            .order_by(d.c.id)
        )
        if not include_superseded:
            query = query.where(d.c.superseded_by.is_(None))
        frame = self._frame(query)
        attrs = self.attributes("document")
        if not attrs.empty and not frame.empty:
            wide = attrs.pivot(index="document_id", columns="key", values="value")
            wide = wide.drop(columns=[k for k in wide.columns if k in frame.columns])
            frame = frame.merge(wide, left_on="id", right_index=True, how="left")
        return frame

    def document_id(self, ref: int | str) -> int:
        """The id of a document given its id or its name (the newest version)."""
        d = store.documents
        with self.engine.connect() as conn:
            if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
                row = conn.execute(sa.select(d.c.id).where(d.c.id == int(ref))).first()
            else:
                row = conn.execute(
                    sa.select(d.c.id).where(d.c.name == ref).order_by(d.c.version.desc())
                ).first()
        if row is None:
            raise NotFoundError(
                f"{self.location}: no document {ref!r}. Fix: `qualcode documents {self.location}` "
                "lists them."
            )
        return row[0]

    def text(self, document: int | str) -> str:
        """The stored plain text of a document; every offset refers to it."""
        doc_id = self.document_id(document)
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(store.documents.c.text).where(store.documents.c.id == doc_id)
            ).scalar_one()

    def iter_texts(self, document_ids: Iterable[int] | None = None) -> Iterator[tuple[int, str]]:
        """Stream ``(document_id, text)`` for current documents, without a DataFrame."""
        d = store.documents
        query = sa.select(d.c.id, d.c.text).where(d.c.superseded_by.is_(None)).order_by(d.c.id)
        if document_ids is not None:
            query = query.where(d.c.id.in_(list(document_ids)))
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                yield row[0], row[1]

    def turns(self, document: int | str | None = None) -> pd.DataFrame:
        """Speaker turns as spans; ``is_interviewer`` marks turns coding skips."""
        t = store.turns
        query = sa.select(
            t.c.document_id, t.c.seq, t.c.start, t.c.end, t.c.speaker, t.c.is_interviewer,
            t.c.time_start, t.c.time_end,
        ).order_by(t.c.document_id, t.c.seq)
        if document is not None:
            query = query.where(t.c.document_id == self.document_id(document))
        return self._frame(query)

    def attributes(self, entity: str = "document") -> pd.DataFrame:
        """Attributes in long form: ``document_id`` (or ``case_id``), ``key``, ``value``."""
        table = store.document_attributes if entity == "document" else store.case_attributes
        return self._frame(sa.select(table).order_by(*table.primary_key.columns))

    def cases(self) -> pd.DataFrame:
        """One row per case, with its number of documents and its attributes."""
        c, d = store.cases, store.documents
        n_docs = (
            sa.select(sa.func.count())
            .where(d.c.case_id == c.c.id, d.c.superseded_by.is_(None))
            .scalar_subquery()
        )
        frame = self._frame(sa.select(c.c.id, c.c.name, n_docs.label("documents")).order_by(c.c.name))
        attrs = self.attributes("case")
        if not attrs.empty and not frame.empty:
            wide = attrs.pivot(index="case_id", columns="key", values="value")
            frame = frame.merge(wide, left_on="id", right_index=True, how="left")
        return frame

    def codes(self, include_retired: bool = False) -> pd.DataFrame:
        """The project's codes, one row each, in codebook order."""
        query = sa.select(store.codes).order_by(store.codes.c.id)
        if not include_retired:
            query = query.where(store.codes.c.status == "active")
        return self._frame(query)

    def coders(self) -> pd.DataFrame:
        return self._frame(sa.select(store.coders).order_by(store.coders.c.id))

    def codings(
        self,
        status: str | Iterable[str] | None = None,
        coder: str | Iterable[str] | None = None,
        code: str | Iterable[str] | None = None,
        document: int | str | None = None,
        method: str | None = None,
    ) -> pd.DataFrame:
        """Codings with their code key and name, coder and document name.

        >>> project.codings(status="accepted", coder="alex")   # doctest: +SKIP
        """
        k, cd, co, d = store.codings, store.codes, store.coders, store.documents
        query = (
            sa.select(
                k.c.id, k.c.document_id, d.c.name.label("document"), k.c.start, k.c.end,
                cd.c.key.label("code"), cd.c.name.label("code_name"), co.c.name.label("coder"),
                k.c.status, k.c.confidence, k.c.method, k.c.explanation, k.c.direction,
                k.c.codebook_version, k.c.snippet, k.c.provenance, k.c.created_at, k.c.updated_at,
            )
            .select_from(
                k.join(cd, k.c.code_id == cd.c.id)
                .join(co, k.c.coder_id == co.c.id)
                .join(d, k.c.document_id == d.c.id)
            )
            .order_by(k.c.document_id, k.c.start, k.c.id)
        )
        for column, wanted in ((k.c.status, status), (co.c.name, coder), (cd.c.key, code)):
            if wanted is not None:
                values = [wanted] if isinstance(wanted, str) else list(wanted)
                query = query.where(column.in_(values))
        if document is not None:
            query = query.where(k.c.document_id == self.document_id(document))
        if method is not None:
            query = query.where(k.c.method == method)
        return self._frame(query)

    def coding_events(self, coding_id: int | None = None) -> pd.DataFrame:
        """The audit trail: who changed which coding, when, from what to what."""
        e = store.coding_events
        query = sa.select(e).order_by(e.c.id)
        if coding_id is not None:
            query = query.where(e.c.coding_id == coding_id)
        return self._frame(query)

    def memos(self, kind: str | None = None) -> pd.DataFrame:
        query = sa.select(store.memos).order_by(store.memos.c.id)
        if kind is not None:
            query = query.where(store.memos.c.kind == kind)
        return self._frame(query)

    # -- writing -------------------------------------------------------------

    def coder_id(self, conn: sa.Connection, name: str, kind: str = "human") -> int:
        """The id of coder ``name``, creating the coder on first use.

        Race-free: the insert does nothing when another process made the coder first
        (the name is unique), and the select then finds that row.
        """
        coders = store.coders
        insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}.get(conn.dialect.name)
        if insert is not None:
            conn.execute(insert(coders).values(name=name, kind=kind).on_conflict_do_nothing(index_elements=["name"]))
        elif conn.execute(sa.select(coders.c.id).where(coders.c.name == name)).first() is None:
            conn.execute(sa.insert(coders).values(name=name, kind=kind))
        return conn.execute(sa.select(coders.c.id).where(coders.c.name == name)).scalar_one()

    def code_ids(self, conn: sa.Connection) -> dict[str, int]:
        """Map of code key -> code id, retired codes included."""
        return dict(conn.execute(sa.select(store.codes.c.key, store.codes.c.id)).all())

    def coder_spans(self, conn: sa.Connection, coder: str, document_ids: Iterable[int]) -> set[tuple[int, int, int, int]]:
        """(document, code id, start, end) of every coding ``coder`` has in these documents, any status.

        What a suggestion run reads inside its write transaction, so a run that finished
        meanwhile is seen and nothing is written twice.
        """
        k, c = store.codings, store.coders
        query = (sa.select(k.c.document_id, k.c.code_id, k.c.start, k.c.end)
                 .select_from(k.join(c, k.c.coder_id == c.c.id)).where(c.c.name == coder))
        wanted = set(document_ids)  # filtered here: a run may cover more documents than SQL takes parameters
        return {tuple(row) for row in conn.execute(query) if row[0] in wanted}

    def add_codings(self, new: Iterable[NewCoding], actor: str | None = None) -> list[int]:
        """Add codings in one transaction, each with a 'create' event in the audit trail.

        Spans are checked against their document's text; the covered text is stored as
        ``snippet`` so later drift can be detected. Returns the new coding ids.
        """
        new = list(new)
        if not new:
            return []
        with self.transaction() as conn:
            return self.insert_codings(conn, new, actor)

    def insert_codings(self, conn: sa.Connection, new: list[NewCoding], actor: str | None = None) -> list[int]:
        """``add_codings`` inside a transaction the caller holds."""
        from .errors import InputError

        code_ids = self.code_ids(conn)
        coder_ids: dict[str, int] = {}
        d = store.documents
        wanted = sorted({c.document_id for c in new})
        texts: dict[int, str] = dict(conn.execute(sa.select(d.c.id, d.c.text).where(d.c.id.in_(wanted))).all())
        stamp = store.now()
        rows = []
        for c in new:
            if c.code not in code_ids:
                raise NotFoundError(
                    f"{self.location}: unknown code {c.code!r}. Fix: load the codebook that "
                    "defines it (`qualcode codebook load`)."
                )
            if c.status not in store.CODING_STATUSES:
                raise InputError(self.location, f"status {c.status!r} is not one of {store.CODING_STATUSES}",
                                 "use suggested, accepted or rejected")
            text = texts.get(c.document_id)
            if text is None:
                raise NotFoundError(f"{self.location}: no document with id {c.document_id}.")
            if not (0 <= c.start < c.end <= len(text)):
                raise InputError(
                    self.location,
                    f"span [{c.start}, {c.end}) is outside document {c.document_id} "
                    f"(length {len(text)}) or empty",
                    "give 0 <= start < end <= the document's length",
                )
            if c.coder not in coder_ids:
                kind = "human" if c.method in ("manual", "import", "consensus") else "method"
                coder_ids[c.coder] = self.coder_id(conn, c.coder, kind)
            rows.append({
                "document_id": c.document_id, "code_id": code_ids[c.code],
                "coder_id": coder_ids[c.coder], "start": c.start, "end": c.end,
                "status": c.status, "confidence": c.confidence, "method": c.method,
                "provenance": orjson.dumps(c.provenance).decode(),
                "explanation": c.explanation, "codebook_version": c.codebook_version,
                "direction": c.direction, "snippet": text[c.start:c.end][:200],
                "created_at": stamp, "updated_at": stamp,
            })
        member = self.team_user()  # row-level security applies to them, and COPY cannot pass it
        ids = bulk_write.insert_rows(conn, store.codings, rows, bulk=member is None)
        bulk_write.record_creates(conn, ids, rows, [c.coder for c in new], actor or member, stamp)
        return ids

    def insert_coding_rows(self, conn: sa.Connection, coder: str, rows: list[tuple],
                           actor: str | None = None) -> list[int]:
        """Insert codings already built and checked, as tuples in the order of
        ``suggestion_rows.ROW_COLUMNS``, all by ``coder``, each with its create event.

        Auto-coding's writer: the rows come from ``suggestion_rows.document_rows``
        (spans from the document's own segments, code ids from this project, provenance
        already JSON), so nothing is looked up or encoded here; this adds the ids, the
        coder and the timestamps and hands the rows to one executemany (SQLite) or COPY
        (PostgreSQL). Returns the new ids, in order.
        """
        if not rows:
            return []
        from .suggestion_rows import ROW_COLUMNS

        coder_id = self.coder_id(conn, coder, "method")
        stamp = store.now()
        member = self.team_user()
        head = ("coder_id", "created_at", "updated_at")
        dialect = conn.dialect.name
        if member is None and (dialect == "postgresql" or (dialect == "sqlite" and bulk_write.sqlite_has_json(conn))):
            ids = bulk_write.insert_tuples(conn, store.codings, (*head, *ROW_COLUMNS), rows, (coder_id, stamp, stamp))
            bulk_write.record_creates(conn, ids, [], [], actor, stamp)
            return ids
        dicts = [dict(zip((*head, *ROW_COLUMNS), (coder_id, stamp, stamp, *row))) for row in rows]
        ids = bulk_write.insert_rows(conn, store.codings, dicts, bulk=member is None)
        bulk_write.record_creates(conn, ids, dicts, [coder] * len(dicts), actor or member, stamp)
        return ids


def _permission_denied(location: str, exc: sa.exc.DBAPIError) -> PermissionDenied:
    reason = str(exc.orig).strip().splitlines()[0]
    return PermissionDenied(
        f"{location}: the database refused this change ({reason}); your role does not allow it. "
        "Fix: a coder changes only their own codings, a reviewer accepts, rejects and settles, a reader "
        "only reads; ask the project's lead for another role (`qualcode team add PROJECT NAME --role ...`)."
    )


NOT_A_PROJECT_FIX = "Fix: open the .qc file that `qualcode init` created."
DAMAGED_FIX = ("Fix: restore the latest copy `qualcode backup` made (or a migration's .bak); "
               "`qualcode check` lists what can still be read")


def _check_sqlite_header(path: Path) -> None:
    """Refuse, without writing a byte, a file that is not a qualcode project or is damaged.

    Opening a project sets WAL mode, which rewrites the file's header; done to an empty
    file or to another program's SQLite database, that would change a file that is not
    ours. So the file is first read through a read-only connection.
    """
    if path.stat().st_size == 0:
        raise ProjectError(f"{path}: not a qualcode project (the file is empty). {NOT_A_PROJECT_FIX}")
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head != b"SQLite format 3\x00":
        raise ProjectError(f"{path}: not a qualcode project (not an SQLite file). {NOT_A_PROJECT_FIX}")
    import sqlite3
    from urllib.parse import quote

    try:
        conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise ProjectError(f"{path}: cannot be opened ({exc}). Fix: check the file's permissions.") from None
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "meta" not in tables:
            raise ProjectError(f"{path}: not a qualcode project (an SQLite database of another program). "
                               f"{NOT_A_PROJECT_FIX}")
        conn.execute("SELECT value FROM meta WHERE key = 'app'").fetchall()
    except sqlite3.DatabaseError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return  # another process is writing: the project is whole enough to wait for
        raise DamagedProject(f"{path}: the project file is damaged ({exc}). {DAMAGED_FIX}.") from None
    finally:
        conn.close()


def _plain_fetch(conn: sa.Connection, query: sa.Select) -> tuple[list[str], list[tuple]] | None:
    """The rows of ``query`` straight from the sqlite3 cursor, or None to go through SQLAlchemy.

    SQLAlchemy wraps each row in a ``Row`` (a third of reading 100,000 codings); when
    no selected column's type converts what SQLite returns (integers, text and floats
    come back as they are stored), the plain cursor gives the same values. Other
    databases, and columns with a result conversion (booleans, dates), take the
    ordinary path.
    """
    dialect = conn.dialect
    if dialect.name != "sqlite" or any(
            column.type.dialect_impl(dialect).result_processor(dialect, None) is not None
            for column in query.selected_columns):
        return None
    compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(str(compiled), [params[name] for name in compiled.positiontup or ()])
        columns = [c[0] for c in cursor.description]
        return columns, cursor.fetchall()
    except dialect.loaded_dbapi.Error:
        return None  # run it again through SQLAlchemy, whose error (a damaged row …) callers know how to read
    finally:
        cursor.close()
