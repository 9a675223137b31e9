"""Evidence per outcome: what the coded material says about each planned change.

For every outcome, impact and assumption of a theory of change, ``evidence`` gathers
the codings of the codes linked to it (from either side: the codebook's
``outcomes:`` links stored in ``codes.outcomes``, and the ToC node's ``codes:``),
counts segments, documents, participants, cases and source types, reads a direction
(supports / challenges / mixed) and the counts by wave, and rates the strength with
the ToC's rules, printing the reason beside the rating. Nodes with no evidence stay
in the table as gaps. Indicator status and linked survey items sit beside them.

>>> result = evidence(project, load_toc("codebooks/toc_whole_family.yaml"))   # doctest: +SKIP
>>> result.summary[["node", "judgement", "judgement_reason"]]                  # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
import pandas as pd

from .indicators import indicator_status, period_key
from .project import Project
from .survey import survey_evidence
from .toc import KIND_SINGULAR, Node, StrengthRule, StrengthRules, TheoryOfChange
from .toc import DEFAULT_STRENGTH_RULES  # noqa: F401  (used by the doctest of rate)
from .judgements import JudgementRules, as_assumption, conflict_between, indicator_state, judge

JUDGED_KINDS = ("outcomes", "impacts", "assumptions")
NO_WAVE = "(no wave)"
SURVEY_SOURCE = "survey items"
# Without a codebook at hand, a cross-cutting code's direction is read from its id or
# name: the generic framework's enabler / barrier codes are what evaluators use.
DIRECTION_WORDS = {"enabler": "supports", "facilitator": "supports", "barrier": "challenges"}


@dataclass
class EvidenceResult:
    """Everything ``evidence`` found; DataFrames so notebooks and reports can use them.

    - ``summary``: one row per judged node (outcomes, impacts, assumptions), ToC order.
    - ``segments``: one row per (node, coding) with document, participant, wave, direction.
    - ``by_wave`` / ``by_source``: long tables of counts per node and wave / source type.
    - ``indicators``: status of every ToC indicator; ``survey``: linked survey items.
    - ``missing_codes``: codes the ToC names that the project does not hold.
    """

    summary: pd.DataFrame
    segments: pd.DataFrame
    by_wave: pd.DataFrame
    by_source: pd.DataFrame
    indicators: pd.DataFrame
    survey: pd.DataFrame
    missing_codes: list[str] = field(default_factory=list)

    @property
    def gaps(self) -> list[str]:
        """Ids of nodes with no evidence at all (no codings, survey items or indicator data)."""
        return list(self.summary.loc[self.summary["gap"], "node"])

    def for_node(self, node_id: str) -> pd.DataFrame:
        """The coded segments behind one node: the table a reviewer reads quotes from."""
        return self.segments[self.segments["node"] == node_id].reset_index(drop=True)

    def strength(self, node_id: str) -> str:
        return str(self.summary.set_index("node").loc[node_id, "strength"])

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "indicators": self.indicators, "survey": self.survey,
                "gaps": self.gaps, "missing_codes": self.missing_codes}


def evidence(project: Project, toc: TheoryOfChange, statuses: Iterable[str] = ("accepted",),
             codebooks: Iterable[Any] = (), codings: pd.DataFrame | None = None) -> EvidenceResult:
    """Evidence for every outcome, impact and assumption of ``toc`` from ``project``.

    ``statuses``: which codings count (accepted by default; add "suggested" to preview
    what the auto-coder found). ``codebooks``: loaded codebooks whose cross-cutting
    codes carry a ``direction``; without them enabler / barrier codes are recognised
    by id or name. ``codings``: ``project.codings(status=statuses)`` already read (a
    report reads them once for every table).
    """
    statuses = tuple(statuses)
    codes = project.codes()
    links, missing = _links(toc, codes)
    directions = _code_directions(codes, codebooks)
    if codings is None:
        codings = project.codings(status=statuses)
    docs = _document_facts(project)
    segments = _segments(links, codings, docs, directions)
    indicators = indicator_status(project, toc)
    survey = survey_evidence(project)
    survey = survey[survey["outcome"].isin(toc.node_ids())].reset_index(drop=True)
    rows = [_summary_row(node, links.get(node.id, []), segments[segments["node"] == node.id],
                         indicators[indicators["node"] == node.id], survey[survey["outcome"] == node.id],
                         toc.strength_rules, statuses, toc.judgement_rules)
            for kind in JUDGED_KINDS for node in toc.of_kind(kind)]
    return EvidenceResult(
        summary=pd.DataFrame(rows, columns=SUMMARY_COLUMNS), segments=segments,
        by_wave=_long_counts(segments, "wave"), by_source=_long_counts(segments, "source_type"),
        indicators=indicators, survey=survey, missing_codes=missing,
    )


SUMMARY_COLUMNS = [
    "node", "kind", "name", "term", "codes", "segments", "documents", "participants", "cases",
    "source_types", "n_source_types", "supports", "challenges", "mixed", "directed", "direction", "by_wave",
    "strength", "reason", "indicator", "conflict", "verdict", "judgement", "judgement_reason",
    "gap", "indicators", "survey_items",
]


# -- links and facts -------------------------------------------------------------


def _links(toc: TheoryOfChange, codes: pd.DataFrame) -> tuple[dict[str, list[str]], list[str]]:
    """Node id -> code keys linked from either side, with each code's descendants."""
    keys = set(codes["key"]) if not codes.empty else set()
    children: dict[str, list[str]] = {}
    links: dict[str, set[str]] = {n: set(toc.nodes[n].codes) for n in toc.nodes}
    for row in codes.itertuples():
        if row.parent_key:
            children.setdefault(row.parent_key, []).append(row.key)
        for node_id in json.loads(row.outcomes or "[]"):
            if node_id in links:
                links[node_id].add(row.key)
    missing = sorted({c for n in toc.nodes.values() for c in n.codes if c not in keys})
    out = {}
    for node_id, linked in links.items():
        # A theme linked to an outcome brings its sub-codes: coders apply the leaves.
        stack, seen = [k for k in linked if k in keys], set()
        while stack:
            key = stack.pop()
            if key not in seen:
                seen.add(key)
                stack.extend(children.get(key, []))
        out[node_id] = sorted(seen)
    return out, missing


