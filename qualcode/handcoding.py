"""Hand coding: what a researcher does with a passage they have selected.

Code a selection at its exact character offsets (optionally snapped out to whole
words), uncode it, change its code, move its start or end, code it *in vivo* (a new
code named from the selected words, placed under a parent) and undo any of these.
Every action runs in one transaction, checks everything before writing, and leaves
events in ``coding_events`` with a batch id, so ``undo(project, batch)`` reverts it
through the same audited path review uses (``review.undo``).

>>> result = code_selection(project, "W1_SW01_social_worker.txt", 120, 188,
...                         "activity.group_supervision", by="sam")    # doctest: +SKIP
>>> adjust(project, result.ids[0], end=201, by="sam")                    # doctest: +SKIP
>>> undo(project, result.batch, by="sam")                               # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import sqlalchemy as sa

from . import colours, review, store
from .errors import InputError, NotFoundError
from .problems import did_you_mean
from .project import NewCoding, Project

_WORD = re.compile(r"\w", re.UNICODE)
IN_VIVO_PREFIX = "invivo."


@dataclass
class HandResult:
    """What one hand-coding action did, and the batch that undoes it."""

    action: str
    batch: str
    by: str
    ids: list[int] = field(default_factory=list)  # codings made or changed
    start: int | None = None
    end: int | None = None
    code: str | None = None  # the code used (the new one, for in vivo)

    def to_dict(self) -> dict:
        return {"action": self.action, "batch": self.batch, "by": self.by, "ids": self.ids,
                "start": self.start, "end": self.end, "code": self.code}


@dataclass(frozen=True)
class Selection:
    """A checked selection: a non-empty span of one document's text."""

    document_id: int
    start: int
    end: int
    text: str


