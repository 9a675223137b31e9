"""The learned suggester's public names, kept where callers have always found them.

The code lives in ``qualcode.learning`` (a subpackage: the examples, the model, its
evaluation, suggesting, keyword discovery); ``from qualcode import learn`` and
``learn.cross_validate(...)`` keep working.

>>> from qualcode import learn
>>> learn.METHOD
'learned'
"""

from .learning import *  # noqa: F401,F403
from .learning import __all__  # noqa: F401
