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

import bisect
import csv
import getpass
import importlib.util
import io
import json
import os
import re
import sqlite3
import uuid
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import pandas as pd
import sqlalchemy as sa
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher

from . import store
from .problems import Problem
from .errors import InputError, ValidationProblems
from .nlp import load_pipeline
from .project import Project
from .textnorm import decode_text
from .turns import INTERVIEWER_ROLES, NOT_SPEAKERS, RESPONDENT_ROLES
from .xlsx_export import csv_safe, csv_unquote

META_KEY = "pseudonymisation"
ACTION = "pseudonymise"
NER_MODELS = ("en_core_web_trf", "en_core_web_lg", "en_core_web_md", "en_core_web_sm")
CONTEXT = 40  # characters of context either side of a detection, for the reviewer

# -- patterns ----------------------------------------------------------------------------

# UK postcodes in the official shape (outward code, space optional, inward code).
POSTCODE = re.compile(
    r"\b(?:GIR ?0AA|[A-PR-UWYZ](?:[0-9][0-9A-HJKPSTUW]?|[A-HK-Y][0-9][0-9ABEHMNPRVWXY]?) ?"
    r"[0-9][ABD-HJLNP-UW-Z]{2})\b"
)
# UK phone numbers: 0 or +44 then 9-10 more digits, spaces, dashes or brackets between.
PHONE = re.compile(r"(?<![\w+])(?:\+44[ \-]?(?:\(0\)[ \-]?)?|\(?0)\d(?:[ \-)]{0,2}\d){8,9}(?!\d)")
EMAIL = re.compile(r"\b[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+\b")
NHS_NUMBER = re.compile(r"(?<![\d\-])\d{3}[ \-]?\d{3}[ \-]?\d{4}(?![\d\-])")
# National insurance number: two letters (HMRC's excluded letters and prefixes left
# out), six digits, a suffix A-D.
NI_NUMBER = re.compile(
    r"\b(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"
)
_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_ORDINAL_WORDS = ("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
                  "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth "
                  "thirtieth").split()
_SPELLED = r"(?:(?:twenty|thirty)[\- ])?(?:" + "|".join(_ORDINAL_WORDS) + r")"
DATE = re.compile(
    r"\b(?:\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}"
    r"|\d{4}-\d{2}-\d{2}"
    r"|\d{1,2}(?:st|nd|rd|th)?(?: of)? " + _MONTH + r"\.?(?:,? \d{4})?"
    r"|" + _MONTH + r"\.? \d{1,2}(?:st|nd|rd|th)?(?:,? \d{4})?"
    r"|" + _SPELLED + r"(?: of)? " + _MONTH + r"(?:,? \d{4})?)\b",
    re.IGNORECASE,
)
DOB_CUE = re.compile(r"\b(?:d\.?o\.?b\.?|date of birth|born|birthday|birth date)\b", re.IGNORECASE)
DOB_WINDOW = 40  # a date this many characters after a cue is a date of birth

_CAP = r"[A-Z][a-zA-Z'’\-]+"
STREET_SUFFIXES = ("Street|Road|Close|Lane|Row|Way|Avenue|Drive|Crescent|Terrace|Place|Square|Gardens|"
                   "Grove|Walk|Hill|Mews|Rise|Parade|Estate|House")  # not Court: "Family Court" is no address
STREET = re.compile(
    r"(?:\b(?:Flat|Apartment) \d+[A-Za-z]?,? )?(?:\b\d{1,4}[A-Za-z]?,? )?"
    r"\b(?:" + _CAP + r" ){1,3}(?:" + STREET_SUFFIXES + r")\b"
)
SCHOOL_SUFFIXES = "Primary|Academy|School|High|College|Nursery|Infants|Juniors|Grammar"
SCHOOL = re.compile(
    r"\b(?:" + _CAP + r" ){1,4}(?:" + SCHOOL_SUFFIXES + r")(?: (?:School|Academy|College))?\b"
)

# Words that make a school's kind, not its name: "Primary School" names no school.
GENERIC_SCHOOL_WORDS = frozenset("primary secondary junior infant infants special grammar high independent "
                                 "local new free state catholic church village".split())
# Capitalised words that are not names (sentence starts, roles, places of work, time).
NOT_NAMES = frozenset("""
i the a an and but or so if then this that these those there here it its he she they we you
my his her our their your me him them us yes no yeah ok okay well um er oh right just also
mum dad mother father nan gran grandad grandma aunt uncle sister brother son daughter baby
mr mrs ms miss dr mx sir madam
monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun
jan feb mar apr jun jul aug sep sept oct nov dec
january february march april may june july august september october november december
social worker workers services service council police school team hub early help
child children family families parent parents carer carers staff manager health
christmas easter covid nhs gp cin cp lac taf sw kw hv dsl vcs eh dob rcpc ehcp mhst ppu nfa
north south east west central
interview interviews transcript transcription teams zoom meeting meetings evaluation wave site office
review plan conference panel notes note date participant participants respondent interviewer
""".split())
# Relation words: "my son Tyler", "Mum Tracey Holloway", "maternal aunt Leanne".
CHILD_CUES = ("son", "daughter", "baby", "child", "niece", "nephew", "grandson", "granddaughter",
              "stepson", "stepdaughter")
PARENT_CUES = ("mum", "dad", "mother", "father", "mam", "stepmum", "stepdad")
PERSON_CUES = ("partner", "sister", "brother", "nan", "gran", "grandad", "grandma", "grandmother",
               "grandfather", "aunt", "auntie", "uncle", "boyfriend", "girlfriend", "husband", "wife",
               "ex", "friend", "mate", "cousin", "neighbour")
STAFF_CUES = ("sw", "kw", "hv", "worker", "key-worker", "keyworker", "teacher", "mentor", "officer",
              "visitor", "manager", "practitioner")
TITLE_CUES = ("mr", "mrs", "ms", "miss", "dr", "mx")
NAMING_CUES = ("called", "named")
ROLE_SPEAKERS = frozenset({"parent", "mother", "father", "mum", "dad", "carer", "child", "young person",
                           "social worker", "key worker", "speaker", "unknown", "family", "both",
                           "all", "other", "others", "observer", "note taker"})

# Types that are not people: no first-name or surname grouping for them.
THINGS = frozenset({"Place", "School", "Postcode", "Phone", "Email", "Date of birth", "NHS number",
                    "NI number"})
# Streets every town has: naming one identifies nobody.
GENERIC_STREET_WORDS = frozenset({"high", "main"})
# The label prefix each known-names type gets.
KNOWN_TYPES = {"parent": "Parent", "child": "Child", "staff": "Staff", "other": "Person"}
SPEAKER_TYPES = {"family interview": "Family member", "staff interview": "Staff",
                 "partner interview": "Professional"}
# Which rule wins when two detections overlap: lower first.
_PRIORITY = {"known name": 0, "email": 1, "nhs number": 1, "ni number": 1, "postcode": 1,
             "date of birth": 1, "phone": 2, "school": 3, "address": 3, "speaker label": 4,
             "cue": 5, "name variant": 6, "ner": 7, "occurrence": 8}

