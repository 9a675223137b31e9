"""Codebook browser: the code tree with definitions, criteria and how much each code is used.

Codes come from the project (every loaded codebook) or from Codebook objects; the
inclusion and exclusion criteria and examples come from the codebook YAML (the project
keeps each loaded source, so nothing is lost by loading). Counts are codings per status,
so a researcher sees at a glance which codes the rules over-suggest, which are never
used, and which have been decided.

>>> CodebookBrowser(project)                                   # doctest: +SKIP
>>> CodebookBrowser(codebooks=[load_codebook("codebooks/signs_of_safety.yaml")])   # doctest: +SKIP
"""

from __future__ import annotations

import html
from typing import Sequence

import ipywidgets as widgets
import pandas as pd

from ..codebook import Code, Codebook, parse_codebook
from ..codebook_sync import loaded_versions
from ..errors import QualcodeError
from ..project import Project
from ..store import CODING_STATUSES
from .viewer import code_colours

INDENT = "\u2003"  # an em space per level: Select options keep it, unlike plain spaces


def stored_codebooks(project: Project) -> list[Codebook]:
    """The codebooks as last loaded into ``project``, parsed from their stored YAML."""
    with project.engine.connect() as conn:
        sources = loaded_versions(conn)
    books = []
    for codebook_id, (_version, source) in sources.items():
        try:
            books.append(parse_codebook(source, codebook_id))
        except QualcodeError:  # a source that no longer validates still has its codes table
            continue
    return books


def _codes_frame(books: Sequence[Codebook]) -> pd.DataFrame:
    rows = [{"key": c.id, "name": c.name, "parent_key": c.parent, "definition": c.definition,
             "colour": c.colour, "kind": c.kind, "codebook": b.id} for b in books for c in b.codes]
    return pd.DataFrame(rows, columns=["key", "name", "parent_key", "definition", "colour", "kind", "codebook"])


def code_tree(codes: pd.DataFrame) -> list[tuple[str, int]]:
    """``(key, depth)`` in tree order: each code followed by its children, codebook order.

    >>> code_tree(pd.DataFrame({"key": ["t", "b", "t.a"], "parent_key": [None, None, "t"]}))
    [('t', 0), ('t.a', 1), ('b', 0)]
    """
    keys = list(codes["key"])
    parents = {k: (p if isinstance(p, str) and p in keys else None) for k, p in zip(keys, codes["parent_key"])}
    children: dict[str | None, list[str]] = {}
    for key in keys:
        children.setdefault(parents[key], []).append(key)
    order: list[tuple[str, int]] = []
    stack = [(k, 0) for k in reversed(children.get(None, []))]
    seen: set[str] = set()
    while stack:
        key, depth = stack.pop()
        if key in seen:  # a cycle cannot come from a validated codebook; never loop on one
            continue
        seen.add(key)
        order.append((key, depth))
        stack += [(k, depth + 1) for k in reversed(children.get(key, []))]
    return order


def coding_counts(project: Project | None) -> pd.DataFrame:
    """Codings per code and status (columns suggested, accepted, rejected), 0 when none."""
    if project is None:
        return pd.DataFrame(columns=list(CODING_STATUSES))
    codings = project.codings()
    table = pd.crosstab(codings["code"], codings["status"]) if not codings.empty else pd.DataFrame()
    return table.reindex(columns=list(CODING_STATUSES), fill_value=0)


class CodebookBrowser(widgets.HBox):
    """The code tree on the left, the chosen code's definition, criteria and counts on the right.

    ``table()`` gives the same as a DataFrame; ``select(key)`` shows a code.
    """

    def __init__(self, project: Project | None = None, codebooks: Sequence[Codebook] = ()):
        if project is None and not codebooks:
            raise ValueError("CodebookBrowser needs a project or at least one codebook")
        self.project = project
        self.books = list(codebooks) or stored_codebooks(project)
        self.details: dict[str, Code] = {c.id: c for b in self.books for c in b.codes}
        self.codes = project.codes() if project is not None else _codes_frame(self.books)
        self.colours = code_colours(self.codes)
        self.find = widgets.Text(placeholder="filter codes", description="Filter", continuous_update=True)
        self.tree = widgets.Select(rows=18, layout=widgets.Layout(width="28em"))
        self.detail = widgets.HTML(layout=widgets.Layout(flex="1 1 0%", margin="0 0 0 1em"))
        self.find.observe(lambda _c: self._fill_tree(), names="value")
        self.tree.observe(lambda _c: self._show(), names="value")
        super().__init__([widgets.VBox([self.find, self.tree]), self.detail])
        self._fill_tree()

    def table(self) -> pd.DataFrame:
        """One row per code in tree order: key, name, depth, kind, counts per status."""
        counts = coding_counts(self.project)
        info = self.codes.set_index("key")
        rows = []
        for key, depth in code_tree(self.codes):
            row = {"key": key, "name": info.at[key, "name"], "depth": depth, "kind": info.at[key, "kind"]}
            for status in CODING_STATUSES:
                row[status] = int(counts.at[key, status]) if key in counts.index else 0
            rows.append(row)
        return pd.DataFrame(rows, columns=["key", "name", "depth", "kind", *CODING_STATUSES])

    def _fill_tree(self) -> None:
        wanted = self.find.value.strip().lower()
        table = self.table()
        options = []
        for row in table.itertuples(index=False):
            text = f"{row.key} {row.name} {getattr(self.details.get(row.key), 'definition', '')}".lower()
            if wanted and wanted not in text:
                continue
            used = f"  ({row.accepted} accepted, {row.suggested} suggested)" if self.project is not None else ""
            options.append((f"{INDENT * row.depth}{row.name}{used}", row.key))
        current = self.tree.value
        self.tree.options = options
        keys = [k for _, k in options]
        self.tree.value = current if current in keys else (keys[0] if keys else None)
        self._show()

    def select(self, key: str) -> None:
        """Show code ``key`` (clearing the filter if it hides it)."""
        if key not in [k for _, k in self.tree.options]:
            self.find.value = ""
        self.tree.value = key

    def _show(self) -> None:
        key = self.tree.value
        if key is None:
            self.detail.value = "<i>No code matches the filter.</i>"
            return
        row = self.codes.set_index("key").loc[key]
        code = self.details.get(key)
        parts = [f"<h4 style='border-left: 6px solid {self.colours[key]}; padding-left: .4em'>"
                 f"{html.escape(str(row['name']))} <code>{html.escape(key)}</code></h4>",
                 f"<p>{html.escape(str(row['definition'] or '(no definition)'))}</p>"]
        if code is not None:
            for title, items in (("Include when", code.include), ("Exclude when", code.exclude),
                                 ("Examples", code.examples)):
                if items:
                    listed = "".join(f"<li>{html.escape(i)}</li>" for i in items)
                    parts.append(f"<b>{title}</b><ul>{listed}</ul>")
            if code.outcomes:
                parts.append(f"<b>Evidence for outcomes</b>: {html.escape(', '.join(code.outcomes))}")
        if self.project is not None:
            counts = self.table().set_index("key").loc[key]
            cells = "".join(f"<td>{status}</td><td><b>{int(counts[status])}</b></td>" for status in CODING_STATUSES)
            parts.append(f"<table><tr>{cells}</tr></table>")
        self.detail.value = "".join(parts)
