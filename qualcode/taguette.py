"""Import a Taguette project database (``project.sqlite3``): documents, tags, highlights.

Taguette stores each document as sanitised HTML and each highlight as a pair of
**UTF-8 byte offsets into the document's text with the HTML tags left out** (what
``taguette.extract`` counts), plus the HTML ``snippet`` it cut at those offsets. We turn
the HTML into plain text the way a reader sees it (paragraphs, list items and line
breaks on their own lines, runs of blank space as one space) while keeping, for every
byte Taguette counts, where it lands in our text; then every highlight is checked
against its stored snippet, and one that does not match is listed, not imported.

- documents -> documents (speaker turns detected; the description becomes a memo);
- tags -> codes (``impact.families`` is a child of ``impact`` when that tag exists);
- each tag of a highlight -> an accepted coding by the user who made the highlight
  (from Taguette's command log; the project's admin when the log does not say).

The database comes from outside: it is opened read-only, its integrity is checked,
and SQLite's untrusted-schema protections are on.

>>> result = import_taguette(project, "project.sqlite3")    # doctest: +SKIP
"""

from __future__ import annotations

import bisect
import json
import sqlite3
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterable

import sqlalchemy as sa

from . import store
from .codebook import ChangeEntry, Code, Codebook
from .document_versions import insert_document_version
from .errors import ImportFailed
from .importers.base import SOURCE_TYPES
from .project import NewCoding, Project
from .refi.codebook import slugify, unique_id
from .refi.positions import normalised_with_map

_TABLES = {"projects", "documents", "tags", "highlights", "highlight_tags"}
_BLOCKS = frozenset("""p div br li ul ol h1 h2 h3 h4 h5 h6 tr table thead tbody blockquote pre dl dt dd
caption section article header footer hr""".split())
_SKIP = frozenset({"script", "style"})


@dataclass
class Skipped:
    file: str
    item: str
    codings: int
    reason: str


@dataclass
class TaguetteImport:
    """What one Taguette database brought in."""

    file: str
    projects: list[str] = field(default_factory=list)
    documents: int = 0
    codes: int = 0
    codings: int = 0
    memos: int = 0
    words: int = 0
    turns: int = 0
    coders: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def summary(self) -> str:
        text = (f"{self.file} (Taguette: {', '.join(self.projects)}): {self.documents} documents, "
                f"{self.codes} new codes, {self.codings} codings, {self.memos} memos")
        if self.skipped:
            text += f"; not imported: {len(self.skipped)} highlight(s) (listed)"
        return text


class HtmlText(HTMLParser):
    """Plain text of Taguette's HTML, and where each counted byte lands in it.

    >>> page = HtmlText.read("<p>Caf&eacute; <b>staff</b></p>\\n<p>are kind.</p>")
    >>> page.text
    'Café staff\\nare kind.'
    >>> start, end = page.span(6, 11)        # Taguette's bytes of "staff" (é is two)
    >>> page.text[start:end]
    'staff'
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._out: list[str] = []
        self._bytes: list[int] = []  # byte offset of each counted character ...
        self._where: list[int] = []  # ... and where it lands in _out
        self._count = 0
        self._break = False
        self._pre = 0
        self._skip = 0
        self.text = ""
        self._to_text = None

    @classmethod
    def read(cls, html: str) -> "HtmlText":
        page = cls()
        page.feed(html.replace("\r\n", "\n").replace("\r", "\n"))  # as an HTML parser's input stream does
        page.close()
        raw = "".join(page._out)
        page.text, page._to_text = normalised_with_map(raw)
        return page

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _BLOCKS:
            self._break = True
        if tag == "pre":
            self._pre += 1
        if tag in _SKIP:
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self._break = True
        if tag == "pre" and self._pre:
            self._pre -= 1
        if tag in _SKIP and self._skip:
            self._skip -= 1

    def handle_startendtag(self, tag: str, attrs) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        out = self._out
        for ch in data:
            self._bytes.append(self._count)
            self._count += len(ch.encode("utf-8"))
            if self._skip:
                self._where.append(len(out))
                continue
            if ch.isspace() and not self._pre:
                if out and out[-1] not in " \n" and not self._break:
                    out.append(" ")
                self._where.append(len(out))
                continue
            if self._break:
                if out and out[-1] == " ":
                    out.pop()
                if out and out[-1] != "\n":
                    out.append("\n")
                self._break = False
            self._where.append(len(out))
            out.append(ch)

    def position(self, byte: int) -> int:
        """Where Taguette's byte offset ``byte`` lands in ``text`` (inside a character: after it)."""
        i = bisect.bisect_left(self._bytes, byte)
        raw = self._where[i] if i < len(self._where) else len("".join(self._out))
        raw = min(raw, len(self._out))
        return self._to_text(raw)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """``[start, end)`` of ``text`` for a byte range, blank space trimmed at both sides."""
        a, b = self.position(start), self.position(end)
        while a < b and self.text[a].isspace():
            a += 1
        while b > a and self.text[b - 1].isspace():
            b -= 1
        return a, b


