"""Loading a theory of change: read the file, build the model, collect every problem.

``check_toc`` returns the model with its errors and warnings; ``load_toc`` raises
``ValidationProblems`` listing every error, each with the file, the line and a fix.

>>> toc = load_toc("codebooks/toc_four_strand.yaml")
>>> "direct_work_time" in toc.node_ids()
True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import TocError, ValidationProblems
from ..judgements import parse_judgement_rules
from ..problems import Problem
from .checker import Checker
from .lined_yaml import parse_lined_yaml
from .links import check_codebooks, check_cycles, check_links, warn_thin
from .model import DIRECTIONS, KIND_SINGULAR, NODE_KINDS, TERMS, Indicator, Measure, Node, Strand, TheoryOfChange
from .strength_rules import parse_strength_rules

TOP_KEYS = ("id", "name", "version", "description", "strands", *NODE_KINDS, "strength_rules", "judgement_rules")
NODE_KEYS = ("id", "name", "description", "strand", "leads_to", "codes", "indicators")
KEYS_BY_KIND = {
    kind: NODE_KEYS + (("term",) if kind == "outcomes" else ()) + (("about",) if kind == "assumptions" else ())
    for kind in NODE_KINDS
}
INDICATOR_KEYS = ("id", "name", "description", "unit", "direction", "baseline", "target", "source")
MEASURE_KEYS = ("period", "value")


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
    check = Checker(file, doc)
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
    rules = parse_strength_rules(check, data.get("strength_rules"))
    judgements = parse_judgement_rules(check, data.get("judgement_rules"))
    check_links(check, nodes)
    check_cycles(check, nodes)
    warn_thin(check, nodes)
    if codebook is not None:
        books = list(codebook) if isinstance(codebook, (list, tuple)) else [codebook]
        if books:
            check_codebooks(check, nodes, books)
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
    >>> "direct_work_time" in toc.node_ids()                  # doctest: +SKIP
    True
    """
    toc, errors, _warnings = check_toc(path, codebook)
    if toc is None:
        raise ValidationProblems(str(path), errors)
    return toc


def _strands(check: Checker, data: dict) -> list[Strand]:
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


def _nodes(check: Checker, data: dict, strand_ids: set[str]) -> list[Node]:
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


def _node(check: Checker, kind: str, i: int, item: Any, strand_ids: set[str],
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


def _indicators(check: Checker, raw: Any, path: tuple, owner: str, seen: set[str]) -> list[Indicator]:
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


def _measure(check: Checker, item: dict, key: str, path: tuple, what: str) -> Measure | None:
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