def _code_directions(codes: pd.DataFrame, codebooks: Iterable[Any]) -> dict[str, str]:
    """Cross-cutting code key -> supports / challenges / mixed."""
    declared = {c.id: c.direction for cb in codebooks for c in cb.codes if c.direction}
    out = {}
    for row in codes.itertuples():
        if row.kind != "cross-cutting":
            continue
        if row.key in declared:
            out[row.key] = declared[row.key]
            continue
        stored = getattr(row, "direction", None)  # written by `codebook load`
        if isinstance(stored, str) and stored:
            out[row.key] = stored
            continue
        words = f"{row.key} {row.name}".lower()
        found = {d for word, d in DIRECTION_WORDS.items() if word in words}
        if len(found) == 1:
            out[row.key] = found.pop()
    return out


def _document_facts(project: Project) -> pd.DataFrame:
    """document_id -> participant, wave, source_type, case (participant falls back to name)."""
    docs = project.documents()
    if docs.empty:
        return pd.DataFrame(columns=["document_id", "participant", "wave", "source_type", "case"])
    participant = docs["participant"] if "participant" in docs else pd.Series(None, index=docs.index)
    wave = docs["wave"] if "wave" in docs else pd.Series(None, index=docs.index)
    return pd.DataFrame({
        "document_id": docs["id"],
        "participant": participant.where(participant.notna() & (participant.astype(str) != ""), docs["name"]),
        "wave": wave.where(wave.notna() & (wave.astype(str) != ""), NO_WAVE),
        "source_type": docs["source_type"],
        "case": docs["case"],
    })


