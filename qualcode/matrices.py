"""Theme matrices computed from the store: framework matrix, crosstabs, co-occurrence, frequencies.

Every function reads the project's codings and documents and returns a pandas
DataFrame; nothing is cached. Codes can be rolled up to a level of the codebook
hierarchy (level 1 = top-level themes), so a matrix can be drawn at theme or sub-theme
grain. Framework-cell summaries (the researcher's own words for a case × theme cell)
are stored as memos of kind ``"framework"`` and edited with ``set_framework_summary``.

>>> crosstab(project, by="role", count="documents", level=1)        # doctest: +SKIP
>>> set_framework_summary(project, "Family A", "voice", "Child's view recorded at each visit.")  # doctest: +SKIP
>>> framework_matrix(project, rows="case", level=1)                 # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd
import sqlalchemy as sa

from . import store
from .errors import InputError, NotFoundError
from .project import Project

MISSING = "(not recorded)"  # row label for documents without the attribute asked for
TOTAL = "Total"
ROW_CHOICES = ("case", "document")  # besides any document attribute or column
COUNTS = ("segments", "documents", "participants")


@dataclass(frozen=True)
class Filters:
    """Which codings a matrix counts; shown on the 'About' sheet of an export."""

    status: str | None = "accepted"
    coder: str | None = None
    level: int | None = None

    def describe(self) -> dict[str, str]:
        return {
            "status": self.status or "any",
            "coder": self.coder or "any",
            "code level": f"level {self.level} of the codebook hierarchy" if self.level else "every code as coded",
        }


# -- the code hierarchy -------------------------------------------------------


def code_depths(codes: pd.DataFrame) -> dict[str, int]:
    """Depth of each code key in the hierarchy: top-level codes are 1.

    A parent key that names no code (a codebook loaded in part) ends the climb, and a
    cycle is cut rather than looped over.
    """
    parents = dict(zip(codes["key"], codes["parent_key"]))
    depths: dict[str, int] = {}
    for key in parents:
        depth, seen, node = 1, {key}, parents.get(key)
        while isinstance(node, str) and node in parents and node not in seen:
            seen.add(node)
            depth += 1
            node = parents.get(node)
        depths[key] = depth
    return depths


def theme_of(codes: pd.DataFrame, level: int | None) -> dict[str, str]:
    """Map each code key to the key of its ancestor at ``level`` (itself if shallower).

    >>> theme_of(codes, 1)["voice.recorded"]     # doctest: +SKIP
    'voice'
    """
    keys = list(codes["key"])
    if level is None:
        return {k: k for k in keys}
    if level < 1:
        raise InputError("--level", f"level {level} is below 1", "give 1 for top-level themes, 2 for sub-themes …")
    parents = dict(zip(codes["key"], codes["parent_key"]))
    chain_cache: dict[str, list[str]] = {}
    out = {}
    for key in keys:
        chain, node = [key], parents.get(key)
        while isinstance(node, str) and node in parents and node not in chain:
            chain.append(node)
            node = parents.get(node)
        chain.reverse()  # root first
        chain_cache[key] = chain
        out[key] = chain[min(level, len(chain)) - 1]
    return out


def theme_codes(project: Project, level: int | None, coded: Iterable[str] = ()) -> pd.DataFrame:
    """The codes that are columns at ``level``: key, name, definition, in codebook order.

    A code is a column if it sits at ``level``, or sits above it and is either a leaf
    or carries codings of its own (``coded``): no coding silently drops out of a matrix.
    """
    codes = project.codes(include_retired=True)
    if codes.empty:
        return codes.assign(label=pd.Series(dtype=str), depth=pd.Series(dtype=int))
    labels = dict(zip(codes["key"], _labels(codes)))
    coded = set(coded)
    codes = codes[(codes["status"] == "active") | codes["key"].isin(coded)]
    depths = code_depths(codes)
    codes = codes.assign(depth=codes["key"].map(depths))
    if level is not None:
        has_children = set(codes["parent_key"].dropna())
        above = (codes["depth"] < level) & (~codes["key"].isin(has_children) | codes["key"].isin(coded))
        codes = codes[(codes["depth"] == level) | above]
    return codes.assign(label=codes["key"].map(labels)).reset_index(drop=True)


def _labels(codes: pd.DataFrame) -> list[str]:
    """Code names as column labels, with the key added where two codes share a name."""
    counts = codes["name"].value_counts()
    return [n if counts[n] == 1 else f"{n} ({k})" for k, n in zip(codes["key"], codes["name"])]


# -- the coded segments every matrix starts from ----------------------------------


def coded_segments(project: Project, filters: Filters = Filters(), codings: pd.DataFrame | None = None) -> pd.DataFrame:
    """Codings of current documents joined to document attributes, with their theme.

    Columns: the coding's own (id, document_id, start, end, code, snippet …), the
    document's (document, source_type, case, and each attribute such as role, wave),
    ``theme`` (the code rolled up to ``filters.level``), ``theme_label`` and
    ``participant`` (the ``participant`` attribute, else the case, else the document).
    ``codings``: ``project.codings`` already read with these filters (a report reads them once).
    """
    if codings is None:
        codings = project.codings(status=filters.status, coder=filters.coder)
    codings = codings.drop(columns=["provenance", "explanation", "created_at", "updated_at"])
    documents = project.documents().drop(columns=["sha256", "source_file", "imported_at", "encoding", "format"])
    documents = documents.rename(columns={"id": "document_id", "name": "document_name"})
    segments = codings.merge(documents, on="document_id", how="inner")  # superseded versions drop out
    all_codes = project.codes(include_retired=True)
    mapping = theme_of(all_codes, filters.level)
    segments["theme"] = segments["code"].map(mapping)
    labels = dict(zip(all_codes["key"], _labels(all_codes)))
    segments["theme_label"] = segments["theme"].map(labels)
    participant = segments["participant"] if "participant" in segments else pd.Series(None, index=segments.index)
    segments["participant"] = (participant.where(participant.notna() & (participant != ""), segments["case"])
                               .fillna(segments["document_name"]))
    return segments


def row_key(segments: pd.DataFrame, documents: pd.DataFrame, rows: str) -> tuple[pd.Series, pd.Series]:
    """The row label of each segment and of each document for ``rows`` (case, document, attribute)."""
    column = {"case": "case", "document": "name"}.get(rows, rows)
    if column not in documents.columns:
        known = sorted(set(documents.columns) - {"id", "sha256", "source_file", "imported_at", "encoding",
                                                  "words", "turns", "version", "format", "name"})
        raise InputError("--rows", f"no document attribute or column {rows!r} in the project",
                         f"use case, document or one of: {', '.join(known) or '(no attributes yet)'}")
    seg_column = "document_name" if column == "name" else column
    return segments[seg_column].fillna(MISSING).astype(str), documents[column].fillna(MISSING).astype(str)


# -- frequencies, crosstabs, co-occurrence --------------------------------------


def code_frequencies(project: Project, filters: Filters = Filters(), *,
                     segments: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per code (or theme): segments, documents and participants behind it.

    Codes with no codings are kept with zeros: a gap in the data is a finding too.
    ``segments`` reuses a ``coded_segments(project, filters)`` frame already read.
    """
    segments = coded_segments(project, filters) if segments is None else segments
    themes = theme_codes(project, filters.level, segments["theme"])
    grouped = segments.groupby("theme")
    counts = pd.DataFrame({
        "segments": grouped.size(),
        "documents": grouped["document_id"].nunique(),
        "participants": grouped["participant"].nunique(),
    }) if not segments.empty else pd.DataFrame(columns=list(COUNTS))
    frame = themes[["key", "label", "parent_key"]].rename(columns={"key": "code", "label": "name", "parent_key": "parent"})
    frame = frame.merge(counts, left_on="code", right_index=True, how="left")
    for column in COUNTS:
        frame[column] = frame[column].fillna(0).astype(int)
    return frame.reset_index(drop=True)


