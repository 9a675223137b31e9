"""Applying reviewed detections: replace text, move codings and turns, scrub every copy."""

from __future__ import annotations

import getpass
import json
import re
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Sequence

import sqlalchemy as sa

from .. import store
from ..errors import InputError, ValidationProblems
from ..progress import counted, step
from ..problems import Problem
from ..project import Project
from .detection import _resolve_overlaps
from .key import Key, normalise
from .labels import assign_labels
from .offsets import OffsetMap, Replacement, replace_text
from .patterns import NOT_CHECKED
from .record import ACTION, _record, status
from .records import Detection, PseudonymiseReport
from .review import read_detections
from .scrub import _occurrences, _originals_pattern, _scrub, _scrub_json, _searchable
from .sqlite_file import scrubbing_transaction

def _actor(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers: still record something true
        return "unknown"










def apply(
    project: Project,
    detections: str | Path | Sequence[Detection],
    key: str | Path,
    by: str | None = None,
) -> PseudonymiseReport:
    """Replace the confirmed identifiers in one transaction and write the key file.

    Codings, turns and snippets move with the text; each moved coding gets a
    ``pseudonymise`` event. The key (label, type, original) goes to ``key``, which must
    lie outside the project; the project records only labels and counts.
    """
    key_path = Path(key)
    _check_key_path(project, key_path)
    rows = read_detections(detections) if isinstance(detections, (str, Path)) else list(detections)
    the_key = Key.read(key_path)
    _check_key_covers_project(project, the_key, key_path)
    actor, stamp = _actor(by), store.now()
    batch = f"{ACTION}-{stamp.replace(':', '')[:17]}-{uuid.uuid4().hex[:8]}"
    rejected = sum(r.decision == "reject" for r in rows)
    with scrubbing_transaction(project) as conn:  # committed or killed, no page keeps an original
        step("reading the documents")
        texts = _texts(conn)
        spans = _confirmed_spans(project, rows, texts)
        mapping = assign_labels(spans, the_key, {})
        _check_labels_agree_with_key(project, spans, the_key, key_path)
        for r in spans:
            the_key.add(r.text, r.label, r.type)
        for r in rows:  # speaker names and added words with no span still belong in the key
            if r.decision != "reject" and r.start is None:
                label = r.label or mapping.get(normalise(r.text)) or the_key.label_for(r.text)
                if label is None:
                    label = the_key.next_label(r.type)
                the_key.add(r.text, label, r.type)
        report = _rewrite(conn, texts, spans, the_key, actor, stamp, batch)
        report.rejected, report.key_file = rejected, str(key_path)
        step("checking no original is left")
        report.residual = _residual(conn, the_key)
        _record(conn, report, spans, the_key, stamp)
        the_key.write(key_path)  # before commit: a failed write leaves the project as it was
        step("committing (old pages overwritten)")
    if "://" in project.location:
        report.warnings.append("the project is not a SQLite file: the server's own logs and backups may keep "
                               "old text")
    if "://" not in project.location and key_path.resolve().parent == Path(project.location).resolve().parent:
        report.warnings.append(f"the key {key_path.name} is in the project's folder: move it to separate, "
                               "access-controlled storage before sharing the project")
    report.not_checked = list(NOT_CHECKED)
    return report


def _check_key_path(project: Project, key_path: Path) -> None:
    if "://" not in project.location and key_path.resolve() == Path(project.location).resolve():
        raise InputError(key_path, "the key file cannot be the project itself",
                         "give a separate CSV file, e.g. KEY.csv, stored away from the project")
    if key_path.suffix.lower() != ".csv":
        raise InputError(key_path, "the key file must be a .csv file", "name it e.g. KEY.csv")


def _check_key_covers_project(project: Project, key: Key, key_path: Path) -> None:
    recorded = set(status(project)["label"])
    missing = sorted(recorded - set(key.types))
    if missing:
        raise InputError(
            key_path,
            f"the project already uses labels ({', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}) "
            "that this key file does not hold",
            "give the key file an earlier run wrote, so the same people keep the same labels",
        )


def _check_labels_agree_with_key(project: Project, spans: list[Detection], key: Key, key_path: Path) -> None:
    clashes = sorted({(r.text, key.label_for(r.text), r.label) for r in spans
                      if key.label_for(r.text) not in (None, r.label)})
    if clashes:
        raise ValidationProblems(project.location, [
            Problem(str(key_path), None, f"{text!r} is {old} in the key but {new} in the detections",
                    f"write {old} in the detections' label column (or edit the key on purpose)")
            for text, old, new in clashes])


def _texts(conn: sa.Connection) -> dict[int, str]:
    d = store.documents
    return dict(conn.execute(sa.select(d.c.id, d.c.text)).all())


def _confirmed_spans(project: Project, rows: list[Detection], texts: dict[int, str]) -> list[Detection]:
    """Confirmed rows checked against the text, plus every occurrence of added words."""
    problems, spans = [], []
    for n, r in enumerate(rows, start=1):
        if r.decision == "reject":
            continue
        if r.start is None or r.end is None:
            targets = [r.document_id] if r.document_id is not None else sorted(texts)
            if r.document_id is not None and r.document_id not in texts:
                problems.append(Problem(project.location, None, f"row {n}: no document with id {r.document_id}",
                                        "use an id from `qualcode documents`"))
                continue
            for doc_id in targets:
                for s, e in _occurrences(texts[doc_id], r.text):
                    # "occurrence": below every detection, so "Natalie Pryce" is not cut to "Natalie"
                    spans.append(Detection(doc_id, r.document, s, e, texts[doc_id][s:e], r.type, "occurrence",
                                           r.label))
            continue
        text = texts.get(r.document_id)
        if text is None or text[r.start:r.end] != r.text:
            found = text[r.start:r.end] if text is not None else None
            problems.append(Problem(
                project.location, None,
                f"row {n} ({r.document or r.document_id} [{r.start}, {r.end})): expected {r.text!r}, "
                f"the document holds {found!r}",
                "run detect again: the document changed after the detections were written"))
            continue
        spans.append(r)
    if problems:
        raise ValidationProblems(project.location, problems)
    return _resolve_overlaps(spans)


def _rewrite(conn: sa.Connection, texts: dict[int, str], spans: list[Detection], key: Key, actor: str,
             stamp: str, batch: str) -> PseudonymiseReport:
    by_doc: dict[int, list[Detection]] = defaultdict(list)
    for r in spans:
        by_doc[r.document_id].append(r)
    labels = {norm: label for norm, label in key.by_original.items()}
    pattern = _originals_pattern(key.originals.values())
    moved_codings = moved_turns = 0
    for doc_id, doc_spans in counted(by_doc.items(), "replacing in documents, moving codings", len(by_doc)):
        reps = [Replacement(r.start, r.end, labels[normalise(r.text)]) for r in doc_spans]
        new_text = replace_text(texts[doc_id], reps)
        offsets = OffsetMap(reps)
        conn.execute(sa.update(store.documents).where(store.documents.c.id == doc_id).values(text=new_text))
        moved_turns += _move_turns(conn, doc_id, offsets)
        moved_codings += _move_codings(conn, doc_id, offsets, new_text, pattern, labels, actor, stamp, batch)
    step("replacing in names, attributes and memos")
    other = _scrub_other_fields(conn, pattern, labels)
    replaced = Counter(r.type for r in spans)
    per_label = Counter(labels[normalise(r.text)] for r in spans)
    return PseudonymiseReport(batch, actor, len(by_doc), dict(replaced.most_common()), dict(per_label),
                              moved_codings, moved_turns, other, 0, "")


def _move_turns(conn: sa.Connection, doc_id: int, offsets: OffsetMap) -> int:
    t = store.turns
    rows = conn.execute(sa.select(t.c.id, t.c.start, t.c.end).where(t.c.document_id == doc_id)).all()
    changes = [{"b_id": i, "b_start": offsets.start(s), "b_end": offsets.end(e)} for i, s, e in rows]
    changes = [c for c, (_, s, e) in zip(changes, rows) if (c["b_start"], c["b_end"]) != (s, e)]
    if changes:
        conn.execute(sa.update(t).where(t.c.id == sa.bindparam("b_id"))
                     .values(start=sa.bindparam("b_start"), end=sa.bindparam("b_end")), changes)
    return len(changes)


_EVENT_FIELDS = ("document_id", "code_id", "coder_id", "start", "end", "status", "confidence", "method",
                 "provenance", "explanation", "codebook_version", "direction", "snippet")


def _move_codings(conn: sa.Connection, doc_id: int, offsets: OffsetMap, new_text: str,
                  pattern: re.Pattern | None, labels: dict[str, str], actor: str, stamp: str, batch: str) -> int:
    k = store.codings
    rows = [dict(r._mapping) for r in conn.execute(sa.select(k).where(k.c.document_id == doc_id))]
    updates, events = [], []
    for row in rows:
        start, end = offsets.start(row["start"]), offsets.end(row["end"])
        snippet = new_text[start:end][:200]
        if (start, end, snippet) == (row["start"], row["end"], row["snippet"]):
            continue
        before = {f: row[f] for f in _EVENT_FIELDS}
        before["snippet"] = _scrub(row["snippet"], pattern, labels)  # the event must not keep the original
        before["explanation"] = _scrub(row["explanation"], pattern, labels)
        after = {**before, "start": start, "end": end, "snippet": snippet}
        updates.append({"b_id": row["id"], "b_start": start, "b_end": end, "b_snippet": snippet,
                        "b_explanation": after["explanation"]})
        events.append({"coding_id": row["id"], "action": ACTION, "actor": actor, "at": stamp, "batch": batch,
                       "before": json.dumps(before, sort_keys=True), "after": json.dumps(after, sort_keys=True)})
    if updates:
        conn.execute(sa.update(k).where(k.c.id == sa.bindparam("b_id")).values(
            start=sa.bindparam("b_start"), end=sa.bindparam("b_end"), snippet=sa.bindparam("b_snippet"),
            explanation=sa.bindparam("b_explanation"), updated_at=stamp), updates)
        conn.execute(sa.insert(store.coding_events), events)
    return len(updates)


# Free-text columns outside documents.text where an identifier can sit: every original
# in them is replaced by its label wherever it stands (names in file names included).
SCRUBBED = (("turns", "speaker"), ("document_attributes", "value"), ("case_attributes", "value"),
            ("memos", "text"), ("coding_events", "before"), ("coding_events", "after"),
            ("codings", "explanation"), ("cases", "name"), ("documents", "name"), ("documents", "source_file"),
            ("survey_responses", "respondent"), ("survey_responses", "response"))
# Rewritten through the replacement offsets rather than by pattern.
REWRITTEN = {"documents.text": "replaced at each confirmed span; codings and turns move with it",
             "codings.snippet": "re-cut from the new text (_move_codings)"}
# Text columns that hold no participant data, and why. A test fails when the schema gets a
# text column that is in none of SCRUBBED, REWRITTEN or KEPT: decide, then list it.
KEPT = {
    **{f"{t}.{c}": "a timestamp" for t, c in (
        ("cases", "created_at"), ("codebooks", "loaded_at"), ("codes", "created_at"), ("codes", "updated_at"),
        ("coding_events", "at"), ("migrations", "applied_at"), ("documents", "imported_at"),
        ("codings", "created_at"), ("codings", "updated_at"), ("memos", "created_at"), ("memos", "updated_at"))},
    **{f"codebooks.{c}": "the team's codebook as loaded, not participants' words" for c in ("name", "version", "source")},
    **{f"codes.{c}": "the team's codebook" for c in (
        "key", "name", "parent_key", "definition", "colour", "kind", "outcomes", "direction", "codebook",
        "codebook_version", "status")},
    "coders.name": "the research team's coders and methods", "coders.kind": "human or method",
    "coding_events.action": "a verb", "coding_events.actor": "the team member's login",
    "coding_events.batch": "a run id",
    "meta.key": "a setting's name", "meta.value": "settings and the labels record (never originals)",
    "migrations.name": "a schema step",
    "case_attributes.key": "an attribute's name (a column of the attributes sheet)",
    "document_attributes.key": "an attribute's name (a column of the attributes sheet)",
    "documents.format": "a file format", "documents.sha256": "the original file's hash (re-import check)",
    "documents.encoding": "a character encoding", "documents.source_type": "a source type",
    **{f"codings.{c}": "how a coding was made" for c in (
        "status", "method", "provenance", "codebook_version", "direction")},
    "memos.kind": "what a memo is about", "memos.author": "the team member who wrote it",
    **{f"indicator_values.{c}": "management information: indicator series" for c in (
        "indicator", "period", "unit", "source_file", "imported_at")},
    **{f"survey_items.{c}": "the questionnaire" for c in ("survey", "item", "question", "outcome")},
    **{f"survey_responses.{c}": "the survey's own columns" for c in ("survey", "wave", "item", "imported_at")},
}
# Columns whose values must stay distinct: a clash after replacing gets the row id added.
_UNIQUE = {("cases", "name")}


def _scrub_other_fields(conn: sa.Connection, pattern: re.Pattern | None, labels: dict[str, str]) -> dict[str, int]:
    changed: dict[str, int] = {}
    if pattern is None:
        return changed
    for table_name, column in SCRUBBED:
        table = store.metadata.tables[table_name]
        pk = list(table.primary_key.columns)
        rows = conn.execute(sa.select(*pk, table.c[column]).where(table.c[column].is_not(None))).all()
        updates = []
        for row in rows:
            old = row[-1]
            scrub = _scrub_json if table_name == "coding_events" else _scrub
            if table_name == "documents" and pattern.search(old.replace("_", " ")):
                old_readable = old.replace("_", " ")  # a name in "Kelly_Marsh_interview.txt"
                new = scrub(old_readable, pattern, labels)
            else:
                new = scrub(old, pattern, labels) if pattern.search(_searchable(old)) else old
            if new != old:
                updates.append({**{f"b_{c.name}": v for c, v in zip(pk, row[:-1])}, "b_value": new})
        if (table_name, column) in _UNIQUE:
            _keep_distinct(updates, {r[-1] for r in rows} - {u["b_value"] for u in updates})
        if updates:
            where = sa.and_(*[c == sa.bindparam(f"b_{c.name}") for c in pk])
            conn.execute(sa.update(table).where(where).values({column: sa.bindparam("b_value")}), updates)
            changed[f"{table_name}.{column}"] = len(updates)
    return changed


def _keep_distinct(updates: list[dict[str, Any]], taken: set[str]) -> None:
    """"Kerry" and "KERRY" as case names both become "[Parent 1]": the second gets its id."""
    seen = set(taken)
    for u in updates:
        if u["b_value"] in seen:
            u["b_value"] = f"{u['b_value']} (case {u['b_id']})"
        seen.add(u["b_value"])


def _residual(conn: sa.Connection, key: Key) -> dict[str, int]:
    """Rows of any text column in the project that still hold an original from the key."""
    pattern = _originals_pattern(key.originals.values())
    found: dict[str, int] = {}
    if pattern is None:
        return found
    for table in store.metadata.sorted_tables:
        if not sa.inspect(conn).has_table(table.name):
            continue
        for column in table.columns:
            if not isinstance(column.type, (sa.String, sa.Text)) or column.name in ("sha256",):
                continue
            n = sum(1 for (v,) in conn.execute(sa.select(column).where(column.is_not(None)))
                    if isinstance(v, str) and pattern.search(_searchable(v)))
            if n:
                found[f"{table.name}.{column.name}"] = n
    return found


