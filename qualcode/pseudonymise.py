"""Where pseudonymisation used to live; it is the ``qualcode.privacy`` package now.

Every public name stays importable from here (``from qualcode.pseudonymise import
detect``), so notebooks and scripts written against the old module keep working.

>>> from qualcode.pseudonymise import find_names
>>> find_names is __import__("qualcode.privacy", fromlist=["find_names"]).find_names
True
"""

from __future__ import annotations

from .privacy import *  # noqa: F401,F403  (the public API, re-exported whole)
from .privacy import __all__  # noqa: F401
from .privacy.rules import _regex_hits  # noqa: F401  (used by tests written against the old module)
from .privacy.scrub import _originals_pattern, _scrub  # noqa: F401