DECISIONS = {"confirm": "confirm", "yes": "confirm", "y": "confirm", "ok": "confirm", "": "confirm",
             "reject": "reject", "no": "reject", "n": "reject", "x": "reject", "add": "add"}
CSV_COLUMNS = ["decision", "type", "label", "text", "document", "document_id", "start", "end", "rule",
               "context"]

NOT_CHECKED = (
    "identifiers in images, audio, scanned pages or embedded objects (only the imported text is read)",
    "spelling variants, nicknames and misspellings of a name (e.g. 'Kez' for 'Kerry') unless added",
    "indirect identifiers: rare jobs, events, ages, relationships or places that point to one family",
    "dates other than dates of birth, and ages",
    "names or places split across lines or words, and names written all in lower case",
    "document names, file names and the sha256 of the original files (checked, not changed)",
)


# -- records ----------------------------------------------------------------------------


@dataclass
class Detection:
    """One found (or researcher-added) identifier: where it is, what it is, its label.

    ``decision`` is what the reviewer says: confirm (the default), reject, or add (a row
    the reviewer wrote: ``text`` and ``type``, ``document`` blank for every document).
    """

    document_id: int | None
    document: str
    start: int | None
    end: int | None
    text: str
    type: str  # the label prefix: Parent, Child, Staff, Person, Place, Postcode, ...
    rule: str = ""
    label: str = ""
    context: str = ""
    decision: str = "confirm"

    def to_row(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in CSV_COLUMNS}


@dataclass
class KnownName:
    """A name the team supplies: a participant, family member or member of staff."""

    name: str
    type: str  # parent | child | staff | other
    label: str = ""  # "[Mum]" is used as is; "Social Worker" is a prefix to number


@dataclass
class Detections:
    """What ``detect`` found, ready for review, plus what it could not look for."""

    rows: list[Detection]
    not_checked: list[str]
    model: str | None = None

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([r.to_row() for r in self.rows], columns=CSV_COLUMNS)

    def counts(self) -> dict[str, int]:
        """Detections by type, most frequent first."""
        return dict(Counter(r.type for r in self.rows).most_common())

    def write_csv(self, path: str | Path) -> Path:
        """Write the review file. It holds the originals: keep it with the key, not the project."""
        return write_rows_csv(path, [r.to_row() for r in self.rows], CSV_COLUMNS)


@dataclass
class PseudonymiseReport:
    """What ``apply`` did: replacements by type and label, codings moved, what is left."""

    batch: str
    by: str
    documents: int
    replaced: dict[str, int]
    labels: dict[str, int]
    codings_moved: int
    turns_moved: int
    other_fields: dict[str, int]
    rejected: int
    key_file: str
    not_checked: list[str] = field(default_factory=list)
    residual: dict[str, int] = field(default_factory=dict)  # "table.column" -> rows still holding an original
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- offsets -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Replacement:
    """Replace ``text[start:end]`` with ``label``."""

    start: int
    end: int
    label: str


class OffsetMap:
    """Moves offsets of the original text to the text after ``replacements``.

    A position outside every replaced span moves by the total change before it. A span
    start inside a replaced span moves to the label's start, a span end to the label's
    end: a coding that cut through a name now covers the whole label.

    >>> m = OffsetMap([Replacement(4, 9, "[P1]")])      # "Hi, Kerry here" -> "Hi, [P1] here"
    >>> m.start(4), m.end(9), m.start(10), m.start(6), m.end(6)
    (4, 8, 9, 4, 8)
    """

    def __init__(self, replacements: Sequence[Replacement]):
        self.reps = sorted(replacements, key=lambda r: r.start)
        for a, b in zip(self.reps, self.reps[1:]):
            if b.start < a.end:
                raise ValueError(f"replacements overlap: [{a.start}, {a.end}) and [{b.start}, {b.end})")
        self._starts = [r.start for r in self.reps]
        self._shift: list[int] = []  # total change before replacement i
        total = 0
        for r in self.reps:
            self._shift.append(total)
            total += len(r.label) - (r.end - r.start)

    def _locate(self, pos: int) -> int:
        """Index of the last replacement starting at or before ``pos`` (-1 for none)."""
        return bisect.bisect_right(self._starts, pos) - 1

    def _after(self, i: int) -> int:
        r = self.reps[i]
        return self._shift[i] + len(r.label) - (r.end - r.start)

    def start(self, pos: int) -> int:
        i = self._locate(pos)
        if i < 0:
            return pos
        r = self.reps[i]
        if pos == r.start or pos < r.end:  # at or inside: the label's start
            return r.start + self._shift[i]
        return pos + self._after(i)

    def end(self, pos: int) -> int:
        i = self._locate(pos)
        if i >= 0 and pos == self.reps[i].start:  # an end exactly at a replacement stays before it
            i -= 1
            if i < 0:
                return pos
        if i < 0:
            return pos
        r = self.reps[i]
        if pos < r.end:  # inside: the label's end
            return r.start + self._shift[i] + len(r.label)
        return pos + self._after(i)


def replace_text(text: str, replacements: Sequence[Replacement]) -> str:
    """``text`` with each replaced span swapped for its label.

    >>> replace_text("Hi, Kerry here", [Replacement(4, 9, "[P1]")])
    'Hi, [P1] here'
    """
    out, last = [], 0
    for r in sorted(replacements, key=lambda r: r.start):
        out.append(text[last:r.start])
        out.append(r.label)
        last = r.end
    out.append(text[last:])
    return "".join(out)


# -- the key -----------------------------------------------------------------------------


def normalise(original: str) -> str:
    """The form originals are compared in: case-folded, spaces collapsed.

    >>> normalise("  KERRY   Ashdown ")
    'kerry ashdown'
    """
    return " ".join(original.split()).casefold()


_LABEL_NUMBER = re.compile(r"^\[(?P<prefix>.+?) (?P<n>\d+)\]$")


