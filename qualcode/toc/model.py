"""The theory-of-change model: node kinds, records and the YAML writer.

Pure data, no validation: ``load.py`` builds these from a file and ``dump_toc``
writes them back, so a loaded model and its dump round-trip.

>>> node = Node("o1", "Fewer re-referrals", "outcomes", codes=("rereferral",))
>>> TheoryOfChange("toc", "Demo", nodes={"o1": node}).outcomes[0].name
'Fewer re-referrals'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..judgements import DEFAULT_JUDGEMENT_RULES, JudgementRules
from ..problems import Problem

NODE_KINDS = ("inputs", "activities", "outputs", "outcomes", "impacts", "assumptions")
KIND_SINGULAR = {
    "inputs": "input", "activities": "activity", "outputs": "output",
    "outcomes": "outcome", "impacts": "impact", "assumptions": "assumption",
}
PLURAL = {singular: plural for plural, singular in KIND_SINGULAR.items()}
TERMS = ("short", "medium")
DIRECTIONS = ("up", "down")


@dataclass(frozen=True)
class Measure:
    """A value at a period, e.g. a baseline ``24`` in ``2022-23``."""

    value: float | None
    period: str | None = None


@dataclass(frozen=True)
class Indicator:
    """A quantitative measure of an outcome, judged against its baseline and target."""

    id: str
    name: str
    direction: str  # up | down: which way is better
    unit: str = ""
    baseline: Measure | None = None
    target: Measure | None = None
    source: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Node:
    """A box of the diagram: an input, activity, output, outcome, impact or assumption."""

    id: str
    name: str
    kind: str  # one of NODE_KINDS
    description: str = ""
    strand: str | None = None
    leads_to: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    indicators: tuple[Indicator, ...] = ()
    term: str | None = None  # outcomes: short | medium
    about: tuple[str, ...] = ()  # assumptions: the nodes they concern
    line: int | None = field(default=None, compare=False)  # where it was written, for messages


@dataclass(frozen=True)
class Strand:
    id: str
    name: str


@dataclass(frozen=True)
class StrengthRule:
    """``rating`` applies when every minimum in ``when`` is met (rules are tried in order)."""

    rating: str
    minima: dict[str, int] = field(default_factory=dict)
    direction: str = "any"  # consistent | any | supports | challenges

    def to_dict(self) -> dict[str, Any]:
        when: dict[str, Any] = dict(self.minima)
        if self.direction != "any":
            when["direction"] = self.direction
        return {"rating": self.rating, "when": when}


@dataclass(frozen=True)
class StrengthRules:
    """How much evidence there is: ordered rules; the first that matches gives the rating, else ``none``.

    The rating says nothing about which way the evidence points; that is the
    direction, and ``judgement_rules`` combine the two with the indicators.

    ``consistent_share``: direction is *consistent* when one of supports / challenges
    holds at least this share of the codings that carry a direction.
    """

    rules: tuple[StrengthRule, ...]
    consistent_share: float = 0.8


DEFAULT_STRENGTH_RULES = StrengthRules((
    StrengthRule("strong", {"min_source_types": 3, "min_participants": 5}),
    StrengthRule("moderate", {"min_source_types": 2, "min_participants": 3}),
    StrengthRule("weak", {"min_segments": 1}),
    StrengthRule("none", {}),
))


@dataclass
class TheoryOfChange:
    """A loaded, validated theory of change. Nodes keep the file's order."""

    id: str
    name: str
    version: str = ""
    description: str = ""
    strands: list[Strand] = field(default_factory=list)
    nodes: dict[str, Node] = field(default_factory=dict)
    strength_rules: StrengthRules = DEFAULT_STRENGTH_RULES
    judgement_rules: JudgementRules = DEFAULT_JUDGEMENT_RULES
    path: str | None = field(default=None, compare=False)
    warnings: list[Problem] = field(default_factory=list, compare=False)

    def node_ids(self) -> set[str]:
        """Every node id (inputs to assumptions): what codebook outcome links may name."""
        return set(self.nodes)

    def of_kind(self, kind: str) -> list[Node]:
        """The nodes of one kind (``"outcomes"`` or ``"outcome"``), in file order."""
        plural = kind if kind in NODE_KINDS else PLURAL.get(kind, kind)
        return [n for n in self.nodes.values() if n.kind == plural]

    @property
    def outcomes(self) -> list[Node]:
        return self.of_kind("outcomes")

    @property
    def impacts(self) -> list[Node]:
        return self.of_kind("impacts")

    @property
    def assumptions(self) -> list[Node]:
        return self.of_kind("assumptions")

    def indicators(self) -> dict[str, tuple[Node, Indicator]]:
        """Indicator id -> (node, indicator), across the whole ToC."""
        return {i.id: (n, i) for n in self.nodes.values() for i in n.indicators}

    def to_dict(self) -> dict[str, Any]:
        """Plain data in the YAML layout (what ``dump_toc`` writes)."""
        out: dict[str, Any] = {"id": self.id, "name": self.name}
        if self.version:
            out["version"] = self.version
        if self.description:
            out["description"] = self.description
        if self.strands:
            out["strands"] = [{"id": s.id, "name": s.name} for s in self.strands]
        for kind in NODE_KINDS:
            nodes = self.of_kind(kind)
            if nodes:
                out[kind] = [_node_dict(n) for n in nodes]
        if self.strength_rules != DEFAULT_STRENGTH_RULES:
            out["strength_rules"] = {
                "consistent_share": self.strength_rules.consistent_share,
                "rules": [r.to_dict() for r in self.strength_rules.rules],
            }
        if self.judgement_rules != DEFAULT_JUDGEMENT_RULES:
            out["judgement_rules"] = {
                "min_directed_share": self.judgement_rules.min_directed_share,
                "rules": [r.to_dict() for r in self.judgement_rules.rules],
            }
        return out


def _node_dict(node: Node) -> dict[str, Any]:
    out: dict[str, Any] = {"id": node.id, "name": node.name}
    if node.description:
        out["description"] = node.description
    if node.term:
        out["term"] = node.term
    if node.strand:
        out["strand"] = node.strand
    for key in ("leads_to", "codes", "about"):
        if getattr(node, key):
            out[key] = list(getattr(node, key))
    if node.indicators:
        out["indicators"] = [_indicator_dict(i) for i in node.indicators]
    return out


def _indicator_dict(ind: Indicator) -> dict[str, Any]:
    out: dict[str, Any] = {"id": ind.id, "name": ind.name, "direction": ind.direction}
    if ind.unit:
        out["unit"] = ind.unit
    for key in ("baseline", "target"):
        measure = getattr(ind, key)
        if measure is not None:
            out[key] = {k: v for k, v in (("period", measure.period), ("value", measure.value)) if v is not None}
    if ind.source:
        out["source"] = ind.source
    if ind.description:
        out["description"] = ind.description
    return out


def dump_toc(toc: TheoryOfChange, path: str | Path) -> Path:
    """Write ``toc`` as YAML; ``load_toc`` reads it back to an equal model."""
    path = Path(path)
    path.write_text(yaml.safe_dump(toc.to_dict(), sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path