def crosstab(project: Project, by: str = "role", count: str = "segments",
             filters: Filters = Filters(), *, segments: pd.DataFrame | None = None) -> pd.DataFrame:
    """Codes (or themes) by a document attribute, with row and column totals.

    ``count`` is ``segments`` (codings), ``documents`` or ``participants``. Totals of
    documents and participants count distinct ones, so a document carrying two themes
    is one document in the total, not two. Counted with one group-by each for the
    body and the totals (no pass per cell).

    >>> crosstab(project, by="wave", count="documents", filters=Filters(level=1))  # doctest: +SKIP
    """
    if count not in COUNTS:
        raise InputError("count", f"unknown count {count!r}", f"use one of: {', '.join(COUNTS)}")
    segments = coded_segments(project, filters) if segments is None else segments
    themes = theme_codes(project, filters.level, segments["theme"])
    documents = project.documents()
    seg_rows, doc_rows = row_key(segments, documents, by)
    columns = sorted(set(doc_rows), key=_natural)
    keys = list(themes["key"])
    shown = segments.assign(_by=seg_rows)
    shown = shown[shown["theme"].isin(set(keys))]
    counted = {"segments": "id", "documents": "document_id", "participants": "participant"}[count]

    def measure(by: list[str]) -> pd.Series | int:
        if not by:
            return int(len(shown)) if count == "segments" else int(shown[counted].nunique())
        grouped = shown.groupby(by, sort=False)
        return grouped.size() if count == "segments" else grouped[counted].nunique()

    body = measure(["theme", "_by"])
    cells = (body.unstack("_by") if len(body) else pd.DataFrame(index=pd.Index([], name="theme")))
    cells = cells.reindex(index=keys, columns=columns).fillna(0).astype(int)
    table = pd.DataFrame({"code": keys, "name": list(themes["label"])})
    table = pd.concat([table, cells.reset_index(drop=True)], axis=1)
    table[TOTAL] = measure(["theme"]).reindex(keys).fillna(0).astype(int).to_numpy() if len(shown) else 0
    total = {"code": TOTAL, "name": ""}
    per_column = measure(["_by"]) if len(shown) else pd.Series(dtype=int)
    total.update({value: int(per_column.get(value, 0)) for value in columns})
    total[TOTAL] = measure([])
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    return table[["code", "name", *columns, TOTAL]]


