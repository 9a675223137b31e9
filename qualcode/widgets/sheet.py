"""Cases and attributes sheet: document and case attributes in an editable grid.

An anywidget (``static/sheet.js``): one row per document (or case), one column per
attribute; editing a cell and leaving it writes that one attribute through
``attributes.set_attribute`` (an empty cell removes it), and a new column can be
added. Errors are shown in the sheet and change nothing.

>>> AttributeSheet(project, entity="case")   # doctest: +SKIP
"""

from __future__ import annotations

import html
from typing import Any

import anywidget
import traitlets as t

from .. import attributes
from ..errors import QualcodeError
from ..project import Project
from .assets import STATIC, module


class AttributeSheet(anywidget.AnyWidget):
    """Edit the attributes of documents (``entity="document"``) or cases (``entity="case"``)."""

    _esm = module("sheet.js")
    _css = STATIC / "sheet.css"

    entity = t.Unicode("document").tag(sync=True)
    columns = t.List(t.Unicode()).tag(sync=True)
    fixed = t.List(t.Unicode()).tag(sync=True)
    rows = t.List().tag(sync=True)
    message = t.Unicode("").tag(sync=True)
    error = t.Bool(False).tag(sync=True)

    def __init__(self, project: Project, entity: str = "document", **kwargs: Any):
        super().__init__(**kwargs)
        self.project = project
        self.entity = entity
        self.on_msg(self._on_msg)
        self.observe(lambda _c: self.refresh(), names=["entity"])
        self.refresh()

    def refresh(self) -> None:
        """Read the sheet again from the project."""
        frame = attributes.attribute_sheet(self.project, self.entity)
        self.fixed = list(attributes.FIXED[self.entity])
        self.columns = [str(c) for c in frame.columns]
        self.rows = [{k: ("" if v is None or v != v else str(v)) for k, v in row.items()}
                     for row in frame.astype(object).to_dict("records")]

    def set(self, ref: int | str, key: str, value: str) -> bool:
        """Set one cell; returns whether it was written (an error is shown otherwise)."""
        try:
            attributes.set_attribute(self.project, self.entity, ref, key, value)
        except QualcodeError as exc:
            self.error, self.message = True, str(exc)
            return False
        self.refresh()
        self.error, self.message = False, f"{self.entity} {ref}: {key} = {value!r}" if value else f"{key} removed"
        return True

    def _on_msg(self, _widget, content: dict, _buffers) -> None:
        if content.get("action") == "set":
            self.set(content["id"], content["key"], content.get("value", ""))

    def _repr_mimebundle_(self, **kwargs: Any):
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(r.get(c, ''))}</td>" for c in self.columns) + "</tr>"
                       for r in self.rows)
        data["text/html"] = f"<table><tr>{head}</tr>{body}</table>"
        return data, metadata