def _squash(text: str) -> str:
    return " ".join(text.split())


def _connect(path: Path) -> sqlite3.Connection:
    name = path.name
    try:
        head = path.read_bytes()[:16]
    except (FileNotFoundError, IsADirectoryError):
        raise ImportFailed(name, "no such file", "check the path") from None
    if head != b"SQLite format 3\x00":
        raise ImportFailed(name, "this is not a SQLite database, so not a Taguette project",
                           "in Taguette, open the project and use Export project (a .sqlite3 file)")
    conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        conn.execute("PRAGMA trusted_schema=OFF")
        conn.execute("PRAGMA cell_size_check=ON")
        conn.execute("PRAGMA mmap_size=0")
        if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise ImportFailed(name, "the database is damaged (SQLite's integrity check failed)",
                               "export the project from Taguette again")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise ImportFailed(name, f"the database cannot be read ({exc})", "export the project from Taguette again") from None
    missing = _TABLES - tables
    if missing:
        conn.close()
        raise ImportFailed(name, f"this SQLite file is not a Taguette project (no {', '.join(sorted(missing))} "
                           "table)", "in Taguette, open the project and use Export project (a .sqlite3 file)")
    return conn


def import_taguette(project: Project, path: str | Path, interviewer_names: Iterable[str] = (),
                    source_type: str | None = None) -> TaguetteImport:
    """Import every project in the Taguette database ``path`` (see the module docstring)."""
    path = Path(path)
    source = _connect(path)
    try:
        reader = _Reader(source, path, list(interviewer_names), source_type)
        with project.transaction() as conn:
            reader.run(project, conn)
    finally:
        source.close()
    return reader.result


