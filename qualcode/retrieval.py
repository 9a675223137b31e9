"""Retrieval: read back what was coded, as DataFrames a notebook or a widget lists.

``coded_segments`` gives every passage coded with a code (and, by default, its
descendants) with the sentences around it, the document, the speaker and the
document's role and wave, so a researcher reads a theme across interviews the way
NVivo's node view or MAXQDA's retrieved segments show it. ``coding_query`` asks the
classic questions of two codes: passages coded A *and* B (their overlap), A *not* B,
and A *within N words* of B. Both take attribute filters (``role="Social Worker"``,
``wave=["Wave 1", "Wave 2"]``) on the documents' (and their cases') attributes.

>>> coded_segments(project, "activity.group_supervision", role="Social Worker")   # doctest: +SKIP
>>> coding_query(project, "activity.caseloads", "barrier", how="near", within=20)  # doctest: +SKIP
"""

from __future__ import annotations

import numbers
import re
from typing import Iterable

import pandas as pd

from .errors import InputError, NotFoundError
from .problems import did_you_mean
from .project import Project
from .segments import segment_document

HOW = ("and", "not", "near")
SEGMENT_COLUMNS = ["coding_id", "document_id", "document", "case", "role", "wave", "speaker", "start", "end",
                   "code", "code_name", "coder", "status", "text", "before", "after"]
_WORDS = re.compile(r"\w+", re.UNICODE)


def descendants(project: Project, code: str) -> list[str]:
    """``code`` and every code below it in the hierarchy, in codebook order.

    Retired codes are included: their codings are still in the project.
    """
    codes = project.codes(include_retired=True)
    keys = list(codes["key"])
    if code not in keys:
        raise NotFoundError(f"{project.location}: no code {code!r}. Fix: {did_you_mean(code, keys)}")
    children: dict[str, list[str]] = {}
    for key, parent in zip(codes["key"], codes["parent_key"]):
        if isinstance(parent, str):
            children.setdefault(parent, []).append(key)
    found, todo = [], [code]
    while todo:
        key = todo.pop(0)
        if key not in found:
            found.append(key)
            todo += children.get(key, [])
    return [k for k in keys if k in found]


def _documents(project: Project, filters: dict[str, str | Iterable[str]]) -> pd.DataFrame:
    """Current documents with their attributes and their case's, narrowed by ``filters``."""
    docs = project.documents()
    cases = project.cases()
    if not cases.empty:
        extra = [c for c in cases.columns if c not in ("id", "name", "documents") and c not in docs.columns]
        if extra:
            docs = docs.merge(cases[["name", *extra]].rename(columns={"name": "case"}), on="case", how="left")
    for column in ("role", "wave", "case"):
        if column not in docs.columns:
            docs[column] = None
    for key, wanted in filters.items():
        if key not in docs.columns:
            known = [c for c in docs.columns if c not in ("id", "sha256", "source_file", "imported_at")]
            raise InputError(project.location, f"no attribute {key!r} to filter on",
                             f"filter on one of: {', '.join(sorted(map(str, known)))}")
        values = [wanted] if isinstance(wanted, str) or not isinstance(wanted, Iterable) else list(wanted)
        docs = docs[docs[key].astype(str).isin([str(v) for v in values])]
    return docs


def _speaker(turns: pd.DataFrame, start: int) -> str | None:
    hit = turns[(turns["start"] <= start) & (turns["end"] > start)]
    return None if hit.empty else str(hit["speaker"].iloc[0])


def _codings(project: Project, keys: list[str], status, coder, docs: pd.DataFrame) -> pd.DataFrame:
    frame = project.codings(status=status, coder=coder, code=keys)
    return frame[frame["document_id"].isin(docs["id"])].reset_index(drop=True)


def _dress(project: Project, frame: pd.DataFrame, docs: pd.DataFrame, context: int) -> pd.DataFrame:
    """Add document attributes, speaker, the coded text and ``context`` sentences each side."""
    rows = []
    info = docs.set_index("id")
    for doc_id, group in frame.groupby("document_id", sort=False):
        text = project.text(int(doc_id))
        turns = project.turns(int(doc_id))
        sentences = segment_document(text, turns, "sentence") if context else []
        for row in group.to_dict("records"):
            start, end = int(row["start"]), int(row["end"])
            lo, hi = start, end
            if context:
                before = [s for s in sentences if s.end <= start][-context:]
                after = [s for s in sentences if s.start >= end][:context]
                inside = [s for s in sentences if s.start < end and s.end > start]
                lo = min([start] + [s.start for s in before + inside])
                hi = max([end] + [s.end for s in after + inside])
            doc = info.loc[doc_id]
            rows.append({
                **row, "case": doc.get("case"), "role": doc.get("role"), "wave": doc.get("wave"),
                "speaker": _speaker(turns, start), "text": text[start:end],
                "before": text[lo:start], "after": text[end:hi],
            })
    return pd.DataFrame(rows)


