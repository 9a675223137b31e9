r"""The problem collector every theory-of-change check writes to.

One ``Checker`` per file: each check adds problems (errors) or warnings with the
file and line, and none stops early, so the user sees every problem at once.

>>> from qualcode.toc.lined_yaml import parse_lined_yaml
>>> check = Checker("toc.yaml", parse_lined_yaml("id: toc\n", "toc.yaml"))
>>> check.text({"name": ["a"]}, "name", (), "the theory of change")
>>> check.problems[0].message
"'name' of the theory of change must be text, not a list"
"""

from __future__ import annotations

import math
from typing import Any, Iterable

from ..problems import Problem, did_you_mean
from .lined_yaml import LinedYaml


class Checker:
    """Collects problems for one file; every check adds to the list, none stops early."""

    def __init__(self, file: str, doc: LinedYaml):
        self.file = file
        self.doc = doc
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def add(self, path: Iterable, message: str, fix: str) -> None:
        self.problems.append(Problem(self.file, self.doc.line(path), message, fix))

    def warn(self, path: Iterable, message: str, fix: str) -> None:
        self.warnings.append(Problem(self.file, self.doc.line(path), message, fix))

    def unknown_keys(self, mapping: dict, allowed: Iterable[str], path: tuple, what: str) -> None:
        allowed = list(allowed)
        for key in mapping:
            if key not in allowed:
                self.add(path + (key,), f"unknown key {key!r} in {what}", did_you_mean(str(key), allowed))

    def text(self, mapping: dict, key: str, path: tuple, what: str, required: bool = False) -> str | None:
        value = mapping.get(key)
        if value is None:
            if required:
                self.add(path, f"{what} has no {key!r}", f"add `{key}:` to it")
            return None
        if isinstance(value, (dict, list)):
            self.add(path + (key,), f"{key!r} of {what} must be text, not a {type(value).__name__}",
                     f"write `{key}: some text`")
            return None
        return str(value)

    def id_list(self, mapping: dict, key: str, path: tuple, what: str) -> list[str]:
        value = mapping.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]  # a single id is a common shorthand
        if not isinstance(value, list) or any(isinstance(v, (dict, list)) for v in value):
            self.add(path + (key,), f"{key!r} of {what} must be a list of ids", f"write `{key}: [id_one, id_two]`")
            return []
        return [str(v) for v in value]

    def number(self, value: Any, path: tuple, what: str) -> float | None:
        """A finite number; scalars arrive as the text written, so ``"24"`` is 24."""
        try:
            number = float(str(value).strip())
        except ValueError:
            number = math.nan
        if isinstance(value, (dict, list)) or not math.isfinite(number):
            self.add(path, f"{what} must be a number, not {value!r}", "write a plain number, e.g. `value: 24`")
            return None
        return number
