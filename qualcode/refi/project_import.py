"""Import a whole REFI-QDA project (.qdpx) from NVivo, ATLAS.ti, MAXQDA or qualcode.

What comes in, in one transaction (a failure leaves the project as it was):

- text sources (their plain-text file in the archive, or inline ``PlainTextContent``;
  a PDF's text ``Representation`` too) become documents, with speaker turns detected;
- the code hierarchy with colours and descriptions becomes codes (a code whose GUID
  is one qualcode gave a code of this project is that code, so a file sent out and
  coded elsewhere comes back onto the same codes);
- every ``Coding`` of a text selection becomes an accepted coding by its user;
- notes, selection and source descriptions become memos (a note named "Framework
  summary: ROW" on one code, as ``project_export`` writes it, becomes that framework
  cell's summary again); cases with their sources
  and variables become cases and attributes; sets named ``key: value`` (ATLAS.ti's
  way of writing document variables) become attributes, other source sets a ``set``
  attribute.

What cannot come in (picture, PDF-region, audio and video selections, sources whose
text is not in the archive, graphs, links) is returned in ``RefiImport.skipped``,
one row per item with the reason, never dropped silently.

Positions: NVivo counts UTF-16 code units (``positions.Utf16Index``), other tools code
points; ends are exclusive everywhere (ATLAS.ti's ``endPosition`` is the first
character after the selection). Positions are counted over the source file as
stored, BOM excluded, CRLF as two, and mapped into the normalised text.

>>> result = import_qdpx(project, "nvivo_export.qdpx")        # doctest: +SKIP
>>> result.codings, result.skipped_frame()                    # doctest: +SKIP
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import pandas as pd
import sqlalchemy as sa
from lxml import etree

from .. import store
from ..codebook import Code, Codebook, ChangeEntry
from ..document_versions import insert_document_version
from ..errors import CodebookError, ImportFailed
from ..importers.base import SOURCE_TYPES
from ..project import NewCoding, Project
from ..textnorm import decode_text
from .archive import QdpxArchive
from .codebook import _codes_from, _parse_xml, code_guid, slugify, unique_id
from .positions import Utf16Index, normalised_with_map
from .project_export import FRAMEWORK_NOTE

_SET_VARIABLE = re.compile(r"^\s*([^:]{1,60}?)\s*:\s*(.+?)\s*$")
_NON_TEXT = {
    "PictureSource": ("PictureSelection", "picture source: qualcode holds text documents only"),
    "AudioSource": ("AudioSelection", "audio source: import its transcript as a text file instead"),
    "VideoSource": ("VideoSelection", "video source: import its transcript as a text file instead"),
}


@dataclass
class Skipped:
    """One thing in the file that was not imported, and why."""

    file: str
    item: str  # e.g. "PictureSelection 'Quotation 6:1' in cornflakes-n-milk.jpg"
    codings: int  # codings it carried that were not imported
    reason: str


@dataclass
class RefiImport:
    """What one .qdpx brought in."""

    file: str
    origin: str
    documents: int = 0
    reused_documents: int = 0
    codes: int = 0
    codings: int = 0
    memos: int = 0
    cases: int = 0
    coders: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    code_keys: dict[str, str] = field(default_factory=dict)  # REFI code GUID -> our code key
    words: int = 0
    turns: int = 0

    def skipped_frame(self) -> pd.DataFrame:
        return pd.DataFrame([s.__dict__ for s in self.skipped], columns=["file", "item", "codings", "reason"])

    def summary(self) -> str:
        parts = [f"{self.documents} documents", f"{self.codes} new codes", f"{self.codings} codings",
                 f"{self.memos} memos", f"{self.cases} cases"]
        text = f"{self.file} ({self.origin}): " + ", ".join(parts)
        if self.skipped:
            lost = sum(s.codings for s in self.skipped)
            text += f"; not imported: {len(self.skipped)} item(s) carrying {lost} coding(s) (listed)"
        return text


@dataclass
class _Source:
    guid: str
    name: str
    element: etree._Element  # the TextSource (or Representation) holding the selections
    raw: str | None
    encoding: str | None
    document_id: int | None = None
    to_ours: object = None
    units: Utf16Index | None = None
    text: str = ""
    length: int = 0  # of the stored text, in the tool's units


def import_qdpx(project: Project, path: str | Path, interviewer_names: Iterable[str] = (),
                source_type: str | None = None) -> RefiImport:
    """Import the REFI-QDA project ``path`` into ``project`` (see the module docstring).

    Raises ``ImportFailed`` naming the file and the fix for an unreadable or hostile
    archive, XML that is not a REFI project, or a selection outside its source.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise ImportFailed(path.name, "no such file", "check the path") from None
    archive = QdpxArchive(data, path)
    try:
        root = _parse_xml(archive.project_xml(), path)
    except CodebookError as exc:
        raise ImportFailed(exc.file, exc.reason, exc.fix, exc.where) from None
    if _local(root.tag) != "Project":
        raise ImportFailed(path.name, f"project.qde holds <{_local(root.tag)}>, not a REFI <Project>",
                           "export the whole project (.qdpx) from the QDA program again")
    origin = root.get("origin") or "another QDA program"
    reader = _Reader(project, archive, root, path, origin, list(interviewer_names), source_type)
    with project.transaction() as conn:
        reader.run(conn)
    return reader.result


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in element if _local(c.tag) == name]