def coded_segments(project: Project, code: str, include_descendants: bool = True,
                   status: str | Iterable[str] | None = "accepted", coder: str | None = None,
                   context: int = 1, **attributes) -> pd.DataFrame:
    """Every passage coded with ``code`` (and its descendants), in document order.

    Columns: coding_id, document_id, document, case, role, wave, speaker, start, end,
    code, code_name, coder, status, text (exactly the coded span), before and after
    (``context`` sentences each side). ``attributes`` filter the documents.
    """
    keys = descendants(project, code) if include_descendants else [code]
    if not include_descendants:
        descendants(project, code)  # checks the code exists
    docs = _documents(project, attributes)
    frame = _codings(project, keys, status, coder, docs)
    if frame.empty:
        return pd.DataFrame(columns=SEGMENT_COLUMNS)
    frame = frame.rename(columns={"id": "coding_id"})
    return _dress(project, frame, docs, context)[SEGMENT_COLUMNS]


def _gap_words(text: str, a: tuple[int, int], b: tuple[int, int]) -> int:
    """Words between two spans (0 when they touch or overlap)."""
    lo, hi = (a[1], b[0]) if a[1] <= b[0] else (b[1], a[0])
    return len(_WORDS.findall(text[lo:hi])) if lo < hi else 0


def coding_query(project: Project, a: str, b: str, how: str = "and", within: int = 10,
                 include_descendants: bool = True, status: str | Iterable[str] | None = "accepted",
                 coder: str | None = None, context: int = 0, **attributes) -> pd.DataFrame:
    """Passages by how codes ``a`` and ``b`` meet in the same document.

    - ``how="and"``: the text coded both A and B (each overlap once), with
      ``a_coding_id`` and ``b_coding_id``;
    - ``how="not"``: A's passages that no B coding touches;
    - ``how="near"``: A's passages with a B coding at most ``within`` words away
      (overlap counts as 0), with the nearest ``b_coding_id`` and ``gap_words``.

    Rows carry the columns of ``coded_segments``; ``code`` is A's.
    """
    if how not in HOW:
        raise InputError(project.location, f"coding query {how!r} is not one of {', '.join(HOW)}",
                         "use how='and', how='not' or how='near'")
    if how == "near" and (not isinstance(within, numbers.Integral) or within < 0):
        raise InputError(project.location, f"within={within!r} is not a number of words",
                         "give within=0 or more, e.g. within=20")
    a_keys = descendants(project, a) if include_descendants else [a]
    b_keys = descendants(project, b) if include_descendants else [b]
    docs = _documents(project, attributes)
    a_rows = _codings(project, a_keys, status, coder, docs)
    b_rows = _codings(project, b_keys, status, coder, docs)
    extra = {"and": ["a_coding_id", "b_coding_id"], "not": [], "near": ["b_coding_id", "gap_words"]}[how]
    columns = SEGMENT_COLUMNS + extra
    out = []
    for row in a_rows.to_dict("records"):
        others = b_rows[(b_rows["document_id"] == row["document_id"]) & (b_rows["id"] != row["id"])]
        span = (int(row["start"]), int(row["end"]))
        overlapping = others[(others["start"] < span[1]) & (others["end"] > span[0])]
        if how == "not":
            if overlapping.empty:
                out.append({**row, "coding_id": row["id"]})
        elif how == "and":
            for other in overlapping.to_dict("records"):
                start, end = max(span[0], int(other["start"])), min(span[1], int(other["end"]))
                out.append({**row, "coding_id": row["id"], "start": start, "end": end,
                            "a_coding_id": row["id"], "b_coding_id": other["id"]})
        elif not others.empty:
            text = project.text(int(row["document_id"]))
            gaps = [(_gap_words(text, span, (int(o["start"]), int(o["end"]))), int(o["id"]))
                    for o in others.to_dict("records")]
            gap, other_id = min(gaps)
            if gap <= within:
                out.append({**row, "coding_id": row["id"], "b_coding_id": other_id, "gap_words": gap})
    if not out:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(out)
    if how == "and":
        frame = frame.drop_duplicates(["document_id", "start", "end"]).reset_index(drop=True)
    return _dress(project, frame, docs, context)[columns]
