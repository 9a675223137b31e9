"""Memos: the researcher's notes, kept in the project beside what they are about.

A memo is free text with an author and times, attached to one thing:

=========  ==============================================  ===========================
kind       what it is about                                give
=========  ==============================================  ===========================
project    the evaluation as a whole                       nothing
document   one document (an interview, a case file)        ``document``
case       one case (a family, a site)                     ``case``
code       one code of the codebook                        ``code``
coding     one coded passage (an annotation)               ``coding``
framework  one cell of the framework matrix: a case (or    ``case`` or ``document``,
           document) under one theme                       and ``code``
=========  ==============================================  ===========================

The kind follows from what is given, so a notebook or the CLI names the thing and
nothing else. Everything runs in one transaction and checks first: a memo on a
coding that was deleted, a code that does not exist or an empty text is refused
with the reason and nothing is written.

The ``memos`` table also keeps quote pins and exclusions (``quotes.py``); they are
marks, not notes, and the functions here leave them out.

>>> from qualcode.memos import add_memo, list_memos
>>> memo_id = add_memo(project, "Group supervision came up unprompted in every wave.",
...                    code="feature.group_case_discussion", author="sam")   # doctest: +SKIP
>>> list_memos(project, search="supervision")                              # doctest: +SKIP
"""

from __future__ import annotations

import csv
import getpass
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pandas as pd
import sqlalchemy as sa

from . import store
from .errors import InputError, NotFoundError, PermissionDenied
from .problems import did_you_mean
from .project import Project

MEMO_KINDS = ("project", "document", "case", "code", "coding", "framework")
EXPORT_FORMATS = (".csv", ".md", ".json")
COLUMNS = ["id", "kind", "document_id", "document", "case", "code", "code_name", "coding_id", "start",
           "end", "passage", "text", "author", "created_at", "updated_at"]


@dataclass(frozen=True)
class Target:
    """What a memo is about, as the ids the ``memos`` table stores."""

    kind: str
    document_id: int | None = None
    case_id: int | None = None
    code_id: int | None = None
    coding_id: int | None = None


def default_author() -> str:
    """Who writes: the login of whoever runs qualcode (memos always say who wrote them)."""
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers): still record something true
        return "unknown"


def infer_kind(document: object = None, case: object = None, code: object = None,
               coding: object = None) -> str:
    """The memo kind the given references make.

    >>> infer_kind(), infer_kind(document="W1_SW01"), infer_kind(case="Family A", code="voice")
    ('project', 'document', 'framework')
    >>> infer_kind(coding=12)
    'coding'
    """
    if coding is not None:
        return "coding"
    if code is not None and (case is not None or document is not None):
        return "framework"
    if code is not None:
        return "code"
    if case is not None:
        return "case"
    if document is not None:
        return "document"
    return "project"


# -- resolving references ---------------------------------------------------------------


def _document_id(conn: sa.Connection, project: Project, ref: int | str) -> int:
    d = store.documents
    if isinstance(ref, int) or str(ref).isdigit():
        row = conn.execute(sa.select(d.c.id).where(d.c.id == int(ref))).first()
    else:
        row = conn.execute(sa.select(d.c.id).where(d.c.name == str(ref)).order_by(d.c.version.desc())).first()
    if row is None:
        names = [n for (n,) in conn.execute(sa.select(d.c.name).distinct())]
        raise NotFoundError(f"{project.location}: no document {ref!r}. Fix: "
                            f"{did_you_mean(str(ref), names)}")
    return row[0]


def _case_id(conn: sa.Connection, project: Project, ref: int | str) -> int:
    c = store.cases
    row = conn.execute(sa.select(c.c.id).where(c.c.name == str(ref))).first()
    if row is None and (isinstance(ref, int) or str(ref).isdigit()):
        row = conn.execute(sa.select(c.c.id).where(c.c.id == int(ref))).first()
    if row is None:
        names = [n for (n,) in conn.execute(sa.select(c.c.name))]
        raise NotFoundError(f"{project.location}: no case {ref!r}. Fix: {did_you_mean(str(ref), names)}")
    return row[0]


def _code_id(conn: sa.Connection, project: Project, key: str) -> int:
    cd = store.codes
    row = conn.execute(sa.select(cd.c.id).where(cd.c.key == str(key))).first()
    if row is None:
        keys = [k for (k,) in conn.execute(sa.select(cd.c.key))]
        raise NotFoundError(f"{project.location}: no code {key!r}. Fix: {did_you_mean(str(key), keys)}")
    return row[0]