def _child(element: etree._Element, name: str) -> etree._Element | None:
    found = _children(element, name)
    return found[0] if found else None


def _text_of(element: etree._Element | None) -> str:
    return (element.text or "").replace("\r\n", "\n").strip() if element is not None else ""


def _guid(value: str | None) -> str:
    return (value or "").strip("{}").upper()


class _Reader:
    """One import: the file's XML walked once, rows written on one connection."""

    def __init__(self, project: Project, archive: QdpxArchive, root: etree._Element, path: Path,
                 origin: str, interviewer_names: list[str], source_type: str | None):
        self.project, self.archive, self.root, self.path = project, archive, root, path
        self.origin = origin
        self.utf16 = "nvivo" in origin.lower()
        self.interviewer_names = interviewer_names
        self.source_type = source_type
        self.result = RefiImport(path.name, origin)
        self.users = {_guid(u.get("guid")): (u.get("name") or u.get("id") or _guid(u.get("guid")))
                      for u in root.iter("{*}User")}
        self.default_user = self.users.get(_guid(root.get("creatingUserGUID"))) or origin
        self.code_keys = self.result.code_keys
        self.variables: dict[str, str] = {v.get("guid", "").strip("{}").upper(): v.get("name", "")
                                          for v in root.iter("{*}Variable")}
        self.targets: dict[str, tuple[str, list[int]]] = {}  # GUID -> (memo kind, ids)
        self._pending_memos: list[tuple] = []  # (kind, owner id, text, author, created)

    # -- the walk -----------------------------------------------------------------

    def run(self, conn: sa.Connection) -> None:
        self._codes(conn)
        sources = self._sources()
        for source in sources:
            self._document(conn, source)
        self._codings(conn, sources)
        self._cases(conn)
        self._sets(conn)
        self._memos(conn, sources)
        for name in ("Link", "Graph"):
            found = list(self.root.iter(f"{{*}}{name}"))
            if found:
                self.result.skipped.append(Skipped(self.result.file, f"{len(found)} {name}(s)", 0,
                                                   f"{name.lower()}s between items have no place in qualcode"))

    # -- codes --------------------------------------------------------------------

    def _codes(self, conn: sa.Connection) -> None:
        book = _child(self.root, "CodeBook")
        codes_el = _child(book, "Codes") if book is not None else None
        if codes_el is None:
            return
        try:
            imported = _codes_from(codes_el, self.path)
        except CodebookError as exc:
            raise ImportFailed(exc.file, exc.reason, exc.fix, exc.where) from None
        rows = list(conn.execute(sa.select(store.codes.c.key, store.codes.c.name, store.codes.c.codebook)))
        by_guid = {code_guid(r.codebook or "", r.key): r.key for r in rows}
        book_id = slugify(self.path.stem)
        mine = {r.key: r.name for r in rows if r.codebook == book_id}
        taken = {r.key for r in rows}
        new: list[Code] = []
        for item in imported:
            key = by_guid.get(item.guid)
            if key is None:
                base = slugify(item.name)
                candidate = f"{item.parent.id}.{base}" if item.parent else base
                if mine.get(candidate) == item.name:
                    key = candidate  # imported from this file before
                else:
                    key = unique_id(candidate, taken)
                    new.append(Code(id=key, name=item.name, parent=item.parent.id if item.parent else None,
                                    colour=item.colour, definition=item.description))
            item.id = key
            self.code_keys[item.guid] = key
        if new:
            self._write_codes(conn, book_id, new)
        self.result.codes = len(new)

    def _write_codes(self, conn: sa.Connection, book_id: str, codes: list[Code]) -> None:
        stamp = store.now()
        name = self.root.get("name") or self.path.stem
        version = "1.0"
        previous = conn.execute(sa.select(store.codebooks.c.version).where(store.codebooks.c.name == name)
                                .order_by(store.codebooks.c.id.desc())).first()
        if previous is not None:
            version = f"1.{conn.execute(sa.select(sa.func.count()).select_from(store.codebooks).where(store.codebooks.c.name == name)).scalar_one()}"
        book = Codebook(id=book_id, name=name, version=version,
                        description=f"Imported from {self.path.name} (made by {self.origin}).",
                        changelog=[ChangeEntry(version=version, changes=[f"Imported from {self.path.name}."])],
                        origin=self.origin, codes=codes)
        conn.execute(sa.insert(store.codes), [{
            "key": c.id, "name": c.name, "parent_key": c.parent, "definition": c.definition,
            "colour": c.colour, "kind": c.kind, "outcomes": "[]", "direction": None, "codebook": book_id,
            "codebook_version": version, "status": "active", "created_at": stamp, "updated_at": stamp,
        } for c in codes])
        conn.execute(sa.insert(store.codebooks).values(name=name, version=version, source=book.to_yaml(),
                                                       loaded_at=stamp))

    # -- sources ------------------------------------------------------------------

    def _sources(self) -> list[_Source]:
        sources_el = _child(self.root, "Sources")
        found: list[_Source] = []
        if sources_el is None:
            return found
        for element in sources_el:
            kind = _local(element.tag)
            name = element.get("name") or element.get("guid") or kind
            if kind == "TextSource":
                found.append(self._text_source(element, name, element))
            elif kind == "PDFSource":
                rep = _child(element, "Representation")
                for sel in _children(element, "PDFSelection"):
                    self._skip_selection(sel, name, "a region of a PDF page; its text, if any, comes in through the "
                                         "PDF's text representation")
                if rep is not None:
                    found.append(self._text_source(rep, name, rep))
                else:
                    self.result.skipped.append(Skipped(self.result.file, f"PDFSource {name!r}", 0,
                                                       "the PDF has no text representation in the file"))
            elif kind in _NON_TEXT:
                selection, reason = _NON_TEXT[kind]
                selections = _children(element, selection)
                self.result.skipped.append(Skipped(
                    self.result.file, f"{kind} {name!r}", sum(len(_children(s, "Coding")) for s in selections)
                    + len(_children(element, "Coding")), reason))
                for transcript in _children(element, "Transcript"):
                    count = sum(len(_children(s, "Coding")) for s in _children(transcript, "TranscriptSelection"))
                    self.result.skipped.append(Skipped(
                        self.result.file, f"Transcript {transcript.get('name') or ''!r} of {name!r}", count,
                        "media transcripts are synchronised to the recording; import the transcript as a text file"))
        return [s for s in found if s is not None]

    def _text_source(self, element: etree._Element, name: str, holder: etree._Element) -> _Source | None:
        inline = _child(element, "PlainTextContent")
        raw, encoding = None, None
        if inline is not None and inline.text:
            raw, encoding = inline.text, "xml"
        else:
            ref = element.get("plainTextPath") or ""
            data = self.archive.source_bytes(ref)
            if data is not None:
                try:
                    raw, encoding = decode_text(data, name)
                except ImportFailed as exc:
                    self._skip_source(holder, name, exc.reason)
                    return None
            else:
                where = "is not in the archive" if ref.lower().startswith("internal://") else \
                    "lives outside the archive" if ref else "is missing (no plainTextPath)"
                self._skip_source(holder, name, f"its plain text ({ref or 'no path'}) {where}; "
                                  "export the project again with its sources included")
                return None
        if not raw.strip():
            self._skip_source(holder, name, "its text is empty")
            return None
        return _Source(_guid(element.get("guid")), name, holder, raw, encoding)

    def _skip_source(self, holder: etree._Element, name: str, reason: str) -> None:
        count = sum(len(_children(s, "Coding")) for s in _children(holder, "PlainTextSelection"))
        self.result.skipped.append(Skipped(self.result.file, f"{_local(holder.tag)} {name!r}", count, reason))

    def _skip_selection(self, sel: etree._Element, source: str, reason: str) -> None:
        self.result.skipped.append(Skipped(
            self.result.file, f"{_local(sel.tag)} {sel.get('name') or sel.get('guid')!r} in {source!r}",
            len(_children(sel, "Coding")), reason))

    def _document(self, conn: sa.Connection, source: _Source) -> None:
        text, to_ours = normalised_with_map(source.raw)
        source.text, source.to_ours = text, to_ours
        raw = source.raw.lstrip("\ufeff")
        source.units = Utf16Index(raw) if self.utf16 else None
        source.length = len(raw.encode("utf-16-le")) // 2 if self.utf16 else len(raw)
        d = store.documents
        previous = conn.execute(sa.select(d.c.id, d.c.version, d.c.text, d.c.source_file).where(
            d.c.name == source.name, d.c.superseded_by.is_(None))).first()
        if previous is not None and previous.text != text and previous.source_file != self.path.name:
            # Another file's document of the same name: a different document, not a new version of it.
            source.name = f"{source.name} ({self.path.name})"
            previous = conn.execute(sa.select(d.c.id, d.c.version, d.c.text, d.c.source_file).where(
                d.c.name == source.name, d.c.superseded_by.is_(None))).first()
        if previous is not None and previous.text == text:
            source.document_id = previous.id
            self.result.reused_documents += 1
            self.targets[source.guid] = ("document", [previous.id])
            return
        values = self._variable_values(source.element)
        kind = self.source_type or values.pop("source_type", None)
        if kind not in SOURCE_TYPES:
            kind = "other"
        doc_id, turns = insert_document_version(
            conn, name=source.name, text=text, previous=previous, source_file=self.path.name, format="qdpx",
            encoding=source.encoding, source_type=kind, interviewer_names=self.interviewer_names)
        if values:
            conn.execute(sa.insert(store.document_attributes),
                         [{"document_id": doc_id, "key": k, "value": v} for k, v in values.items()])
        source.document_id = doc_id
        self.targets[source.guid] = ("document", [doc_id])
        self.result.documents += 1
        self.result.words += len(text.split())
        self.result.turns += turns

    def _variable_values(self, element: etree._Element) -> dict[str, str]:
        out = {}
        for vv in _children(element, "VariableValue"):
            ref = _child(vv, "VariableRef")
            name = self.variables.get(_guid(ref.get("targetGUID") if ref is not None else ""))
            value = next((c.text for c in vv if _local(c.tag) != "VariableRef"), None)
            if name and value is not None and value.strip():
                out[name] = value.strip()
        return out

    # -- codings ------------------------------------------------------------------

    def _position(self, source: _Source, value: str | None) -> int:
        """Our offset for a tool position; -1 if it lies outside the source's text."""
        try:
            pos = int(value) if value is not None else -1
        except ValueError:
            return -1  # not a number: listed as outside the text
        if not 0 <= pos <= source.length:
            return -1
        if source.units is not None:
            pos = source.units.to_codepoint(pos)
        return source.to_ours(pos)

    def _codings(self, conn: sa.Connection, sources: list[_Source]) -> None:
        new: list[NewCoding] = []
        guids: list[tuple[str, str]] = []  # (selection GUID, coding GUID) per new coding
        existing = set(conn.execute(sa.select(
            store.codings.c.document_id, store.codings.c.start, store.codings.c.end,
            store.codes.c.key, store.coders.c.name).select_from(
            store.codings.join(store.codes, store.codings.c.code_id == store.codes.c.id)
            .join(store.coders, store.codings.c.coder_id == store.coders.c.id))).all())
        for source in sources:
            for sel in _children(source.element, "PlainTextSelection"):
                start = self._position(source, sel.get("startPosition"))
                end = self._position(source, sel.get("endPosition"))
                if not (0 <= start < end <= len(source.text)):
                    self._skip_selection(sel, source.name, f"its span [{sel.get('startPosition')}, "
                                         f"{sel.get('endPosition')}) is empty or outside the source's text")
                    continue
                sel_user = self.users.get(_guid(sel.get("creatingUser")))
                for coding in _children(sel, "Coding"):
                    ref = _child(coding, "CodeRef")
                    key = self.code_keys.get(_guid(ref.get("targetGUID") if ref is not None else ""))
                    if key is None:
                        self.result.skipped.append(Skipped(
                            self.result.file, f"Coding {coding.get('guid')} in {source.name!r}", 1,
                            "it points at a code the file does not define"))
                        continue
                    coder = self.users.get(_guid(coding.get("creatingUser"))) or sel_user or self.default_user
                    if (source.document_id, start, end, key, coder) in existing:
                        continue  # imported before
                    existing.add((source.document_id, start, end, key, coder))
                    new.append(NewCoding(
                        document_id=source.document_id, start=start, end=end, code=key, coder=coder,
                        status="accepted", method="import",
                        provenance={"import": self.path.name, "tool": self.origin,
                                    "selection": sel.get("guid"), "created": coding.get("creationDateTime")}))
                    guids.append((_guid(sel.get("guid")), _guid(coding.get("guid"))))
            for coding in _children(source.element, "Coding"):
                self.result.skipped.append(Skipped(
                    self.result.file, f"Coding of the whole source {source.name!r}", 1,
                    "a coding of a whole source without a selection; code a span in qualcode instead"))
        ids = self.project.insert_codings(conn, new) if new else []
        for (sel_guid, coding_guid), coding_id in zip(guids, ids):
            self.targets.setdefault(sel_guid, ("coding", []))[1].append(coding_id)
            self.targets[coding_guid] = ("coding", [coding_id])
        self.result.codings = len(ids)
        self.result.coders = sorted({c.coder for c in new})

    # -- cases, sets, memos ---------------------------------------------------------

    def _cases(self, conn: sa.Connection) -> None:
        cases_el = _child(self.root, "Cases")
        if cases_el is None:
            return
        from ..corpus import _case_id  # noqa: PLC0415 - the one place cases are made

        placed: dict[int, str] = {}  # document id -> the case it was put in by this file
        for case in _children(cases_el, "Case"):
            name = case.get("name") or case.get("guid")
            case_id = _case_id(conn, name)
            self.result.cases += 1
            self.targets[_guid(case.get("guid"))] = ("case", [case_id])
            values = self._variable_values(case)
            for key, value in values.items():
                conn.execute(sa.delete(store.case_attributes).where(
                    store.case_attributes.c.case_id == case_id, store.case_attributes.c.key == key))
                conn.execute(sa.insert(store.case_attributes).values(case_id=case_id, key=key, value=value))
            for ref in _children(case, "SourceRef"):
                target = self.targets.get(_guid(ref.get("targetGUID")))
                if target and target[0] == "document":
                    for doc_id in target[1]:
                        if doc_id in placed:  # qualcode keeps one case per document: the first
                            self.result.skipped.append(Skipped(
                                self.result.file, f"SourceRef of case {name!r}", 0,
                                f"the document is already in case {placed[doc_id]!r}; qualcode keeps one case "
                                "per document (record the other as an attribute)"))
                            continue
                        placed[doc_id] = name
                        conn.execute(sa.update(store.documents).where(store.documents.c.id == doc_id)
                                     .values(case_id=case_id))
            description = _text_of(_child(case, "Description"))
            if description:
                self._pending_memos.append(("case", case_id, description, self.default_user, None))

    def _sets(self, conn: sa.Connection) -> None:
        sets_el = _child(self.root, "Sets")
        if sets_el is None:
            return
        plain: dict[int, list[str]] = {}
        for set_el in _children(sets_el, "Set"):
            name = set_el.get("name") or ""
            members = [self.targets.get(_guid(m.get("targetGUID"))) for m in _children(set_el, "MemberSource")]
            docs = [i for t in members if t and t[0] == "document" for i in t[1]]
            if _children(set_el, "MemberCode") and not docs:
                self.result.skipped.append(Skipped(self.result.file, f"code set {name!r}", 0,
                                                   "sets of codes have no place in qualcode; the codes came in"))
                continue
            pair = _SET_VARIABLE.match(name)
            for doc_id in docs:
                if pair:
                    self._attribute(conn, doc_id, pair.group(1), pair.group(2))
                else:
                    plain.setdefault(doc_id, []).append(name)
        for doc_id, names in plain.items():
            self._attribute(conn, doc_id, "set", "; ".join(names))

    def _attribute(self, conn: sa.Connection, doc_id: int, key: str, value: str) -> None:
        a = store.document_attributes
        conn.execute(sa.delete(a).where(a.c.document_id == doc_id, a.c.key == key))
        conn.execute(sa.insert(a).values(document_id=doc_id, key=key, value=value))

    def _memos(self, conn: sa.Connection, sources: list[_Source]) -> None:
        pending = self._pending_memos
        # Descriptions of sources and selections: what ATLAS.ti calls comments.
        for source in sources:
            if source.document_id is None:
                continue
            description = _text_of(_child(source.element, "Description"))
            if description:
                pending.append(("document", source.document_id, description, self.default_user, None))
            for sel in _children(source.element, "PlainTextSelection"):
                description = _text_of(_child(sel, "Description"))
                if not description:
                    continue
                target = self.targets.get(_guid(sel.get("guid")))
                author = self.users.get(_guid(sel.get("creatingUser"))) or self.default_user
                if target:
                    pending.append(("coding", target[1][0], description, author, sel.get("creationDateTime")))
                else:
                    quote = sel.get("name") or f"{sel.get('startPosition')}-{sel.get('endPosition')}"
                    pending.append(("document", source.document_id, f"{description}\n(on: {quote})", author,
                                    sel.get("creationDateTime")))
        # Notes, attached where a NoteRef points at them, else to the project.
        notes_el = _child(self.root, "Notes")
        refs: dict[str, list[tuple[str, int]]] = {}
        for ref in self.root.iter("{*}NoteRef"):
            owner = ref.getparent()
            target = self.targets.get(_guid(owner.get("guid")))
            if _local(owner.tag) == "Code":
                key = self.code_keys.get(_guid(owner.get("guid")))
                target = ("code", [self._code_id(conn, key)]) if key else None
            if target:
                refs.setdefault(_guid(ref.get("targetGUID")), []).extend((target[0], i) for i in target[1][:1])
        for note in _children(notes_el, "Note") if notes_el is not None else []:
            author = self.users.get(_guid(note.get("creatingUser"))) or self.default_user
            owners = refs.get(_guid(note.get("guid"))) or [("project", 0)]
            cell = self._framework_cell(conn, note, owners)
            if cell is not None:
                pending.append(("framework", cell, self._note_text(note, named=False), author,
                                note.get("creationDateTime")))
                continue
            text = self._note_text(note)
            if not text:
                continue
            for kind, owner_id in owners:
                pending.append((kind, owner_id, text, author, note.get("creationDateTime")))
        self._write_memos(conn, pending)

    def _framework_cell(self, conn: sa.Connection, note: etree._Element,
                        owners: list[tuple[str, int]]) -> dict[str, int] | None:
        """The framework-matrix cell a note summarises, as ``project_export`` wrote it: named
        "Framework summary: ROW" (a case, else a document, of that name) and referred to
        from one code. None for any other note."""
        name = note.get("name") or ""
        codes = [i for kind, i in owners if kind == "code"]
        if not name.startswith(FRAMEWORK_NOTE) or len(codes) != 1:
            return None
        row = name[len(FRAMEWORK_NOTE):]
        case_id = conn.execute(sa.select(store.cases.c.id).where(store.cases.c.name == row)).scalar()
        if case_id is not None:
            return {"case_id": case_id, "code_id": codes[0]}
        documents = [i for kind, i in owners if kind == "document"]
        return {"document_id": documents[0], "code_id": codes[0]} if documents else None

    def _note_text(self, note: etree._Element, named: bool = True) -> str:
        inline = _child(note, "PlainTextContent")
        if inline is not None and inline.text:
            content = inline.text
        else:
            data = self.archive.source_bytes(note.get("plainTextPath") or "")
            content = decode_text(data, note.get("name") or "note")[0] if data and data.strip() else ""
        content = content.replace("\r\n", "\n").strip()
        name = (note.get("name") or "").strip()
        description = _text_of(_child(note, "Description"))
        if named and name and not content.startswith(name):
            content = f"{name}\n{content}" if content else name
        if description:
            content = f"{content}\n\n{description}"
        return content.strip()

    def _code_id(self, conn: sa.Connection, key: str) -> int:
        return conn.execute(sa.select(store.codes.c.id).where(store.codes.c.key == key)).scalar_one()

    def _write_memos(self, conn: sa.Connection, pending: list) -> None:
        m = store.memos
        column = {"document": "document_id", "case": "case_id", "code": "code_id", "coding": "coding_id"}
        existing = set(conn.execute(sa.select(m.c.kind, m.c.document_id, m.c.case_id, m.c.code_id,
                                              m.c.coding_id, m.c.text)).all())
        rows = []
        stamp = store.now()
        for kind, owner_id, text, author, created in pending:
            row = {"kind": kind, "document_id": None, "case_id": None, "code_id": None, "coding_id": None,
                   "text": text, "author": author or "", "created_at": _stamp(created) or stamp, "updated_at": stamp}
            if kind in column:
                row[column[kind]] = owner_id
            elif kind == "framework":  # a matrix cell: its case or document, and its code
                row.update(owner_id)
            if kind == "coding":  # as qualcode.memos does: a coding memo also names its document
                row["document_id"] = conn.execute(sa.select(store.codings.c.document_id)
                                                  .where(store.codings.c.id == owner_id)).scalar_one()
            key = (kind, row["document_id"], row["case_id"], row["code_id"], row["coding_id"], text)
            if key in existing:
                continue
            existing.add(key)
            rows.append(row)
        if rows:
            conn.execute(sa.insert(m), rows)
        self.result.memos = len(rows)