class Key:
    """Label <-> original, read from and written to the team's key CSV (label,type,original)."""

    def __init__(self, path: Path | None = None):
        self.path = path
        self.by_original: dict[str, str] = {}  # normalised original -> label
        self.originals: dict[str, str] = {}  # normalised original -> original as first seen
        self.types: dict[str, str] = {}  # label -> type

    @classmethod
    def read(cls, path: str | Path | None) -> "Key":
        """The key at ``path``; an absent file is an empty key that ``write`` will create."""
        key = cls(Path(path) if path else None)
        if key.path is None or not key.path.exists():
            return key
        text, _ = decode_text(key.path.read_bytes(), key.path.name)
        reader = csv.DictReader(io.StringIO(text))
        missing = {"label", "original"} - set(reader.fieldnames or [])
        if missing:
            raise InputError(key.path, f"not a qualcode key file (no {', '.join(sorted(missing))} column)",
                             "give the key CSV an earlier `pseudonymise apply` wrote, or a new file name",
                             where="line 1")
        for line, row in enumerate(reader, start=2):
            label, original = (row.get("label") or "").strip(), csv_unquote(row.get("original") or "").strip()
            if not label or not original:
                raise InputError(key.path, "a row without a label or an original", "fill in both or delete the row",
                                 where=f"line {line}")
            known = key.by_original.get(normalise(original))
            if known and known != label:
                raise InputError(key.path, f"{original!r} has two labels, {known} and {label}",
                                 "keep one row for it", where=f"line {line}")
            key.add(original, label, (row.get("type") or "").strip() or _prefix(label))
        return key

    def add(self, original: str, label: str, type_: str) -> None:
        norm = normalise(original)
        self.by_original.setdefault(norm, label)
        self.originals.setdefault(norm, original)
        self.types.setdefault(label, type_)

    def label_for(self, original: str) -> str | None:
        return self.by_original.get(normalise(original))

    def next_label(self, prefix: str, taken: Iterable[str] = ()) -> str:
        """The next free ``[prefix N]`` after every label the key and ``taken`` hold."""
        used = 0
        for label in list(self.types) + list(taken):
            m = _LABEL_NUMBER.match(label)
            if m and m["prefix"].casefold() == prefix.casefold():
                used = max(used, int(m["n"]))
        return f"[{prefix} {used + 1}]"

    def rows(self) -> list[dict[str, str]]:
        return sorted(({"label": label, "type": self.types.get(label, ""), "original": self.originals[norm]}
                       for norm, label in self.by_original.items()),
                      key=lambda r: (_prefix(r["label"]), _label_number(r["label"]), r["original"]))

    def write(self, path: str | Path) -> Path:
        return write_rows_csv(path, self.rows(), ["label", "type", "original"])


def _prefix(label: str) -> str:
    m = _LABEL_NUMBER.match(label)
    return m["prefix"] if m else label.strip("[]")


def _label_number(label: str) -> int:
    m = _LABEL_NUMBER.match(label)
    return int(m["n"]) if m else 0


def write_rows_csv(path: str | Path, rows: list[dict[str, Any]], columns: list[str]) -> Path:
    """Write a CSV atomically (temp file, then rename), every text cell formula-safe."""
    path = Path(path)
    if not path.parent.exists():
        raise InputError(path, f"folder {path.parent} does not exist", "create it first or choose another path")
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: csv_safe("" if row.get(k) is None else row.get(k)) for k in columns})
    os.replace(tmp, path)
    return path


# -- known names -------------------------------------------------------------------------