def cooccurrence(project: Project, filters: Filters = Filters(), unit: str = "overlap", *,
                 segments: pd.DataFrame | None = None) -> pd.DataFrame:
    """A symmetric code × code table of co-occurrence.

    ``unit="overlap"``: the number of pairs of codings of two different codes whose
    spans overlap in one document (a segment coded with both is one pair). The diagonal
    holds each code's own number of codings. ``unit="document"``: the number of
    documents coded with both (diagonal: documents coded with the code).

    Both are matrix products: with ``T`` the codings × codes indicator matrix and ``O``
    the codings × codings overlap matrix of one document, ``Tᵀ O T`` counts the
    overlapping pairs of every two codes; with ``D`` the documents × codes indicator,
    ``Dᵀ D`` counts documents.
    """
    if unit not in ("overlap", "document"):
        raise InputError("unit", f"unknown unit {unit!r}", "use overlap or document")
    segments = coded_segments(project, filters) if segments is None else segments
    themes = theme_codes(project, filters.level, segments["theme"])
    keys = list(themes["key"])
    index = {k: i for i, k in enumerate(keys)}
    segments = segments[segments["theme"].isin(index)]
    theme_index = segments["theme"].map(index).to_numpy(dtype=np.int64)
    if unit == "document":
        documents, doc_index = np.unique(segments["document_id"].to_numpy(), return_inverse=True)
        present = np.zeros((len(documents), len(keys)))
        present[doc_index, theme_index] = 1.0
        table = present.T @ present
    else:
        table = overlap_counts(segments["document_id"].to_numpy(), segments["start"].to_numpy(),
                               segments["end"].to_numpy(), theme_index, len(keys))
        np.fill_diagonal(table, np.bincount(theme_index, minlength=len(keys)))
    labels = list(themes["label"])
    return pd.DataFrame(table.astype(int), index=pd.Index(labels, name="code"), columns=labels)


