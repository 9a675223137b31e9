"""Labels: one per person or place, consistent across the project, surnames kept apart."""

from __future__ import annotations

import re
from collections import defaultdict

from .key import Key, normalise
from .patterns import NOT_NAMES, THINGS
from .records import Detection

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
    roles = person_roles(rows, variants)
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
            if norm in variants and variants[norm] == (norm, "Surname"):
                type_ = "Surname"  # shared by several people: its own label, never one person's
            label = key.next_label(roles.get(norm, type_), list(chosen.values()) + new_labels)
            new_labels.append(label)
        chosen[norm] = label
        return label

    for r in sorted(rows, key=lambda r: (r.document_id or 0, -1 if r.start is None else r.start)):
        if not r.label.strip():
            r.label = label_of(normalise(r.text), r.type)
    return chosen


# Person types that say nothing about the role: a cue's Child, Parent or Staff beats them.
GENERIC_PERSON_TYPES = frozenset({"Person", "Surname", "Family member"})


def owner_of(norm: str, variants: dict[str, tuple[str, str]]) -> str:
    """The full name a one-word name belongs to ("kelly" -> "kelly marsh"), or itself."""
    owner, kind = variants.get(norm, (norm, ""))
    return norm if kind == "Surname" else owner


def person_roles(rows: list[Detection], variants: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Normalised name -> the role a cue gave that person anywhere ("her son Jayden": Child).

    The first specific role wins over generic ones ("Person" from the model, a speaker
    label): one person, one role, whichever detection carried the cue.

    >>> rows = [Detection(1, "d", 0, 12, "Jayden Marsh", "Person", "ner"),
    ...         Detection(1, "d", 20, 26, "Jayden", "Child", "cue")]
    >>> person_roles(rows, _name_variants(rows, Key()))
    {'jayden marsh': 'Child', 'jayden': 'Child'}
    """
    owners: dict[str, str] = {}
    for r in rows:
        if not is_person(r.type) or r.type in GENERIC_PERSON_TYPES:
            continue
        owner = owner_of(normalise(r.text), variants)
        owners.setdefault(owner, r.type)
    roles = dict(owners)
    for r in rows:
        norm = normalise(r.text)
        if norm not in roles and owner_of(norm, variants) in owners:
            roles[norm] = owners[owner_of(norm, variants)]
    return roles
