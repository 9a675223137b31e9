"""Reading YAML as plain data while remembering the line of every key and item.

Codebooks and theories of change are YAML that researchers edit by hand; a problem is
only useful with its line. PyYAML's composed nodes carry their marks, so we walk them
once, keeping a ``{path: line}`` map (a path is a tuple such as
``("codes", 0, "match", "keywords")``) beside the data.

>>> loader = Loader("codes:\\n  - id: a\\n  - id: b\\n")
>>> lines = {}
>>> to_data(loader.get_single_node(), loader, (), lines), line_of(lines, ("codes", 1, "name"))
({'codes': [{'id': 'a'}, {'id': 'b'}]}, 3)
"""

from __future__ import annotations

import re
from typing import Any

import yaml

YamlPath = tuple  # a path into the YAML tree, e.g. ("codes", 0, "children", 2, "match")

# libyaml's parser is ~15x faster and gives the same nodes and marks; pure Python otherwise.
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_NESTING = 100  # [ and { deeper than this are an attack or an accident, never a codebook
# Nodes once every alias is expanded. The largest shipped codebook has about 4,000; a
# "billion laughs" of aliases (a few hundred bytes) would expand to 10**9.
MAX_NODES = 200_000
_BRACKETS = re.compile(r"[\[\]{}]")
_NULL = "tag:yaml.org,2002:null"
# Keys whose values keep YAML's types: spaCy Matcher patterns need true, 3 and so on.
TYPED_KEYS = ("patterns",)


def flow_nesting(text: str) -> int:
    """The deepest nesting of YAML flow brackets, found before the (slow, recursive) parser runs.

    >>> flow_nesting("a: [1, {b: [2]}]"), flow_nesting("[" * 500)
    (3, 500)
    """
    depth = deepest = 0
    for bracket in _BRACKETS.findall(text):
        depth = depth + 1 if bracket in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest


def expanded_nodes(root: yaml.Node, limit: int = MAX_NODES) -> int | None:
    """How many nodes ``root`` holds with every alias expanded, or None when over ``limit``.

    Counted on the composed graph, where an alias is a shared node, so the count costs
    one visit per distinct node however large the expansion. A node that contains
    itself (``&a [*a]``) expands without end: None.

    >>> loader = Loader("a: &x [1, 2]\\nb: [*x, *x, *x]\\n")
    >>> expanded_nodes(loader.get_single_node())
    16
    >>> bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\\n" + "".join(
    ...     f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\\n" for p, c in zip("abcdefgh", "bcdefghi"))
    >>> expanded_nodes(Loader(bomb).get_single_node()) is None
    True
    """
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in children)
            if sizes[key] > limit:
                return None
            continue
        if key in sizes:
            continue
        if key in on_path:
            return None  # a node inside itself
        on_path.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in on_path:
                return None
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def to_data(node: yaml.Node, loader: yaml.SafeLoader, path: YamlPath, lines: dict, typed: bool = False) -> Any:
    """Plain data from a composed YAML node, recording the line of every node by path.

    Scalars become the text as written (so ``1.0`` stays ``"1.0"``) unless ``typed``;
    pydantic then coerces ``"true"`` or ``"88"`` where the model wants a bool or number.
    A key written twice is recorded at ``path + ("__duplicate__", key)``.
    """
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            lines[path + (key,)] = key_node.start_mark.line + 1
            if key in out:
                lines[path + ("__duplicate__", key)] = key_node.start_mark.line + 1
            out[key] = to_data(value_node, loader, path + (key,), lines, typed or key in TYPED_KEYS)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [to_data(item, loader, path + (i,), lines, typed) for i, item in enumerate(node.value)]
    if typed:
        return loader.construct_object(node, deep=True)
    return None if node.tag == _NULL else node.value


def line_of(lines: dict[YamlPath, int], path: YamlPath) -> int | None:
    """The line of ``path``, or of its nearest recorded ancestor."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())