def overlap_counts(documents: np.ndarray, starts: np.ndarray, ends: np.ndarray, codes: np.ndarray,
                   n_codes: int) -> np.ndarray:
    """Per pair of codes, how many pairs of codings (one of each) overlap in a document.

    Sorted by document and start, the codings overlapping coding ``i`` from the right
    are the run ``i+1 … hi-1`` where ``hi`` is the first start at or past ``i``'s end
    (one ``searchsorted``); the pairs are laid out with ``repeat`` and counted with
    ``bincount``. Linear in codings plus pairs, without a loop in Python.

    >>> overlap_counts(np.array([1, 1, 1]), np.array([0, 5, 20]), np.array([10, 15, 30]), np.array([0, 1, 1]), 2)
    array([[0, 1],
           [1, 0]])
    """
    if not len(starts):
        return np.zeros((n_codes, n_codes), dtype=np.int64)
    _, doc_rank = np.unique(documents, return_inverse=True)
    stride = int(max(starts.max(), ends.max())) + 1  # one document's positions never reach the next's
    position = doc_rank.astype(np.int64) * stride
    order = np.argsort(position + starts, kind="stable")
    begin = (position + starts)[order]
    finish = (position + ends)[order]
    codes = codes[order]
    first = np.arange(len(begin))
    last = np.searchsorted(begin, finish, side="left")  # exclusive: starts before this one's end
    runs = np.maximum(last - first - 1, 0)
    left = np.repeat(first, runs)
    offsets = np.arange(len(left)) - np.repeat(np.cumsum(runs) - runs, runs)
    right = left + 1 + offsets
    a, b = codes[left], codes[right]
    keep = a != b  # two codings of one code are no co-occurrence
    pairs = np.bincount(a[keep] * n_codes + b[keep], minlength=n_codes * n_codes).reshape(n_codes, n_codes)
    return pairs + pairs.T


def _natural(value: str) -> tuple:
    """Sort 'Wave 2' before 'Wave 10', and the not-recorded label last."""
    import re

    parts = re.split(r"(\d+)", str(value))
    return (value == MISSING, [int(p) if p.isdigit() else p.lower() for p in parts])


# -- the framework matrix -------------------------------------------------------


def framework_cells(project: Project, rows: str = "case", filters: Filters = Filters(level=1),
                    references: int = 3, quote_chars: int = 80, *,
                    segments: pd.DataFrame | None = None) -> pd.DataFrame:
    """The framework matrix in long form: one row per row label × theme.

    Columns: ``row``, ``theme``, ``theme_label``, ``summary`` (the researcher's memo,
    for case rows), ``codings``, ``documents`` and ``references`` (up to ``references``
    supporting codings as ``"document [start–end]: 'short quote'"``).
    """
    segments = coded_segments(project, filters) if segments is None else segments
    themes = theme_codes(project, filters.level, segments["theme"])
    documents = project.documents()
    seg_rows, doc_rows = row_key(segments, documents, rows)
    segments = segments.assign(_row=seg_rows)
    row_labels = sorted(set(doc_rows), key=_natural)
    summaries = _summary_lookup(project) if rows == "case" else {}
    grouped = {key: frame for key, frame in segments.groupby(["_row", "theme"])} if not segments.empty else {}
    out = []
    for row in row_labels:
        for key, label in zip(themes["key"], themes["label"]):
            cell = grouped.get((row, key))
            out.append({
                "row": row, "theme": key, "theme_label": label,
                "summary": summaries.get((row, key), ""),
                "codings": 0 if cell is None else len(cell),
                "documents": 0 if cell is None else int(cell["document_id"].nunique()),
                "references": "" if cell is None else _references(cell, references, quote_chars),
            })
    return pd.DataFrame(out, columns=["row", "theme", "theme_label", "summary", "codings", "documents", "references"])


