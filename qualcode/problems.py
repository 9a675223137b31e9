"""Problems found in a researcher's input file: where each is, and how to fix it.

Codebooks, theories of change, indicator and survey files, codings imports and
pseudonymisation lists are all checked whole and report every problem at once, in
one shape, so the CLI, the notebooks and ``--json`` show them alike.

>>> str(Problem("toc.yaml", 7, "unknown outcome 'stabilty'", did_you_mean("stabilty", ["stability", "safety"])))
"toc.yaml:7: unknown outcome 'stabilty'. Fix: did you mean 'stability'?"
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Iterable


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file, where it is, and how to fix it.

    >>> str(Problem("cb.yaml", 12, "duplicate id 'x'", "give each code its own id"))
    "cb.yaml:12: duplicate id 'x'. Fix: give each code its own id."
    """

    file: str
    line: int | None
    message: str
    fix: str
    column: int | None = None

    def __str__(self) -> str:
        place = f"{self.file}:{self.line}" if self.line else self.file
        end = "" if self.fix.endswith(("?", ".", "!")) else "."
        return f"{place}: {self.message.rstrip('.')}. Fix: {self.fix}{end}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "column": self.column,
                "message": self.message, "fix": self.fix}


def closest(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The choice spelt most like ``word``, if any is close enough.

    >>> closest("supervison", ["supervision", "caseload"]), closest("xyz", ["caseload"])
    ('supervision', None)
    """
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=cutoff)
    return close[0] if close else None


def did_you_mean(word: str, choices: Iterable[str], otherwise: str | None = None) -> str:
    """A fix: 'did you mean X?' for the closest choice, else ``otherwise`` (default: list them)."""
    choices = sorted(choices)
    close = closest(word, choices)
    if close is not None:
        return f"did you mean '{close}'?"
    return otherwise or f"use one of: {', '.join(choices)}"