def _stamp(value: str | None) -> str | None:
    """A REFI dateTime (``2018-03-27T19:38:46Z``) as our ISO timestamp form."""
    if not value:
        return None
    return value.replace("Z", "+00:00") if value.endswith("Z") else value


def import_file(project: Project, path: Path, options) -> "FileResult":
    """``qualcode import PROJECT FILE.qdpx``: one row of the import report.

    The message lists every item that could not come in, with its reason.
    """
    from ..corpus import FileResult
    from ..errors import QualcodeError

    try:
        result = import_qdpx(project, path, options.interviewer_names, options.source_type)
    except QualcodeError as exc:
        return FileResult(path.name, "failed", message=str(exc))
    except Exception as exc:  # XML a tool wrote in a way we did not foresee: report it, keep going
        return FileResult(path.name, "failed", message=(
            f"{path.name}: could not be read as a REFI-QDA project ({type(exc).__name__}: {exc}). Fix: export the "
            "project again from the QDA program; if it still fails, report it with the file"))
    lines = [result.summary()]
    lines += [f"not imported: {s.item} ({s.codings} coding(s)): {s.reason}" for s in result.skipped]
    status = "imported" if result.documents or result.codes or result.codings or result.memos else "unchanged"
    return FileResult(path.name, status, documents=result.documents, words=result.words, turns=result.turns,
                      message="\n".join(lines))