def _coding(conn: sa.Connection, project: Project, coding_id: int) -> dict:
    """The coding a memo annotates; a deleted one is refused, saying when and by whom."""
    k = store.codings
    row = conn.execute(sa.select(k.c.id, k.c.document_id, k.c.code_id).where(k.c.id == int(coding_id))).first()
    if row is not None:
        return dict(row._mapping)
    ev = store.coding_events
    gone = conn.execute(
        sa.select(ev.c.action, ev.c.actor, ev.c.at).where(ev.c.coding_id == int(coding_id))
        .order_by(ev.c.id.desc()).limit(1)
    ).first()
    if gone is not None:
        raise NotFoundError(
            f"{project.location}: coding {coding_id} was deleted ({gone.action} by {gone.actor} at {gone.at}), "
            "so it cannot carry a memo. Fix: write the memo on its document or code instead, or undo the "
            "deletion first; nothing was written."
        )
    raise NotFoundError(f"{project.location}: no coding {coding_id}. Fix: take the id from "
                        "project.codings(); nothing was written.")


def resolve_target(conn: sa.Connection, project: Project, *, kind: str | None = None,
                   document: int | str | None = None, case: int | str | None = None,
                   code: str | None = None, coding: int | None = None) -> Target:
    """Check the references a memo names and return them as ids, or raise saying which is wrong."""
    made = infer_kind(document, case, code, coding)
    if kind is not None and kind not in MEMO_KINDS:
        raise InputError(project.location, f"memo kind {kind!r} is not one of {', '.join(MEMO_KINDS)}",
                         "leave the kind out: it follows from --document, --case, --code or --coding")
    if kind is not None and kind != made:
        raise InputError(project.location, f"a {kind} memo cannot be written on {_named(document, case, code, coding)}",
                         _what_kind_needs(kind))
    if coding is not None:
        if case is not None or code is not None:
            raise InputError(project.location, "a coding memo names the coding only",
                             "give --coding alone (its document and code come with it)")
        row = _coding(conn, project, coding)
        if document is not None and _document_id(conn, project, document) != row["document_id"]:
            raise InputError(project.location, f"coding {coding} is not in document {document!r}",
                             "give the coding alone, or the document it is in")
        return Target("coding", document_id=row["document_id"], coding_id=row["id"])
    if case is not None and document is not None:
        raise InputError(project.location, "a memo is about a case or a document, not both",
                         "give --case or --document")
    return Target(
        made,
        document_id=_document_id(conn, project, document) if document is not None else None,
        case_id=_case_id(conn, project, case) if case is not None else None,
        code_id=_code_id(conn, project, code) if code is not None else None,
    )


def _named(document, case, code, coding) -> str:
    parts = [f"{name} {value!r}" for name, value in
             (("document", document), ("case", case), ("code", code), ("coding", coding)) if value is not None]
    return " and ".join(parts) or "the project as a whole"


def _what_kind_needs(kind: str) -> str:
    return {
        "project": "give no document, case, code or coding",
        "document": "give --document only",
        "case": "give --case only",
        "code": "give --code only",
        "coding": "give --coding only",
        "framework": "give --code and one of --case or --document (a cell of the framework matrix)",
    }[kind]


def _clean_text(project: Project, text: str | None) -> str:
    if text is None or not str(text).strip():
        raise InputError(project.location, "the memo has no text", "write the memo's text (--text \"…\")")
    return str(text).strip()


# -- writing ------------------------------------------------------------------------------


def add_memo(project: Project, text: str, *, document: int | str | None = None, case: int | str | None = None,
             code: str | None = None, coding: int | None = None, kind: str | None = None,
             author: str | None = None) -> int:
    """Write a memo on what the references name and return its id.

    ``document`` is a name or id, ``case`` a name, ``code`` a code key, ``coding`` a
    coding id; none of them makes a project memo. ``kind`` may be given to be explicit
    and must agree with the references.

    >>> add_memo(project, "Check W2 consent", document="W2_FM03_family.txt", author="sam")  # doctest: +SKIP
    7
    """
    body = _clean_text(project, text)
    with project.transaction() as conn:
        target = resolve_target(conn, project, kind=kind, document=document, case=case, code=code, coding=coding)
        stamp = store.now()
        return conn.execute(sa.insert(store.memos).values(
            kind=target.kind, document_id=target.document_id, case_id=target.case_id, code_id=target.code_id,
            coding_id=target.coding_id, text=body, author=author or project.team_user() or default_author(),
            created_at=stamp, updated_at=stamp,
        ).returning(store.memos.c.id)).scalar_one()


