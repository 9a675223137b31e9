"""Rule-based detection: regular expressions, cue words, speaker labels."""

from __future__ import annotations

import re
from typing import Iterator

from spacy.language import Language
from spacy.matcher import Matcher

from ..turns import INTERVIEWER_ROLES, NOT_SPEAKERS, RESPONDENT_ROLES
from .key import normalise
from .patterns import CHILD_CUES, CONTEXT, DATE, DOB_CUE, DOB_WINDOW, EMAIL, GENERIC_SCHOOL_WORDS, GENERIC_STREET_WORDS, NAMING_CUES, NHS_NUMBER, NI_NUMBER, NOT_NAMES, PARENT_CUES, PERSON_CUES, PHONE, POSTCODE, ROLE_SPEAKERS, SCHOOL, STAFF_CUES, STREET, TITLE_CUES
from .records import Detection

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
                if doc[i].text not in _GAPS.get(kind if doc[start].lower_ not in TITLE_CUES else "title", ",(:"):
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
