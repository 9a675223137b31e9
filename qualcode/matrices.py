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
from .errors import InputError
from .framework_summaries import framework_summaries, import_framework_summaries, set_framework_summary  # noqa: F401
from .locators import document_labels, document_parts, locators, reference_list
from .matrix_rows import MISSING, natural, row_attributes, row_labels, row_order
from .project import Project
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


def theme_labels(codes: pd.DataFrame) -> list[str]:
    """Code names as column labels (``_labels``), for callers that roll codes up themselves."""
    return _labels(codes)


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
    """The row label of each segment and of each document for ``rows`` (case, document, attribute).

    ``case`` rows are cases, else participants, else documents (``matrix_rows``), so
    interviews without a case still get a row of their own.
    """
    doc_rows = row_labels(documents, rows)
    by_id = dict(zip(documents["id"], doc_rows))
    seg_rows = segments["document_id"].map(by_id).fillna(MISSING).astype(str)
    return seg_rows, doc_rows


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


_natural = natural  # the name reporting.tables imports


# -- the framework matrix -------------------------------------------------------

CELL_COLUMNS = ["row", "theme", "theme_label", "group", "summary", "codings", "documents", "references"]


def framework_cells(project: Project, rows: str = "case", filters: Filters = Filters(level=1),
                    references: int = 6, *, segments: pd.DataFrame | None = None) -> pd.DataFrame:
    """The framework matrix in long form: one row per row label × theme.

    Columns: ``row``, ``theme``, ``theme_label``, ``group`` (the top-level theme the
    column sits under), ``summary`` (the researchers' framework memos for the cell),
    ``codings``, ``documents`` and ``references``: where the codings are, as document
    display names with turn or paragraph numbers ("W1 SW01 social worker t12, t15"),
    at most ``references`` places and then a count of the rest ("(+4)").
    """
    segments = coded_segments(project, filters) if segments is None else segments
    themes = theme_codes(project, filters.level, segments["theme"])
    documents = project.documents()
    seg_rows, doc_rows = row_key(segments, documents, rows)
    # Reading order once for all cells: documents in natural order of their names, then by position.
    names = sorted(set(segments["document_name"]), key=natural)
    rank = {name: i for i, name in enumerate(names)}
    segments = (segments[["document_id", "document_name", "start", "theme"]]
                .assign(_row=seg_rows, _doc=segments["document_name"].map(rank))
                .sort_values(["_doc", "start"], kind="stable"))
    order = (row_order(documents.assign(_row=doc_rows.to_numpy()), "_row") if rows == "case"
             else sorted(set(doc_rows), key=natural))
    summaries = _summary_lookup(project, rows, documents, doc_rows, filters.level)
    groups = _groups(project, themes)
    # Counts by group-by; references from the distinct places only, in reading order (no frame per cell).
    counts = (segments.groupby(["_row", "theme"], sort=False)["document_id"].agg(["size", "nunique"])
              .to_dict("index") if not segments.empty else {})
    places = segments.assign(_place=locators(project, segments))[["_row", "theme", "document_name", "_place"]]
    places = places.drop_duplicates()
    cells: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for row, theme, place in zip(places["_row"], places["theme"], _places(places["document_name"], places["_place"])):
        cells.setdefault((row, theme), []).append(place)
    out = []
    for row in order:
        for key, label in zip(themes["key"], themes["label"]):
            found, n = cells.get((row, key)), counts.get((row, key), {"size": 0, "nunique": 0})
            out.append({
                "row": row, "theme": key, "theme_label": label, "group": groups.get(key, label),
                "summary": summaries.get((row, key), ""), "codings": int(n["size"]), "documents": int(n["nunique"]),
                "references": reference_list(found, references) if found else "",
            })
    return pd.DataFrame(out, columns=CELL_COLUMNS)