def framework_matrix(project: Project, rows: str = "case", filters: Filters = Filters(level=1),
                     references: int = 3, quote_chars: int = 80, *,
                     cells: pd.DataFrame | None = None) -> pd.DataFrame:
    """The framework matrix as the researcher reads it: rows × themes, text in each cell.

    Each cell holds the summary memo (if written), then the supporting references on
    their own lines; an empty cell means no coding and no summary. ``cells`` reuses a
    ``framework_cells`` result already computed.
    """
    cells = framework_cells(project, rows, filters, references, quote_chars) if cells is None else cells.copy()
    themes = cells.drop_duplicates("theme")
    cells["text"] = [
        "\n".join(part for part in (summary, refs) if part)
        for summary, refs in zip(cells["summary"], cells["references"])
    ]
    wide = cells.pivot(index="row", columns="theme_label", values="text") if not cells.empty else pd.DataFrame()
    order = [r for r in dict.fromkeys(cells["row"])]
    wide = wide.reindex(index=order, columns=list(themes["theme_label"])).fillna("")
    wide.index.name = rows
    wide.columns.name = None
    return wide.reset_index()


def _references(cell: pd.DataFrame, limit: int, quote_chars: int) -> str:
    ordered = cell.sort_values(["document_name", "start"]).head(limit)
    lines = [
        f"{doc} [{start}–{end}]: '{_shorten(snippet, quote_chars)}'"
        for doc, start, end, snippet in zip(ordered["document_name"], ordered["start"], ordered["end"], ordered["snippet"])
    ]
    if len(cell) > limit:
        lines.append(f"(+{len(cell) - limit} more)")
    return "\n".join(lines)