def snap_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen ``[start, end)`` to whole words and drop the spaces at its edges.

    >>> text = "We bring cases to group supervision weekly."
    >>> s, e = snap_to_words(text, 20, 30); text[s:e]
    'group supervision'
    >>> s, e = snap_to_words(text, 10, 16); text[s:e]
    'cases to'
    """
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        while start > 0 and _WORD.match(text[start - 1]) and _WORD.match(text[start]):
            start -= 1
        while end < len(text) and _WORD.match(text[end]) and _WORD.match(text[end - 1]):
            end += 1
    return start, end


def check_selection(project: Project, document: int | str, start: int, end: int, snap: bool = False,
                    end_document: int | str | None = None) -> Selection:
    """The selection as stored offsets, or a clear error: across documents, empty, outside the text.

    ``end_document`` is the document the selection ends in, when the browser saw one
    (a selection dragged from one document into another cannot be one coding).
    """
    doc_id = project.document_id(document)
    if end_document is not None and project.document_id(end_document) != doc_id:
        raise InputError(project.location,
                         f"the selection runs from document {document!r} into document {end_document!r}",
                         "select text inside one document; code each document's part separately")
    text = project.text(doc_id)
    try:
        start, end = int(start), int(end)
    except (TypeError, ValueError):
        raise InputError(project.location, f"selection offsets {start!r}, {end!r} are not numbers",
                         "give character offsets such as start=120, end=188") from None
    if start > end:
        start, end = end, start  # a selection made right to left
    if not 0 <= start <= end <= len(text):
        raise InputError(project.location,
                         f"the selection [{start}, {end}) is outside the document (length {len(text)})",
                         "give 0 <= start < end <= the document's length")
    if snap:
        start, end = snap_to_words(text, start, end)
    if start == end or not text[start:end].strip():
        raise InputError(project.location, "the selection is empty",
                         "select at least one word of the document before coding")
    return Selection(doc_id, start, end, text[start:end])


def _active_code(conn: sa.Connection, project: Project, key: str) -> int:
    cd = store.codes
    row = conn.execute(sa.select(cd.c.id, cd.c.status, cd.c.name).where(cd.c.key == key)).first()
    if row is None:
        keys = [k for (k,) in conn.execute(sa.select(cd.c.key).where(cd.c.status == "active"))]
        raise NotFoundError(f"{project.location}: no code {key!r}. Fix: {did_you_mean(key, keys)}")
    if row.status != "active":
        raise InputError(project.location, f"code {key!r} ({row.name}) is retired",
                         "code with one of the codebook's current codes, or load a codebook version "
                         "that still has it")
    return row.id


def _batch_creates(conn: sa.Connection, ids: list[int], batch: str) -> None:
    """Mark the create events of ``ids`` as one undoable batch (as ``review.recode`` does)."""
    ev = store.coding_events
    conn.execute(sa.update(ev).where(ev.c.coding_id.in_(ids), ev.c.action == "create", ev.c.batch.is_(None))
                 .values(batch=batch))


def _duplicate(conn: sa.Connection, project: Project, sel: Selection, code_id: int, coder: str) -> None:
    k, co = store.codings, store.coders
    same = conn.execute(
        sa.select(k.c.id).select_from(k.join(co, k.c.coder_id == co.c.id))
        .where(k.c.document_id == sel.document_id, k.c.start == sel.start, k.c.end == sel.end,
               k.c.code_id == code_id, co.c.name == coder, k.c.status != "rejected")
    ).first()
    if same is not None:
        raise InputError(project.location, f"{coder} already coded this passage with this code (coding {same[0]})",
                         "choose another code, or adjust the existing coding")


def code_selection(project: Project, document: int | str, start: int, end: int, code: str,
                   by: str | None = None, snap: bool = False, end_document: int | str | None = None,
                   status: str = "accepted") -> HandResult:
    """Code ``[start, end)`` of ``document`` with ``code``, by ``by``, as an accepted coding.

    The stored offsets are exactly those given (after snapping, when asked). Refused,
    with nothing written: a selection across documents, an empty selection, a retired
    or unknown code, a passage this coder already coded with this code.
    """
    actor = review._actor(by, project)
    sel = check_selection(project, document, start, end, snap, end_document)
    batch = review._new_batch("code")
    with project.transaction() as conn:
        code_id = _active_code(conn, project, code)
        _duplicate(conn, project, sel, code_id, actor)
        ids = project.insert_codings(conn, [NewCoding(sel.document_id, sel.start, sel.end, code, actor,
                                                      status=status, method="manual")], actor=actor)
        _batch_creates(conn, ids, batch)
    return HandResult("code", batch, actor, ids, sel.start, sel.end, code)


def _slug(text: str) -> str:
    words = re.findall(r"\w+", text.lower())[:6]
    return "_".join(words) or "code"


def code_in_vivo(project: Project, document: int | str, start: int, end: int, parent: str | None = None,
                 by: str | None = None, snap: bool = True, end_document: int | str | None = None) -> HandResult:
    """Make a new code named from the selected words (under ``parent``) and code the selection with it.

    The code's key is ``invivo.<words>`` (numbered if taken), its name the selected
    words (up to 80 characters), its colour a shade of the parent's. Code and coding
    are written in one transaction; undo removes the coding, the code stays.
    """
    actor = review._actor(by, project)
    sel = check_selection(project, document, start, end, snap, end_document)
    name = " ".join(sel.text.split())
    name = name if len(name) <= 80 else name[:79].rstrip() + "…"
    cd = store.codes
    batch = review._new_batch("invivo")
    with project.transaction() as conn:
        if parent is not None:
            _active_code(conn, project, parent)
        taken = {k for (k,) in conn.execute(sa.select(cd.c.key))}
        key, n = IN_VIVO_PREFIX + _slug(sel.text), 2
        base = key
        while key in taken:
            key, n = f"{base}_{n}", n + 1
        stamp = store.now()
        conn.execute(sa.insert(cd).values(key=key, name=name, parent_key=parent, definition=f"In vivo: “{name}”",
                                          kind="topic", codebook=None, status="active", created_at=stamp,
                                          updated_at=stamp))
        colours.assign_missing(conn)
        ids = project.insert_codings(conn, [NewCoding(sel.document_id, sel.start, sel.end, key, actor,
                                                      method="manual", provenance={"in_vivo": True})], actor=actor)
        _batch_creates(conn, ids, batch)
    return HandResult("invivo", batch, actor, ids, sel.start, sel.end, key)


def _rows(conn: sa.Connection, project: Project, ids: list[int]) -> list[dict]:
    k = store.codings
    rows = [dict(r._mapping) for r in conn.execute(sa.select(k).where(k.c.id.in_(ids)).order_by(k.c.id))]
    missing = sorted(set(ids) - {r["id"] for r in rows})
    if missing:
        raise NotFoundError(f"{project.location}: no coding {', '.join(map(str, missing))} (deleted, or never "
                            "made). Fix: take ids from project.codings(); nothing was changed.")
    return rows


def uncode(project: Project, ids: list[int] | int, by: str | None = None) -> HandResult:
    """Remove codings (a 'delete' event keeps the whole row, so ``undo`` puts it back).

    Memos on a removed coding go with it.
    """
    actor = review._actor(by, project)
    ids = [ids] if isinstance(ids, int) else sorted({int(i) for i in ids})
    if not ids:
        raise InputError(project.location, "no codings to uncode", "give the ids of the codings to remove")
    batch = review._new_batch("uncode")
    k = store.codings
    with project.transaction() as conn:
        rows = _rows(conn, project, ids)
        stamp = store.now()
        conn.execute(sa.insert(store.coding_events), [
            {"coding_id": r["id"], "action": "delete", "actor": actor, "at": stamp, "batch": batch,
             "before": json.dumps(r, sort_keys=True), "after": None} for r in rows])
        conn.execute(sa.delete(k).where(k.c.id.in_(ids)))
    return HandResult("uncode", batch, actor, ids)


def adjust(project: Project, coding_id: int, start: int | None = None, end: int | None = None,
           by: str | None = None, snap: bool = False) -> HandResult:
    """Move a coding's start and/or end (its code, coder and status stay), with an 'update' event."""
    actor = review._actor(by, project)
    batch = review._new_batch("adjust")
    k = store.codings
    with project.transaction() as conn:
        (row,) = _rows(conn, project, [int(coding_id)])
        new_start = row["start"] if start is None else start
        new_end = row["end"] if end is None else end
        sel = check_selection(project, row["document_id"], new_start, new_end, snap)
        if (sel.start, sel.end) == (row["start"], row["end"]):
            raise InputError(project.location, f"coding {coding_id} already spans [{sel.start}, {sel.end})",
                             "give a new start or end")
        k_ = store.codings
        twin = conn.execute(sa.select(k_.c.id).where(
            k_.c.id != row["id"], k_.c.document_id == row["document_id"], k_.c.start == sel.start,
            k_.c.end == sel.end, k_.c.code_id == row["code_id"], k_.c.coder_id == row["coder_id"],
            k_.c.method == row["method"], k_.c.status != "rejected")).first()
        if twin is not None:
            raise InputError(project.location, f"coding {twin[0]} already covers [{sel.start}, {sel.end}) with the "
                             "same code by the same coder", "decide that coding instead, or move this one elsewhere")
        stamp = store.now()
        after = {**row, "start": sel.start, "end": sel.end, "snippet": sel.text[:200], "updated_at": stamp}
        conn.execute(sa.update(k).where(k.c.id == row["id"]).values(
            start=sel.start, end=sel.end, snippet=sel.text[:200], updated_at=stamp))
        conn.execute(sa.insert(store.coding_events).values(
            coding_id=row["id"], action="update", actor=actor, at=stamp, batch=batch,
            before=json.dumps(row, sort_keys=True), after=json.dumps(after, sort_keys=True)))
    return HandResult("adjust", batch, actor, [row["id"]], sel.start, sel.end)


def recode(project: Project, ids: list[int] | int, to_code: str, by: str | None = None) -> HandResult:
    """Give codings another code: ``review.recode`` (the original is rejected, a new
    accepted coding of ``to_code`` covers the span); a retired code is refused."""
    ids = [ids] if isinstance(ids, int) else list(ids)
    with project.engine.connect() as conn:
        _active_code(conn, project, to_code)
    result = review.recode(project, ids, to_code, by=by)
    if result.batch is None:
        raise InputError(project.location, f"coding(s) {', '.join(map(str, ids))} already have code {to_code!r}",
                         "choose another code")
    return HandResult("recode", result.batch, result.by, result.created, code=to_code)


def undo(project: Project, batch: str, by: str | None = None) -> review.ReviewResult:
    """Undo one hand-coding or review action by its batch (``review.undo``)."""
    return review.undo(project, batch=batch, by=by)