def read_known_names(path: str | Path) -> list[KnownName]:
    """The team's list of names: CSV with ``name``, ``type`` (parent/child/staff/other), ``label``.

    >>> # name,type,label
    >>> # Kerry Ashdown,parent,
    >>> # Priya Shah,staff,Social Worker
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such names file", "check the path given to --names")
    text, _ = decode_text(path.read_bytes(), path.name)
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    if "name" not in columns:
        raise InputError(path, f"no 'name' column; columns are: {', '.join(columns) or '(none)'}",
                         "give the CSV a header line: name,type,label", where="line 1")
    problems, names = [], []
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        name, kind = row.get("name", ""), (row.get("type") or "other").lower()
        if not name:
            continue
        if kind not in KNOWN_TYPES:
            problems.append(Problem(str(path), line, f"type {kind!r} is not one of {', '.join(KNOWN_TYPES)}",
                                    "use parent, child, staff or other"))
            continue
        names.append(KnownName(name, kind, row.get("label", "")))
    if problems:
        raise ValidationProblems(path, problems)
    return names


def _known_prefix(known: KnownName) -> tuple[str, str]:
    """(type prefix, fixed label or '') for a known name."""
    label = known.label.strip()
    if label.startswith("[") and label.endswith("]"):
        return _prefix(label), label
    if label:
        return label, ""
    return KNOWN_TYPES[known.type], ""


# -- detection ---------------------------------------------------------------------------


def installed_ner_model() -> str | None:
    """The first installed English spaCy pipeline with NER, or None. Never downloads."""
    for name in NER_MODELS:
        if importlib.util.find_spec(name) is not None:
            return name
    return None


def _load_ner(model: str | Language | None) -> tuple[Language | None, str | None]:
    if isinstance(model, Language):
        return model, model.meta.get("name", "custom")
    if model == "auto":
        model = installed_ner_model()
    if not model:
        return None, None
    import spacy

    if importlib.util.find_spec(model) is None:
        from .errors import ModelNotInstalled

        raise ModelNotInstalled(
            f"spaCy pipeline {model!r} is not installed on this machine. Fix: install it once from a "
            "wheel your organisation approves, or leave out --model; qualcode never downloads anything."
        )
    return spacy.load(model, exclude=["parser", "lemmatizer", "textcat"]), model


def _documents(project: Project, documents: Iterable[int | str] | None) -> list[dict[str, Any]]:
    d = store.documents
    query = sa.select(d.c.id, d.c.name, d.c.text, d.c.source_type).order_by(d.c.id)
    if documents is not None:
        query = query.where(d.c.id.in_([project.document_id(x) for x in documents]))
    with project.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def _speakers(project: Project, doc_ids: list[int]) -> dict[int, list[tuple[str, bool]]]:
    t = store.turns
    out: dict[int, list[tuple[str, bool]]] = defaultdict(list)
    with project.engine.connect() as conn:
        rows = conn.execute(sa.select(t.c.document_id, t.c.speaker, t.c.is_interviewer)
                            .where(t.c.document_id.in_(doc_ids)).distinct())
        for doc_id, speaker, interviewer in rows:
            out[doc_id].append((speaker, bool(interviewer)))
    return out


def looks_like_name(speaker: str) -> bool:
    """True for a speaker label that is a person's name rather than a role or a code.

    >>> [looks_like_name(s) for s in ("Lee Brannigan", "KERRY", "SW01", "Interviewer", "R1", "Parent")]
    [True, True, False, False, False, False]
    """
    words = speaker.replace("’", "'").split()
    if not words or len(words) > 4 or normalise(speaker) in ROLE_SPEAKERS:
        return False
    if any(not re.fullmatch(r"[A-Za-z][A-Za-z'\-.]*", w) for w in words):
        return False
    lowered = [w.lower().rstrip(".") for w in words]
    if len(words) == 1 and (lowered[0] in INTERVIEWER_ROLES | RESPONDENT_ROLES | NOT_SPEAKERS
                            or len(words[0]) < 3 or lowered[0] in NOT_NAMES):
        return False
    if all(w in NOT_NAMES for w in lowered):
        return False
    return words[0][0].isupper()


def _is_name_token(token) -> bool:
    return len(token.text) >= 2 and (token.is_alpha or "'" in token.text or "-" in token.text) and (
        token.is_title or (token.is_upper and len(token) > 2)) and token.lower_ not in NOT_NAMES


def _cue_matcher(nlp: Language) -> Matcher:
    """Token patterns for names after a cue word, or before an age or a date of birth.

    Only plain attribute tests (``LOWER``, ``IS_TITLE`` ...): set predicates such as
    ``IN`` run in Python for every token and made this five times slower. The gap
    punctuation and NOT_NAMES are checked on the few matches instead (``_token_spans``).
    """
    matcher = Matcher(nlp.vocab)
    name = {"IS_TITLE": True, "IS_ALPHA": True, "IS_STOP": False, "OP": "+"}
    gap = {"IS_PUNCT": True, "OP": "?"}  # "my son, Tyler", "Mother (Kerry", "Mr. Patel"
    for label, cues in (("Child", CHILD_CUES), ("Parent", PARENT_CUES), ("Person", PERSON_CUES),
                        ("Staff", STAFF_CUES), ("Person", TITLE_CUES), ("Person", NAMING_CUES)):
        matcher.add(label, [[{"LOWER": cue}, gap, name] for cue in cues], greedy="LONGEST")
    # "Chloe (13)", "Tyler (DOB 11/07/2014)", "Remi Ogundele DOB", as case notes write them.
    matcher.add("AGE", [[name, {"ORTH": "("}, {"IS_DIGIT": True}],
                        [name, {"ORTH": "(", "OP": "?"}, {"LOWER": "dob"}]], greedy="LONGEST")
    return matcher


def _context(text: str, start: int, end: int) -> str:
    left = text[max(0, start - CONTEXT):start]
    right = text[end:end + CONTEXT]
    return " ".join(f"…{left}«{text[start:end]}»{right}…".split())


def _regex_hits(doc_id: int, name: str, text: str) -> Iterator[Detection]:
    def hit(m: re.Match, kind: str, rule: str, start: int | None = None, end: int | None = None) -> Detection:
        s, e = (m.start() if start is None else start), (m.end() if end is None else end)
        return Detection(doc_id, name, s, e, text[s:e], kind, rule)

    for m in EMAIL.finditer(text):
        yield hit(m, "Email", "email")
    for m in POSTCODE.finditer(text):
        yield hit(m, "Postcode", "postcode")
    for m in PHONE.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if digits.startswith("44"):
            digits = "0" + digits[2:].lstrip("0")
        if len(digits) in (10, 11) and digits.startswith("0"):
            yield hit(m, "Phone", "phone")
    for m in NHS_NUMBER.finditer(text):
        if nhs_number_valid(m.group()):
            yield hit(m, "NHS number", "nhs number")
    for m in NI_NUMBER.finditer(text):
        yield hit(m, "NI number", "ni number")
    for cue in DOB_CUE.finditer(text):
        m = DATE.search(text, cue.end(), cue.end() + DOB_WINDOW + 30)
        if m and m.start() - cue.end() <= DOB_WINDOW:
            yield hit(m, "Date of birth", "date of birth")
    for pattern, kind, rule, common in ((STREET, "Place", "address", NOT_NAMES | GENERIC_STREET_WORDS),
                                        (SCHOOL, "School", "school", NOT_NAMES | GENERIC_SCHOOL_WORDS)):
        for m in pattern.finditer(text):
            start = _skip_leading_common_words(text, m.start(), m.end(), common)
            if start is not None:
                yield hit(m, kind, rule, start=start)


def _skip_leading_common_words(text: str, start: int, end: int, common: frozenset[str] = NOT_NAMES) -> int | None:
    """Drop sentence-start words ("The Station Road") from a match; None if nothing is left."""
    words = list(re.finditer(r"\S+", text[start:end]))
    for w in words[:-1]:
        word = w.group().rstrip(",").lower()
        if word[0].isdigit() or word not in common:
            return start + w.start()
    return None


def nhs_number_valid(number: str) -> bool:
    """NHS numbers carry a modulus-11 check digit; most 10-digit strings fail it.

    >>> nhs_number_valid("943 476 5919"), nhs_number_valid("943 476 5918")
    (True, False)
    """
    digits = [int(c) for c in number if c.isdigit()]
    if len(digits) != 10:
        return False
    check = 11 - sum(d * w for d, w in zip(digits[:9], range(10, 1, -1))) % 11
    check = 0 if check == 11 else check
    return check != 10 and check == digits[9]


_GAPS = {"title": "."}  # what may stand between a cue and a name: "Mr. Patel"; else "," or "("


def _token_spans(doc, matcher: Matcher) -> Iterator[tuple[int, int, str]]:
    """(start char, end char, type) of the name part of each cue match."""
    cues = set(CHILD_CUES + PARENT_CUES + PERSON_CUES + STAFF_CUES + TITLE_CUES + NAMING_CUES)
    for match_id, start, end in matcher(doc):
        span, kind = doc[start:end], doc.vocab.strings[match_id]
        names = []
        if kind == "AGE":  # the name comes just before the age or DOB: "Monday Chloe (13)"
            cut = next(t.i for t in span if t.text == "(" or t.lower_.startswith("d.o.b") or t.lower_ == "dob")
            i = cut - 1
            while i >= start and _is_name_token(doc[i]) and doc[i].is_title and len(names) < 3:
                names.insert(0, doc[i])
                i -= 1
            age = next((t for t in span if t.is_digit), None)
            kind = "Child" if age is not None and int(age.text) < 18 else "Person"
        else:  # the name comes just after the cue (and a comma, bracket or full stop)
            i = start + 1
            if i < end and not doc[i].is_alpha:
                if doc[i].text not in _GAPS.get(kind if doc[start].lower_ not in TITLE_CUES else "title", ",("):
                    continue
                i += 1
            while i < end and _is_name_token(doc[i]) and doc[i].lower_ not in cues and len(names) < 3:
                names.append(doc[i])
                i += 1
        if not names:
            continue
        first = names[0].i  # "Lily-Mae": the tokenizer splits at the hyphen
        if first >= 2 and doc[first - 1].text == "-" and _is_name_token(doc[first - 2]):
            names.insert(0, doc[first - 2])
        yield names[0].idx, names[-1].idx + len(names[-1]), kind


def detect(
    project: Project,
    names: str | Path | Sequence[KnownName] | None = None,
    key: str | Path | Key | None = None,
    documents: Iterable[int | str] | None = None,
    model: str | Language | None = "auto",
) -> Detections:
    """Find identifiers in every document (superseded versions too) and propose labels.

    ``names`` is the team's known-names CSV (or its records); ``key`` an existing key,
    so proposed labels continue it. ``model`` names an installed spaCy NER pipeline;
    "auto" uses one when installed and none otherwise; nothing is ever downloaded.
    """
    known = read_known_names(names) if isinstance(names, (str, Path)) else list(names or [])
    key = key if isinstance(key, Key) else Key.read(key)
    ner, model_name = _load_ner(model)
    nlp = load_pipeline()
    docs = _documents(project, documents)
    speakers = _speakers(project, [d["id"] for d in docs])
    found: list[Detection] = []
    fixed_labels: dict[str, str] = {}
    known_matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    known_types: dict[str, tuple[str, str]] = {}
    for k in known:
        prefix, label = _known_prefix(k)
        known_types[normalise(k.name)] = (prefix, label)
        if label:
            fixed_labels[normalise(k.name)] = label
        known_matcher.add(normalise(k.name), [nlp.make_doc(k.name)])
    cue_matcher = _cue_matcher(nlp)
    texts = [d["text"] for d in docs]
    for d, doc in zip(docs, nlp.tokenizer.pipe(texts, batch_size=64)):
        text = d["text"]
        found.extend(_regex_hits(d["id"], d["name"], text))
        for match_id, s, e in known_matcher(doc):
            span = doc[s:e]
            if not span.text[:1].isupper():  # a name is capitalised: "will" is not "Will"
                continue
            prefix, _ = known_types[nlp.vocab.strings[match_id]]
            found.append(Detection(d["id"], d["name"], span.start_char, span.end_char, span.text, prefix,
                                   "known name"))
        for s, e, kind in _token_spans(doc, cue_matcher):
            found.append(Detection(d["id"], d["name"], s, e, text[s:e], kind, "cue"))
        for speaker, interviewer in speakers.get(d["id"], []):
            if looks_like_name(speaker):
                kind = "Interviewer" if interviewer else SPEAKER_TYPES.get(d["source_type"], "Person")
                found.append(Detection(d["id"], d["name"], None, None, speaker, kind, "speaker label"))
    if ner is not None:
        for d, doc in zip(docs, ner.pipe(texts, batch_size=16)):
            for ent in doc.ents:
                kind = {"PERSON": "Person", "GPE": "Place", "LOC": "Place", "FAC": "Place"}.get(ent.label_)
                if kind:
                    found.append(Detection(d["id"], d["name"], ent.start_char, ent.end_char, ent.text, kind, "ner"))
    found = _propagate(nlp, docs, found, key)
    rows = _resolve_overlaps(found)
    assign_labels(rows, key, fixed_labels)
    by_id = {d["id"]: d["text"] for d in docs}
    for r in rows:
        if r.start is not None:
            r.context = _context(by_id[r.document_id], r.start, r.end)
        else:
            r.context = "(speaker name; replaced wherever it appears)"
    return Detections(rows, _not_checked(model_name, known), model_name)


def _not_checked(model_name: str | None, known: list[KnownName]) -> list[str]:
    notes = list(NOT_CHECKED)
    if model_name is None:
        notes.insert(0, "names with no cue (Mrs, my son, called ...), not a speaker label and not in the "
                        "known-names list: no statistical NER model is installed")
    if not known:
        notes.insert(0, "no known-names list was given: participants' and family members' names are found "
                        "only by cues and speaker labels")
    return notes


def is_person(type_: str) -> bool:
    """True for the types of people (Parent, Child, a team's "Social Worker" ...), not things.

    >>> is_person("Social Worker"), is_person("Postcode")
    (True, False)
    """
    return type_ not in THINGS


def _name_variants(found: list[Detection], key: Key) -> dict[str, tuple[str, str]]:
    """First and last words of multi-word names, each pointing at the one name it belongs to.

    A word shared by several names (a family's surname) points at itself, typed Surname.
    """
    full: dict[str, str] = {}
    for r in found:
        if is_person(r.type) and len(r.text.split()) > 1:
            full.setdefault(normalise(r.text), r.type)
    for norm, label in key.by_original.items():
        if len(norm.split()) > 1 and is_person(key.types.get(label, "")):
            full.setdefault(norm, key.types[label])
    owners: dict[str, set[str]] = defaultdict(set)
    for norm in full:
        words = norm.split()
        for word in {words[0], words[-1]}:
            if len(word) >= 2 and word not in NOT_NAMES:
                owners[word].add(norm)
    out = {word: ((next(iter(names)), full[next(iter(names))]) if len(names) == 1 else (word, "Surname"))
           for word, names in owners.items()}
    for r in found:  # "Vale Park" belongs to "Vale Park Academy"; "31 Calder Street" to "Calder Street"
        words = r.text.split()
        if r.type == "School" and len(words) > 2:
            out.setdefault(normalise(" ".join(words[:-1])), (normalise(r.text), "School"))
        if r.type == "Place":
            bare = _without_number(r.text)
            if bare != normalise(r.text):
                out.setdefault(normalise(r.text), (bare, "Place"))
    return out


def _without_number(place: str) -> str:
    """An address without its flat and house number: "Flat 9, 31 Calder Street" -> "calder street"."""
    return normalise(re.sub(r"^(?:(?:Flat|Apartment) \d+[A-Za-z]?,? )?(?:\d{1,4}[A-Za-z]?,? )?", "", place))


def _propagate(nlp: Language, docs: list[dict], found: list[Detection], key: Key) -> list[Detection]:
    """Find every further occurrence of each name, place and school found anywhere."""
    variants = _name_variants(found, key)
    kinds: dict[str, str] = {}
    for r in found:
        if r.type not in ("Postcode", "Phone", "Email", "Date of birth", "NHS number", "NI number"):
            kinds.setdefault(normalise(r.text), r.type)
            if r.type == "School" and len(r.text.split()) > 2:  # "Vale Park" for "Vale Park Academy"
                kinds.setdefault(normalise(" ".join(r.text.split()[:-1])), "School")
    for word, (_, kind) in variants.items():
        kinds.setdefault(word, kind)
    if not kinds:
        return found
    # One compiled regex, not a second tokenisation: whole words, any case, then capitalised only.
    pattern = _originals_pattern(list(kinds) + [k + "s" for k, kind in kinds.items() if is_person(kind)])
    extra = []
    for d in docs:
        text = d["text"]
        for m in pattern.finditer(text):
            if not m.group()[:1].isupper():  # names are capitalised; "will" is not "Will"
                continue
            norm, start, end = normalise(m.group()), m.start(), m.end()
            if norm not in kinds:  # "Connors mum": a possessive without its apostrophe
                norm, end = norm[:-1], end - 1
            extra.append(Detection(d["id"], d["name"], start, end, text[start:end], kinds[norm], "name variant"))
    return found + extra


def _resolve_overlaps(found: list[Detection]) -> list[Detection]:
    """One detection per stretch of text: the stronger rule wins, then the longer span."""
    spans = [r for r in found if r.start is not None]
    spans.sort(key=lambda r: (_PRIORITY.get(r.rule, 9), -(r.end - r.start), r.document_id, r.start))
    taken: dict[int, list[tuple[int, int]]] = defaultdict(list)
    kept: list[Detection] = []
    for r in spans:
        ranges = taken[r.document_id]
        if any(r.start < e and s < r.end for s, e in ranges):
            continue
        ranges.append((r.start, r.end))
        kept.append(r)
    seen_speakers = set()
    for r in found:
        if r.start is None and (r.document_id, normalise(r.text)) not in seen_speakers:
            seen_speakers.add((r.document_id, normalise(r.text)))
            kept.append(r)
    kept.sort(key=lambda r: (r.document_id, -1 if r.start is None else r.start))
    return kept


def assign_labels(rows: list[Detection], key: Key, fixed: dict[str, str]) -> dict[str, str]:
    """Give every row a label, consistently: returns normalised original -> label.

    Order of precedence: a label already in a row (the reviewer's), the key file's, a
    fixed label from the known-names list, the label of the one longer name a single
    word belongs to, then a new ``[Type N]`` in order of first appearance.
    """
    chosen: dict[str, str] = {}
    for r in rows:
        if r.label.strip():
            chosen.setdefault(normalise(r.text), r.label.strip())
    variants = _name_variants(rows, key)
    new_labels: list[str] = []

    def label_of(norm: str, type_: str) -> str:
        if norm in chosen:
            return chosen[norm]
        label = key.label_for(norm) or fixed.get(norm)
        if label is None and norm in variants and variants[norm][0] != norm:
            owner = variants[norm][0]
            owner_type = next((x.type for x in rows if normalise(x.text) == owner), variants[norm][1])
            label = label_of(owner, owner_type)
        if label is None:
            label = key.next_label(type_, list(chosen.values()) + new_labels)
            new_labels.append(label)
        chosen[norm] = label
        return label

    for r in sorted(rows, key=lambda r: (r.document_id or 0, -1 if r.start is None else r.start)):
        if not r.label.strip():
            r.label = label_of(normalise(r.text), r.type)
    return chosen


# -- review file ---------------------------------------------------------------------------


def read_detections(path: str | Path) -> list[Detection]:
    """Read the reviewed detections CSV; every problem comes back at once with its line."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such detections file", "run `qualcode pseudonymise detect --out FILE` first")
    text, _ = decode_text(path.read_bytes(), path.name)
    reader = csv.DictReader(io.StringIO(text))
    missing = {"decision", "type", "text"} - {(c or "").strip() for c in reader.fieldnames or []}
    if missing:
        raise InputError(path, f"missing column(s) {', '.join(sorted(missing))}",
                         "keep the header that `pseudonymise detect` wrote", where="line 1")
    rows, problems = [], []
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): csv_unquote((v or "").strip()) for k, v in raw.items()}
        decision = DECISIONS.get(row.get("decision", "").lower())
        if decision is None:
            problems.append(Problem(str(path), line, f"decision {row.get('decision')!r} is not known",
                                    "write confirm, reject or add"))
            continue
        if not row.get("text"):
            problems.append(Problem(str(path), line, "the text cell is empty",
                                    "give the words to replace, or delete the row"))
            continue
        try:
            start = int(row["start"]) if row.get("start") else None
            end = int(row["end"]) if row.get("end") else None
            doc_id = int(row["document_id"]) if row.get("document_id") else None
        except ValueError:
            problems.append(Problem(str(path), line, "start, end and document_id must be whole numbers",
                                    "leave them as detect wrote them, or blank on a row you add"))
            continue
        label = row.get("label", "")
        if label and not (label.startswith("[") and label.endswith("]")):
            label = f"[{label}]"
        rows.append((line, Detection(doc_id, row.get("document", ""), start, end, row["text"],
                                     row.get("type") or "Person", row.get("rule", "") or "reviewer",
                                     label, row.get("context", ""), decision)))
    problems += _label_conflicts(path, rows)
    if problems:
        raise ValidationProblems(path, problems)
    return [r for _, r in rows]


