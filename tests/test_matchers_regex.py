"""Regexes run only on lines holding every text they require; that must find what a
search of every line finds."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from qualcode.matchers.regexes import Regex, _Lines, _required_pieces, anchor_shared

SOURCES = [
    r"\bCP (?:plans?|conferences?|cases?|register|level|threshold|enquir(?:y|ies)|investigations?)\b",
    r"\b(?:on|to|from) (?:CP|CIN)\b",
    r"\b\d{1,3}\s?(?:%|per ?cent) of (?:my|our|their) time\b",
    r"\bworried (?:that|about) .{0,60}\b(?:might|could|will)\b",
    r"(?i)\bcase ?loads? (?:of|at|around|about) (?:about |around )?\d+",
    r"£\s?\d[\d,.]*\s?(?:k|m|million|thousand)?",
    r"[Pp]lan(?:s|ned)?",
    r"\bre-?referrals? (?:rate|fell|rose|went)",
    r"^(?:Yes|No)\b",
    *(rf"\b{i}/10\b" for i in range(10)),  # share "/10": one search for all (anchor_shared)
]
WORDS = ["CP", "CIN", "plan", "Plans", "on", "to", "from", "cases", "45%", "45", "per", "cent", "percent", "of", "my",
         "their", "time", "worried", "that", "about", "might", "could", "CASELOAD", "caseloads", "at", "around", "12",
         "£", "£5k", "5", "million", "re-referrals", "referral", "rate", "went", "Yes", "No", "the", "7/10", "10/10", "3/10.", "/10", "\n", "\n\n"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=60))
def test_prefiltered_lines_find_every_match(words):
    text = " ".join(words)
    lines = _Lines(text)
    regexes = [Regex.compile(0, source) for source in SOURCES]
    anchor_shared(regexes)
    assert sum(r.anchor == "/10" for r in regexes) == 10
    for source, regex in zip(SOURCES, regexes):
        found = [(m.start(), m.end()) for lo, hi in lines.holding_any(regex.literal, regex.ignore_case, regex.anchor)
                 if not regex.others or regex.may_match(lines.line(lo, hi, regex.ignore_case))
                 for m in regex.pattern.finditer(text, lo, hi)]
        every = [(m.start(), m.end()) for lo, hi in lines.bounds for m in regex.pattern.finditer(text, lo, hi)]
        assert found == every, source


def test_required_pieces_are_required():
    """Every alternative set a pattern requires is in every string it matches."""
    samples = ["CP plan", "on CIN", "from CP", "45% of my time", "12 per cent of their time", "worried that it might",
               "Caseload of about 30", "£ 5k", "plans", "re-referral rate", "Yes"]
    for source in SOURCES:
        pattern = re.compile(source)
        for sample in samples:
            m = pattern.search(sample)
            if m is None:
                continue
            folded = m.group().lower() if pattern.flags & re.IGNORECASE else m.group()
            for piece in _required_pieces(source):
                piece = tuple(a.lower() for a in piece) if pattern.flags & re.IGNORECASE else piece
                assert any(a in folded for a in piece), (source, sample, piece)
