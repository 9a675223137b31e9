"""Review: the researcher accepts, rejects or recodes what the methods suggested.

Suggestions are codings with status ``suggested``. Every decision here, single or in
bulk, runs in one transaction and writes one ``coding_events`` row per coding changed
(action, actor, time, the row before and after, and a batch id shared by the whole
action), so any decision can be undone and a team can see who decided what.

>>> accept(project, code="feature.group_case_discussion", min_confidence=0.8, by="alex")  # doctest: +SKIP
ReviewResult(action='accept', changed=12, ...)
>>> undo(project, batch=result.batch, by="alex")                                       # doctest: +SKIP

Recoding is recorded as two facts rather than one edit: the original coding is
*rejected* (its method was wrong about the code) and a new *accepted* coding of the new
code, by the reviewer, covers the same span. So a method's precision stays honest and
the human coding is attributed to the human who made it.
"""

from __future__ import annotations

import getpass
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterable

import pandas as pd
import sqlalchemy as sa

from . import store
from .errors import InputError, NotFoundError
from .problems import closest
from .project import NewCoding, Project

# Fields of a coding the audit trail records (the same keys a 'create' event holds).
_ROW_FIELDS = ("document_id", "code_id", "coder_id", "start", "end", "status", "confidence", "method",
               "provenance", "explanation", "codebook_version", "direction", "snippet")
# Events that a reviewer's undo can revert; 'create' only when it belongs to a batch
# (the new coding of a recode, or one coded by hand in ``handcoding``), never a coding
# added by an import. 'update' (a span moved) and 'delete' (uncoded) come from ``handcoding``.
_UNDOABLE = ("accept", "reject", "recode", "create", "update", "delete")


@dataclass
class ReviewResult:
    """What one review action did: how many codings changed, and the batch to undo it."""

    action: str
    batch: str | None
    by: str
    changed: int
    unchanged: int = 0
    ids: list[int] = field(default_factory=list)
    by_code: dict[str, int] = field(default_factory=dict)
    created: list[int] = field(default_factory=list)  # new codings (recode)

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "batch": self.batch, "by": self.by, "changed": self.changed,
                "unchanged": self.unchanged, "ids": self.ids, "by_code": self.by_code,
                "created": self.created}


# -- selecting ------------------------------------------------------------------------


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = closest(word, choices, cutoff=0.5)
    return f" (did you mean {close!r}?)" if close else ""


def _listing(values: Iterable[str], limit: int = 12) -> str:
    values = sorted(set(values))
    shown = ", ".join(values[:limit])
    return shown + (f", … ({len(values)} in all)" if len(values) > limit else "") if values else "(none)"


def _check_filters(conn: sa.Connection, project: Project, code: str | None, method: str | None,
                   coder: str | None, min_confidence: float | None) -> None:
    """Refuse filters that name nothing in the project, naming what would work."""
    if code is not None:
        keys = [k for (k,) in conn.execute(sa.select(store.codes.c.key))]
        if code not in keys:
            raise NotFoundError(
                f"{project.location}: no code {code!r}{_did_you_mean(code, keys)}. "
                f"Fix: use one of the project's codes: {_listing(keys)}."
            )
    if method is not None:
        methods = [m for (m,) in conn.execute(sa.select(store.codings.c.method).distinct())]
        if method not in methods:
            raise NotFoundError(
                f"{project.location}: no codings made by method {method!r}{_did_you_mean(method, methods)}. "
                f"Fix: use one of the methods in the project: {_listing(methods)}."
            )
    if coder is not None:
        names = [n for (n,) in conn.execute(sa.select(store.coders.c.name))]
        if coder not in names:
            raise NotFoundError(
                f"{project.location}: no coder {coder!r}{_did_you_mean(coder, names)}. "
                f"Fix: use one of the project's coders: {_listing(names)}."
            )
    if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
        raise InputError(project.location, f"--min-confidence {min_confidence} is outside 0..1",
                         "give a confidence between 0 and 1, e.g. 0.8")


def _coding_query(ids: list[int] | None, code: str | None, method: str | None, coder: str | None,
                  min_confidence: float | None) -> sa.Select:
    k, cd, co = store.codings, store.codes, store.coders
    query = (
        sa.select(k, cd.c.key.label("code_key"))
        .select_from(k.join(cd, k.c.code_id == cd.c.id).join(co, k.c.coder_id == co.c.id))
        .order_by(k.c.id)
    )
    if ids is not None:
        query = query.where(k.c.id.in_(ids))
    else:
        query = query.where(k.c.status == "suggested")  # bulk actions decide suggestions only
    if code is not None:
        query = query.where(cd.c.key == code)
    if method is not None:
        query = query.where(k.c.method == method)
    if coder is not None:
        query = query.where(co.c.name == coder)
    if min_confidence is not None:
        query = query.where(k.c.confidence >= min_confidence)
    return query


