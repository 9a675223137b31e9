"""qualcode: a local, reproducible qualitative-evaluation workbench.

>>> import qualcode
>>> project = qualcode.Project.create("eval.qc")            # doctest: +SKIP
>>> qualcode.import_paths(project, ["corpus/"])             # doctest: +SKIP
"""

from .errors import QualcodeError
from .project import NewCoding, Project

__version__ = "0.1.0"

__all__ = ["Project", "NewCoding", "QualcodeError", "__version__"]
