"""qualcode: a local, reproducible qualitative-evaluation workbench.

>>> import qualcode
>>> project = qualcode.Project.create("eval.qc")            # doctest: +SKIP
>>> qualcode.import_paths(project, ["corpus/"])             # doctest: +SKIP

``Project`` and ``NewCoding`` load on first use (PEP 562): the command line imports
this package to print ``--help`` and must not pay for pandas and SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import QualcodeError

__version__ = "0.1.0"

__all__ = ["Project", "NewCoding", "QualcodeError", "__version__"]

if TYPE_CHECKING:
    from .project import NewCoding, Project


def __getattr__(name: str) -> Any:
    if name in ("Project", "NewCoding"):
        from . import project

        return getattr(project, name)
    raise AttributeError(f"module 'qualcode' has no attribute {name!r}")
