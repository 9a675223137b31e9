"""Export a qualcode project as a REFI-QDA project (.qdpx) that NVivo, ATLAS.ti and MAXQDA open.

Write what the schema says (``schemas/refi/Project.xsd``, QDA-XML 1.0; the written
``project.qde`` is validated against it before the archive is written): positions in
code points with exclusive ends, each source's text as UTF-8 in ``sources/``.

- current documents -> ``TextSource`` (attributes and source type as variables);
- active codes (and retired codes that still hold codings) -> the code hierarchy,
  with colour and definition; each code's GUID is ``code_guid(codebook, key)``, so a
  file coded elsewhere and imported back lands on the same codes;
- accepted codings (``statuses`` to choose others) -> one ``PlainTextSelection`` each,
  with a ``Coding`` by its coder as a REFI ``User``;
- memos -> ``Note``s referred to from the project, source, code or coding they are
  about; case memos -> the case's ``Description``; cases -> ``Case`` with their
  sources and attributes; framework-matrix summaries -> a ``Note`` named
  "Framework summary: ROW" referred to from the code (and from the source, for a
  document row), which ``project_import`` reads back as the same cell.

>>> summary = export_qdpx(project, "eval.qdpx")     # doctest: +SKIP
"""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import sqlalchemy as sa
from lxml import etree

from .. import __version__, store
from ..errors import InputError
from ..project import Project
from .codebook import code_guid

NS = "urn:QDA-XML:project:1.0"
SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "refi" / "Project.xsd"
_IDS = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/qualcode/qualcode/project")
_NOTE_KINDS = ("project", "document", "case", "code", "coding", "framework")  # not quote pins
# REFI-QDA has no framework-matrix cell: its summary is a Note referred to from the code (and
# from the source, for a document row), named for the row; ``project_import`` reads it back.
FRAMEWORK_NOTE = "Framework summary: "


def framework_note_name(row: str) -> str:
    """The name of a framework-cell note: ``framework_note_name("C003")`` -> "Framework summary: C003"."""
    return FRAMEWORK_NOTE + row


@dataclass
class RefiExport:
    """What was written."""

    file: str
    documents: int
    codes: int
    codings: int
    memos: int
    cases: int
    users: int


def _guid(*parts: object) -> str:
    return str(uuid.uuid5(_IDS, "/".join(str(p) for p in parts))).upper()


def _el(parent: etree._Element, tag: str, **attrs: object) -> etree._Element:
    return etree.SubElement(parent, f"{{{NS}}}{tag}", {k: str(v) for k, v in attrs.items() if v is not None})


def _stamp(value: str | None) -> str | None:
    """Our ISO timestamps are valid xsd:dateTime already; empty stays absent."""
    return value or None


@lru_cache(maxsize=1)
def project_schema() -> etree.XMLSchema:
    """The REFI-QDA Project.xsd (QDA-XML 1.0), shipped with qualcode."""
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


def export_qdpx(project: Project, out: str | Path, statuses: Iterable[str] = ("accepted",)) -> RefiExport:
    """Write ``project`` to ``out`` (.qdpx); returns counts of what went in.

    Raises ``InputError`` if ``out`` is not a .qdpx path in an existing folder, or if
    the XML would not validate (a bug: the message says what the schema refused).
    """
    out = Path(out)
    if out.suffix.lower() != ".qdpx":
        raise InputError(str(out), "a REFI-QDA project file must end in .qdpx", "name the output e.g. eval.qdpx")
    if not out.parent.exists():
        raise InputError(str(out), f"folder {out.parent} does not exist", "create it first")
    with project.engine.connect() as conn:
        builder = _Builder(conn, project, list(statuses))
        root, files = builder.build()
    xml = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    check = etree.fromstring(xml)
    schema = project_schema()
    if not schema.validate(check):
        error = schema.error_log.last_error
        raise InputError(str(out), f"the REFI-QDA XML does not validate (line {error.line}: {error.message})",
                         "report this as a qualcode bug, with the project if you can share it")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", xml)
        for name, data in files.items():
            archive.writestr(f"sources/{name}", data)
    out.write_bytes(buf.getvalue())
    return RefiExport(str(out), **builder.counts)