def _describe(ids, code, method, coder, min_confidence) -> str:
    parts = []
    if ids is not None:
        parts.append(f"ids {','.join(map(str, ids))}")
    if code is not None:
        parts.append(f"code {code!r}")
    if method is not None:
        parts.append(f"method {method!r}")
    if coder is not None:
        parts.append(f"coder {coder!r}")
    if min_confidence is not None:
        parts.append(f"confidence >= {min_confidence}")
    return " and ".join(parts) if parts else "no filter"


def _select(conn: sa.Connection, project: Project, ids, code, method, coder, min_confidence) -> list[dict]:
    """The codings a review action applies to; an empty selection is an error, not a no-op."""
    _check_filters(conn, project, code, method, coder, min_confidence)
    ids = None if ids is None else sorted({int(i) for i in ids})
    if ids is not None and not ids:
        raise InputError(project.location, "no coding ids given", "give ids like --ids 1,2,3")
    if ids is not None:
        found = {i for (i,) in conn.execute(sa.select(store.codings.c.id).where(store.codings.c.id.in_(ids)))}
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFoundError(
                f"{project.location}: no coding with id {', '.join(map(str, missing))}. "
                f"Fix: `qualcode codings export {project.location} OUT.csv` lists codings with their ids."
            )
    query = _coding_query(ids, code, method, coder, min_confidence)
    if conn.dialect.name == "postgresql":
        # Two reviewers deciding the same coding at once: the second waits for the first
        # and sees its decision, so the trail records both in order and one outcome stands.
        query = query.with_for_update(of=store.codings)
    rows = [dict(r._mapping) for r in conn.execute(query)]
    if not rows:
        pending = conn.execute(
            sa.select(sa.func.count()).where(store.codings.c.status == "suggested")
        ).scalar_one()
        raise NotFoundError(
            f"{project.location}: nothing to review: no {'codings' if ids else 'suggested codings'} match "
            f"{_describe(ids, code, method, coder, min_confidence)} ({pending} suggestion(s) pending in all). "
            "Fix: loosen the filters; `qualcode review PROJECT.qc methods` shows what is pending."
        )
    return rows


# -- writing --------------------------------------------------------------------------


def _new_batch(action: str) -> str:
    return f"{action}-{store.now().replace(':', '')[:17]}-{uuid.uuid4().hex[:8]}"


def _row_json(row: dict) -> str:
    return json.dumps({k: row[k] for k in _ROW_FIELDS}, sort_keys=True)


def _actor(by: str | None, project: Project | None = None) -> str:
    """Who decided: the name given, else the team member's database login (PostgreSQL),
    else the login of whoever runs qualcode."""
    if by:
        return by
    if project is not None and (member := project.team_user()):
        return member
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers): still record something true
        return "unknown"


def _set_status(conn: sa.Connection, rows: list[dict], status: str, action: str, actor: str,
                batch: str, stamp: str) -> None:
    """Give ``rows`` a new status, each with its audit event, in the caller's transaction."""
    k = store.codings
    conn.execute(
        sa.update(k).where(k.c.id == sa.bindparam("b_id")).values(status=status, updated_at=stamp),
        [{"b_id": r["id"]} for r in rows],
    )
    conn.execute(sa.insert(store.coding_events), [
        {"coding_id": r["id"], "action": action, "actor": actor, "at": stamp, "batch": batch,
         "before": _row_json(r), "after": _row_json({**r, "status": status})}
        for r in rows
    ])


def _decide(project: Project, status: str, action: str, ids, code, method, min_confidence, coder,
            by) -> ReviewResult:
    actor = _actor(by, project)
    with project.transaction() as conn:
        rows = _select(conn, project, ids, code, method, coder, min_confidence)
        todo = [r for r in rows if r["status"] != status]
        batch = _new_batch(action) if todo else None
        if todo:
            _set_status(conn, todo, status, action, actor, batch, store.now())
    by_code: dict[str, int] = {}
    for r in todo:
        by_code[r["code_key"]] = by_code.get(r["code_key"], 0) + 1
    return ReviewResult(action, batch, actor, len(todo), len(rows) - len(todo),
                        [r["id"] for r in todo], by_code)


