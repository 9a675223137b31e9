"""Where the report used to live; it is the ``qualcode.reporting`` package now.

Every public name stays importable from here (``from qualcode.report import
build_report``), so notebooks and scripts written against the old module keep working.

>>> from qualcode.report import build_report
>>> build_report is __import__("qualcode.reporting", fromlist=["build_report"]).build_report
True
"""

from __future__ import annotations

from .reporting import *  # noqa: F401,F403  (the public API, re-exported whole)
from .reporting import __all__  # noqa: F401
