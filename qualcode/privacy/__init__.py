"""Pseudonymisation: find personal identifiers, let the researcher review them, replace them.

Case notes and family interviews are special-category personal data. This module
finds people's names, places, postcodes, phone numbers, emails, dates of birth, NHS
and national insurance numbers and school names in a project's documents, writes them
to a CSV the researcher reviews (confirm, reject, add, relabel), then replaces the
confirmed ones with labels such as ``[Parent 1]``, ``[Place 2]`` or ``[Postcode 1]``.

Three steps, the same from Python and from ``qualcode pseudonymise``:

>>> found = detect(project, names="names.csv", key="KEY.csv")      # doctest: +SKIP
>>> found.write_csv("detections.csv")                               # doctest: +SKIP
>>> report = apply(project, "detections.csv", key="KEY.csv")       # doctest: +SKIP

Decisions worth knowing:

- Consistency: one original string (case-insensitive, spaces collapsed) has one label
  everywhere in the project. A one-word name joins the label of a longer name when it
  is that name's first or last word and no other name in the project shares that word
  ("Kerry" and "KERRY" join "Kerry Ashdown"); a shared surname gets a label of its own
  (``[Surname 1]`` for "Brannigan" when three Brannigans are known), never a guess.
- The key (label, type, original) is a separate CSV the team keeps away from the
  project; a later run reads it so labels continue. The project keeps only the labels,
  their types and counts (``meta`` row ``pseudonymisation``), never the originals.
- Text changes in place, the one sanctioned edit of a coded document. Every coding's
  and turn's span is moved through the replacement offsets (``OffsetMap``); a span that
  cuts through an identifier grows to cover its whole label. Each moved coding gets a
  ``coding_events`` row (action ``pseudonymise``) whose before/after hold offsets and
  pseudonymised snippets only. Identifiers are also replaced in speaker names,
  attribute values, memos and the snippets of earlier audit events, so no copy stays.
- SQLite keeps old page images: the transaction runs with ``secure_delete`` on, then
  the WAL is checkpointed and truncated and the file vacuumed, so the originals are
  gone from the file's bytes, not just from its rows.
- The sha256 of an imported document stays that of the original bytes, so importing
  the same file again is "unchanged"; importing a changed version of a pseudonymised
  document is refused (``corpus.py``), since it would bring the names back.
"""

from __future__ import annotations

from .apply import apply
from .detection import Detector, detect, find_identifiers, find_names, installed_ner_model
from .key import Key, normalise
from .known import read_known_names
from .labels import assign_labels, is_person
from .offsets import OffsetMap, Replacement, replace_text
from .record import pseudonymised_documents, runs, status
from .records import Detection, Detections, KnownName, PseudonymiseReport, Span
from .review import read_detections
from .rules import looks_like_name, nhs_number_valid

__all__ = [
    "Detection", "Detections", "Detector", "Key", "KnownName", "OffsetMap", "PseudonymiseReport", "Replacement",
    "Span", "apply", "assign_labels", "detect", "find_identifiers", "find_names", "installed_ner_model",
    "is_person", "looks_like_name", "nhs_number_valid", "normalise", "pseudonymised_documents",
    "read_detections", "read_known_names", "replace_text", "runs", "status",
]
