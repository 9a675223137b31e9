"""Positions in other tools' units map onto our normalised text: property-tested."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from qualcode.refi.positions import Utf16Index, normalised_with_map
from qualcode.textnorm import normalise_text

PIECES = st.lists(st.sampled_from(["a", "é", "e\u0301", " ", "\r\n", "\n", "\r", "\U0001F600", "\U0001F469\u200d\U0001F467",
                                   "\x07", "\t", "’", "中"]), max_size=40)


@settings(max_examples=300, deadline=None)
@given(PIECES)
def test_utf16_units_give_the_code_point(pieces):
    raw = "".join(pieces)
    index = Utf16Index(raw)
    for i in range(len(raw) + 1):
        assert index.to_codepoint(len(raw[:i].encode("utf-16-le")) // 2) == i


@settings(max_examples=300, deadline=None)
@given(PIECES)
def test_a_position_keeps_what_follows_it(pieces):
    raw = "".join(pieces)
    text, to_ours = normalised_with_map(raw)
    assert text == normalise_text(raw)
    cuts = [0]
    for piece in pieces:  # positions between the pieces: never inside a CRLF or a combining sequence
        cuts.append(cuts[-1] + len(piece))
    for at, cut in enumerate(cuts):
        rest = "".join(pieces[at:])
        if rest.startswith("\u0301") or (at and pieces[at - 1] == "\r" and rest.startswith("\n")):
            continue  # a lone CR before LF or an accent after its letter joins what precedes it
        assert text[to_ours(cut):] == normalise_text(rest).lstrip("\ufeff")