def _segments(links: dict[str, list[str]], codings: pd.DataFrame, docs: pd.DataFrame,
              directions: dict[str, str]) -> pd.DataFrame:
    """One row per (node, segment): a segment is a distinct span of a document.

    Whole columns at a time: the codings are joined to the node links once, each
    coding's direction is found by comparing it with the enabler / barrier codings of
    its own document (an array per document), and the spans are grouped by sorting.
    A report over 100,000 codings does this in a fraction of a second.
    """
    columns = ["node", "document_id", "document", "start", "end", "codes", "coding_ids", "direction",
               "participant", "wave", "source_type", "case", "snippet"]
    pairs = [(node_id, order, key) for order, (node_id, keys) in enumerate(links.items()) for key in keys]
    if codings.empty or not pairs:
        return pd.DataFrame(columns=columns)
    found = _found_directions(codings, directions)
    fields = ["id", "document_id", "document", "start", "end", "code", "snippet"]
    linked = pd.DataFrame(pairs, columns=["node", "_order", "code"]).merge(
        codings[fields].assign(_found=found), on="code", how="inner")
    if linked.empty:
        return pd.DataFrame(columns=columns)
    linked = linked.sort_values(["_order", "document_id", "start", "end", "id"], kind="stable", ignore_index=True)
    keys = linked[["_order", "document_id", "start", "end"]].to_numpy()
    first = np.ones(len(linked), dtype=bool)
    first[1:] = (keys[1:] != keys[:-1]).any(axis=1)
    group = np.cumsum(first) - 1
    heads = linked[first].reset_index(drop=True)
    ids, codes = _group_lists(group, linked["id"].tolist(), linked["code"].tolist(), len(heads))
    masks = np.bitwise_or.reduceat(linked["_found"].to_numpy(), np.flatnonzero(first))
    facts = docs.set_index("document_id")[["participant", "wave", "source_type", "case"]]
    facts = facts.reindex(heads["document_id"]).reset_index(drop=True)
    return pd.DataFrame({
        "node": heads["node"], "document_id": heads["document_id"], "document": heads["document"],
        "start": heads["start"], "end": heads["end"], "codes": codes, "coding_ids": ids,
        "direction": [_combine(mask) for mask in masks.tolist()],
        "participant": facts["participant"], "wave": facts["wave"], "source_type": facts["source_type"],
        "case": facts["case"], "snippet": heads["snippet"],
    }, columns=columns)


DIRECTIONS = ("supports", "challenges", "mixed")  # bit i of a coding's found-directions mask


def _found_directions(codings: pd.DataFrame, directions: dict[str, str]) -> np.ndarray:
    """Per coding, a bit mask of the directions it carries (``DIRECTIONS``).

    A coding's own direction wins; without one, those of every enabler / barrier
    coding overlapping it in its document count.
    """
    bit = {d: 1 << i for i, d in enumerate(DIRECTIONS)}
    own = codings["direction"]
    masks = np.array([bit.get(d, 0) if isinstance(d, str) else 0 for d in own.tolist()], dtype=np.int64)
    has_own = np.array([isinstance(d, str) and bool(d) for d in own.tolist()])
    is_marker = codings["code"].isin(list(directions)).to_numpy()
    if not is_marker.any():
        return masks
    doc_ids = codings["document_id"].to_numpy()
    starts, ends = codings["start"].to_numpy(), codings["end"].to_numpy()
    marker_bits = np.array([bit.get(directions.get(c), 0) for c in codings["code"].tolist()], dtype=np.int64)
    for doc_id in np.unique(doc_ids[is_marker]):
        mine = np.flatnonzero((doc_ids == doc_id) & ~has_own)
        marks = np.flatnonzero((doc_ids == doc_id) & is_marker)
        if not len(mine):
            continue
        overlap = (starts[marks][None, :] < ends[mine][:, None]) & (ends[marks][None, :] > starts[mine][:, None])
        masks[mine] = np.bitwise_or.reduce(np.where(overlap, marker_bits[marks][None, :], 0), axis=1)
    return masks


