"""Measuring a detector on texts whose identifiers a person marked: recall and precision.

A team can check detection on its own material before trusting it: mark a sample's
identifiers as ``[[Kelly Marsh|PERSON]]``, then score. Recall is what matters most (a
missed name is a breach), so a marked identifier counts as found only when every one
of its letters and digits lies under some detection, whatever type that detection
gave it: "Kelly" found in "Kelly Marsh" leaves "Marsh" behind and is a miss. A
detection is correct when it overlaps a marked identifier of any type.

>>> item = parse_marked("Kelly Marsh rang [[Jo|PERSON]] on [[07700 900517|PHONE]].", "x")
>>> item.text, [(g.text, g.type) for g in item.gold]
('Kelly Marsh rang Jo on 07700 900517.', [('Jo', 'PERSON'), ('07700 900517', 'PHONE')])
>>> from qualcode.privacy.records import Span
>>> table = score([item], [[Span(17, 19, "Jo", "Person", "cue")]])
>>> table.set_index("type").loc["PERSON", ["marked", "found", "recall", "detections", "precision"]].tolist()
[1.0, 1.0, 1.0, 1.0, 1.0]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pandas as pd

from ..errors import InputError
from .labels import is_person
from .records import Span

# The marked types and the detection types that belong to each.
TYPES = ("PERSON", "PLACE", "SCHOOL", "POSTCODE", "PHONE", "EMAIL", "DOB", "NHS", "NI")
_DETECTED = {"Place": "PLACE", "School": "SCHOOL", "Postcode": "POSTCODE", "Phone": "PHONE", "Email": "EMAIL",
             "Date of birth": "DOB", "NHS number": "NHS", "NI number": "NI"}
_MARK = re.compile(r"\[\[(?P<text>[^\[\]|]+)\|(?P<type>[A-Z]+)\]\]")


@dataclass(frozen=True)
class Marked:
    """One marked identifier: ``text[start:end]`` of the unmarked text."""

    start: int
    end: int
    text: str
    type: str


@dataclass
class MarkedText:
    """A text with its marks taken out, and where they were."""

    name: str
    text: str
    gold: list[Marked]


def parse_marked(marked: str, name: str) -> MarkedText:
    """The plain text and its marked identifiers; an unknown type is an error naming the line."""
    out, gold, last = [], [], 0
    length = 0
    for m in _MARK.finditer(marked):
        if m["type"] not in TYPES:
            line = marked.count("\n", 0, m.start()) + 1
            raise InputError(name, f"type {m['type']!r} is not one of {', '.join(TYPES)}",
                             "mark identifiers as [[words|TYPE]] with one of those types", where=f"line {line}")
        before = marked[last:m.start()]
        out.append(before)
        length += len(before)
        gold.append(Marked(length, length + len(m["text"]), m["text"], m["type"]))
        out.append(m["text"])
        length += len(m["text"])
        last = m.end()
    out.append(marked[last:])
    return MarkedText(name, "".join(out), gold)


def read_marked(folder: str | Path) -> list[MarkedText]:
    """Every ``*.txt`` in ``folder``, in name order, parsed by ``parse_marked``."""
    folder = Path(folder)
    files = sorted(folder.glob("*.txt"))
    if not files:
        raise InputError(folder, "no .txt files with marked identifiers", "give the folder of the labelled set")
    return [parse_marked(f.read_text(encoding="utf-8"), f.name) for f in files]


def detected_type(type_: str) -> str:
    """The marked type a detection's type belongs to ("Parent", "Staff" ... are PERSON).

    >>> detected_type("Social Worker"), detected_type("Postcode")
    ('PERSON', 'POSTCODE')
    """
    return "PERSON" if is_person(type_) else _DETECTED.get(type_, type_.upper())


def _covered(gold: Marked, text: str, spans: Sequence[Span]) -> bool:
    need = {i for i in range(gold.start, gold.end) if text[i].isalnum()}
    for s in spans:
        if s.start < gold.end and gold.start < s.end:
            need -= set(range(s.start, s.end))
    return not need


def misses(items: Sequence[MarkedText], found: Sequence[Sequence[Span]]) -> list[tuple[str, Marked]]:
    """(file name, marked identifier) for every identifier left (partly) uncovered."""
    return [(item.name, g) for item, spans in zip(items, found) for g in item.gold
            if not _covered(g, item.text, spans)]


def false_alarms(items: Sequence[MarkedText], found: Sequence[Sequence[Span]]) -> list[tuple[str, Span]]:
    """(file name, detection) for every detection that overlaps no marked identifier."""
    return [(item.name, s) for item, spans in zip(items, found) for s in spans
            if not any(s.start < g.end and g.start < s.end for g in item.gold)]


def score(items: Sequence[MarkedText], found: Sequence[Sequence[Span]]) -> pd.DataFrame:
    """Per marked type: how many marked, found, recall; detections of that type, precision."""
    rows = {t: {"type": t, "marked": 0, "found": 0, "detections": 0, "correct": 0} for t in TYPES}
    for item, spans in zip(items, found):
        for g in item.gold:
            rows[g.type]["marked"] += 1
            rows[g.type]["found"] += _covered(g, item.text, spans)
        for s in spans:
            row = rows.setdefault(detected_type(s.type), {"type": detected_type(s.type), "marked": 0, "found": 0,
                                                           "detections": 0, "correct": 0})
            row["detections"] += 1
            row["correct"] += any(s.start < g.end and g.start < s.end for g in item.gold)
    table = pd.DataFrame(list(rows.values()))
    table["recall"] = (table["found"] / table["marked"]).where(table["marked"] > 0).round(3)
    table["precision"] = (table["correct"] / table["detections"]).where(table["detections"] > 0).round(3)
    table = table[(table["marked"] > 0) | (table["detections"] > 0)]
    return table[["type", "marked", "found", "recall", "detections", "correct", "precision"]].reset_index(drop=True)
