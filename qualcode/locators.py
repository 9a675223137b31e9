"""Where a coded passage sits, as a reader finds it: document display name and turn or paragraph.

A framework-matrix cell points to its evidence the way an evaluator cites it
("W1 SW01 social worker t12, t15; Case notes N003"), never by character offsets: a
transcript's passage is cited by its speaker turn (``t`` and the turn's number, the
interviewer's turns counted too, so the number is the one a reader counts in the
transcript), any other document by its paragraph (``¶``), and a document of one
paragraph (a case note, a survey comment) by its name alone.

>>> document_label("W1_SW01_social_worker.txt"), document_label("case_notes.csv#N003")
('W1 SW01 social worker', 'Case notes N003')
>>> paragraph_starts("First paragraph.\\n\\nSecond one.\\n")
[0, 18]
>>> reference_list([("Case notes N001", ""), ("W1 SW01", "t12"), ("W1 SW01", "t3"), ("W1 SW01", "t12")], limit=5)
'Case notes N001; W1 SW01 t3, t12'
>>> reference_list([("Doc A", "t1"), ("Doc A", "t2"), ("Doc B", "¶4")], limit=2)
'Doc A t1; Doc B ¶4 (+1)'
"""

from __future__ import annotations

import re
from bisect import bisect_right
from pathlib import PurePosixPath
from typing import Iterable

import numpy as np
import pandas as pd
import sqlalchemy as sa

from . import store
from .project import Project

_EXTENSION = re.compile(r"^\.[A-Za-z0-9]{1,5}$")
_BLANK_LINE = re.compile(r"\n[ \t\r]*\n\s*")


def document_label(name: str) -> str:
    """A document's name as a reader sees it: no extension, no underscores; a table row's id kept.

    Rows imported from a table are named ``file.csv#ID``; they read as ``File ID``.

    >>> document_label("FAM01_w1.txt"), document_label("staff_survey_comments.csv#W1-002")
    ('FAM01 w1', 'Staff survey comments W1-002')
    """
    base, item = document_parts(name)
    return f"{base} {item}" if item else base


def document_parts(name: str) -> tuple[str, str]:
    """``(file label, row id)``: a table row's file and its id, so that references to several
    rows of one file read "Case notes N001, N004"; a plain document has no row id.

    >>> document_parts("case_notes.csv#N001"), document_parts("W1_KW01_key_worker.docx")
    (('Case notes', 'N001'), ('W1 KW01 key worker', ''))
    """
    base, _, item = str(name).partition("#")
    path = PurePosixPath(base)
    stem = path.stem if _EXTENSION.match(path.suffix or "") else path.name
    words = " ".join(stem.replace("_", " ").split()) or str(name)
    if words.islower():
        words = words[:1].upper() + words[1:]
    return words, item.strip()


def document_labels(names: Iterable[str]) -> dict[str, str]:
    """Display labels for many documents, unique: where two names read the same, the name itself is kept.

    >>> document_labels(["a_b.txt", "a_b.docx", "c.txt"])
    {'a_b.txt': 'a_b.txt', 'a_b.docx': 'a_b.docx', 'c.txt': 'C'}
    """
    names = list(dict.fromkeys(str(n) for n in names))
    labels = {name: document_label(name) for name in names}
    counts = pd.Series(list(labels.values()), dtype=object).value_counts() if labels else {}
    return {name: (label if counts[label] == 1 else name) for name, label in labels.items()}


def paragraph_starts(text: str) -> list[int]:
    """Where each paragraph starts: paragraphs are split by blank lines, or by line breaks
    in a text that has no blank line at all (one paragraph per line)."""
    splitter = _BLANK_LINE if _BLANK_LINE.search(text) else re.compile(r"\n\s*")
    starts = [0] + [m.end() for m in splitter.finditer(text) if m.end() < len(text)]
    return starts


