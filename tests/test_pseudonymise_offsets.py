"""Property: after replacement, every coding still covers the same words.

For random texts, random non-overlapping replacements and random codings, the text
under each moved coding equals the original text under it with the replacements
inside it applied; a coding that cuts through a replaced span first grows to cover it.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qualcode.pseudonymise import OffsetMap, Replacement, replace_text


@st.composite
def cases(draw):
    text = draw(st.text(alphabet="ab .\n", min_size=1, max_size=80))
    cuts = sorted(draw(st.sets(st.integers(0, len(text)), max_size=10)))
    reps = []
    for start, end in zip(cuts[::2], cuts[1::2]):
        if start < end:
            reps.append(Replacement(start, end, draw(st.sampled_from(["[P1]", "[Place 12]", "X", ""]))))
    codings = draw(st.lists(st.tuples(st.integers(0, len(text)), st.integers(0, len(text)))
                            .map(sorted), max_size=8))
    return text, reps, codings


def _grown(start: int, end: int, reps: list[Replacement]) -> tuple[int, int]:
    for r in reps:
        if r.start < start < r.end:
            start = r.start
        if r.start < end < r.end:
            end = r.end
        if start == end and r.start < start < r.end:
            start, end = r.start, r.end
    return start, end


@settings(max_examples=300, deadline=None)
@given(cases())
def test_codings_cover_the_same_words_after_replacement(case):
    text, reps, codings = case
    new_text = replace_text(text, reps)
    offsets = OffsetMap(reps)
    for start, end in codings:
        new_start, new_end = offsets.start(start), offsets.end(end)
        s, e = _grown(start, end, reps)
        inside = [Replacement(r.start - s, r.end - s, r.label) for r in reps if s <= r.start and r.end <= e]
        assert new_text[new_start:new_end] == replace_text(text[s:e], inside)
        assert 0 <= new_start <= new_end <= len(new_text)


def test_overlapping_replacements_are_refused():
    with pytest.raises(ValueError, match="overlap"):
        OffsetMap([Replacement(0, 5, "[A]"), Replacement(3, 8, "[B]")])


def test_worked_example():
    text = "Kerry met Dean at 14 Lavender Row."
    reps = [Replacement(0, 5, "[Parent 1]"), Replacement(10, 14, "[Person 2]"), Replacement(18, 33, "[Place 1]")]
    new = replace_text(text, reps)
    assert new == "[Parent 1] met [Person 2] at [Place 1]."
    m = OffsetMap(reps)
    assert new[m.start(6):m.end(9)] == "met"
    assert new[m.start(2):m.end(14)] == "[Parent 1] met [Person 2]"  # starts inside "Kerry": grows
    assert new[m.start(33):m.end(34)] == "."
