"""The old import path of the REFI-QDA codebook module, now ``qualcode.refi.codebook``.

Kept so scripts and notebooks written against ``qualcode.refi_codebook`` keep working.

>>> from qualcode.refi_codebook import code_guid
>>> from qualcode.refi.codebook import code_guid as moved
>>> code_guid is moved
True
"""

from qualcode.refi.codebook import *  # noqa: F401,F403
from qualcode.refi.codebook import code_guid, read_refi, slugify, to_qdc, unique_id, write_qdc  # noqa: F401