def accept(project: Project, ids: Iterable[int] | None = None, code: str | None = None,
           method: str | None = None, min_confidence: float | None = None, coder: str | None = None,
           by: str | None = None) -> ReviewResult:
    """Accept codings: the given ``ids`` (any status), or every suggestion matching the filters.

    >>> accept(project, method="rule", code="voice_of_child", min_confidence=0.9, by="sam")  # doctest: +SKIP
    """
    return _decide(project, "accepted", "accept", ids, code, method, min_confidence, coder, by)


def reject(project: Project, ids: Iterable[int] | None = None, code: str | None = None,
           method: str | None = None, min_confidence: float | None = None, coder: str | None = None,
           by: str | None = None) -> ReviewResult:
    """Reject codings: the given ``ids`` (any status), or every suggestion matching the filters."""
    return _decide(project, "rejected", "reject", ids, code, method, min_confidence, coder, by)


def recode(project: Project, ids: Iterable[int], to_code: str, by: str | None = None) -> ReviewResult:
    """Change the code of codings ``ids`` to ``to_code``.

    Each original is rejected and a new accepted coding of ``to_code`` by ``by`` covers
    the same span (provenance ``recoded_from``); both events share one batch, so ``undo``
    reverts the pair. Codings already of ``to_code`` are left as they are.
    """
    actor = _actor(by, project)
    if ids is None:
        raise InputError(project.location, "recode needs the codings to change", "give --ids 1,2,3")
    with project.transaction() as conn:
        keys = project.code_ids(conn)
        if to_code not in keys:
            raise NotFoundError(
                f"{project.location}: no code {to_code!r}{_did_you_mean(to_code, keys)}. "
                f"Fix: recode to one of the project's codes: {_listing(keys)}."
            )
        rows = _select(conn, project, ids, None, None, None, None)
        todo = [r for r in rows if r["code_key"] != to_code]
        batch = _new_batch("recode") if todo else None
        created: list[int] = []
        if todo:
            stamp = store.now()
            _set_status(conn, todo, "rejected", "recode", actor, batch, stamp)
            created = project.insert_codings(conn, [
                NewCoding(r["document_id"], r["start"], r["end"], to_code, coder=actor, status="accepted",
                          method="manual", direction=r["direction"], codebook_version=r["codebook_version"],
                          provenance={"recoded_from": r["id"], "from_code": r["code_key"], "from_method": r["method"]})
                for r in todo
            ], actor=actor)
            ev = store.coding_events
            conn.execute(sa.update(ev).where(ev.c.coding_id.in_(created), ev.c.action == "create",
                                             ev.c.batch.is_(None)).values(batch=batch))
    by_code: dict[str, int] = {}
    for r in todo:
        by_code[r["code_key"]] = by_code.get(r["code_key"], 0) + 1
    return ReviewResult("recode", batch, actor, len(todo), len(rows) - len(todo),
                        [r["id"] for r in todo], by_code, created)


# -- undo -----------------------------------------------------------------------------


def _open_decisions(conn: sa.Connection, coding_ids: Iterable[int]) -> dict[int, list[dict]]:
    """Per coding, its review events not yet undone, oldest first (a stack: undo pops)."""
    ev = store.coding_events
    stacks: dict[int, list[dict]] = {}
    ids = sorted(set(coding_ids))
    for chunk in (ids[i:i + 900] for i in range(0, len(ids), 900)):
        query = sa.select(ev).where(ev.c.coding_id.in_(chunk), ev.c.batch.is_not(None)).order_by(ev.c.id)
        for e in conn.execute(query):
            e = dict(e._mapping)
            stack = stacks.setdefault(e["coding_id"], [])
            if e["action"] == "undo":
                if stack:
                    stack.pop()
            elif e["action"] in _UNDOABLE:
                stack.append(e)
    return stacks


def _recoded_from(conn: sa.Connection, coding_ids: Iterable[int]) -> dict[int, int | None]:
    """For codings a recode made: the id of the original each replaced (from its provenance)."""
    k = store.codings
    rows = conn.execute(sa.select(k.c.id, k.c.provenance).where(k.c.id.in_(list(coding_ids))))
    return {coding_id: json.loads(provenance or "{}").get("recoded_from") for coding_id, provenance in rows}