def _shorten(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
    return cut + " …"


# -- framework summaries (memos of kind "framework" on case × code) ----------------


def framework_summaries(project: Project) -> pd.DataFrame:
    """Every framework-cell summary: case, code, text, author, updated_at."""
    m, c, k = store.memos, store.cases, store.codes
    query = (
        sa.select(m.c.id, c.c.name.label("case"), k.c.key.label("code"), m.c.text, m.c.author, m.c.updated_at)
        .select_from(m.join(c, m.c.case_id == c.c.id).join(k, m.c.code_id == k.c.id))
        .where(m.c.kind == "framework")
        .order_by(c.c.name, k.c.id)
    )
    with project.engine.connect() as conn:
        result = conn.execute(query)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def set_framework_summary(project: Project, case: str, code: str, text: str, author: str = "") -> int | None:
    """Write (or replace) the summary of one case × code cell; empty text removes it.

    Returns the memo id, or None when the summary was removed.

    >>> set_framework_summary(project, "Family A", "voice", "Child seen alone at every visit.")  # doctest: +SKIP
    """
    m = store.memos
    with project.transaction() as conn:
        case_id = conn.execute(sa.select(store.cases.c.id).where(store.cases.c.name == case)).scalar()
        if case_id is None:
            raise NotFoundError(f"{project.location}: no case {case!r}. Fix: use a case name from "
                                "project.cases(), or set `case` in the attributes at import.")
        code_id = conn.execute(sa.select(store.codes.c.id).where(store.codes.c.key == code)).scalar()
        if code_id is None:
            raise NotFoundError(f"{project.location}: no code {code!r}. Fix: use a code key from project.codes().")
        where = (m.c.kind == "framework", m.c.case_id == case_id, m.c.code_id == code_id)
        existing = conn.execute(sa.select(m.c.id).where(*where)).scalar()
        if not text.strip():
            conn.execute(sa.delete(m).where(*where))
            return None
        stamp = store.now()
        if existing is not None:
            conn.execute(sa.update(m).where(m.c.id == existing).values(text=text, author=author, updated_at=stamp))
            return existing
        return conn.execute(
            sa.insert(m).values(kind="framework", case_id=case_id, code_id=code_id, text=text, author=author,
                                created_at=stamp, updated_at=stamp).returning(m.c.id)
        ).scalar_one()


def _summary_lookup(project: Project) -> dict[tuple[str, str], str]:
    summaries = framework_summaries(project)
    return {(case, code): text for case, code, text in zip(summaries["case"], summaries["code"], summaries["text"])}


def codebook_versions(project: Project) -> pd.DataFrame:
    """Codebooks loaded into the project (name, version, loaded_at), newest last."""
    cb = store.codebooks
    with project.engine.connect() as conn:
        result = conn.execute(sa.select(cb.c.name, cb.c.version, cb.c.loaded_at).order_by(cb.c.id))
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


# -- the matrix workbook ----------------------------------------------------------


def matrix_tables(project: Project, rows: str = "case", filters: Filters = Filters(level=1),
                  count: str = "segments") -> dict[str, pd.DataFrame]:
    """Every table of the matrix export, by sheet name, the framework matrix first.

    Sheets: the framework matrix (text cells), its counts, the codes × ``rows``
    crosstab (``count`` per cell, with totals), code frequencies and co-occurrence.
    """
    segments = coded_segments(project, filters)  # read once, shared by every sheet
    cells = framework_cells(project, rows, filters, segments=segments)
    counts = cells.pivot(index="row", columns="theme_label", values="codings") if not cells.empty else pd.DataFrame()
    counts = counts.reindex(index=list(dict.fromkeys(cells["row"])),
                            columns=list(dict.fromkeys(cells["theme_label"]))).fillna(0).astype(int)
    counts.index.name, counts.columns.name = rows, None
    return {
        "Framework matrix": framework_matrix(project, rows, filters, cells=cells),
        "Codings per cell": counts.reset_index(),
        f"Codes by {rows}": crosstab(project, by=rows, count=count, filters=filters, segments=segments),
        "Code frequencies": code_frequencies(project, filters, segments=segments),
        "Co-occurrence": cooccurrence(project, filters, segments=segments),
    }


def export_matrix(project: Project, out: str | Path, rows: str = "case", filters: Filters = Filters(level=1),
                  count: str = "segments") -> dict[str, object]:
    """Write the matrix tables to .xlsx (all sheets, with an About sheet) or .csv (the matrix).

    Returns what the CLI prints: the file, the sheets, and the matrix's size.

    >>> export_matrix(project, "out/framework_matrix.xlsx", rows="case")   # doctest: +SKIP
    """
    from datetime import datetime, timezone

    from .xlsx_export import write_table

    tables = matrix_tables(project, rows, filters, count)
    versions = codebook_versions(project)
    about = {
        "project": str(project.location),
        "rows": rows,
        "columns": "codes" if filters.level is None else f"themes (codes at level {filters.level})",
        **filters.describe(),
        f"counts in 'Codes by {rows}'": count,
        "codebook": "; ".join(f"{n} version {v} (loaded {at})" for n, v, at in
                              zip(versions["name"], versions["version"], versions["loaded_at"])) or "none recorded",
        "framework summaries": "memos of kind 'framework' on case × code (set_framework_summary)",
        "written": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    path = write_table(out, tables, about)
    matrix = tables["Framework matrix"]
    return {"file": str(path), "sheets": list(tables) if path.suffix.lower() == ".xlsx" else ["Framework matrix"],
            "rows": len(matrix), "columns": len(matrix.columns) - 1, "matrix": matrix}