def framework_matrix(project: Project, rows: str = "case", filters: Filters = Filters(level=1),
                     references: int = 6, *, cells: pd.DataFrame | None = None,
                     attributes: list[str] | None = None) -> pd.DataFrame:
    """The framework matrix as the researcher reads it: one row per case or participant,
    its attributes, then one column per theme with the summary and where the evidence is.

    Rows follow ``rows`` (``case``: a case, else a participant, else a document; see
    ``matrix_rows``); for case, participant and document rows the row's attributes
    (role, site, wave …, or those named in ``attributes``) and its ``sources`` come
    first. Each theme cell holds the framework summary memo(s), then the references on
    their own line; an empty cell means no coding and no summary. ``cells`` reuses a
    ``framework_cells`` result already computed.

    >>> framework_matrix(project, rows="case", attributes=["role", "wave"])   # doctest: +SKIP
    """
    cells = framework_cells(project, rows, filters, references) if cells is None else cells.copy()
    themes = cells.drop_duplicates("theme")
    cells["text"] = [
        "\n".join(part for part in (summary, refs) if part)
        for summary, refs in zip(cells["summary"], cells["references"])
    ]
    wide = cells.pivot(index="row", columns="theme_label", values="text") if not cells.empty else pd.DataFrame()
    order = [r for r in dict.fromkeys(cells["row"])]
    wide = wide.reindex(index=order, columns=list(themes["theme_label"])).fillna("")
    wide.columns.name = None
    described = row_description(project, rows, attributes)
    if described is not None:
        described = described.set_index("row").reindex(order).fillna("")
        wide = pd.concat([described, wide], axis=1)
    wide.index.name = rows
    return wide.reset_index()


def row_description(project: Project, rows: str, attributes: list[str] | None = None) -> pd.DataFrame | None:
    """Attributes and sources of each case, participant or document row; None for attribute rows
    (a row that is itself an attribute value, such as a role, has nothing more to describe)."""
    if rows not in ("case", "participant", "document"):
        if attributes:
            raise InputError("--attribute", f"rows by {rows!r} are groups of documents and carry no attributes",
                             "use --rows case (or document) to show attributes beside each row")
        return None
    documents = project.documents()
    described = row_attributes(documents, row_labels(documents, rows), attributes,
                               project.cases() if rows == "case" else None)
    return described.drop(columns=[rows], errors="ignore")  # participant rows: the label says it


def theme_groups(cells: pd.DataFrame) -> list[tuple[str, list[str]]]:
    """Column groups of a matrix: ``(top-level theme, [its columns])`` in column order.

    Empty when every column is a top-level theme (a level-1 matrix needs no second header).
    """
    themes = cells.drop_duplicates("theme")
    if all(g == lab for g, lab in zip(themes["group"], themes["theme_label"])):
        return []
    out: dict[str, list[str]] = {}
    for group, label in zip(themes["group"], themes["theme_label"]):
        out.setdefault(group, []).append(label)
    return list(out.items())


def _groups(project: Project, themes: pd.DataFrame) -> dict[str, str]:
    """Theme key -> the label of its top-level ancestor (its own label at the top)."""
    codes = project.codes(include_retired=True)
    if codes.empty:
        return {}
    top = theme_of(codes, 1)
    labels = dict(zip(codes["key"], _labels(codes)))
    return {key: labels.get(top.get(key, key), key) for key in themes["key"]}


def _places(names: pd.Series, found: pd.Series) -> list[tuple[str, str]]:
    """(document label, place) for each document name and its turn or paragraph; a row of an
    imported table (a case note) is cited as the file's label and the row's id."""
    labels = document_labels(names)
    parts = {name: document_parts(name) for name in labels}
    out = []
    for name, place in zip(names, found):
        base, item = parts[name]
        if item and labels[name] != name:  # "Case notes" + "N001 ¶2"
            out.append((base, f"{item} {place}".strip()))
        else:
            out.append((labels[name], place))
    return out


# -- framework summaries (written in framework_summaries.py) in the cells ---------------


