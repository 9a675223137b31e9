"""Framework summaries: the researchers' own words for one cell of the framework matrix.

A summary is a memo of kind ``framework`` on a case (a family) and a code, or, for a
participant who has no case (a member of staff, a partner), on their first document
and the code, so that it sits in their row of the matrix (``matrix_rows``). Teams
often draft summaries in a spreadsheet: ``import_framework_summaries`` reads them from
a CSV (``case,code,text[,author]``; ``case`` may name a participant), checks every row
first and writes all or none.

>>> set_framework_summary(project, "C003", "impact", "CP plan ended; safety plan held.")  # doctest: +SKIP
>>> import_framework_summaries(project, "corpus/framework_summaries.csv")                  # doctest: +SKIP
8
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from . import store
from .errors import InputError, NotFoundError
from .matrix_rows import row_labels
from .problems import closest
from .project import Project

SUMMARY_COLUMNS = ("case", "code", "text")  # required; ``author`` is optional



def framework_summaries(project: Project) -> pd.DataFrame:
    """Every framework-cell summary: id, row, case, document, code, text, author, updated_at.

    A summary sits on a case (a family) or, for a participant without a case, on one of
    their documents; ``row`` is the framework-matrix row it belongs to either way.
    """
    m, c, d, k = store.memos, store.cases, store.documents, store.codes
    query = (
        sa.select(m.c.id, c.c.name.label("case"), m.c.document_id, d.c.name.label("document"),
                  k.c.key.label("code"), m.c.text, m.c.author, m.c.updated_at)
        .select_from(m.join(k, m.c.code_id == k.c.id).outerjoin(c, m.c.case_id == c.c.id)
                     .outerjoin(d, m.c.document_id == d.c.id))
        .where(m.c.kind == "framework")
        .order_by(c.c.name.is_(None), c.c.name, m.c.document_id, k.c.id)  # cases first, then participants
    )
    with project.engine.connect() as conn:
        result = conn.execute(query)
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    documents = project.documents()
    by_document = dict(zip(documents["id"], row_labels(documents, "case"))) if not documents.empty else {}
    frame.insert(1, "row", [case if isinstance(case, str) else by_document.get(doc, document)
                            for case, doc, document in zip(frame["case"], frame["document_id"], frame["document"])])
    return frame.drop(columns=["document_id"])


def set_framework_summary(project: Project, case: str, code: str, text: str, author: str = "") -> int | None:
    """Write (or replace) the summary of one case × code cell; empty text removes it.

    ``case`` is a case's name, or a participant who has no case (a member of staff):
    their summary is kept on their first document, which sits in their row. Returns
    the memo id, or None when the summary was removed.

    >>> set_framework_summary(project, "Family A", "voice", "Child seen alone at every visit.")  # doctest: +SKIP
    >>> set_framework_summary(project, "SW01", "barrier", "Caseloads block direct work in both waves.")  # doctest: +SKIP
    """
    with project.transaction() as conn:
        case_id, document_id = _owner(conn, case)
        if case_id is None and document_id is None:
            raise NotFoundError(f"{project.location}: no case or participant {case!r}. Fix: use a case name from "
                                "project.cases() or a participant from project.documents(), or set `case` or "
                                "`participant` in the attributes at import.")
        code_id = conn.execute(sa.select(store.codes.c.id).where(store.codes.c.key == code)).scalar()
        if code_id is None:
            raise NotFoundError(f"{project.location}: no code {code!r}. Fix: use a code key from project.codes().")
        return _write(conn, case_id, document_id, code_id, text, author)


def import_framework_summaries(project: Project, path: str | Path, author: str = "") -> int:
    """Write every summary in a CSV (``case,code,text`` and optionally ``author``); returns how many.

    Every row is checked before anything is written: an unknown case or participant,
    an unknown code or an empty text is an ``InputError`` naming the file, the line and
    the fix, and the project is left as it was. A row for a cell that already has a
    summary replaces it.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(str(path), "no such file", "check the path")
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in SUMMARY_COLUMNS if c not in header]
        if missing:
            raise InputError(str(path), f"no column {missing[0]!r} (the header is: {', '.join(header) or 'empty'})",
                             "give the columns case,code,text and optionally author")
        rows = [(reader.line_num, {k.strip(): (v or "").strip() for k, v in row.items() if k}) for row in reader]
    with project.transaction() as conn:
        codes = dict(conn.execute(sa.select(store.codes.c.key, store.codes.c.id)).all())
        planned = []
        for line, row in rows:
            case_id, document_id = _owner(conn, row["case"])
            if case_id is None and document_id is None:
                raise InputError(str(path), f"no case or participant {row['case']!r} in the project",
                                 "use a case name from project.cases() or a participant's id", f"line {line}")
            if row["code"] not in codes:
                close = closest(row["code"], sorted(codes))
                raise InputError(str(path), f"no code {row['code']!r} in the project",
                                 (f"write '{close}' if that is the code meant, or " if close else "")
                                 + "use a code key from project.codes()", f"line {line}")
            if not row["text"]:
                raise InputError(str(path), "the summary text is empty", "write the summary, or leave the row out",
                                 f"line {line}")
            planned.append((case_id, document_id, codes[row["code"]], row["text"], row.get("author") or author))
        for case_id, document_id, code_id, text, writer in planned:
            _write(conn, case_id, document_id, code_id, text, writer)
    return len(planned)


def _owner(conn: sa.Connection, case: str) -> tuple[int | None, int | None]:
    """(case id, None) for a case; (None, first document id) for a participant without a case."""
    case_id = conn.execute(sa.select(store.cases.c.id).where(store.cases.c.name == case)).scalar()
    return (case_id, None) if case_id is not None else (None, _participant_document(conn, case))


def _write(conn: sa.Connection, case_id: int | None, document_id: int | None, code_id: int, text: str,
           author: str) -> int | None:
    m = store.memos
    owner = m.c.case_id == case_id if case_id is not None else m.c.document_id == document_id
    where = (m.c.kind == "framework", owner, m.c.code_id == code_id)
    existing = conn.execute(sa.select(m.c.id).where(*where)).scalar()
    if not text.strip():
        conn.execute(sa.delete(m).where(*where))
        return None
    stamp = store.now()
    if existing is not None:
        conn.execute(sa.update(m).where(m.c.id == existing).values(text=text, author=author, updated_at=stamp))
        return existing
    return conn.execute(
        sa.insert(m).values(kind="framework", case_id=case_id, document_id=document_id, code_id=code_id,
                            text=text, author=author, created_at=stamp, updated_at=stamp).returning(m.c.id)
    ).scalar_one()


def _participant_document(conn: sa.Connection, participant: str) -> int | None:
    """The first current document of a participant who has no case."""
    d, a = store.documents, store.document_attributes
    return conn.execute(
        sa.select(d.c.id).select_from(d.join(a, a.c.document_id == d.c.id))
        .where(a.c.key == "participant", a.c.value == participant, d.c.case_id.is_(None),
               d.c.superseded_by.is_(None))
        .order_by(d.c.id).limit(1)
    ).scalar()