def _label_conflicts(path: Path, rows: list[tuple[int, Detection]]) -> list[Problem]:
    labels: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for line, r in rows:
        if r.decision != "reject" and r.label:
            labels[normalise(r.text)][r.label].append(line)
    return [Problem(str(path), min(min(v) for v in by_label.values()),
                    f"{norm!r} has labels {', '.join(sorted(by_label))} (lines "
                    f"{', '.join(str(n) for v in by_label.values() for n in v)})",
                    "give every row of the same words the same label")
            for norm, by_label in labels.items() if len(by_label) > 1]


# -- applying ------------------------------------------------------------------------------


def _actor(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers: still record something true
        return "unknown"


def _occurrences(text: str, words: str) -> Iterator[tuple[int, int]]:
    pattern = re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, words.split())) + r"(?!\w)", re.IGNORECASE)
    for m in pattern.finditer(text):
        yield m.start(), m.end()


def _originals_pattern(originals: Iterable[str]) -> re.Pattern | None:
    """One regex for every original, longest first, whole words, any case."""
    words = sorted({" ".join(o.split()) for o in originals if o.strip()}, key=len, reverse=True)
    if not words:
        return None
    alternatives = [r"\s+".join(map(re.escape, w.split())) for w in words]
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def _scrub(value: str | None, pattern: re.Pattern | None, key_by_norm: dict[str, str]) -> str | None:
    if value is None or pattern is None:
        return value
    return pattern.sub(lambda m: key_by_norm[normalise(m.group())], value)


