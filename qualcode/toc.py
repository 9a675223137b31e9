"""Theory of change: the YAML model, its loader and its validation.

A theory of change (or logic model) is a YAML file a researcher edits and diffs in
git: inputs → activities → outputs → outcomes (short / medium term) → impacts, with
assumptions beside them, optional strands grouping nodes into bands, codes linked
from this side, and indicators with a baseline and a target. Loading validates the
whole file and raises every problem at once, each with the file, the line and a fix.

>>> toc = load_toc("codebooks/toc_whole_family.yaml")     # doctest: +SKIP
>>> sorted(toc.node_ids())[:2]                            # doctest: +SKIP
['act_assertive_worker', 'act_co_location']
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from .problems import Problem, did_you_mean
from .yaml_lines import MAX_NESTING, MAX_NODES, expanded_nodes, flow_nesting, line_of, to_data
from .errors import TocError, ValidationProblems
from .judgements import DEFAULT_JUDGEMENT_RULES, JudgementRules, parse_judgement_rules

NODE_KINDS = ("inputs", "activities", "outputs", "outcomes", "impacts", "assumptions")
KIND_SINGULAR = {
    "inputs": "input", "activities": "activity", "outputs": "output",
    "outcomes": "outcome", "impacts": "impact", "assumptions": "assumption",
}
PLURAL = {singular: plural for plural, singular in KIND_SINGULAR.items()}
TERMS = ("short", "medium")
DIRECTIONS = ("up", "down")
RATINGS = ("strong", "moderate", "weak", "none")
RULE_DIRECTIONS = ("consistent", "any", "supports", "challenges")
RULE_MINIMA = ("min_segments", "min_documents", "min_participants", "min_cases", "min_source_types")

TOP_KEYS = ("id", "name", "version", "description", "strands", *NODE_KINDS, "strength_rules", "judgement_rules")
NODE_KEYS = ("id", "name", "description", "strand", "leads_to", "codes", "indicators")
KEYS_BY_KIND = {
    kind: NODE_KEYS + (("term",) if kind == "outcomes" else ()) + (("about",) if kind == "assumptions" else ())
    for kind in NODE_KINDS
}
INDICATOR_KEYS = ("id", "name", "description", "unit", "direction", "baseline", "target", "source")
MEASURE_KEYS = ("period", "value")


# -- records -------------------------------------------------------------------


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


# -- YAML with line numbers ----------------------------------------------------


class LinedYaml:
    """YAML parsed to plain data (scalars as written), with the line of every entry.

    Uses the codebook's reader, so both files report lines the same way;
    ``line(("outcomes", 2, "leads_to"))`` falls back to the nearest parent.
    """

    def __init__(self, data: Any, lines: dict[tuple, int]):
        self.data = data
        self.lines = lines

    def line(self, path: Iterable) -> int | None:
        return line_of(self.lines, tuple(path)) or 1

    def duplicates(self) -> list[tuple[str, int]]:
        """(key, line) of every key written twice in one block (YAML keeps the last)."""
        return [(p[-1], line) for p, line in self.lines.items() if len(p) >= 2 and p[-2] == "__duplicate__"]


def parse_lined_yaml(text: str, file: str) -> LinedYaml:
    """Parse YAML safely, keeping line numbers; a syntax error becomes a ``TocError``."""
    if flow_nesting(text) > MAX_NESTING:
        raise TocError(file, "the YAML is nested too deeply to be a theory of change",
                       "check this is the file you meant; outcomes nest a few levels at most")
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = str(mark.line + 1) if mark else None
        raise TocError(file, f"not valid YAML ({getattr(exc, 'problem', None) or exc})",
                       "fix the indentation or quoting at that line", where=where) from exc
    except RecursionError:  # thousands of nested [ or {: refuse, never crash
        raise TocError(file, "the YAML is nested too deeply to be a theory of change",
                       "check this is the file you meant; outcomes nest a few levels at most") from None
    finally:
        loader.dispose()
    if root is not None and expanded_nodes(root) is None:
        raise TocError(file, f"its aliases (*name) expand to over {MAX_NODES:,} entries, or into themselves: "
                       "no theory of change is that large, so this is damage or an attack",
                       "write the outcomes out, or use an alias only for a short list")
    lines: dict[tuple, int] = {}
    try:
        data = to_data(root, loader, (), lines) if root is not None else None
    except RecursionError:
        raise TocError(file, "the YAML is nested too deeply to be a theory of change",
                       "check this is the file you meant; outcomes nest a few levels at most") from None
    return LinedYaml(data, lines)


# -- validation ----------------------------------------------------------------


class _Checker:
    """Collects problems for one file; every check adds to the list, none stops early."""

    def __init__(self, file: str, doc: LinedYaml):
        self.file = file
        self.doc = doc
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def add(self, path: Iterable, message: str, fix: str) -> None:
        self.problems.append(Problem(self.file, self.doc.line(path), message, fix))

    def warn(self, path: Iterable, message: str, fix: str) -> None:
        self.warnings.append(Problem(self.file, self.doc.line(path), message, fix))

    def unknown_keys(self, mapping: dict, allowed: Iterable[str], path: tuple, what: str) -> None:
        allowed = list(allowed)
        for key in mapping:
            if key not in allowed:
                self.add(path + (key,), f"unknown key {key!r} in {what}", did_you_mean(str(key), allowed))

    def text(self, mapping: dict, key: str, path: tuple, what: str, required: bool = False) -> str | None:
        value = mapping.get(key)
        if value is None:
            if required:
                self.add(path, f"{what} has no {key!r}", f"add `{key}:` to it")
            return None
        if isinstance(value, (dict, list)):
            self.add(path + (key,), f"{key!r} of {what} must be text, not a {type(value).__name__}",
                     f"write `{key}: some text`")
            return None
        return str(value)

    def id_list(self, mapping: dict, key: str, path: tuple, what: str) -> list[str]:
        value = mapping.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]  # a single id is a common shorthand
        if not isinstance(value, list) or any(isinstance(v, (dict, list)) for v in value):
            self.add(path + (key,), f"{key!r} of {what} must be a list of ids", f"write `{key}: [id_one, id_two]`")
            return []
        return [str(v) for v in value]

    def number(self, value: Any, path: tuple, what: str) -> float | None:
        """A finite number; scalars arrive as the text written, so ``"24"`` is 24."""
        try:
            number = float(str(value).strip())
        except ValueError:
            number = math.nan
        if isinstance(value, (dict, list)) or not math.isfinite(number):
            self.add(path, f"{what} must be a number, not {value!r}", "write a plain number, e.g. `value: 24`")
            return None
        return number


def _read_text(path: Path) -> str:
    if not path.exists():
        raise TocError(path, "no such theory-of-change file", "check the path")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TocError(path, f"not UTF-8 text (byte {exc.start})", "save the file as UTF-8") from exc


def check_toc(path: str | Path, codebook: Any = None) -> tuple[TheoryOfChange | None, list[Problem], list[Problem]]:
    """Validate a ToC file: ``(model or None when it has errors, errors, warnings)``.

    Warnings (an outcome with no code and no indicator, an isolated node) do not stop
    the model being built. ``codebook`` (a path or loaded codebook, or a list of them:
    a ToC often draws on several) adds the cross-checks: codes the ToC names exist in
    one of them; their outcome links name ToC nodes.
    """
    path = Path(path)
    file = str(path)
    doc = parse_lined_yaml(_read_text(path), file)
    check = _Checker(file, doc)
    for key, line in doc.duplicates():
        check.problems.append(Problem(file, line, f"key {key!r} appears twice in the same block",
                                      "keep one of them; YAML silently drops the first"))
    data = doc.data
    if not isinstance(data, dict):
        check.add((), "the file does not hold a theory of change (expected a mapping with id, name, outcomes …)",
                  "start the file with `id:`, `name:` and node lists such as `outcomes:`")
        raise ValidationProblems(file, check.problems)
    check.unknown_keys(data, TOP_KEYS, (), "the theory of change")
    toc_id = check.text(data, "id", (), "the theory of change", required=True) or ""
    name = check.text(data, "name", (), "the theory of change", required=True) or ""
    strands = _strands(check, data)
    nodes = _nodes(check, data, {s.id for s in strands})
    rules = _strength_rules(check, data.get("strength_rules"))
    judgements = parse_judgement_rules(check, data.get("judgement_rules"))
    _check_links(check, nodes)
    _check_cycles(check, nodes)
    _warn_thin(check, nodes)
    if codebook is not None:
        books = list(codebook) if isinstance(codebook, (list, tuple)) else [codebook]
        if books:
            _check_codebooks(check, nodes, books)
    errors = sorted(check.problems, key=lambda p: p.line or 0)
    warnings = sorted(check.warnings, key=lambda p: p.line or 0)
    if errors:
        return None, errors, warnings
    toc = TheoryOfChange(
        id=toc_id, name=name, version=str(data.get("version") or ""),
        description=str(data.get("description") or ""), strands=strands,
        nodes={n.id: n for n in nodes}, strength_rules=rules, judgement_rules=judgements, path=file,
        warnings=warnings,
    )
    return toc, errors, warnings


def load_toc(path: str | Path, codebook: Any = None) -> TheoryOfChange:
    """Load and validate a theory of change; raises ``ValidationProblems`` listing every error.

    >>> toc = load_toc("codebooks/toc_four_strand.yaml")     # doctest: +SKIP
    >>> "direct_work_up" in toc.node_ids()                    # doctest: +SKIP
    True
    """
    toc, errors, _warnings = check_toc(path, codebook)
    if toc is None:
        raise ValidationProblems(str(path), errors)
    return toc


def _strands(check: _Checker, data: dict) -> list[Strand]:
    raw = data.get("strands") or []
    if not isinstance(raw, list):
        check.add(("strands",), "'strands' must be a list", "write `strands:` then `- {id: ..., name: ...}` items")
        return []
    out, seen = [], set()
    for i, item in enumerate(raw):
        path = ("strands", i)
        if not isinstance(item, dict):
            check.add(path, "a strand must be a mapping with id and name", "write `- {id: analytics, name: Analytics}`")
            continue
        check.unknown_keys(item, ("id", "name", "description"), path, "a strand")
        sid = check.text(item, "id", path, "a strand", required=True)
        if sid is None:
            continue
        if sid in seen:
            check.add(path + ("id",), f"strand id {sid!r} is used twice", "give each strand its own id")
        seen.add(sid)
        out.append(Strand(sid, check.text(item, "name", path, f"strand {sid!r}") or sid))
    return out


def _nodes(check: _Checker, data: dict, strand_ids: set[str]) -> list[Node]:
    nodes: list[Node] = []
    seen: dict[str, int | None] = {}
    indicator_seen: set[str] = set()
    for kind in NODE_KINDS:
        raw = data.get(kind)
        if raw is None:
            continue
        if not isinstance(raw, list):
            check.add((kind,), f"{kind!r} must be a list of nodes", f"write `{kind}:` then `- id: ...` items")
            continue
        for i, item in enumerate(raw):
            node = _node(check, kind, i, item, strand_ids, indicator_seen)
            if node is None:
                continue
            if node.id in seen:
                check.add((kind, i, "id"), f"id {node.id!r} is used twice (first at line {seen[node.id]})",
                          "give every node its own id")
                continue
            seen[node.id] = node.line
            nodes.append(node)
    if not any(n.kind == "outcomes" for n in nodes):
        check.add((), "the theory of change has no outcomes", "add an `outcomes:` list; evidence is judged per outcome")
    return nodes


def _node(check: _Checker, kind: str, i: int, item: Any, strand_ids: set[str],
          indicator_seen: set[str]) -> Node | None:
    path = (kind, i)
    what = f"{KIND_SINGULAR[kind]} {i + 1}"
    if not isinstance(item, dict):
        check.add(path, f"{what} must be a mapping with id and name", "write `- id: some_id` then `name: ...`")
        return None
    check.unknown_keys(item, KEYS_BY_KIND[kind], path, f"{KIND_SINGULAR[kind]} {i + 1}")
    node_id = check.text(item, "id", path, what, required=True)
    if node_id is None:
        return None
    what = f"{KIND_SINGULAR[kind]} {node_id!r}"
    name = check.text(item, "name", path, what, required=True) or node_id
    strand = check.text(item, "strand", path, what)
    if strand is not None and strand not in strand_ids:
        known = ", ".join(sorted(strand_ids)) or "none are defined"
        check.add(path + ("strand",), f"{what} names unknown strand {strand!r}",
                  f"use a strand id from `strands:` ({known})")
    term = check.text(item, "term", path, what)
    if term is not None and term not in TERMS:
        check.add(path + ("term",), f"{what} has term {term!r}",
                  "use short or medium (long-term change belongs under impacts)")
    indicators = _indicators(check, item.get("indicators"), path + ("indicators",), what, indicator_seen)
    return Node(
        id=node_id, name=name, kind=kind,
        description=check.text(item, "description", path, what) or "",
        strand=strand, leads_to=tuple(check.id_list(item, "leads_to", path, what)),
        codes=tuple(check.id_list(item, "codes", path, what)),
        indicators=tuple(indicators), term=term if term in TERMS else None,
        about=tuple(check.id_list(item, "about", path, what)), line=check.doc.line(path),
    )


def _indicators(check: _Checker, raw: Any, path: tuple, owner: str, seen: set[str]) -> list[Indicator]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        check.add(path, f"'indicators' of {owner} must be a list", "write `indicators:` then `- id: ...` items")
        return []
    out = []
    for i, item in enumerate(raw):
        ipath = path + (i,)
        if not isinstance(item, dict):
            check.add(ipath, f"indicator {i + 1} of {owner} must be a mapping", "give it id, name, direction, baseline")
            continue
        check.unknown_keys(item, INDICATOR_KEYS, ipath, "an indicator")
        ind_id = check.text(item, "id", ipath, f"indicator {i + 1} of {owner}", required=True)
        if ind_id is None:
            continue
        what = f"indicator {ind_id!r}"
        if ind_id in seen:
            check.add(ipath + ("id",), f"{what} is defined twice", "give each indicator its own id")
        seen.add(ind_id)
        direction = check.text(item, "direction", ipath, what, required=True)
        if direction is not None and direction not in DIRECTIONS:
            check.add(ipath + ("direction",), f"{what} has direction {direction!r}",
                      "use up (higher is better) or down (lower is better)")
        out.append(Indicator(
            id=ind_id, name=check.text(item, "name", ipath, what, required=True) or ind_id,
            direction=direction if direction in DIRECTIONS else "up",
            unit=check.text(item, "unit", ipath, what) or "",
            baseline=_measure(check, item, "baseline", ipath, what),
            target=_measure(check, item, "target", ipath, what),
            source=check.text(item, "source", ipath, what),
            description=check.text(item, "description", ipath, what) or "",
        ))
    return out


def _measure(check: _Checker, item: dict, key: str, path: tuple, what: str) -> Measure | None:
    raw = item.get(key)
    if raw is None:
        return None
    mpath = path + (key,)
    if not isinstance(raw, dict):
        check.add(mpath, f"{key} of {what} must be a mapping", f"write `{key}: {{period: 2022-23, value: 24}}`")
        return None
    check.unknown_keys(raw, MEASURE_KEYS, mpath, f"a {key}")
    if raw.get("value") is None:
        check.add(mpath, f"{key} of {what} has no value", f"add `value:` (a number) to the {key}")
        return None
    value = check.number(raw["value"], mpath + ("value",), f"{key} value of {what}")
    period = raw.get("period")
    return Measure(value, None if period is None else str(period))


def _strength_rules(check: _Checker, raw: Any) -> StrengthRules:
    if raw is None:
        return DEFAULT_STRENGTH_RULES
    path = ("strength_rules",)
    share = DEFAULT_STRENGTH_RULES.consistent_share
    if isinstance(raw, dict):
        check.unknown_keys(raw, ("consistent_share", "rules"), path, "strength_rules")
        if "consistent_share" in raw:
            value = check.number(raw["consistent_share"], path + ("consistent_share",), "consistent_share")
            if value is not None and not 0.5 < value <= 1:
                check.add(path + ("consistent_share",), f"consistent_share {value:g} is outside (0.5, 1]",
                          "use a share such as 0.8 (four in five directed codings point one way)")
            elif value is not None:
                share = value
        items, path = raw.get("rules"), path + ("rules",)
    else:
        items = raw
    if not isinstance(items, list) or not items:
        check.add(path, "strength rules must be a non-empty list",
                  "write `- rating: strong` with `when: {min_source_types: 3, ...}` items, strongest first")
        return DEFAULT_STRENGTH_RULES
    rules = []
    for i, item in enumerate(items):
        rpath = path + (i,)
        if not isinstance(item, dict):
            check.add(rpath, f"strength rule {i + 1} must be a mapping", "give it `rating:` and `when:`")
            continue
        check.unknown_keys(item, ("rating", "when"), rpath, "a strength rule")
        rating = str(item.get("rating"))
        if rating not in RATINGS:
            check.add(rpath + ("rating",), f"strength rule {i + 1} has rating {item.get('rating')!r}",
                      f"use one of: {', '.join(RATINGS)}")
        when = item.get("when") or {}
        if not isinstance(when, dict):
            check.add(rpath + ("when",), f"'when' of strength rule {i + 1} must be a mapping",
                      "write `when: {min_participants: 5}`")
            continue
        check.unknown_keys(when, RULE_MINIMA + ("direction",), rpath + ("when",), "a strength rule's 'when'")
        minima = {}
        for key in when:  # the file's order, so the reason reads as the rule was written
            if key in RULE_MINIMA:
                value = str(when[key]).strip()
                if not value.isdigit():
                    check.add(rpath + ("when", key), f"{key} must be a whole number ≥ 0, not {when[key]!r}",
                              f"write `{key}: 3`")
                else:
                    minima[key] = int(value)
        direction = str(when.get("direction", "any"))
        if direction not in RULE_DIRECTIONS:
            check.add(rpath + ("when", "direction"), f"strength rule direction {direction!r} is not known",
                      f"use one of: {', '.join(RULE_DIRECTIONS)}")
            direction = "any"
        rules.append(StrengthRule(rating, minima, direction))
    return StrengthRules(tuple(rules), share)


def _check_links(check: _Checker, nodes: list[Node]) -> None:
    by_id = {n.id: n for n in nodes}
    order = {kind: i for i, kind in enumerate(NODE_KINDS)}
    for node in nodes:
        path = (node.kind, _index(check, node))
        for target in node.leads_to:
            if target not in by_id:
                check.add(path + ("leads_to",), f"{node.id!r} leads to unknown id {target!r}",
                          did_you_mean(target, by_id, "use the id of a node defined in this file"))
            elif by_id[target].kind == "assumptions":
                check.add(path + ("leads_to",), f"{node.id!r} leads to assumption {target!r}",
                          f"link the assumption the other way: `about: [{node.id}]` under {target!r}")
            elif target == node.id:
                check.add(path + ("leads_to",), f"{node.id!r} leads to itself", "remove it from its own leads_to")
            elif node.kind == "assumptions":
                check.add(path + ("leads_to",), f"assumption {node.id!r} has leads_to",
                          "use `about: [ids]` for the nodes an assumption concerns")
            elif order[by_id[target].kind] < order[node.kind]:
                check.warn(path + ("leads_to",), f"{KIND_SINGULAR[node.kind]} "
                           f"{node.id!r} leads back to {KIND_SINGULAR[by_id[target].kind]} {target!r}",
                           "links run inputs → activities → outputs → outcomes → impacts; reverse or remove it")
        for target in node.about:
            if target not in by_id:
                check.add(path + ("about",), f"assumption {node.id!r} is about unknown id {target!r}",
                          did_you_mean(target, by_id, "use the id of a node defined in this file"))


def _index(check: _Checker, node: Node) -> int:
    """The node's position in its list, for line look-ups."""
    raw = check.doc.data.get(node.kind) or []
    for i, item in enumerate(raw):
        if isinstance(item, dict) and str(item.get("id")) == node.id:
            return i
    return 0