def _summary_lookup(project: Project, rows: str, documents: pd.DataFrame, doc_rows: pd.Series,
                    level: int | None) -> dict[tuple[str, str], str]:
    """(row label, theme key) -> the cell's summary text.

    Case rows take the case's memos and those on any of the row's documents; document
    rows those on the document. A memo on a code below the column's theme is rolled up
    into it, led by the code's name, so no summary drops out of a theme-level matrix.
    """
    if rows not in ("case", "document"):
        return {}
    summaries = framework_summaries(project)
    if summaries.empty:
        return {}
    codes = project.codes(include_retired=True)
    theme = theme_of(codes, level)
    names = dict(zip(codes["key"], codes["name"]))
    by_name = dict(zip(documents["name"], doc_rows))
    per_row = pd.Series(list(doc_rows)).value_counts().to_dict()
    # set_framework_summary keeps a participant's summary on their first document: it speaks for the row.
    no_case = documents["case"].isna() if "case" in documents.columns else pd.Series(True, index=documents.index)
    own = documents[no_case].assign(_row=doc_rows[no_case].to_numpy()).sort_values("id").drop_duplicates("_row")
    speaks_for_row = set(own["name"])
    labels = document_labels(documents["name"])
    out: dict[tuple[str, str], list[str]] = {}
    for case, document, code, text in zip(summaries["case"], summaries["document"], summaries["code"],
                                          summaries["text"]):
        if isinstance(case, str):
            if rows != "case":
                continue
            row = case
        elif document in by_name:
            row = by_name[document]
        else:
            continue  # a superseded document's memo
        lead = []
        if isinstance(document, str) and per_row.get(row, 0) > 1 and document not in speaks_for_row:
            lead.append(labels.get(document, document))
        key = theme.get(code, code)
        if key != code:
            lead.append(names.get(code, code))
        out.setdefault((row, key), []).append(f"{' – '.join(lead)}: {text}" if lead else text)
    return {k: "\n".join(v) for k, v in out.items()}


def codebook_versions(project: Project) -> pd.DataFrame:
    """Codebooks loaded into the project (name, version, loaded_at), newest last."""
    cb = store.codebooks
    with project.engine.connect() as conn:
        result = conn.execute(sa.select(cb.c.name, cb.c.version, cb.c.loaded_at).order_by(cb.c.id))
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


# -- the matrix workbook ----------------------------------------------------------


ROW_TITLES = {"case": "Case or participant", "document": "Document"}
THEME_WIDTH = 42  # characters: a summary and a line of references read without a wall of text
ATTRIBUTE_WIDTH = 16
FROZEN_WIDTH = 70  # characters of frozen columns at most, so themes still have room on a laptop screen


def column_title(key: str) -> str:
    """A row or attribute column's key as a header: ``role_group`` → ``Role group``.

    >>> column_title("case"), column_title("role_group"), column_title("Barrier")
    ('Case or participant', 'Role group', 'Barrier')
    """
    if key in ROW_TITLES:
        return ROW_TITLES[key]
    text = key.replace("_", " ")
    return text[:1].upper() + text[1:]