def _scrub_json(value: str, pattern: re.Pattern, key_by_norm: dict[str, str]) -> str:
    """Replace originals inside the strings of a JSON document (escapes would hide them)."""
    try:
        data = json.loads(value)
    except ValueError:
        return _scrub(value, pattern, key_by_norm)

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            if item.startswith(("{", "[")):  # JSON nested in a string (provenance)
                try:
                    return json.dumps(walk(json.loads(item)), sort_keys=True)
                except ValueError:
                    pass
            return _scrub(item, pattern, key_by_norm)
        if isinstance(item, dict):
            return {k: walk(v) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v) for v in item]
        return item

    new = walk(data)
    return value if new == data else json.dumps(new, sort_keys=True)


def apply(
    project: Project,
    detections: str | Path | Sequence[Detection],
    key: str | Path,
    by: str | None = None,
) -> PseudonymiseReport:
    """Replace the confirmed identifiers in one transaction and write the key file.

    Codings, turns and snippets move with the text; each moved coding gets a
    ``pseudonymise`` event. The key (label, type, original) goes to ``key``, which must
    lie outside the project; the project records only labels and counts.
    """
    key_path = Path(key)
    _check_key_path(project, key_path)
    rows = read_detections(detections) if isinstance(detections, (str, Path)) else list(detections)
    the_key = Key.read(key_path)
    _check_key_covers_project(project, the_key, key_path)
    actor, stamp = _actor(by), store.now()
    batch = f"{ACTION}-{stamp.replace(':', '')[:17]}-{uuid.uuid4().hex[:8]}"
    rejected = sum(r.decision == "reject" for r in rows)
    with project.transaction() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA secure_delete = ON")  # freed pages are zeroed, not left
        texts = _texts(conn)
        spans = _confirmed_spans(project, rows, texts)
        mapping = assign_labels(spans, the_key, {})
        _check_labels_agree_with_key(project, spans, the_key, key_path)
        for r in spans:
            the_key.add(r.text, r.label, r.type)
        for r in rows:  # speaker names and added words with no span still belong in the key
            if r.decision != "reject" and r.start is None:
                label = r.label or mapping.get(normalise(r.text)) or the_key.label_for(r.text)
                if label is None:
                    label = the_key.next_label(r.type)
                the_key.add(r.text, label, r.type)
        report = _rewrite(conn, texts, spans, the_key, actor, stamp, batch)
        report.rejected, report.key_file = rejected, str(key_path)
        report.residual = _residual(conn, the_key)
        _record(conn, report, spans, the_key, stamp)
        the_key.write(key_path)  # before commit: a failed write leaves the project as it was
    report.warnings += _clean_sqlite(project)
    if "://" not in project.location and key_path.resolve().parent == Path(project.location).resolve().parent:
        report.warnings.append(f"the key {key_path.name} is in the project's folder: move it to separate, "
                               "access-controlled storage before sharing the project")
    report.not_checked = list(NOT_CHECKED)
    return report