def _check_cycles(check: _Checker, nodes: list[Node]) -> None:
    """Report each cycle in leads_to once, as the chain of ids that closes it."""
    graph = {n.id: [t for t in n.leads_to if t != n.id] for n in nodes}
    colour: dict[str, int] = {}  # 1 = on the current path, 2 = done
    reported: set[frozenset] = set()

    def visit(start: str) -> None:
        stack: list[tuple[str, Iterable[str]]] = [(start, iter(graph.get(start, ())))]
        path = [start]
        colour[start] = 1
        while stack:
            node_id, children = stack[-1]
            nxt = next(children, None)
            if nxt is None:
                colour[node_id] = 2
                stack.pop()
                path.pop()
                continue
            if nxt not in graph:
                continue
            if colour.get(nxt) == 1:
                cycle = path[path.index(nxt):] + [nxt]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    node = next(n for n in nodes if n.id == cycle[0])
                    check.add((node.kind, _index(check, node), "leads_to"),
                              f"leads_to forms a cycle: {' → '.join(cycle)}",
                              "a theory of change flows one way; remove one link of the cycle")
            elif nxt not in colour:
                colour[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(graph[nxt])))

    for node in nodes:
        if node.id not in colour:
            visit(node.id)


def _warn_thin(check: _Checker, nodes: list[Node]) -> None:
    """Warnings, not errors: a draft ToC is often written before its codebook."""
    incoming = {t for n in nodes for t in n.leads_to}
    for node in nodes:
        path = (node.kind, _index(check, node))
        if node.kind == "outcomes" and not node.codes and not node.indicators:
            check.warn(path, f"outcome {node.id!r} is linked to no code and no indicator",
                       "list `codes:` here (or link codes to it from the codebook) or add an indicator; "
                       "otherwise it will show as a gap")
        if node.kind != "assumptions" and not node.leads_to and node.id not in incoming:
            check.warn(path, f"{KIND_SINGULAR[node.kind]} {node.id!r} is not linked to any other node",
                       "add `leads_to:` here or point another node at it")