def _partners(conn: sa.Connection, events: list[dict]) -> set[int]:
    """The other half of each recode among ``events``: its original or its new coding."""
    recodes = [e for e in events if e["action"] in ("recode", "create")]
    if not recodes:
        return set()
    ev = store.coding_events
    creates = [dict(e._mapping) for e in conn.execute(sa.select(ev).where(
        ev.c.batch.in_({e["batch"] for e in recodes}), ev.c.action == "create"))]
    originals = {e["coding_id"] for e in recodes if e["action"] == "recode"}
    made = [e["coding_id"] for e in recodes if e["action"] == "create"]
    origin = _recoded_from(conn, [c["coding_id"] for c in creates] + made)
    partners = {c["coding_id"] for c in creates if origin.get(c["coding_id"]) in originals}
    partners |= {origin.get(coding_id) for coding_id in made} - {None}
    return partners


def undo(project: Project, batch: str | None = None, ids: Iterable[int] | None = None,
         by: str | None = None) -> ReviewResult:
    """Revert a review batch, or the latest decision on codings ``ids``, to the state before it.

    Each reverted coding gets an 'undo' event; a coding a recode created is deleted again
    (undoing either half of a recode undoes both). A batch whose codings were decided
    again later must wait until those later decisions are undone.
    """
    if (batch is None) == (ids is None):
        raise InputError(project.location, "undo needs exactly one of a batch or coding ids",
                         "give --batch BATCH (printed by every review action) or --ids 1,2,3")
    actor = _actor(by, project)
    ev = store.coding_events
    with project.transaction() as conn:
        if batch is not None:
            in_batch = [dict(e._mapping) for e in conn.execute(
                sa.select(ev).where(ev.c.batch == batch, ev.c.action != "undo").order_by(ev.c.id))]
            if not in_batch:
                recent = [b for (b,) in conn.execute(
                    sa.select(ev.c.batch).where(ev.c.batch.is_not(None), ev.c.action != "undo")
                    .group_by(ev.c.batch).order_by(sa.func.max(ev.c.id).desc()).limit(5))]
                raise NotFoundError(
                    f"{project.location}: no review batch {batch!r}. Fix: use a batch printed by a "
                    f"review action; the latest are: {', '.join(recent) or '(none)'}."
                )
            stacks = _open_decisions(conn, [e["coding_id"] for e in in_batch])
            targets = [e for e in in_batch if any(s["id"] == e["id"] for s in stacks.get(e["coding_id"], []))]
            if not targets:
                raise InputError(project.location, f"batch {batch!r} was already undone",
                                 "nothing to do; `qualcode codings export` shows the current state")
            later = sorted({e["coding_id"] for e in targets if stacks[e["coding_id"]][-1]["id"] != e["id"]})
            if later:
                raise InputError(
                    project.location,
                    f"codings {', '.join(map(str, later))} of batch {batch!r} were decided again later",
                    "undo the later decisions first (undo --ids those codings)",
                )
        else:
            wanted = sorted({int(i) for i in ids})
            stacks = _open_decisions(conn, wanted)
            first = [stacks[i][-1] for i in wanted if stacks.get(i)]
            wanted = sorted(set(wanted) | _partners(conn, first))
            stacks = _open_decisions(conn, wanted)
            nothing = [i for i in wanted if not stacks.get(i)]
            if nothing:
                raise InputError(project.location,
                                 f"coding(s) {', '.join(map(str, nothing))} have no review decision to undo",
                                 "give ids of codings that were accepted, rejected or recoded")
            targets = [stacks[i][-1] for i in wanted]
        undo_batch = _new_batch("undo")
        reverted = _revert(conn, project, targets, actor, undo_batch)
    return ReviewResult("undo", undo_batch, actor, len(targets), 0, sorted(reverted),
                        {})