def _group_lists(group: np.ndarray, ids: list[int], codes: list[str], n: int) -> tuple[list, list]:
    """Per group (rows sorted by group): the sorted coding ids and the codes joined."""
    id_lists: list[list[int]] = [[] for _ in range(n)]
    code_sets: list[set[str]] = [set() for _ in range(n)]
    for g, coding_id, code in zip(group.tolist(), ids, codes):
        id_lists[g].append(coding_id)
        code_sets[g].add(code)
    return id_lists, [", ".join(sorted(s)) for s in code_sets]


def _combine(mask: int) -> str | None:
    """The direction a segment's mask of found directions reads as (two or more: mixed)."""
    if not mask:
        return None
    named = [d for i, d in enumerate(DIRECTIONS) if mask & (1 << i)]
    return named[0] if len(named) == 1 else "mixed"


def _long_counts(segments: pd.DataFrame, by: str) -> pd.DataFrame:
    if segments.empty:
        return pd.DataFrame(columns=["node", by, "segments", "documents", "participants"])
    grouped = segments.groupby(["node", by])
    out = pd.DataFrame({
        "segments": grouped.size(),
        "documents": grouped["document_id"].nunique(),
        "participants": grouped["participant"].nunique(),
    }).reset_index()
    return out


# -- rating ------------------------------------------------------------------------


def _summary_row(node: Node, codes: list[str], segs: pd.DataFrame, indicators: pd.DataFrame,
                 survey: pd.DataFrame, rules: StrengthRules, statuses: tuple[str, ...],
                 judgement_rules: JudgementRules) -> dict[str, Any]:
    source_counts = segs["source_type"].value_counts().to_dict() if not segs.empty else {}
    survey_items = sorted(survey["item"].unique()) if not survey.empty else []
    if survey_items:
        source_counts[SURVEY_SOURCE] = len(survey_items)
    direction_counts = {d: int((segs["direction"] == d).sum()) if not segs.empty else 0
                        for d in ("supports", "challenges", "mixed")}
    metrics = {
        "segments": len(segs),
        "documents": segs["document_id"].nunique() if not segs.empty else 0,
        "participants": segs["participant"].nunique() if not segs.empty else 0,
        "cases": segs["case"].dropna().nunique() if not segs.empty else 0,
        "source_types": len(source_counts),
    }
    directed = sum(direction_counts.values())
    direction = overall_direction(direction_counts, rules.consistent_share)
    if metrics["segments"] and directed / metrics["segments"] < judgement_rules.min_directed_share:
        direction = "unclear"  # 3 directed segments of 34 say nothing about the other 31
    has_indicator_data = not indicators.empty and (indicators["status"] != "no data").any()
    gap = metrics["segments"] == 0 and not survey_items and not has_indicator_data
    rating, reason = rate(metrics, direction, direction_counts, rules)
    if metrics["segments"] == 0 and not survey_items:
        what = " or ".join(statuses)
        reason = (f"none: no {what} codings" + (" — no codes linked" if not codes else
                                                 f" of {', '.join(codes)}"))
        rating = "none"
    by_wave = (segs["wave"].value_counts().to_dict() if not segs.empty else {})
    indicator = indicator_state(list(indicators["status"]) if not indicators.empty else [])
    conflict = conflict_between(direction, indicator)
    verdict, judgement, rule = judge(rating, direction, indicator, bool(conflict), judgement_rules)
    if node.kind == "assumptions":
        judgement = as_assumption(judgement)  # an assumption holds or not; it is not "achieved"
    judgement_reason = _judgement_reason(judgement, rule, rating, direction, direction_counts, metrics["segments"],
                                         indicator, conflict)
    return {
        "node": node.id, "kind": KIND_SINGULAR[node.kind],
        "name": node.name, "term": node.term, "codes": codes, **{k: metrics[k] for k in
                                                                 ("segments", "documents", "participants", "cases")},
        "source_types": dict(sorted(source_counts.items())), "n_source_types": metrics["source_types"],
        **direction_counts, "directed": directed, "direction": direction,
        "by_wave": {w: int(by_wave[w]) for w in sorted(by_wave, key=period_key)},
        "strength": rating, "reason": reason, "indicator": indicator, "conflict": conflict,
        "verdict": verdict, "judgement": judgement, "judgement_reason": judgement_reason, "gap": bool(gap),
        "indicators": list(indicators["judgement"]) if not indicators.empty else [],
        "survey_items": survey_items,
    }