# -- codebook cross-check --------------------------------------------------------


@dataclass(frozen=True)
class _CodeLink:
    id: str
    outcomes: tuple[str, ...]
    line: int | None


def _codebook_codes(codebook: Any) -> tuple[str, list[_CodeLink]]:
    """(file, codes with their outcome links) from a loaded ``Codebook`` or a path to one."""
    from .codebook import Codebook, load_codebook

    if not isinstance(codebook, Codebook):
        codebook = load_codebook(codebook)
    return codebook._file, [
        _CodeLink(c.id, tuple(c.outcomes), codebook.line_of(i, "outcomes") or codebook.line_of(i))
        for i, c in enumerate(codebook.codes)
    ]


def _check_codebooks(check: _Checker, nodes: list[Node], codebooks: list[Any]) -> None:
    loaded = [_codebook_codes(cb) for cb in codebooks]
    code_ids = {c.id for _, codes in loaded for c in codes}
    names = ", ".join(Path(f).name for f, _ in loaded)
    node_ids = {n.id for n in nodes}
    for node in nodes:
        for code in node.codes:
            if code not in code_ids:
                check.add((node.kind, _index(check, node), "codes"),
                          f"{node.id!r} links code {code!r}, which {names} does not define",
                          did_you_mean(code, code_ids, "add the code to the codebook or correct the id"))
    for cb_file, codes in loaded:
        for code in codes:
            for target in code.outcomes:
                if target not in node_ids:
                    check.problems.append(Problem(
                        cb_file, code.line,
                        f"code {code.id!r} links outcome {target!r}, which {Path(check.file).name} does not define",
                        did_you_mean(target, node_ids, f"add the node to {Path(check.file).name} or correct the id")))
    # Outcomes linked from the codebook side are not thin after all.
    linked = {t for _, codes in loaded for c in codes for t in c.outcomes}
    check.warnings = [w for w in check.warnings
                      if not any(w.message == f"outcome {n!r} is linked to no code and no indicator"
                                 for n in linked)]
