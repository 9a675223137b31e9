"""Jupyter widgets for reading, coding and reviewing text.

``DocumentBrowser``, ``ReviewWidget``, ``AttributeSheet`` and ``CodebookBrowser`` are anywidgets: a plain ES
module each (``static/``, shipped with the package: no build step, no network) draws
the state and sends actions; the Python class calls the package's API and is driven
the same way from code and tests (``browser.code(start, end, key)``, ``review.key("a")``).
``DocumentViewer`` and ``CodingWidget`` (search-based coding, kept for scripts) are
ipywidgets containers whose controls are public attributes.

>>> from qualcode.widgets import DocumentBrowser, ReviewWidget, AttributeSheet
>>> DocumentBrowser(project, "W1_SW01_social_worker.txt", coder="sam")   # doctest: +SKIP
"""

from .browser import DocumentBrowser
from .codebook_browser import CodebookBrowser
from .coding import CodingWidget, find_phrase
from .review import ReviewWidget
from .sheet import AttributeSheet
from .viewer import DocumentViewer, render_document_html

__all__ = ["AttributeSheet", "CodebookBrowser", "DocumentBrowser", "CodingWidget", "DocumentViewer", "ReviewWidget", "find_phrase",
           "render_document_html"]