def locators(project: Project, codings: pd.DataFrame) -> pd.Series:
    """The turn (``t7``) or paragraph (``¶3``) each coding starts in; empty for a one-paragraph document.

    ``codings`` needs ``document_id`` and ``start``. Turns come from the store; the
    paragraphs of documents without turns are read from their text, only for the
    documents asked about.
    """
    if codings.empty:
        return pd.Series([], index=codings.index, dtype=object)
    doc_ids = codings["document_id"].to_numpy(dtype=np.int64)
    starts = codings["start"].to_numpy(dtype=np.int64)
    turn_docs, turn_starts, turn_seqs = _turns(project, sorted(set(doc_ids.tolist())))
    out = np.full(len(codings), "", dtype=object)
    # Turns: one sorted search over (document, start) keys for every coding at once.
    has_turns = np.isin(doc_ids, turn_docs)
    if has_turns.any():
        span = int(max(starts.max(), turn_starts.max() if len(turn_starts) else 0)) + 1
        keys = turn_docs * span + turn_starts
        where = np.searchsorted(keys, doc_ids[has_turns] * span + starts[has_turns], side="right") - 1
        first = np.searchsorted(turn_docs, doc_ids[has_turns], side="left")  # a header line: the first turn
        where = np.maximum(where, first)
        out[has_turns] = [f"t{n + 1}" for n in turn_seqs[where].tolist()]
    # Paragraphs, for documents without turns: read their text, only theirs.
    others = sorted(set(doc_ids[~has_turns].tolist()))
    paragraphs = _paragraphs(project, others)
    for i in np.flatnonzero(~has_turns).tolist():
        bounds = paragraphs.get(int(doc_ids[i]), [0])
        out[i] = f"¶{bisect_right(bounds, int(starts[i]))}" if len(bounds) > 1 else ""
    return pd.Series(out, index=codings.index, dtype=object)


def _turns(project: Project, doc_ids: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Turns of ``doc_ids`` as arrays (document, start, seq), sorted by document and start."""
    t = store.turns
    rows: list[tuple[int, int, int]] = []
    with project.engine.connect() as conn:
        for first in range(0, len(doc_ids), 500):  # bounded IN lists
            rows += map(tuple, conn.execute(sa.select(t.c.document_id, t.c.start, t.c.seq)
                                            .where(t.c.document_id.in_(doc_ids[first:first + 500]))))
    table = np.array(rows, dtype=np.int64).reshape(-1, 3)
    table = table[np.lexsort((table[:, 1], table[:, 0]))]
    return table[:, 0], table[:, 1], table[:, 2]


def _paragraphs(project: Project, doc_ids: list[int]) -> dict[int, list[int]]:
    return {doc_id: paragraph_starts(text) for doc_id, text in project.iter_texts(doc_ids)} if doc_ids else {}


def reference_list(references: Iterable[tuple[str, str]], limit: int = 6) -> str:
    """``(document label, locator)`` pairs as one short line: each document once, its
    distinct locators in reading order; past ``limit`` locators, a count of the rest.

    The ``limit`` places are shared out over the documents in turn, so a participant
    seen in two waves is cited in both. Documents keep the order they are given in
    (callers sort them); a document of one paragraph has the empty locator and is cited
    by name.

    >>> reference_list([("W1", "t1"), ("W1", "t2"), ("W1", "t3"), ("W2", "t9")], limit=3)
    'W1 t1, t2; W2 t9 (+1)'
    """
    by_document: dict[str, list[str]] = {}
    for label, locator in references:
        places = by_document.setdefault(label, [])
        if locator not in places:
            places.append(locator)
    ordered = {label: sorted(places, key=_locator_order) for label, places in by_document.items()}
    share = dict.fromkeys(ordered, 0)
    room = limit
    while room > 0 and any(share[label] < len(places) for label, places in ordered.items()):
        for label, places in ordered.items():
            if room and share[label] < len(places):
                share[label] += 1
                room -= 1
    parts, hidden = [], 0
    for label, places in ordered.items():
        kept = places[:share[label]]
        hidden += len(places) - len(kept)
        if not kept:
            continue
        named = ", ".join(p for p in kept if p)
        parts.append(f"{label} {named}" if named else label)
    text = "; ".join(parts)
    return f"{text} (+{hidden})" if hidden else text


def _locator_order(locator: str) -> tuple[str, int]:
    digits = locator[1:]
    return (locator[:1], int(digits)) if digits.isdigit() else (locator, 0)
