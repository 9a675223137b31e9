"""Segments: exact offsets, nesting in turns and paragraphs, streaming from a project."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualcode.corpus import import_paths
from qualcode.importers.base import Turn
from qualcode.nlp import load_pipeline
from qualcode.segments import (Segment, iter_segments, paragraph_breaks, segment_document, sentence_starts,
                               turn_spans)

TRANSCRIPT = (
    "Interviewer: How is group supervision going?\n"
    "Sam: It works. We meet every week.\n"
    "Interviewer: And caseloads?\n"
    "Sam: Still too high. Twenty each."
)


def _turns(text: str) -> list[Turn]:
    """One turn per line, the label outside the span (as the importer stores them)."""
    turns, pos = [], 0
    for line in text.split("\n"):
        label, _, said = line.partition(": ")
        start = pos + len(label) + 2
        turns.append(Turn(start, start + len(said), label, label == "Interviewer"))
        pos += len(line) + 1
    return turns


def _texts(text: str, segments: list[Segment]) -> list[str]:
    return [text[s.start:s.end] for s in segments]


def test_sentences_stay_inside_turns_and_know_their_speaker():
    segments = segment_document(TRANSCRIPT, _turns(TRANSCRIPT), "sentence")
    assert _texts(TRANSCRIPT, segments) == [
        "Interviewer:", "How is group supervision going?", "Sam:", "It works.", "We meet every week.",
        "Interviewer:", "And caseloads?", "Sam:", "Still too high.", "Twenty each.",
    ]
    said = [s for s in segments if s.turn is not None]
    assert [(s.turn, s.speaker, s.is_interviewer) for s in said][:3] == [
        (0, "Interviewer", True), (1, "Sam", False), (1, "Sam", False)]
    labels = [s for s in segments if s.turn is None]
    assert all(s.speaker is None and not s.is_interviewer for s in labels)


def test_turn_unit_gives_one_segment_per_turn():
    segments = segment_document(TRANSCRIPT, _turns(TRANSCRIPT), "turn")
    turns = [s for s in segments if s.turn is not None]
    assert _texts(TRANSCRIPT, turns) == ["How is group supervision going?", "It works. We meet every week.",
                                         "And caseloads?", "Still too high. Twenty each."]
    assert {s.unit for s in segments} == {"turn"}


def test_turns_from_a_project_dataframe_keep_their_seq():
    frame = pd.DataFrame([{"start": t.start, "end": t.end, "speaker": t.speaker,
                           "is_interviewer": t.is_interviewer, "seq": 10 + i}
                          for i, t in enumerate(_turns(TRANSCRIPT))])
    segments = segment_document(TRANSCRIPT, frame, "turn")
    assert [s.turn for s in segments if s.turn is not None] == [10, 11, 12, 13]


def test_hard_wrapped_prose_keeps_its_lines_together():
    line = "The family were seen at home and the children spoke to me alone"
    prose = f"{line}\n{line}\n{line}\nend.\n\nVisit two. Nobody home."
    assert _texts(prose, segment_document(prose, [], "paragraph")) == [
        f"{line}\n{line}\n{line}\nend.", "Visit two. Nobody home."]


def test_headers_are_paragraphs_even_when_turns_are_separated_by_blank_lines():
    text = "Date: 3 May\nSite: North Hub\n\nI: Hello there.\n\nR: Hi."
    assert _texts(text, segment_document(text, [], "sentence"))[:2] == ["Date: 3 May", "Site: North Hub"]


def test_an_opening_bracket_starts_its_sentence():
    text = "Sure. [laughs] And then we met."
    assert _texts(text, segment_document(text, [], "sentence")) == ["Sure.", "[laughs] And then we met."]


def test_paragraphs_split_at_every_line_break_otherwise():
    notes = "Home visit\nMother present. Child seen alone"
    assert _texts(notes, segment_document(notes, [], "paragraph")) == [
        "Home visit", "Mother present. Child seen alone"]
    # A heading without a full stop does not swallow the next sentence.
    assert _texts(notes, segment_document(notes, [], "sentence")) == [
        "Home visit", "Mother present.", "Child seen alone"]


def test_document_without_turns_is_one_turn_segment():
    assert segment_document("  Just notes.\n", [], "turn") == [Segment(2, 13, "turn")]


def test_empty_and_blank_texts_give_no_segments():
    assert segment_document("", [], "sentence") == []
    assert segment_document(" \n\t ", [], "paragraph") == []


def test_unknown_unit_and_foreign_doc_are_refused():
    with pytest.raises(ValueError, match="unit must be one of"):
        segment_document("text", [], "page")
    with pytest.raises(ValueError, match="lengths differ"):
        segment_document("text", [], "sentence", doc=load_pipeline()("other text"))


def test_overlapping_or_out_of_range_turns_still_give_disjoint_segments():
    text = "aaa bbb. ccc ddd."
    turns = [Turn(0, 10, "A"), Turn(5, 40, "B")]
    segments = segment_document(text, turns, "turn")
    assert _texts(text, segments) == ["aaa bbb. c", "cc ddd."]
    assert [s.speaker for s in segments] == ["A", "B"]


def test_paragraph_breaks():
    assert paragraph_breaks("a\n\nb\n \nc") == [1, 2, 4, 6]
    assert paragraph_breaks("a\nb\nc") == [1, 3]


def test_turn_spans_number_plain_turns_from_zero():
    assert [t.seq for t in turn_spans([Turn(5, 9, "B"), Turn(0, 4, "A")])] == [1, 0]


# -- the property: offsets map back to the text exactly ---------------------------

_WORDS = st.sampled_from(["supervision", "Key-worker", "café", "I", "think", "so", "3.5", "Mr.",
                          "e.g.", "well", "…", "safegaurding", "😀", "don't"])
_SEPARATORS = st.sampled_from([" ", "  ", ". ", "? ", "\n", "\n\n", " \n \n", "\t", ", ", "!\n"])


@st.composite
def texts_and_turns(draw):
    parts = draw(st.lists(st.tuples(_WORDS, _SEPARATORS), max_size=40))
    text = draw(st.sampled_from(["", " ", "\n"])) + "".join(w + s for w, s in parts)
    cuts = sorted(set(draw(st.lists(st.integers(0, len(text)), max_size=8))))
    turns = [Turn(a, b, f"S{i % 3}", i % 2 == 0) for i, (a, b) in enumerate(zip(cuts, cuts[1:])) if i % 3 != 2]
    return text, turns


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts_and_turns(), st.sampled_from(["sentence", "paragraph", "turn"]))
def test_segments_map_back_to_the_text_exactly(case, unit):
    text, turns = case
    segments = segment_document(text, turns, unit)
    previous_end = 0
    for s in segments:
        assert 0 <= s.start < s.end <= len(text)
        assert s.start >= previous_end  # sorted and disjoint
        piece = text[s.start:s.end]
        assert piece.strip() and piece.strip() == piece
        previous_end = s.end
        for t_seq, t in enumerate(turns):  # never crosses a turn boundary
            assert not (s.start < t.start < s.end) and not (s.start < t.end < s.end)
            if t.start <= s.start and s.end <= t.end:
                assert (s.turn, s.speaker, s.is_interviewer) == (t_seq, t.speaker, t.is_interviewer)
    covered = set()
    for s in segments:
        covered.update(range(s.start, s.end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


@settings(max_examples=60, deadline=None)
@given(texts_and_turns())
def test_sentences_nest_in_paragraphs_and_paragraphs_in_turns(case):
    text, turns = case
    units = {u: segment_document(text, turns, u) for u in ("sentence", "paragraph", "turn")}
    for inner, outer in (("sentence", "paragraph"), ("paragraph", "turn")):
        for s in units[inner]:
            assert any(o.start <= s.start and s.end <= o.end for o in units[outer])


_GLUED = st.sampled_from(["word", "Fine.", "(", "[", "\"", "“", "laughs]", "?", "And", "'", "..."])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_GLUED, st.sampled_from(["", " ", "\n"])), max_size=30))
def test_sentence_starts_from_arrays_equal_walking_the_sentences(parts):
    doc = load_pipeline()("".join(w + s for w, s in parts))
    assert sentence_starts(doc) == _sentence_starts_by_walking(doc)


def _sentence_starts_by_walking(doc) -> list[int]:
    """The rule of ``sentence_starts`` written token by token: a sentence starts at the
    opening brackets or quotes glued to its first word, never before the last start."""
    starts: list[int] = []
    for sent in doc.sents:
        i = sent.start
        while (i > 0 and doc[i - 1].is_left_punct and not doc[i - 1].whitespace_
               and doc[i - 1].idx > (starts[-1] if starts else 0)):
            i -= 1
        starts.append(doc[i].idx)
    return starts


# -- streaming from a project -------------------------------------------------------

def test_iter_segments_streams_every_document(project, tmp_path):
    (tmp_path / "sam.txt").write_text(TRANSCRIPT + "\n" + TRANSCRIPT, encoding="utf-8")
    (tmp_path / "note.txt").write_text("Home visit.\nChild seen alone. Room clean.", encoding="utf-8")
    import_paths(project, [tmp_path / "sam.txt", tmp_path / "note.txt"])
    rows = list(iter_segments(project, "sentence"))
    ids = project.documents().set_index("name")["id"]
    for doc_id, segment, text in rows:
        assert project.text(doc_id)[segment.start:segment.end] == text
    note = [text for doc_id, _, text in rows if doc_id == ids["note.txt"]]
    assert note == ["Home visit.", "Child seen alone.", "Room clean."]
    sam = [(s.speaker, s.is_interviewer) for doc_id, s, _ in rows if doc_id == ids["sam.txt"]]
    assert ("Interviewer", True) in sam and ("Sam", False) in sam
    only_note = list(iter_segments(project, "turn", documents=["note.txt"]))
    assert [t for _, _, t in only_note] == ["Home visit.\nChild seen alone. Room clean."]
