"""What agreement compares, and the units it reads the comparison into.

The coders' spans are gathered per compared document (``_compare``: which coders,
documents and codes, by the rules in ``qualcode.agreement``); ``_masks`` turns them
into one row of characters per coder, and ``_unit_matrix`` reads those rows as
characters, segments or documents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator, Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa

from .. import store
from ..errors import InputError, NotEnoughData, NotFoundError
from ..project import Project

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language

UNITS = ("character", "segment", "document")
SEGMENT_KINDS = ("sentence", "paragraph", "turn")
COUNTED_STATUSES = ("suggested", "accepted")
# Name this coder to compare people with the learned suggester: its out-of-fold
# decisions (``learn.out_of_fold``), computed when asked, never stored.
LEARNED_CODER = "learned:cv"


# -- gathering the codings -----------------------------------------------------------


@dataclass
class _Comparison:
    """What is compared: coders, documents (id, name, text) and codes, with the spans."""

    coders: list[str]
    documents: list[tuple[int, str, str]]
    codes: list[str]
    code_names: dict[str, str]
    spans: dict[tuple[int, str, str], list[tuple[int, int]]] = field(default_factory=dict)
    n_codings: dict[tuple[int, str], int] = field(default_factory=dict)

    def coder_spans(self, doc_id: int, code: str) -> list[list[tuple[int, int]]]:
        return [self.spans.get((doc_id, code, coder), []) for coder in self.coders]


def _check_choice(project: Project, name: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise InputError(project.location, f"{name} {value!r} is not one of {', '.join(allowed)}",
                         f"use --{name} {allowed[0]} (or {', '.join(allowed[1:])})")


def _compare(project: Project, coders: Sequence[str], codes: Sequence[str] | None,
             documents: Sequence[int | str] | None, statuses: Sequence[str]) -> _Comparison:
    coders = list(coders)
    if len(coders) < 2:
        raise InputError(project.location, f"agreement needs at least two coders, got {len(coders)}",
                         "name two or more coders, e.g. --coders alex sam")
    if len(set(coders)) != len(coders):
        raise InputError(project.location, f"a coder is named twice in {coders}", "name each coder once")
    bad_status = [s for s in statuses if s not in store.CODING_STATUSES]
    if bad_status:
        raise InputError(project.location, f"status {bad_status[0]!r} is not one of {store.CODING_STATUSES}",
                         "count suggested and/or accepted codings")
    known = set(project.coders()["name"])
    for coder in coders:
        if coder not in known and coder != LEARNED_CODER:
            listed = ", ".join(sorted(known)) or "none yet"
            raise NotFoundError(f"{project.location}: no coder {coder!r}. Fix: name a coder who has "
                                f"codings in this project ({listed}), or {LEARNED_CODER} for the learned "
                                "suggester's cross-validated decisions.")
    codings = project.codings(status=list(statuses), coder=[c for c in coders if c != LEARNED_CODER])
    machine_docs: list[int] = []
    if LEARNED_CODER in coders:
        machine, machine_docs = _machine_codings(project)
        codings = pd.concat([codings, machine], ignore_index=True)
    doc_ids = _compared_documents(project, codings, coders, documents, machine_docs)
    codebook = project.codes(include_retired=True)
    code_names = dict(zip(codebook["key"], codebook["name"]))
    if codes is not None:
        for code in codes:
            if code not in code_names:
                raise NotFoundError(f"{project.location}: no code {code!r}. Fix: use a code key from the "
                                    "codebook (`qualcode codebook load` adds codes).")
        code_list = list(dict.fromkeys(codes))
    else:
        used = set(codings.loc[codings["document_id"].isin(doc_ids), "code"])
        code_list = [key for key in codebook["key"] if key in used]
    comparison = _Comparison(coders, _texts(project, doc_ids), code_list, code_names)
    wanted = codings[codings["document_id"].isin(doc_ids) & codings["code"].isin(code_list)]
    columns = (wanted[c].tolist() for c in ("document_id", "code", "coder", "start", "end"))
    for doc_id, code, coder, start, end in zip(*columns):
        comparison.spans.setdefault((doc_id, code, coder), []).append((start, end))
        comparison.n_codings[(doc_id, code)] = comparison.n_codings.get((doc_id, code), 0) + 1
    return comparison


def _machine_codings(project: Project) -> tuple[pd.DataFrame, list[int]]:
    """The learned suggester as a coder: its out-of-fold decisions (each made by a model
    that never saw the document) as spans, at the unit learning chose; and the documents
    it judged (every document people coded), so a document where it coded nothing is
    still compared."""
    from ..learning import assess

    oof = assess(project).predictions  # the default pipeline: learning needs its lemmas
    hits = oof[oof["predicted"].astype(bool)]
    frame = pd.DataFrame({"document_id": hits["document_id"].astype(int), "code": hits["code"],
                          "coder": LEARNED_CODER, "start": hits["start"].astype(int), "end": hits["end"].astype(int)})
    return frame, sorted(int(d) for d in oof["document_id"].unique())


def _compared_documents(project: Project, codings: pd.DataFrame, coders: list[str],
                        documents: Sequence[int | str] | None, machine_docs: Sequence[int] = ()) -> list[int]:
    if documents is not None:
        ids = list(dict.fromkeys(project.document_id(d) for d in documents))
        if not ids:
            raise InputError(project.location, "the list of documents to compare is empty",
                             "name at least one document, or leave --documents out")
        return ids
    judged = pd.concat([codings[["document_id", "coder"]],
                        pd.DataFrame({"document_id": list(machine_docs), "coder": LEARNED_CODER})])
    per_doc = judged.groupby("document_id")["coder"].nunique()
    ids = sorted(int(d) for d in per_doc[per_doc == len(coders)].index)
    if not ids:
        raise NotEnoughData(
            f"{project.location}: no document was coded by all of {', '.join(coders)}. Fix: have them "
            "code the same documents, or name the documents to compare with --documents."
        )
    return ids


def _texts(project: Project, doc_ids: list[int]) -> list[tuple[int, str, str]]:
    d = store.documents
    with project.engine.connect() as conn:
        rows = conn.execute(sa.select(d.c.id, d.c.name, d.c.text).where(d.c.id.in_(doc_ids))).all()
    by_id = {row[0]: (row[0], row[1], row[2]) for row in rows}
    return [by_id[i] for i in doc_ids]


# -- units -------------------------------------------------------------------------


def _coded_pairs(comparison: _Comparison) -> dict[int, list[str]]:
    """Per document, the codes any compared coder used in it (in codebook order)."""
    used: dict[int, set[str]] = {}
    for doc_id, code, _ in comparison.spans:
        used.setdefault(doc_id, set()).add(code)
    order = {code: j for j, code in enumerate(comparison.codes)}
    return {doc_id: sorted(codes, key=order.__getitem__) for doc_id, codes in used.items()}


def _masks(spans: list[list[tuple[int, int]]], length: int) -> np.ndarray:
    """Coders × characters: True where the coder's spans cover the character."""
    masks = np.zeros((len(spans), length), dtype=bool)
    for row, coder_spans in zip(masks, spans):
        for start, end in coder_spans:  # a loop over codings, never over characters
            row[start:end] = True
    return masks


