"""Every error a researcher can meet, as specific exception classes.

The library raises these; only ``cli.py`` turns them into a one-line message and an
exit code. Each message names the file (or project), the place, and the fix.

>>> raise ImportFailed("notes.txt", "the file is empty", "export it again with its text")
Traceback (most recent call last):
...
qualcode.errors.ImportFailed: notes.txt: the file is empty. Fix: export it again with its text.
"""

from __future__ import annotations


class QualcodeError(Exception):
    """Base class: everything qualcode raises on purpose."""


class ProjectError(QualcodeError):
    """A project file that cannot be opened, created or used as asked."""


class DamagedProject(ProjectError):
    """The project file is a qualcode project whose database can no longer be read whole."""


class NewerProjectError(ProjectError):
    """The project was written by a newer qualcode; opening it could corrupt it."""


class QuoteDrift(ProjectError):
    """A coding's span no longer holds the text it was coded on."""


class NotFoundError(QualcodeError):
    """A document, code, coder or coding named by the user does not exist."""


class InputError(QualcodeError):
    """A file the user gave cannot be used. Carries the file, the reason and the fix."""

    def __init__(self, file: str, reason: str, fix: str, where: str | None = None):
        self.file = str(file)
        self.reason = reason
        self.fix = fix
        self.where = where
        place = f"{self.file}:{where}" if where else self.file
        super().__init__(f"{place}: {reason}. Fix: {fix}.")


class ImportFailed(InputError):
    """One source file could not be imported; nothing of it was written."""


class CodebookError(InputError):
    """A codebook file is invalid (one problem; see CodebookInvalid for many)."""


class TocError(InputError):
    """A theory-of-change file is invalid (one problem)."""


class ValidationProblems(QualcodeError):
    """Many problems found at once in one file (codebook, theory of change).

    ``problems`` is a list of ``Problem`` records so tools can show them as a table.
    """

    def __init__(self, file: str, problems: list):
        self.file = str(file)
        self.problems = list(problems)
        lines = [f"{self.file}: {len(self.problems)} problem(s)"]
        lines += [f"  {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class ModelNotInstalled(QualcodeError):
    """A named spaCy pipeline is not installed on this machine."""


class ProgramNotInstalled(ModelNotInstalled):
    """A program qualcode hands work to (LibreOffice for PDF) is missing or failed."""


class NotEnoughData(QualcodeError):
    """A statistic or a model needs more data than the project holds."""


class ProjectLocked(ProjectError):
    """Another process held the project's write lock for longer than qualcode waits."""


class PermissionDenied(ProjectError):
    """The database refused a change this team member's role does not allow."""


class DaskUnavailable(QualcodeError):
    """Auto-coding on a cluster was asked for, but Dask is missing or its scheduler unreachable."""


class NamesInReport(QualcodeError):
    """The report would print what looks like a person's name or another identifier.

    ``found`` lists (where, text, type) for each hit, so the CLI and notebooks can show them.
    """

    def __init__(self, message: str, found: list[tuple[str, str, str]]):
        self.found = found
        super().__init__(message)