def _memo_row(conn: sa.Connection, project: Project, memo_id: int) -> dict:
    m = store.memos
    row = conn.execute(sa.select(m).where(m.c.id == int(memo_id), m.c.kind.in_(MEMO_KINDS))).first()
    if row is None:
        raise NotFoundError(f"{project.location}: no memo {memo_id}. Fix: `qualcode memo list "
                            f"{project.location}` shows the memos and their ids.")
    return dict(row._mapping)


def edit_memo(project: Project, memo_id: int, text: str) -> None:
    """Replace a memo's text; its author and creation time stay, ``updated_at`` moves on.

    In a team project a coder edits only their own memos (the database's row-level
    security); anyone else's raises PermissionDenied and nothing changes.
    """
    body = _clean_text(project, text)
    m = store.memos
    with project.transaction() as conn:
        row = _memo_row(conn, project, memo_id)
        done = conn.execute(sa.update(m).where(m.c.id == int(memo_id)).values(text=body, updated_at=store.now()))
        _check_changed(project, done.rowcount, row, "edit")


def delete_memo(project: Project, memo_id: int) -> None:
    """Remove a memo (in a team project a coder removes only their own)."""
    m = store.memos
    with project.transaction() as conn:
        row = _memo_row(conn, project, memo_id)
        done = conn.execute(sa.delete(m).where(m.c.id == int(memo_id)))
        _check_changed(project, done.rowcount, row, "delete")


def _check_changed(project: Project, rowcount: int, row: dict, verb: str) -> None:
    """Row-level security hides a row it refuses from UPDATE and DELETE: no error, no row.

    The memo was just read, so no row changed means the policy refused it.
    """
    if rowcount == 0:
        raise PermissionDenied(
            f"{project.location}: memo {row['id']} is {row['author']}'s; your role may {verb} only your own memos. "
            "Fix: ask its author, a reviewer or the project's lead to change it."
        )


# -- reading ------------------------------------------------------------------------------


def list_memos(project: Project, *, kind: str | Iterable[str] | None = None, document: int | str | None = None,
               case: int | str | None = None, code: str | None = None, coding: int | None = None,
               author: str | None = None, search: str | None = None) -> pd.DataFrame:
    """Memos as a DataFrame, newest last, with what each is about spelt out.

    Filters combine. ``document`` and ``code`` also match memos on codings in that
    document or of that code (an annotation is about its passage's document and code);
    ``search`` keeps memos whose text holds every word given, in any case.

    Columns: id, kind, document_id, document, case, code, code_name, coding_id, start,
    end, passage (the text the annotated coding covers), text, author, created_at,
    updated_at.
    """
    m, d, c, cd, k = store.memos, store.documents, store.cases, store.codes, store.codings
    kd = d.alias("coding_document")
    kc = cd.alias("coding_code")
    doc_id = sa.func.coalesce(m.c.document_id, k.c.document_id)
    query = (
        sa.select(
            m.c.id, m.c.kind, doc_id.label("document_id"), sa.func.coalesce(d.c.name, kd.c.name).label("document"),
            c.c.name.label("case"), sa.func.coalesce(cd.c.key, kc.c.key).label("code"),
            sa.func.coalesce(cd.c.name, kc.c.name).label("code_name"), m.c.coding_id, k.c.start, k.c.end,
            k.c.snippet.label("passage"), m.c.text, m.c.author, m.c.created_at, m.c.updated_at,
        )
        .select_from(
            m.outerjoin(d, m.c.document_id == d.c.id).outerjoin(c, m.c.case_id == c.c.id)
            .outerjoin(cd, m.c.code_id == cd.c.id).outerjoin(k, m.c.coding_id == k.c.id)
            .outerjoin(kd, k.c.document_id == kd.c.id).outerjoin(kc, k.c.code_id == kc.c.id)
        )
        .where(m.c.kind.in_(MEMO_KINDS))
        .order_by(m.c.id)
    )
    with project.engine.connect() as conn:
        if kind is not None:
            kinds = [kind] if isinstance(kind, str) else list(kind)
            wrong = [x for x in kinds if x not in MEMO_KINDS]
            if wrong:
                raise InputError(project.location, f"memo kind {wrong[0]!r} is not one of {', '.join(MEMO_KINDS)}",
                                 "use one of those kinds")
            query = query.where(m.c.kind.in_(kinds))
        if document is not None:
            query = query.where(doc_id == _document_id(conn, project, document))
        if case is not None:
            query = query.where(m.c.case_id == _case_id(conn, project, case))
        if code is not None:
            code_id = _code_id(conn, project, code)
            query = query.where(sa.or_(m.c.code_id == code_id, k.c.code_id == code_id))
        if coding is not None:
            query = query.where(m.c.coding_id == int(coding))
        if author is not None:
            query = query.where(m.c.author == author)
        result = conn.execute(query)
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    if search:
        for word in search.split():
            frame = frame[frame["text"].str.contains(word, case=False, regex=False)]
    return frame.reset_index(drop=True)[COLUMNS]


