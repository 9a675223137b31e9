"""Jupyter widgets for reading, coding and reviewing text (ipywidgets).

Each widget is an ipywidgets container whose controls are public attributes, so a
notebook displays it and a test drives it the same way (set a dropdown, ``click()`` a
button) without a browser.

>>> from qualcode.widgets import DocumentViewer, ReviewWidget, CodingWidget, CodebookBrowser
>>> DocumentViewer(project, document="W1_SW01_social_worker.txt")   # doctest: +SKIP
"""

from .codebook_browser import CodebookBrowser
from .coding import CodingWidget, find_phrase
from .review import ReviewWidget
from .viewer import DocumentViewer, render_document_html

__all__ = ["CodebookBrowser", "CodingWidget", "DocumentViewer", "ReviewWidget", "find_phrase",
           "render_document_html"]