def _judgement_reason(judgement: str, rule: int | None, amount: str, direction: str, counts: dict[str, int],
                      segments: int, indicator: str, conflict: str) -> str:
    """The judgement with the three facts it was made from, as the report prints it.

    >>> _judgement_reason("mixed evidence", 6, "strong", "mixed", {"supports": 5, "challenges": 4, "mixed": 0},
    ...                   20, "none", "")
    'mixed evidence (rule 6): amount strong; direction mixed — 5 support, 4 challenge of 20 segments (9 carry a direction); no indicator'
    """
    directed = sum(counts.values())
    parts = [f"amount {amount}"]
    if segments:
        said = [f"{counts['supports']} support", f"{counts['challenges']} challenge"]
        if counts.get("mixed"):
            said.append(f"{counts['mixed']} mixed")
        parts.append(f"direction {direction} — {', '.join(said)} of {segments} segments ({directed} carry a direction)")
    parts.append("no indicator" if indicator == "none" else f"indicator {indicator}")
    if conflict:
        parts.append(f"conflict: {conflict}")
    where = f" (rule {rule})" if rule else ""
    return f"{judgement}{where}: " + "; ".join(parts)


def overall_direction(counts: dict[str, int], share: float = 0.8) -> str:
    """supports / challenges when one holds ``share`` of the directed segments, else mixed.

    ``unclear`` when no segment carries a direction.

    >>> overall_direction({"supports": 12, "challenges": 1, "mixed": 0})
    'supports'
    >>> overall_direction({"supports": 2, "challenges": 2, "mixed": 0})
    'mixed'
    """
    total = sum(counts.values())
    if total == 0:
        return "unclear"
    for direction in ("supports", "challenges"):
        if counts.get(direction, 0) / total >= share:
            return direction
    return "mixed"


def _meets(rule: StrengthRule, metrics: dict[str, int], direction: str) -> list[str]:
    """What ``rule`` still needs (empty when it is met)."""
    short = []
    for key, minimum in rule.minima.items():
        have = metrics[key.removeprefix("min_")]
        if have < minimum:
            short.append(f"needs {minimum} {key.removeprefix('min_').replace('_', ' ')} (has {have})")
    wanted = rule.direction
    ok = (wanted == "any" or (wanted == "consistent" and direction in ("supports", "challenges"))
          or wanted == direction)
    if not ok:
        short.append(f"needs direction {wanted} (is {direction})")
    return short


def rate(metrics: dict[str, int], direction: str, direction_counts: dict[str, int],
         rules: StrengthRules) -> tuple[str, str]:
    """How much evidence: the first rule met gives the rating; the reason shows the figures it used.

    >>> rate({"segments": 14, "documents": 9, "participants": 9, "cases": 3, "source_types": 4},
    ...      "challenges", {"supports": 0, "challenges": 12, "mixed": 0}, DEFAULT_STRENGTH_RULES)[1]
    'strong: 4 source types, 9 participants'
    """
    counts = ", ".join(f"{k} {v}" for k, v in direction_counts.items() if v or k != "mixed")
    consistent = "consistent" if direction in ("supports", "challenges") else direction
    for i, rule in enumerate(rules.rules):
        if _meets(rule, metrics, direction):
            continue
        figures = [f"{metrics[k.removeprefix('min_')]} {k.removeprefix('min_').replace('_', ' ')}"
                   for k in rule.minima]
        if rule.direction != "any":  # the amount alone, unless the rule asks for a direction
            figures.append(f"direction {consistent} ({counts})")
        reason = f"{rule.rating}: {', '.join(figures) or 'no minimum'}"
        if i > 0:  # say what kept it from the rating above
            above = rules.rules[i - 1]
            reason += f"; not {above.rating}: {'; '.join(_meets(above, metrics, direction))}"
        return rule.rating, reason
    return "none", f"none: no rule matched ({', '.join(f'{v} {k}' for k, v in metrics.items())})"