def search_memos(project: Project, query: str) -> pd.DataFrame:
    """Memos whose text holds every word of ``query`` (any case): ``list_memos(search=…)``."""
    if not query or not query.strip():
        raise InputError(project.location, "the search is empty", "give a word or two to look for")
    return list_memos(project, search=query)


def memos_markdown(frame: pd.DataFrame) -> str:
    """Memos as Markdown, one section each: what it is about, who wrote it, when, the text.

    >>> row = dict(id=1, kind="code", document=None, case=None, code="voice", code_name="Voice of the child",
    ...            coding_id=None, start=None, end=None, passage=None, text="Rarely recorded in W1.",
    ...            author="sam", created_at="2026-01-05T10:00:00+00:00", updated_at="2026-01-05T10:00:00+00:00")
    >>> print(memos_markdown(pd.DataFrame([row])))
    # Memos
    <BLANKLINE>
    ## Memo 1: code Voice of the child (voice)
    <BLANKLINE>
    *sam, 2026-01-05T10:00:00+00:00*
    <BLANKLINE>
    Rarely recorded in W1.
    <BLANKLINE>
    """
    lines = ["# Memos", ""]
    for row in frame.to_dict("records"):
        lines += [f"## Memo {row['id']}: {describe(row)}", ""]
        edited = f", edited {row['updated_at']}" if row["updated_at"] != row["created_at"] else ""
        lines += [f"*{row['author']}, {row['created_at']}{edited}*", ""]
        if row.get("passage"):
            lines += [f"> {row['passage']}", ""]
        lines += [str(row["text"]), ""]
    return "\n".join(lines)


def describe(row: dict) -> str:
    """What a memo row (from ``list_memos``) is about, in words.

    >>> describe({"kind": "framework", "case": "Family A", "document": None, "code": "voice",
    ...           "code_name": "Voice of the child", "coding_id": None})
    'Family A × Voice of the child (voice)'
    """
    def present(value) -> bool:
        return value is not None and not (isinstance(value, float) and pd.isna(value))

    code = f"{row['code_name']} ({row['code']})" if present(row.get("code")) else ""
    if row["kind"] == "project":
        return "project"
    if row["kind"] == "framework":
        return f"{row['case'] if present(row.get('case')) else row['document']} × {code}"
    if row["kind"] == "coding":
        where = f" [{int(row['start'])}, {int(row['end'])})" if present(row.get("start")) else ""
        return f"coding {int(row['coding_id'])} of {code} in {row['document']}{where}"
    if row["kind"] == "code":
        return f"code {code}"
    if row["kind"] == "case":
        return f"case {row['case']}"
    return f"document {row['document']}"


def export_memos(project: Project, out: str | Path, **filters) -> pd.DataFrame:
    """Write memos to ``out`` as .csv, .md (Markdown) or .json; return the rows written.

    Takes the filters of ``list_memos``. The file is written only after every memo has
    been read, so a bad filter leaves no half-written file.
    """
    out = Path(out)
    if out.suffix.lower() not in EXPORT_FORMATS:
        raise InputError(str(out), f"cannot write memos as {out.suffix or 'a file without an extension'}",
                         f"name the file with one of {', '.join(EXPORT_FORMATS)}")
    if not out.parent.exists():
        raise InputError(str(out), f"folder {out.parent} does not exist", "create it first or write elsewhere")
    frame = list_memos(project, **filters)
    suffix = out.suffix.lower()
    if suffix == ".csv":
        with open(out, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(frame.columns)
            for row in frame.itertuples(index=False):
                writer.writerow(["" if pd.isna(v) else _safe_cell(v) for v in row])
    elif suffix == ".md":
        out.write_text(memos_markdown(frame), encoding="utf-8")
    else:
        records = json.loads(frame.to_json(orient="records"))
        out.write_text(json.dumps(records, indent=2, ensure_ascii=False), encoding="utf-8")
    return frame


def _safe_cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