def _segment_bounds(segments: list, length: int) -> tuple[np.ndarray, np.ndarray]:
    starts = np.asarray([s.start for s in segments], dtype=np.int64)
    ends = np.asarray([s.end for s in segments], dtype=np.int64)
    return np.clip(starts, 0, length), np.clip(ends, 0, length)


def _unit_matrix(masks: np.ndarray, unit: str, bounds: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """Coders × units, True where the coder coded the unit."""
    if unit == "character":
        return masks
    if unit == "document":
        return masks.any(axis=1, keepdims=True)
    starts, ends = bounds
    covered = np.concatenate([np.zeros((masks.shape[0], 1), dtype=np.int64), np.cumsum(masks, axis=1)], axis=1)
    return (covered[:, ends] - covered[:, starts]) > 0  # any coded character overlaps the segment


def _patterns(units: np.ndarray) -> np.ndarray:
    """How many units carry each coder pattern (bit r set: coder r coded the unit)."""
    n_coders = units.shape[0]
    bits = (units.astype(np.int64) << np.arange(n_coders, dtype=np.int64)[:, None]).sum(axis=0)
    return np.bincount(bits, minlength=1 << n_coders).astype(float)


def _pattern_matrix(n_coders: int) -> np.ndarray:
    """Coders × patterns: the coded/not coded value each pattern stands for."""
    patterns = np.arange(1 << n_coders)
    return ((patterns[None, :] >> np.arange(n_coders)[:, None]) & 1).astype(float)


def _sentence_splitter() -> "Language":
    """Blank English with the sentence splitter of qualcode's default pipeline
    (``nlp.blank_pipeline``) but not its lemma table, which takes seconds to load and
    plays no part in where sentences end."""
    import spacy

    from ..nlp import SENTENCES

    nlp = spacy.blank("en")
    nlp.add_pipe(SENTENCES)
    return nlp


def _doc_units(comparison: _Comparison, project: Project, unit: str, segment: str,
               nlp: "Language | None") -> Iterator[tuple[int, str, str, tuple | None, list]]:
    """Per compared document: id, name, text, segment bounds and segments (segment unit)."""
    turns: dict[int, list] = {}
    if unit == "segment":
        from ..segments import load_turns

        turns = load_turns(project, [d for d, _, _ in comparison.documents])
        if segment == "sentence" and nlp is None:
            nlp = _sentence_splitter()
    for doc_id, name, text in comparison.documents:
        if unit == "segment":
            from ..segments import segment_document

            segments = segment_document(text, turns.get(doc_id, []), segment, nlp=nlp)
            yield doc_id, name, text, _segment_bounds(segments, len(text)), segments
        else:
            yield doc_id, name, text, None, []
