"""Checks across nodes: links, cycles, thin outcomes, and the codebooks a ToC draws on.

They run after every node is read, so a link to a node defined further down is fine.
Each adds problems (or warnings) to the ``Checker``; none stops early.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from ..problems import Problem, did_you_mean
from .checker import Checker
from .model import KIND_SINGULAR, NODE_KINDS, Node


def check_links(check: Checker, nodes: list[Node]) -> None:
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


def _index(check: Checker, node: Node) -> int:
    """The node's position in its list, for line look-ups."""
    raw = check.doc.data.get(node.kind) or []
    for i, item in enumerate(raw):
        if isinstance(item, dict) and str(item.get("id")) == node.id:
            return i
    return 0


def check_cycles(check: Checker, nodes: list[Node]) -> None:
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


def warn_thin(check: Checker, nodes: list[Node]) -> None:
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
    from ..codebook import Codebook, load_codebook

    if not isinstance(codebook, Codebook):
        codebook = load_codebook(codebook)
    return codebook._file, [
        _CodeLink(c.id, tuple(c.outcomes), codebook.line_of(i, "outcomes") or codebook.line_of(i))
        for i, c in enumerate(codebook.codes)
    ]


def check_codebooks(check: Checker, nodes: list[Node], codebooks: list[Any]) -> None:
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