def _check_key_path(project: Project, key_path: Path) -> None:
    if "://" not in project.location and key_path.resolve() == Path(project.location).resolve():
        raise InputError(key_path, "the key file cannot be the project itself",
                         "give a separate CSV file, e.g. KEY.csv, stored away from the project")
    if key_path.suffix.lower() != ".csv":
        raise InputError(key_path, "the key file must be a .csv file", "name it e.g. KEY.csv")


def _check_key_covers_project(project: Project, key: Key, key_path: Path) -> None:
    recorded = set(status(project)["label"])
    missing = sorted(recorded - set(key.types))
    if missing:
        raise InputError(
            key_path,
            f"the project already uses labels ({', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}) "
            "that this key file does not hold",
            "give the key file an earlier run wrote, so the same people keep the same labels",
        )


def _check_labels_agree_with_key(project: Project, spans: list[Detection], key: Key, key_path: Path) -> None:
    clashes = sorted({(r.text, key.label_for(r.text), r.label) for r in spans
                      if key.label_for(r.text) not in (None, r.label)})
    if clashes:
        raise ValidationProblems(project.location, [
            Problem(str(key_path), None, f"{text!r} is {old} in the key but {new} in the detections",
                    f"write {old} in the detections' label column (or edit the key on purpose)")
            for text, old, new in clashes])


def _texts(conn: sa.Connection) -> dict[int, str]:
    d = store.documents
    return dict(conn.execute(sa.select(d.c.id, d.c.text)).all())


def _confirmed_spans(project: Project, rows: list[Detection], texts: dict[int, str]) -> list[Detection]:
    """Confirmed rows checked against the text, plus every occurrence of added words."""
    problems, spans = [], []
    for n, r in enumerate(rows, start=1):
        if r.decision == "reject":
            continue
        if r.start is None or r.end is None:
            targets = [r.document_id] if r.document_id is not None else sorted(texts)
            if r.document_id is not None and r.document_id not in texts:
                problems.append(Problem(project.location, None, f"row {n}: no document with id {r.document_id}",
                                        "use an id from `qualcode documents`"))
                continue
            for doc_id in targets:
                for s, e in _occurrences(texts[doc_id], r.text):
                    # "occurrence": below every detection, so "Natalie Pryce" is not cut to "Natalie"
                    spans.append(Detection(doc_id, r.document, s, e, texts[doc_id][s:e], r.type, "occurrence",
                                           r.label))
            continue
        text = texts.get(r.document_id)
        if text is None or text[r.start:r.end] != r.text:
            found = text[r.start:r.end] if text is not None else None
            problems.append(Problem(
                project.location, None,
                f"row {n} ({r.document or r.document_id} [{r.start}, {r.end})): expected {r.text!r}, "
                f"the document holds {found!r}",
                "run detect again: the document changed after the detections were written"))
            continue
        spans.append(r)
    if problems:
        raise ValidationProblems(project.location, problems)
    return _resolve_overlaps(spans)


def _rewrite(conn: sa.Connection, texts: dict[int, str], spans: list[Detection], key: Key, actor: str,
             stamp: str, batch: str) -> PseudonymiseReport:
    by_doc: dict[int, list[Detection]] = defaultdict(list)
    for r in spans:
        by_doc[r.document_id].append(r)
    labels = {norm: label for norm, label in key.by_original.items()}
    pattern = _originals_pattern(key.originals.values())
    moved_codings = moved_turns = 0
    for doc_id, doc_spans in by_doc.items():
        reps = [Replacement(r.start, r.end, labels[normalise(r.text)]) for r in doc_spans]
        new_text = replace_text(texts[doc_id], reps)
        offsets = OffsetMap(reps)
        conn.execute(sa.update(store.documents).where(store.documents.c.id == doc_id).values(text=new_text))
        moved_turns += _move_turns(conn, doc_id, offsets)
        moved_codings += _move_codings(conn, doc_id, offsets, new_text, pattern, labels, actor, stamp, batch)
    other = _scrub_other_fields(conn, pattern, labels)
    replaced = Counter(r.type for r in spans)
    per_label = Counter(labels[normalise(r.text)] for r in spans)
    return PseudonymiseReport(batch, actor, len(by_doc), dict(replaced.most_common()), dict(per_label),
                              moved_codings, moved_turns, other, 0, "")


def _move_turns(conn: sa.Connection, doc_id: int, offsets: OffsetMap) -> int:
    t = store.turns
    rows = conn.execute(sa.select(t.c.id, t.c.start, t.c.end).where(t.c.document_id == doc_id)).all()
    changes = [{"b_id": i, "b_start": offsets.start(s), "b_end": offsets.end(e)} for i, s, e in rows]
    changes = [c for c, (_, s, e) in zip(changes, rows) if (c["b_start"], c["b_end"]) != (s, e)]
    if changes:
        conn.execute(sa.update(t).where(t.c.id == sa.bindparam("b_id"))
                     .values(start=sa.bindparam("b_start"), end=sa.bindparam("b_end")), changes)
    return len(changes)


_EVENT_FIELDS = ("document_id", "code_id", "coder_id", "start", "end", "status", "confidence", "method",
                 "provenance", "explanation", "codebook_version", "direction", "snippet")


def _move_codings(conn: sa.Connection, doc_id: int, offsets: OffsetMap, new_text: str,
                  pattern: re.Pattern | None, labels: dict[str, str], actor: str, stamp: str, batch: str) -> int:
    k = store.codings
    rows = [dict(r._mapping) for r in conn.execute(sa.select(k).where(k.c.document_id == doc_id))]
    updates, events = [], []
    for row in rows:
        start, end = offsets.start(row["start"]), offsets.end(row["end"])
        snippet = new_text[start:end][:200]
        if (start, end, snippet) == (row["start"], row["end"], row["snippet"]):
            continue
        before = {f: row[f] for f in _EVENT_FIELDS}
        before["snippet"] = _scrub(row["snippet"], pattern, labels)  # the event must not keep the original
        before["explanation"] = _scrub(row["explanation"], pattern, labels)
        after = {**before, "start": start, "end": end, "snippet": snippet}
        updates.append({"b_id": row["id"], "b_start": start, "b_end": end, "b_snippet": snippet,
                        "b_explanation": after["explanation"]})
        events.append({"coding_id": row["id"], "action": ACTION, "actor": actor, "at": stamp, "batch": batch,
                       "before": json.dumps(before, sort_keys=True), "after": json.dumps(after, sort_keys=True)})
    if updates:
        conn.execute(sa.update(k).where(k.c.id == sa.bindparam("b_id")).values(
            start=sa.bindparam("b_start"), end=sa.bindparam("b_end"), snippet=sa.bindparam("b_snippet"),
            explanation=sa.bindparam("b_explanation"), updated_at=stamp), updates)
        conn.execute(sa.insert(store.coding_events), events)
    return len(updates)


