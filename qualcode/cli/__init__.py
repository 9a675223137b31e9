"""The ``qualcode`` command line: thin verbs over the Python API.

Each module in this package registers the verbs of one concern on ``app``; every
module here is imported, so adding a verb group is adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil

from .app import app, main

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in ("app", "output"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["app", "main"]