def _revert(conn: sa.Connection, project: Project, events: list[dict], actor: str, batch: str) -> list[int]:
    k = store.codings
    stamp = store.now()
    ids = [e["coding_id"] for e in events]
    current = {r.id: dict(r._mapping) for r in conn.execute(sa.select(k).where(k.c.id.in_(ids)))}
    drifted = []
    for e in events:
        row = current.get(e["coding_id"])
        after = json.loads(e["after"]) if e["after"] else None
        if e["action"] == "delete":
            changed = row is not None  # put back only what is still gone
        elif e["action"] == "update":
            changed = row is None or (row["start"], row["end"]) != (after["start"], after["end"])
        else:
            changed = (row is None or after is None
                       or (row["status"], row["code_id"]) != (after["status"], after["code_id"]))
        if changed:
            drifted.append(e["coding_id"])
    if drifted:
        raise InputError(project.location,
                         f"coding(s) {', '.join(map(str, drifted))} changed outside review since that decision",
                         "review them again instead of undoing")
    log = []
    for e in events:
        before = json.loads(e["before"]) if e["before"] else None
        if e["action"] == "delete":  # uncoded by hand: the event kept the whole row
            conn.execute(sa.insert(k).values(**before))
            log.append({"coding_id": before["id"], "action": "undo", "actor": actor, "at": stamp, "batch": batch,
                        "before": None, "after": _row_json(before)})
            continue
        row = current[e["coding_id"]]
        if e["action"] == "update":  # a span moved by hand: move it back
            conn.execute(sa.update(k).where(k.c.id == row["id"]).values(
                start=before["start"], end=before["end"], snippet=before["snippet"], updated_at=stamp))
            log.append({"coding_id": row["id"], "action": "undo", "actor": actor, "at": stamp, "batch": batch,
                        "before": _row_json(row), "after": _row_json({**row, **{f: before[f] for f in
                                                                               ("start", "end", "snippet")}})})
            continue
        if before is None:  # a coding a recode (or hand coding) created: remove it again
            conn.execute(sa.delete(k).where(k.c.id == row["id"]))
            restored = None
        else:
            conn.execute(sa.update(k).where(k.c.id == row["id"]).values(
                status=before["status"], code_id=before["code_id"], updated_at=stamp))
            restored = _row_json({**row, "status": before["status"], "code_id": before["code_id"]})
        log.append({"coding_id": row["id"], "action": "undo", "actor": actor, "at": stamp, "batch": batch,
                    "before": _row_json(row), "after": restored})
    conn.execute(sa.insert(store.coding_events), log)
    return ids


# -- how far to trust each method -----------------------------------------------------


def method_agreement(project: Project, by_code: bool = True) -> pd.DataFrame:
    """Per method (and code): suggestions accepted, rejected, recoded, still pending, and
    precision = accepted / (accepted + rejected), so a team can see which rules to trust.

    Covers codings made by method coders (rules, the learned suggester, imported tools
    registered as methods). ``recoded`` counts rejections where the reviewer gave the
    span another code instead (included in ``rejected``).

    >>> method_agreement(project)   # doctest: +SKIP
      method           code  suggested  accepted  rejected  recoded  pending  precision
        rule  voice_of_child        40        30         6        1        4      0.833
    """
    k, cd, co = store.codings, store.codes, store.coders
    query = (
        sa.select(k.c.id, k.c.method, cd.c.key.label("code"), k.c.status)
        .select_from(k.join(cd, k.c.code_id == cd.c.id).join(co, k.c.coder_id == co.c.id))
        .where(co.c.kind == "method")
    )
    frame = project._frame(query)
    columns = ["method"] + (["code"] if by_code else []) + [
        "suggested", "accepted", "rejected", "recoded", "pending", "precision"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    recoded = _recoded_ids(project)
    frame["accepted"] = frame["status"].eq("accepted")
    frame["rejected"] = frame["status"].eq("rejected")
    frame["pending"] = frame["status"].eq("suggested")
    frame["recoded"] = frame["id"].isin(recoded) & frame["rejected"]
    keys = ["method"] + (["code"] if by_code else [])
    table = frame.groupby(keys, sort=True).agg(
        suggested=("id", "size"), accepted=("accepted", "sum"), rejected=("rejected", "sum"),
        recoded=("recoded", "sum"), pending=("pending", "sum"),
    ).reset_index()
    decided = table["accepted"] + table["rejected"]
    table["precision"] = (table["accepted"] / decided.where(decided > 0)).round(3)
    for column in ("suggested", "accepted", "rejected", "recoded", "pending"):
        table[column] = table[column].astype(int)
    return table[columns]


def _recoded_ids(project: Project) -> set[int]:
    """Codings whose open review decision is a recode (a later undo cancels it)."""
    ev = store.coding_events
    with project.engine.connect() as conn:
        ids = [i for (i,) in conn.execute(sa.select(ev.c.coding_id).where(ev.c.action == "recode").distinct())]
        stacks = _open_decisions(conn, ids)
    return {i for i, stack in stacks.items() if stack and stack[-1]["action"] == "recode"}