def matrix_tables(project: Project, rows: str = "case", filters: Filters = Filters(level=1),
                  count: str = "segments", attributes: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """Every table of the matrix export, by sheet name, the framework matrix first.

    Sheets: the framework matrix (attributes, then text cells), its counts, the codes
    × ``rows`` crosstab (``count`` per cell, with totals), code frequencies and
    co-occurrence. Row and attribute headers are written for reading (``column_title``).
    """
    return _matrix_sheets(project, rows, filters, count, attributes)[0]


def _matrix_sheets(project: Project, rows: str, filters: Filters, count: str, attributes: list[str] | None
                   ) -> tuple[dict[str, pd.DataFrame], dict[str, object], pd.DataFrame]:
    """The sheets (headers for reading), their layouts, and the matrix with its keys (for --json)."""
    from .xlsx_export import SheetLayout

    segments = coded_segments(project, filters)  # read once, shared by every sheet
    cells = framework_cells(project, rows, filters, segments=segments)
    themes = list(dict.fromkeys(cells["theme_label"]))
    keyed = framework_matrix(project, rows, filters, cells=cells, attributes=attributes)
    described = [c for c in keyed.columns if c not in themes]
    matrix = keyed.rename(columns={c: column_title(c) for c in described})
    counts = cells.pivot(index="row", columns="theme_label", values="codings") if not cells.empty else pd.DataFrame()
    counts = counts.reindex(index=list(dict.fromkeys(cells["row"])), columns=themes).fillna(0).astype(int)
    counts.index.name, counts.columns.name = column_title(rows), None
    widths = {column_title(rows): min(max((len(str(v)) for v in matrix[column_title(rows)]), default=8) + 2, 30)}
    for column in described[1:]:  # attributes: as wide as their longest word or short value, wrapped beyond
        values = [str(v) for v in matrix[column_title(column)]] + [column_title(column)]
        longest = max((len(w) for v in values for w in v.split()), default=6)
        widths[column_title(column)] = max(min(max(len(v) for v in values), ATTRIBUTE_WIDTH), longest, 8) + 1
    widths.update({t: THEME_WIDTH for t in themes})
    frozen, room = 0, FROZEN_WIDTH  # keep the row label and as many attributes as fit in view
    for column in described:
        if frozen and widths[column_title(column)] > room:
            break
        frozen, room = frozen + 1, room - widths[column_title(column)]
    layouts = {
        "Framework matrix": SheetLayout(frozen_columns=frozen, groups=theme_groups(cells), widths=widths),
        "Codings per cell": SheetLayout(frozen_columns=1, groups=theme_groups(cells)),
    }
    return {
        "Framework matrix": matrix,
        "Codings per cell": counts.reset_index(),
        f"Codes by {rows}": crosstab(project, by=rows, count=count, filters=filters, segments=segments),
        "Code frequencies": code_frequencies(project, filters, segments=segments),
        "Co-occurrence": cooccurrence(project, filters, segments=segments),
    }, layouts, keyed


def export_matrix(project: Project, out: str | Path, rows: str = "case", filters: Filters = Filters(level=1),
                  count: str = "segments", attributes: list[str] | None = None) -> dict[str, object]:
    """Write the matrix tables to .xlsx (all sheets, with an About sheet) or .csv (the matrix).

    The framework matrix sheet keeps its header and its row and attribute columns in
    view, wraps text and sets column widths; codes below a theme sit under it in a
    header row of their own. Returns what the CLI prints: the file, the sheets, and
    the matrix's size.

    >>> export_matrix(project, "out/framework_matrix.xlsx", rows="case")   # doctest: +SKIP
    """
    from datetime import datetime, timezone

    from .xlsx_export import write_table

    tables, layouts, keyed = _matrix_sheets(project, rows, filters, count, attributes)
    versions = codebook_versions(project)
    about = {
        "project": str(project.location),
        "rows": ("cases, else participants, else documents" if rows == "case" else rows),
        "columns": "codes" if filters.level is None else f"themes (codes at level {filters.level})",
        **filters.describe(),
        f"counts in 'Codes by {rows}'": count,
        "codebook": "; ".join(f"{n} version {v} (loaded {at})" for n, v, at in
                              zip(versions["name"], versions["version"], versions["loaded_at"])) or "none recorded",
        "cells": "the framework summary (memos of kind 'framework', set_framework_summary), then where the "
                 "codings are: document, t = speaker turn, ¶ = paragraph, (+N) = N more places",
        "written": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    path = write_table(out, tables, about, layouts)
    themes = len(tables["Codings per cell"].columns) - 1
    return {"file": str(path), "sheets": list(tables) if path.suffix.lower() == ".xlsx" else ["Framework matrix"],
            "rows": len(keyed), "columns": themes, "matrix": keyed, "counts": tables["Codings per cell"]}
