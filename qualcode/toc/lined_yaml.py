r"""YAML with the line of every entry, so theory-of-change problems name their line.

>>> doc = parse_lined_yaml("id: toc\noutcomes:\n  - id: o1\n", "toc.yaml")
>>> doc.line(("outcomes", 0, "id"))
3
"""

from __future__ import annotations

from typing import Any, Iterable

import yaml

from ..errors import TocError
from ..yaml_lines import MAX_NESTING, MAX_NODES, expanded_nodes, flow_nesting, line_of, to_data


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