# Free-text columns outside documents.text where an identifier can sit, replaced too.
_SCRUBBED = (("turns", "speaker"), ("document_attributes", "value"), ("case_attributes", "value"),
             ("memos", "text"), ("coding_events", "before"), ("coding_events", "after"),
             ("codings", "snippet"), ("codings", "explanation"))


def _scrub_other_fields(conn: sa.Connection, pattern: re.Pattern | None, labels: dict[str, str]) -> dict[str, int]:
    changed: dict[str, int] = {}
    if pattern is None:
        return changed
    for table_name, column in _SCRUBBED:
        table = store.metadata.tables[table_name]
        pk = list(table.primary_key.columns)
        updates = []
        for row in conn.execute(sa.select(*pk, table.c[column]).where(table.c[column].is_not(None))):
            old = row[-1]
            scrub = _scrub_json if table_name == "coding_events" else _scrub
            new = scrub(old, pattern, labels) if pattern.search(_searchable(old)) else old
            if new != old:
                updates.append({**{f"b_{c.name}": v for c, v in zip(pk, row[:-1])}, "b_value": new})
        if updates:
            where = sa.and_(*[c == sa.bindparam(f"b_{c.name}") for c in pk])
            conn.execute(sa.update(table).where(where).values({column: sa.bindparam("b_value")}), updates)
            changed[f"{table_name}.{column}"] = len(updates)
    return changed


def _searchable(value: str) -> str:
    """``value`` with JSON escapes undone, so "Zo\\u00eb" is found as "Zoë"."""
    if "\\u" in value:
        try:
            return value.encode("ascii", "backslashreplace").decode("unicode_escape")
        except UnicodeDecodeError:
            return value
    return value


def _residual(conn: sa.Connection, key: Key) -> dict[str, int]:
    """Rows of any text column in the project that still hold an original from the key."""
    pattern = _originals_pattern(key.originals.values())
    found: dict[str, int] = {}
    if pattern is None:
        return found
    for table in store.metadata.sorted_tables:
        if not sa.inspect(conn).has_table(table.name):
            continue
        for column in table.columns:
            if not isinstance(column.type, (sa.String, sa.Text)) or column.name in ("sha256",):
                continue
            n = sum(1 for (v,) in conn.execute(sa.select(column).where(column.is_not(None)))
                    if isinstance(v, str) and pattern.search(_searchable(v)))
            if n:
                found[f"{table.name}.{column.name}"] = n
    return found


def _record(conn: sa.Connection, report: PseudonymiseReport, spans: list[Detection], key: Key,
            stamp: str) -> None:
    """Keep labels, their types and counts (never originals) in the project's meta table."""
    m = store.meta
    current = conn.execute(sa.select(m.c.value).where(m.c.key == META_KEY)).scalar()
    record = json.loads(current) if current else {"labels": {}, "documents": [], "runs": []}
    for label, n in report.labels.items():
        entry = record["labels"].setdefault(label, {"type": key.types.get(label, _prefix(label)), "count": 0})
        entry["count"] += n
    for label in key.types:  # speaker-only labels too, so a later key check knows them
        record["labels"].setdefault(label, {"type": key.types[label], "count": 0})
    record["documents"] = sorted(set(record["documents"]) | {r.document_id for r in spans})
    record["runs"].append({"at": stamp, "by": report.by, "batch": report.batch, "replaced": report.replaced,
                           "codings_moved": report.codings_moved})
    conn.execute(sa.delete(m).where(m.c.key == META_KEY))
    conn.execute(sa.insert(m).values(key=META_KEY, value=json.dumps(record, sort_keys=True)))


def _clean_sqlite(project: Project) -> list[str]:
    """Checkpoint and truncate the WAL, then VACUUM: no old page keeps an original."""
    if "://" in project.location:
        return ["the project is not a SQLite file: the server's own logs and backups may keep old text"]
    project.engine.dispose()  # pooled connections would hold the WAL open
    db = sqlite3.connect(project.location, timeout=30)
    try:
        db.execute("PRAGMA secure_delete = ON")
        busy = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        db.execute("VACUUM")
        busy = busy or db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    finally:
        db.close()
    if busy:
        return ["another program has the project open, so its write-ahead log could not be emptied: close "
                "it and run `qualcode pseudonymise status` (which retries), or copies of the originals may "
                "remain in the -wal file"]
    return []


# -- reading the record ---------------------------------------------------------------------


def _meta_record(conn: sa.Connection) -> dict[str, Any]:
    value = conn.execute(sa.select(store.meta.c.value).where(store.meta.c.key == META_KEY)).scalar()
    return json.loads(value) if value else {"labels": {}, "documents": [], "runs": []}


def pseudonymised_documents(conn: sa.Connection) -> set[int]:
    """Ids of documents whose text was pseudonymised (``corpus`` refuses new versions of them)."""
    return set(_meta_record(conn)["documents"])


def status(project: Project, clean: bool = False) -> pd.DataFrame:
    """The labels the project uses, with their type and how many times each replaced text.

    ``clean`` also empties the WAL and vacuums (a retry after a busy checkpoint).
    """
    if clean:
        _clean_sqlite(project)
    with project.engine.connect() as conn:
        record = _meta_record(conn)
    frame = pd.DataFrame([{"label": label, "type": v["type"], "count": v["count"]}
                          for label, v in record["labels"].items()], columns=["label", "type", "count"])
    if not frame.empty:
        frame = frame.assign(_n=frame["label"].map(_label_number)).sort_values(["type", "_n"]).drop(columns="_n")
    return frame.reset_index(drop=True)


def runs(project: Project) -> pd.DataFrame:
    """One row per pseudonymisation run: when, by whom, what it replaced."""
    with project.engine.connect() as conn:
        record = _meta_record(conn)
    return pd.DataFrame(record["runs"], columns=["at", "by", "batch", "replaced", "codings_moved"])


__all__ = [
    "Detection", "Detections", "Key", "KnownName", "OffsetMap", "PseudonymiseReport", "Replacement",
    "apply", "detect", "read_detections", "read_known_names", "replace_text", "status", "runs",
    "pseudonymised_documents", "nhs_number_valid", "looks_like_name", "installed_ner_model",
]
