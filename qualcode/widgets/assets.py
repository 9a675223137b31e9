"""The widgets' front end: plain ES modules and CSS in ``static/``, with no build step.

Every widget draws with the same small DOM helper (``static/dom.js``). ``module(name)``
returns it followed by the widget's own file, as the single ES module anywidget loads,
so the helper is written once without a bundler.

>>> "function el(" in module("review.js") and "function render(" in module("review.js")
True
"""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).parent / "static"


def module(name: str) -> str:
    """``static/dom.js`` and then ``static/NAME``: one widget's ES module, as text."""
    return (STATIC / "dom.js").read_text(encoding="utf-8") + "\n" + (STATIC / name).read_text(encoding="utf-8")