class _Reader:
    def __init__(self, source: sqlite3.Connection, path: Path, interviewer_names: list[str],
                 source_type: str | None):
        self.source, self.path = source, path
        self.interviewer_names = interviewer_names
        self.source_type = source_type if source_type in SOURCE_TYPES else None
        self.result = TaguetteImport(path.name)
        self.users = self._highlight_users()

    def _highlight_users(self) -> dict[int, str]:
        """Highlight id -> login of who made it, from Taguette's command log."""
        try:
            rows = self.source.execute("SELECT user_login, payload FROM commands ORDER BY id").fetchall()
        except sqlite3.DatabaseError:
            return {}
        out = {}
        for login, payload in rows:
            try:
                data = json.loads(payload)
            except (TypeError, ValueError):
                continue
            if isinstance(data, dict) and data.get("type") == "highlight_add" and "highlight_id" in data:
                out.setdefault(int(data["highlight_id"]), login)
        return out

    def _admin(self, project_id: int) -> str:
        try:
            row = self.source.execute(
                "SELECT user_login FROM project_members WHERE project_id = ? ORDER BY privileges = 'ADMIN' DESC, "
                "user_login LIMIT 1", (project_id,)).fetchone()
        except sqlite3.DatabaseError:
            row = None
        return row[0] if row else "taguette"

    def run(self, project: Project, conn: sa.Connection) -> None:
        projects = self.source.execute("SELECT id, name FROM projects ORDER BY id").fetchall()
        several = len(projects) > 1
        codings: list[NewCoding] = []
        for project_id, project_name in projects:
            self.result.projects.append(project_name)
            keys = self._codes(conn, project_id, project_name)
            default_user = self._admin(project_id)
            for doc_id, name, description, contents in self.source.execute(
                    "SELECT id, name, description, contents FROM documents WHERE project_id = ? ORDER BY id",
                    (project_id,)).fetchall():
                page = HtmlText.read(contents or "")
                if not page.text.strip():
                    self.result.skipped.append(Skipped(self.path.name, f"document {name!r}", 0, "it holds no text"))
                    continue
                ours = self._document(conn, f"{project_name}/{name}" if several else name, page.text, description)
                codings += self._highlights(ours, doc_id, name, page, keys, default_user)
        existing = set(conn.execute(sa.select(
            store.codings.c.document_id, store.codings.c.start, store.codings.c.end, store.codes.c.key,
            store.coders.c.name).select_from(
            store.codings.join(store.codes, store.codings.c.code_id == store.codes.c.id)
            .join(store.coders, store.codings.c.coder_id == store.coders.c.id))).all())
        codings = [c for c in codings if (c.document_id, c.start, c.end, c.code, c.coder) not in existing]
        ids = project.insert_codings(conn, codings) if codings else []  # imported before: not again
        self.result.codings = len(ids)
        self.result.coders = sorted({c.coder for c in codings})

    def _codes(self, conn: sa.Connection, project_id: int, project_name: str) -> dict[int, str]:
        tags = self.source.execute("SELECT id, path, description FROM tags WHERE project_id = ? ORDER BY path",
                                   (project_id,)).fetchall()
        book_id = slugify(f"taguette {project_name}")
        rows = list(conn.execute(sa.select(store.codes.c.key, store.codes.c.name, store.codes.c.codebook)))
        mine = {r.key: r.name for r in rows if r.codebook == book_id}
        taken = {r.key for r in rows}
        paths = {path for _, path, _ in tags}
        keys: dict[str, str] = {}
        new: list[Code] = []
        out: dict[int, str] = {}
        for tag_id, tag_path, description in tags:  # sorted: a parent path comes before its children
            parent_path = tag_path.rsplit(".", 1)[0] if "." in tag_path else None
            parent = keys.get(parent_path) if parent_path in paths else None
            base = slugify(tag_path.rsplit(".", 1)[-1] if parent else tag_path)
            candidate = f"{parent}.{base}" if parent else base
            if mine.get(candidate) == tag_path:
                key = candidate
            else:
                key = unique_id(candidate, taken)
                new.append(Code(id=key, name=tag_path, parent=parent, definition=(description or "").strip()))
            keys[tag_path] = key
            out[tag_id] = key
        if new:
            stamp = store.now()
            version = f"1.{sum(1 for r in rows if r.codebook == book_id)}"
            book = Codebook(id=book_id, name=f"Taguette: {project_name}", version=version,
                            description=f"Tags of the Taguette project {project_name!r} ({self.path.name}).",
                            changelog=[ChangeEntry(version=version, changes=[f"Imported from {self.path.name}."])],
                            origin="Taguette", codes=new)
            conn.execute(sa.insert(store.codes), [{
                "key": c.id, "name": c.name, "parent_key": c.parent, "definition": c.definition, "colour": None,
                "kind": c.kind, "outcomes": "[]", "direction": None, "codebook": book_id,
                "codebook_version": version, "status": "active", "created_at": stamp, "updated_at": stamp,
            } for c in new])
            conn.execute(sa.insert(store.codebooks).values(name=book.name, version=version, source=book.to_yaml(),
                                                           loaded_at=stamp))
        self.result.codes += len(new)
        return out

    def _document(self, conn: sa.Connection, name: str, text: str, description: str | None) -> int:
        d = store.documents
        previous = conn.execute(sa.select(d.c.id, d.c.version, d.c.text).where(
            d.c.name == name, d.c.superseded_by.is_(None))).first()
        if previous is not None and previous.text == text:
            return previous.id
        doc_id, turns = insert_document_version(
            conn, name=name, text=text, previous=previous, source_file=self.path.name, format="taguette",
            encoding="utf-8", source_type=self.source_type or "other", interviewer_names=self.interviewer_names)
        if description and description.strip():
            stamp = store.now()
            conn.execute(sa.insert(store.memos).values(kind="document", document_id=doc_id, text=description.strip(),
                                                       author="", created_at=stamp, updated_at=stamp))
            self.result.memos += 1
        self.result.documents += 1
        self.result.words += len(text.split())
        self.result.turns += turns
        return doc_id

    def _highlights(self, doc_id: int, taguette_doc: int, name: str, page: HtmlText, keys: dict[int, str],
                    default_user: str) -> list[NewCoding]:
        tags: dict[int, list[int]] = {}
        for highlight_id, tag_id in self.source.execute(
                "SELECT ht.highlight_id, ht.tag_id FROM highlight_tags ht JOIN highlights h ON h.id = ht.highlight_id "
                "WHERE h.document_id = ? ORDER BY ht.tag_id", (taguette_doc,)).fetchall():
            tags.setdefault(highlight_id, []).append(tag_id)
        out = []
        for highlight_id, start, end, snippet in self.source.execute(
                "SELECT id, start_offset, end_offset, snippet FROM highlights WHERE document_id = ? ORDER BY id",
                (taguette_doc,)).fetchall():
            tag_ids = [t for t in tags.get(highlight_id, []) if t in keys]
            a, b = page.span(int(start), int(end))
            expected = _squash(HtmlText.read(snippet or "").text)
            if not tag_ids:
                continue  # a highlight without tags codes nothing
            if a >= b or _squash(page.text[a:b]) != expected:
                self.result.skipped.append(Skipped(
                    self.path.name, f"highlight {highlight_id} in {name!r}", len(tag_ids),
                    f"its offsets [{start}, {end}) do not cover the text Taguette stored for it "
                    f"({expected[:60]!r})"))
                continue
            coder = self.users.get(highlight_id, default_user)
            out += [NewCoding(document_id=doc_id, start=a, end=b, code=keys[t], coder=coder, status="accepted",
                              method="import", provenance={"import": self.path.name, "tool": "Taguette",
                                                           "highlight": highlight_id})
                    for t in tag_ids]
        return out


def import_file(project: Project, path: Path, options) -> "FileResult":
    """``qualcode import PROJECT project.sqlite3``: one row of the import report."""
    from .corpus import FileResult
    from .errors import QualcodeError

    try:
        result = import_taguette(project, path, options.interviewer_names, options.source_type)
    except QualcodeError as exc:
        return FileResult(path.name, "failed", message=str(exc))
    except (sqlite3.DatabaseError, ValueError, TypeError) as exc:  # a database laid out unlike Taguette's
        return FileResult(path.name, "failed", message=(
            f"{path.name}: could not be read as a Taguette project ({type(exc).__name__}: {exc}). Fix: export "
            "the project from Taguette again (Export project)"))
    lines = [result.summary()] + [f"not imported: {s.item} ({s.codings} coding(s)): {s.reason}"
                                  for s in result.skipped]
    status = "imported" if result.documents or result.codes or result.codings else "unchanged"
    return FileResult(path.name, status, documents=result.documents, words=result.words, turns=result.turns,
                      message="\n".join(lines))