class _Builder:
    def __init__(self, conn: sa.Connection, project: Project, statuses: list[str]):
        self.conn, self.project, self.statuses = conn, project, statuses
        self.users: dict[str, str] = {}  # name -> GUID
        self.counts = {"documents": 0, "codes": 0, "codings": 0, "memos": 0, "cases": 0, "users": 0}
        self.code_guids: dict[int, str] = {}  # code id -> REFI GUID, for the codes written

    def user(self, name: str | None) -> str:
        name = name or "qualcode"
        return self.users.setdefault(name, _guid("user", name))

    def build(self) -> tuple[etree._Element, dict[str, bytes]]:
        c = self.conn
        name = Path(self.project.location).stem if "://" not in self.project.location else "qualcode project"
        root = etree.Element(f"{{{NS}}}Project", nsmap={None: NS}, name=name, origin=f"qualcode {__version__}",
                             creationDateTime=store.now())
        users_el = _el(root, "Users")
        codes = list(c.execute(sa.select(store.codes).order_by(store.codes.c.id)))
        k = store.codings
        codings = list(c.execute(
            sa.select(k.c.id, k.c.document_id, k.c.start, k.c.end, k.c.snippet, k.c.created_at,
                      k.c.code_id, store.coders.c.name.label("coder"))
            .select_from(k.join(store.coders, k.c.coder_id == store.coders.c.id))
            .where(k.c.status.in_(self.statuses)).order_by(k.c.document_id, k.c.start, k.c.id)))
        memos = list(c.execute(sa.select(store.memos).where(store.memos.c.kind.in_(_NOTE_KINDS))
                               .order_by(store.memos.c.id)))
        notes_for: dict[tuple[str, int | None], list[str]] = {}
        for memo in memos:
            if memo.kind == "case":
                continue
            owner = {"project": ("project", None), "document": ("document", memo.document_id),
                     "code": ("code", memo.code_id), "coding": ("coding", memo.coding_id),
                     "framework": ("code", memo.code_id)}[memo.kind]
            notes_for.setdefault(owner, []).append(_guid("memo", memo.id))
            if memo.kind == "framework" and memo.document_id is not None:  # the cell's other side, where REFI has one
                notes_for.setdefault(("document", memo.document_id), []).append(_guid("memo", memo.id))
        self._codebook(root, codes, {r.code_id for r in codings}, notes_for)
        documents = list(c.execute(sa.select(store.documents).where(store.documents.c.superseded_by.is_(None))
                                   .order_by(store.documents.c.id)))
        doc_attrs: dict[int, dict[str, str]] = {}
        for row in c.execute(sa.select(store.document_attributes)):
            doc_attrs.setdefault(row.document_id, {})[row.key] = row.value
        case_attrs: dict[int, dict[str, str]] = {}
        for row in c.execute(sa.select(store.case_attributes)):
            case_attrs.setdefault(row.case_id, {})[row.key] = row.value
        keys = sorted({"source_type", *(k for a in doc_attrs.values() for k in a),
                       *(k for a in case_attrs.values() for k in a)})
        if keys:
            variables = _el(root, "Variables")
            for key in keys:
                _el(variables, "Variable", guid=_guid("variable", key), name=key, typeOfVariable="Text")
        self._cases(root, documents, case_attrs, memos)
        files = self._sources(root, documents, doc_attrs, codings, codes, notes_for)
        if memos:
            row_names = self._framework_rows(memos)
            notes = _el(root, "Notes")
            for memo in memos:
                if memo.kind == "case":
                    continue
                first = memo.text.strip().splitlines()[0][:100] if memo.text.strip() else "memo"
                if memo.kind == "framework":
                    first = framework_note_name(row_names.get((memo.case_id, memo.document_id), ""))
                note = _el(notes, "Note", guid=_guid("memo", memo.id), name=first,
                           creatingUser=self.user(memo.author or None), creationDateTime=_stamp(memo.created_at),
                           modifiedDateTime=_stamp(memo.updated_at))
                _el(note, "PlainTextContent").text = memo.text
                self.counts["memos"] += 1
        for guid in notes_for.get(("project", None), []):
            _el(root, "NoteRef", targetGUID=guid)
        for user_name, guid in self.users.items():
            _el(users_el, "User", guid=guid, name=user_name)
        self.counts["users"] = len(self.users)
        if not len(users_el):
            root.remove(users_el)
        return root, files

    def _codebook(self, root: etree._Element, codes: list, used: set[int],
                  notes_for: dict[tuple[str, int | None], list[str]]) -> None:
        keep = [r for r in codes if r.status == "active" or r.id in used]
        if not keep:
            return
        by_parent: dict[str | None, list] = {}
        keys = {r.key for r in keep}
        for row in keep:
            parent = row.parent_key if row.parent_key in keys else None
            by_parent.setdefault(parent, []).append(row)
        codes_el = _el(_el(root, "CodeBook"), "Codes")

        def write(parent_el: etree._Element, parent_key: str | None) -> None:
            for row in by_parent.get(parent_key, []):
                colour = row.colour if row.colour and len(row.colour) in (4, 7) else None
                el = _el(parent_el, "Code", guid=code_guid(row.codebook or "", row.key), name=row.name,
                         isCodable="true", color=colour)
                if row.definition:
                    _el(el, "Description").text = row.definition
                for guid in notes_for.get(("code", row.id), []):
                    _el(el, "NoteRef", targetGUID=guid)
                self.counts["codes"] += 1
                write(el, row.key)

        write(codes_el, None)
        self.code_guids = {r.id: code_guid(r.codebook or "", r.key) for r in keep}

    def _framework_rows(self, memos: list) -> dict[tuple[int | None, int | None], str]:
        """(case id, document id) -> the case's or document's name, for framework-cell notes."""
        cases = dict(self.conn.execute(sa.select(store.cases.c.id, store.cases.c.name)).all())
        docs = dict(self.conn.execute(sa.select(store.documents.c.id, store.documents.c.name)).all())
        return {(m.case_id, m.document_id): cases.get(m.case_id) or docs.get(m.document_id, "")
                for m in memos if m.kind == "framework"}

    def _cases(self, root: etree._Element, documents: list, case_attrs: dict, memos: list) -> None:
        cases = list(self.conn.execute(sa.select(store.cases).order_by(store.cases.c.id)))
        if not cases:
            return
        cases_el = _el(root, "Cases")
        for case in cases:
            el = _el(cases_el, "Case", guid=_guid("case", case.name), name=case.name)
            text = "\n\n".join(m.text for m in memos if m.kind == "case" and m.case_id == case.id)
            if text:
                _el(el, "Description").text = text
                self.counts["memos"] += sum(1 for m in memos if m.kind == "case" and m.case_id == case.id)
            for key, value in sorted(case_attrs.get(case.id, {}).items()):
                self._value(el, key, value)
            for doc in documents:
                if doc.case_id == case.id:
                    _el(el, "SourceRef", targetGUID=_guid("document", doc.id, doc.sha256))
            self.counts["cases"] += 1

    def _value(self, parent: etree._Element, key: str, value: str) -> None:
        vv = _el(parent, "VariableValue")
        _el(vv, "VariableRef", targetGUID=_guid("variable", key))
        _el(vv, "TextValue").text = value

    def _sources(self, root: etree._Element, documents: list, doc_attrs: dict, codings: list, codes: list,
                 notes_for: dict) -> dict[str, bytes]:
        files: dict[str, bytes] = {}
        if not documents:
            return files
        sources = _el(root, "Sources")
        by_doc: dict[int, list] = {}
        for row in codings:
            by_doc.setdefault(row.document_id, []).append(row)
        for doc in documents:
            guid = _guid("document", doc.id, doc.sha256)
            el = _el(sources, "TextSource", guid=guid, name=doc.name, plainTextPath=f"internal://{guid}.txt",
                     creationDateTime=_stamp(doc.imported_at))
            files[f"{guid}.txt"] = doc.text.encode("utf-8")
            for row in by_doc.get(doc.id, []):
                if row.code_id not in self.code_guids:
                    continue
                coder = self.user(row.coder)
                sel = _el(el, "PlainTextSelection", guid=_guid("selection", row.id), name=(row.snippet or "")[:100],
                          startPosition=row.start, endPosition=row.end, creatingUser=coder,
                          creationDateTime=_stamp(row.created_at))
                coding = _el(sel, "Coding", guid=_guid("coding", row.id), creatingUser=coder,
                             creationDateTime=_stamp(row.created_at))
                _el(coding, "CodeRef", targetGUID=self.code_guids[row.code_id])
                for note in notes_for.get(("coding", row.id), []):
                    _el(coding, "NoteRef", targetGUID=note)
                self.counts["codings"] += 1
            for note in notes_for.get(("document", doc.id), []):
                _el(el, "NoteRef", targetGUID=note)
            values = dict(doc_attrs.get(doc.id, {}))
            values["source_type"] = doc.source_type
            for key, value in sorted(values.items()):
                self._value(el, key, value)
            self.counts["documents"] += 1
        return files
