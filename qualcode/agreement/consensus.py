"""Where coders differ, and settling it: ``disagreements`` lists the spans, ``settle``
records the team's decisions as the consensus coder's codings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..project import NewCoding, Project
from .units import (COUNTED_STATUSES, SEGMENT_KINDS, UNITS, _check_choice, _compare, _doc_units, _masks,
                    _unit_matrix)

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language

CONSENSUS_CODER = "consensus"
EXCERPT_CHARS = 200


# -- disagreements and consensus -------------------------------------------------------


def disagreements(
    project: Project,
    coders: Sequence[str],
    code: str | Sequence[str] | None = None,
    unit: str = "character",
    segment: str = "sentence",
    documents: Sequence[int | str] | None = None,
    statuses: Sequence[str] = COUNTED_STATUSES,
    nlp: "Language | None" = None,
) -> pd.DataFrame:
    """The text where the coders differ: one row per stretch, code and pattern.

    Character unit: maximal runs of characters over which the same coders (not all)
    coded the code, trimmed of surrounding whitespace; runs of whitespace only are
    left out (a trailing space is not worth a meeting). Segment unit: each segment the coders coded differently.
    Document unit: each document some but not all coders coded. Columns: document_id,
    document, code, start, end, text (an excerpt), coded_by, not_coded_by, and one
    boolean column per coder.
    """
    _check_choice(project, "unit", unit, UNITS)
    _check_choice(project, "segment", segment, SEGMENT_KINDS)
    codes = [code] if isinstance(code, str) else code
    comparison = _compare(project, coders, codes, documents, statuses)
    coders = comparison.coders
    rows = []
    for doc_id, name, text, bounds, segments in _doc_units(comparison, project, unit, segment, nlp):
        for key in comparison.codes:
            spans = comparison.coder_spans(doc_id, key)
            if not any(spans):
                continue
            masks = _masks(spans, len(text))
            for start, end, pattern in _differing(masks, unit, bounds, len(text)):
                if unit == "character":  # trim to what a reader sees; skip whitespace-only runs
                    excerpt = text[start:end]
                    if not excerpt.strip():
                        continue
                    start += len(excerpt) - len(excerpt.lstrip())
                    end -= len(excerpt) - len(excerpt.rstrip())
                excerpt = text[start:end]
                rows.append({
                    "document_id": doc_id, "document": name, "code": key, "start": start, "end": end,
                    "text": excerpt if len(excerpt) <= EXCERPT_CHARS else excerpt[:EXCERPT_CHARS - 1] + "…",
                    "coded_by": ", ".join(c for c, on in zip(coders, pattern) if on),
                    "not_coded_by": ", ".join(c for c, on in zip(coders, pattern) if not on),
                    **{c: bool(on) for c, on in zip(coders, pattern)},
                })
    columns = ["document_id", "document", "code", "start", "end", "text", "coded_by", "not_coded_by", *coders]
    return pd.DataFrame(rows, columns=columns)


def _differing(masks: np.ndarray, unit: str, bounds: tuple | None, length: int) -> Iterator[tuple[int, int, list[bool]]]:
    """(start, end, who coded) for each stretch where the coders are not unanimous."""
    units = _unit_matrix(masks, unit, bounds)
    split = units.any(axis=0) & ~units.all(axis=0)
    if unit == "document":
        if split[0]:
            yield 0, length, units[:, 0].tolist()
        return
    if unit == "segment":
        starts, ends = bounds
        for i in np.flatnonzero(split):
            yield int(starts[i]), int(ends[i]), units[:, i].tolist()
        return
    bits = (units.astype(np.int64) << np.arange(units.shape[0])[:, None]).sum(axis=0)
    edges = np.concatenate([[0], np.flatnonzero(np.diff(bits)) + 1, [length]])
    for start, end in zip(edges[:-1], edges[1:]):
        if split[start]:
            yield int(start), int(end), units[:, start].tolist()


def settle(
    project: Project,
    rows: pd.DataFrame | Iterable[tuple[int | str, int, int, str]],
    decided_by: str,
    keep: bool = True,
) -> list[int]:
    """Record the team's decision on disagreements as codings by coder 'consensus'.

    ``rows`` are rows of ``disagreements()`` or ``(document, start, end, code)``
    tuples. ``keep=True``: the code applies, so an accepted consensus coding of the
    span is written. ``keep=False``: it does not, so the consensus coding is written
    with status 'rejected' (the decision is on record, and counts nowhere). The
    original coders' codings are never changed. A decision already on record for the
    same span, code and outcome is not written twice. Returns the new coding ids.

    >>> settle(project, disagreements(project, ["alex", "sam"]).head(3), decided_by="team")   # doctest: +SKIP
    """
    if not decided_by or not str(decided_by).strip():
        raise InputError(project.location, "settle needs the name of who decided (decided_by)",
                         "pass decided_by='team meeting 12 May' or the lead coder's name")
    status = "accepted" if keep else "rejected"
    wanted = []
    for document, start, end, code, who in _decisions(rows):
        doc_id = project.document_id(document)
        provenance = {"decided_by": decided_by, "decision": "keep" if keep else "drop"}
        if who is not None:
            provenance["coded_by"] = who
        wanted.append(NewCoding(doc_id, int(start), int(end), code, CONSENSUS_CODER, status=status,
                                method="consensus", provenance=provenance))
    existing = project.codings(coder=CONSENSUS_CODER)
    seen = set(zip(existing["document_id"], existing["start"], existing["end"], existing["code"], existing["status"]))
    new = []
    for coding in wanted:
        key = (coding.document_id, coding.start, coding.end, coding.code, coding.status)
        if key not in seen:
            seen.add(key)
            new.append(coding)
    return project.add_codings(new, actor=decided_by)


def _decisions(rows: Any) -> Iterator[tuple[Any, int, int, str, str | None]]:
    if isinstance(rows, pd.DataFrame):
        missing = [c for c in ("start", "end", "code") if c not in rows.columns]
        if missing or not ({"document_id", "document"} & set(rows.columns)):
            raise ValueError("rows need columns document_id (or document), start, end and code, as "
                             f"disagreements() returns; missing {missing or ['document_id']}")
        doc_column = "document_id" if "document_id" in rows.columns else "document"
        for record in rows.to_dict("records"):
            document = record[doc_column]
            document = int(document) if isinstance(document, (int, np.integer)) else document
            yield document, int(record["start"]), int(record["end"]), record["code"], record.get("coded_by")
        return
    for item in rows:
        document, start, end, code = item
        document = int(document) if isinstance(document, (int, np.integer)) else document
        yield document, int(start), int(end), code, None
