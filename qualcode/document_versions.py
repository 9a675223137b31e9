"""Writing one whole document, as a new version with its speaker turns.

Project importers (REFI-QDA, Taguette) bring documents one at a time inside their own
transaction; they share this so a re-import versions a document the way ``corpus`` does:
the new row supersedes the current one, which keeps its codings.
"""

from __future__ import annotations

import hashlib
from typing import Iterable

import sqlalchemy as sa

from . import store
from .turns import detect_turns


def insert_document_version(conn: sa.Connection, *, name: str, text: str, previous: sa.Row | None,
                            source_file: str, format: str, encoding: str | None, source_type: str,
                            interviewer_names: Iterable[str] = ()) -> tuple[int, int]:
    """Insert ``text`` as the next version of document ``name``; return its id and turn count.

    ``previous`` is the current version's row (with ``id`` and ``version``) or None. The
    text's speaker turns are detected and stored with it.
    """
    d = store.documents
    doc_id = conn.execute(sa.insert(d).values(
        name=name, version=(previous.version + 1) if previous else 1, source_file=source_file,
        format=format, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), encoding=encoding,
        source_type=source_type, text=text, words=len(text.split()), imported_at=store.now(),
    ).returning(d.c.id)).scalar_one()
    if previous is not None:
        conn.execute(sa.update(d).where(d.c.id == previous.id).values(superseded_by=doc_id))
    found = detect_turns(text, interviewer_names)
    if found:
        conn.execute(sa.insert(store.turns), [
            {"document_id": doc_id, "seq": i, "start": t.start, "end": t.end, "speaker": t.speaker,
             "is_interviewer": bool(t.is_interviewer), "time_start": t.time_start, "time_end": t.time_end}
            for i, t in enumerate(found)])
    return doc_id, len(found)
