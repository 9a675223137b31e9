"""Codebook browser: the code tree with definitions, criteria, colours, memos and usage.

Codes come from the project (every loaded codebook) or from Codebook objects; the
inclusion and exclusion criteria and examples come from the codebook YAML (the project
keeps each loaded source, so nothing is lost by loading). Counts are codings per status,
so a researcher sees at a glance which codes the rules over-suggest, which are never
used, and which have been decided. With a project, a code's memo and colour can be
edited here (through ``memos`` and ``colours``).

An anywidget (``static/codebook.js``): the front end draws the tree and the chosen
code; filtering and every change happen in Python.

>>> CodebookBrowser(project)                                   # doctest: +SKIP
>>> CodebookBrowser(codebooks=[load_codebook("codebooks/signs_of_safety.yaml")])   # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any, Sequence

import anywidget
import pandas as pd
import traitlets as t

from .. import colours, memos
from ..codebook import Code, Codebook, parse_codebook
from ..codebook_sync import loaded_versions
from ..errors import QualcodeError
from ..project import Project
from ..store import CODING_STATUSES
from .assets import STATIC, module
from .viewer import code_colours



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


class CodebookBrowser(anywidget.AnyWidget):
    """The code tree on the left, the chosen code's definition, criteria, counts and memo on the right.

    ``table()`` gives the same as a DataFrame; ``select(key)`` shows a code; ``find``
    filters the tree (by key, name or definition).
    """

    _esm = module("codebook.js")
    _css = STATIC / "codebook.css"

    find = t.Unicode("").tag(sync=True)
    tree = t.List().tag(sync=True)  # [{key, name, depth, colour, accepted, suggested}] that pass the filter
    selected = t.Unicode("").tag(sync=True)
    detail = t.Dict().tag(sync=True)  # the chosen code ({} when none)
    editable = t.Bool(False).tag(sync=True)
    author = t.Unicode("").tag(sync=True)
    message = t.Unicode("").tag(sync=True)
    error = t.Bool(False).tag(sync=True)

    def __init__(self, project: Project | None = None, codebooks: Sequence[Codebook] = (), author: str = "",
                 **kwargs: Any):
        if project is None and not codebooks:
            raise ValueError("CodebookBrowser needs a project or at least one codebook")
        super().__init__(**kwargs)
        self.project = project
        self.books = list(codebooks) or stored_codebooks(project)
        self.details: dict[str, Code] = {c.id: c for b in self.books for c in b.codes}
        self.editable, self.author = project is not None, author
        self.on_msg(self._on_msg)
        self.observe(lambda _c: self._fill_tree(), names=["find"])
        self.observe(lambda _c: self._show(), names=["selected"])
        self._load()

    def _load(self) -> None:
        if self.project is not None:
            self._colours = colours.code_colours(self.project)
            self.codes = self.project.codes()
        else:
            self.codes = _codes_frame(self.books)
            self._colours = code_colours(self.codes)
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
        wanted = self.find.strip().lower()
        shown = []
        for row in self.table().itertuples(index=False):
            text = f"{row.key} {row.name} {getattr(self.details.get(row.key), 'definition', '')}".lower()
            if wanted and wanted not in text:
                continue
            shown.append({"key": row.key, "name": str(row.name), "depth": int(row.depth),
                          "colour": self._colours.get(row.key, "#888888"),
                          "accepted": int(row.accepted), "suggested": int(row.suggested)})
        self.tree = shown
        keys = [r["key"] for r in shown]
        if self.selected not in keys:
            self.selected = keys[0] if keys else ""
        self._show()

    def select(self, key: str) -> None:
        """Show code ``key`` (clearing the filter if it hides it)."""
        if key not in [r["key"] for r in self.tree]:
            self.find = ""
        self.selected = key

    def _show(self) -> None:
        key = self.selected
        if not key:
            self.detail = {}
            return
        row = self.codes.set_index("key").loc[key]
        code = self.details.get(key)
        detail: dict[str, Any] = {
            "key": key, "name": str(row["name"]), "colour": self._colours.get(key, "#888888"),
            "definition": str(row["definition"] or ""), "include": list(code.include) if code else [],
            "exclude": list(code.exclude) if code else [], "examples": list(code.examples) if code else [],
            "outcomes": list(code.outcomes) if code else [], "counts": {}, "memo": "",
        }
        if self.project is not None:
            counts = self.table().set_index("key").loc[key]
            detail["counts"] = {status: int(counts[status]) for status in CODING_STATUSES}
            notes = memos.list_memos(self.project, code=key, kind="code")
            detail["memo"] = str(notes["text"].iloc[-1]) if not notes.empty else ""
        self.detail = detail

    def write_memo(self, text: str) -> None:
        """Write (or replace) the memo on the code shown."""
        try:
            notes = memos.list_memos(self.project, code=self.selected, kind="code")
            if notes.empty:
                memos.add_memo(self.project, text, code=self.selected, author=self.author or None)
            else:
                memos.edit_memo(self.project, int(notes["id"].iloc[-1]), text)
        except QualcodeError as exc:
            self.error, self.message = True, str(exc)
            return
        self.error, self.message = False, f"Memo saved on {self.selected}."
        self._show()

    def set_colour(self, colour: str) -> None:
        """Give the code shown another colour (stored in the project)."""
        try:
            colours.set_colour(self.project, self.selected, colour)
        except QualcodeError as exc:
            self.error, self.message = True, str(exc)
            return
        self.error, self.message = False, f"{self.selected} is now {colour}."
        self._load()

    def _on_msg(self, _widget, content: dict, _buffers) -> None:
        if self.project is None:
            return
        if content.get("action") == "memo":
            self.write_memo(content.get("text", ""))
        elif content.get("action") == "colour":
            self.set_colour(content.get("colour", ""))
