"""Names the verbs use, imported on first use so ``qualcode --help`` stays fast.

Every CLI module is imported to build the command tree, so a top-level
``from ..project import Project`` would load pandas and SQLAlchemy (seconds on a busy
machine) just to print help. ``Lazy`` stands in for a module or one of its names and
imports it the first time a verb touches it.

>>> json_dumps = Lazy("json", "dumps")
>>> json_dumps([1, 2])
'[1, 2]'
>>> Lazy("json").loads("3")
3
"""

from __future__ import annotations

import importlib
from typing import Any


class Lazy:
    """A module (``Lazy("qualcode.learn")``) or a name in it (``Lazy("qualcode.project", "Project")``)."""

    def __init__(self, module: str, name: str | None = None):
        self._module = module
        self._name = name
        self._target: Any = None

    def _load(self) -> Any:
        if self._target is None:
            module = importlib.import_module(self._module)
            self._target = getattr(module, self._name) if self._name else module
        return self._target

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        return getattr(self._load(), attribute)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._load()(*args, **kwargs)

    def __repr__(self) -> str:
        return f"Lazy({self._module!r}{', ' + repr(self._name) if self._name else ''})"


Project = Lazy("qualcode.project", "Project")
