"""Speaker-turn detection on every supported transcript style, and on prose."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qualcode.turns import detect_turns, parse_timestamp


def spoken(text, turns):
    return [(t.speaker, text[t.start:t.end]) for t in turns]


def test_interviewer_respondent_labels():
    text = (
        "Interviewer: How has the new model changed your work?\n"
        "Respondent: We see families more often.\n"
        "It takes time though.\n"
        "Interviewer: What helps?\n"
        "Respondent: Group supervision.\n"
    )
    turns = detect_turns(text)
    assert spoken(text, turns) == [
        ("Interviewer", "How has the new model changed your work?"),
        ("Respondent", "We see families more often.\nIt takes time though."),
        ("Interviewer", "What helps?"),
        ("Respondent", "Group supervision."),
    ]
    assert [t.is_interviewer for t in turns] == [True, False, True, False]
    assert all(t.time_start is None for t in turns)


@pytest.mark.parametrize(
    "first, second, interviewer",
    [("I", "R", True), ("I", "P3", True), ("Int", "SW2", True), ("Q", "A", True),
     ("Facilitator", "P1", True), ("Moderator", "Parent 2", True)],
)
def test_short_role_labels(first, second, interviewer):
    text = f"{first}: Tell me about the team.\n{second}: It is small.\n" * 2
    turns = detect_turns(text)
    assert [t.speaker for t in turns] == [first, second, first, second]
    assert turns[0].is_interviewer is interviewer and not turns[1].is_interviewer


def test_paired_roles_count_even_once():
    text = "Q: Was the plan shared with the family?\nA: Yes, at the TAF meeting."
    assert spoken(text, detect_turns(text)) == [
        ("Q", "Was the plan shared with the family?"),
        ("A", "Yes, at the TAF meeting."),
    ]


@pytest.mark.parametrize("name", ["Jo", "Jo Smith", "Dr Patel", "Dr. O'Neil-Jones", "Zoë"])
def test_name_labels(name):
    text = f"{name}: First answer.\nSam: A question?\n{name}: Second answer.\nSam: Thanks."
    turns = detect_turns(text, interviewer_names=["sam"])
    assert spoken(text, turns)[0] == (name, "First answer.")
    assert [t.is_interviewer for t in turns] == [False, True, False, True]


@pytest.mark.parametrize(
    "line_a, line_b, seconds",
    [
        ("[00:01:23] Jo: Hello.", "[00:01:30] Sam: Hi.", (83.0, 90.0)),
        ("00:01:23 Jo: Hello.", "00:01:30 Sam: Hi.", (83.0, 90.0)),
        ("Jo (00:01:23): Hello.", "Sam (00:01:30): Hi.", (83.0, 90.0)),
        ("Jo [1:23]: Hello.", "Sam [1:30]: Hi.", (83.0, 90.0)),
        ("**Jo:** [00:01:23] Hello.", "**Sam:** [00:01:30] Hi.", (83.0, 90.0)),
        ("**Jo**: Hello.", "**Sam**: Hi.", (None, None)),
    ],
)
def test_timestamp_and_bold_styles(line_a, line_b, seconds):
    text = "\n".join([line_a, line_b, line_a, line_b])
    turns = detect_turns(text)
    assert spoken(text, turns) == [("Jo", "Hello."), ("Sam", "Hi.")] * 2
    assert (turns[0].time_start, turns[1].time_start) == seconds


def test_otter_style_label_line_then_paragraph():
    text = (
        "Transcript\n\n"
        "Speaker 1  0:03  \nWelcome, thanks for joining.\n\n"
        "Speaker 2  0:09  \nGlad to be here.\nSecond line.\n\n"
        "Speaker 1  1:02:03  \nLet's start.\n"
    )
    turns = detect_turns(text)
    assert spoken(text, turns) == [
        ("Speaker 1", "Welcome, thanks for joining."),
        ("Speaker 2", "Glad to be here.\nSecond line."),
        ("Speaker 1", "Let's start."),
    ]
    assert [t.time_start for t in turns] == [3.0, 9.0, 3723.0]


def test_teams_style_and_single_appearance_speaker():
    text = (
        "Jane Smith   0:03:12\nThanks all.\n"
        "Ali Khan   0:03:20\nMy update.\n"
        "Jane Smith   0:04:00\nNext.\n"
        "Ali Khan   0:04:10\nDone.\n"
        "Guest User   0:05:00\nOne word from me.\n"
    )
    turns = detect_turns(text)
    assert [t.speaker for t in turns] == ["Jane Smith", "Ali Khan"] * 2 + ["Guest User"]
    assert text[turns[-1].start:turns[-1].end] == "One word from me."


@pytest.mark.parametrize(
    "text",
    [
        "Note: the family were not at home.\nWe left a card.\nWave 1: March 2015.",
        "Wave 1: March\nWave 2: June\nNote: staff changed between waves.\nNote: see MI.",
        "Date: 12/03/2016\nWorker: SW\nSummary: Home visit.\nAction: review plan.",
        "The meeting at 10:30 went well.\nAt 11:15 we left.\nAt 11:45: nothing.",
        "Jo: said once in a note.\nThen prose.\nAnd more prose about Jo and Sam.",
        "",
        "just prose\n\nwith no labels at all",
    ],
)
def test_prose_is_not_a_transcript(text):
    assert detect_turns(text) == []


def test_header_lines_before_a_transcript_are_not_turns():
    text = (
        "Wave 1: March 2015\nNote: names changed.\n\n"
        "I: How long have you worked here?\nR: Six years.\n"
        "I: And before?\nR: Agency work.\n"
    )
    turns = detect_turns(text)
    assert [t.speaker for t in turns] == ["I", "R", "I", "R"]
    assert text[turns[0].start:turns[0].end] == "How long have you worked here?"


def test_header_labels_seen_once_are_not_turns_even_when_roles_or_strong():
    text = (
        "Evaluation - Wave 1\nParticipant: SW2 (Social Worker, South Hub)\n"
        "**Interviewee:** Jo Smith\n[00:00:01] Present: Interviewer, SW2\n\n"
        "[00:00:04] Interviewer: Can you hear me?\n[00:00:07] SW2: Yes.\n"
        "[00:00:12] Interviewer: Your role?\n[00:00:19] SW2: Social worker.\n"
        "[00:00:30] Child: Mum!\n"
    )
    turns = detect_turns(text)
    assert [t.speaker for t in turns] == ["Interviewer", "SW2"] * 2 + ["Child"]
    assert turns[0].time_start == 4.0


def test_label_inside_a_turn_seen_once_does_not_split_it():
    text = (
        "I: What did the family say?\n"
        "R: Mum said this:\nMum: we finally feel heard.\nThat was it.\n"
        "I: Thanks.\nR: OK.\n"
    )
    turns = detect_turns(text)
    assert [t.speaker for t in turns] == ["I", "R", "I", "R"]
    assert "Mum: we finally feel heard." in text[turns[1].start:turns[1].end]


def test_a_single_interviewer_name_may_be_a_string():
    text = "Jo Smith: a?\nAli: b.\nJo Smith: c?\nAli: d."
    assert [t.is_interviewer for t in detect_turns(text, "jo smith")] == [True, False] * 2


def test_speaker_spelling_is_kept_and_case_insensitive_labels_merge():
    text = "INTERVIEWER: a?\nJo: b.\ninterviewer: c?\nJo: d."
    turns = detect_turns(text)
    assert [t.speaker for t in turns] == ["INTERVIEWER", "Jo", "INTERVIEWER", "Jo"]
    assert turns[0].is_interviewer and turns[2].is_interviewer


def test_empty_turns_are_dropped_and_spans_exclude_labels():
    text = "I:\nR: Yes.\nI: Why?\nR:   \nI: OK."
    turns = detect_turns(text)
    assert spoken(text, turns) == [("R", "Yes."), ("I", "Why?"), ("I", "OK.")]


@pytest.mark.parametrize(
    "stamp, seconds",
    [("0:22", 22.0), ("46:09", 2769.0), ("1:02:03", 3723.0), ("00:01:23.5", 83.5),
     ("00:01:23,250", 83.25)],
)
def test_parse_timestamp(stamp, seconds):
    assert parse_timestamp(stamp) == seconds


def test_a_long_transcript_gives_two_turns_per_exchange():
    # Speed is measured in benchmarks/import_bench.py, not asserted here.
    block = (
        "Interviewer: How has group supervision changed case discussion in the unit?\n"
        "Respondent: We talk through every family together now, and the clinician "
        "helps us form hypotheses before a visit.\n"
        "That said, it is hard to protect the time when caseloads go up again.\n\n"
    )
    text = block * 2_000
    turns = detect_turns(text)
    assert len(turns) == 2 * text.count("Interviewer:")


def test_long_lines_without_colons_do_not_confuse_detection():
    # A regex that backtracks badly would hang here rather than finish at once.
    text = ("Aaaa " * 50_000 + "\n") * 3 + "Jo: x\nSam: y\n" * 2
    assert len(detect_turns(text)) == 4


_pieces = st.sampled_from(
    ["I: ", "R: ", "Jo Smith: ", "**Jo:** ", "[00:01:02] Sam: ", "Speaker 1  0:03\n",
     "Note: ", "\n", "\n\n", " ", "words here. ", "0:22", "é", ":", "**", "\t", "(1:02)"]
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.lists(_pieces, max_size=60).map("".join)))
def test_turns_are_in_range_sorted_and_disjoint(text):
    turns = detect_turns(text)
    previous_end = 0
    for turn in turns:
        assert 0 <= turn.start <= turn.end <= len(text)
        assert turn.start >= previous_end
        assert text[turn.start:turn.end] == text[turn.start:turn.end].strip()
        previous_end = turn.end


@pytest.mark.parametrize(
    "first, second", [("qualcode.turns", "qualcode.importers"),
                      ("qualcode.importers", "qualcode.turns")],
)
def test_turns_and_importers_import_in_either_order(first, second):
    code = f"import {first}, {second}; from qualcode.importers import parser_for"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- numbered and one-off role labels, think-aloud sessions, named interviewers ----------

def test_one_off_numbered_interviewer_label_is_a_turn():
    text = ("Interviewer: How long have you been a key worker?\n"
            "Respondent: Since the pilot started, so three years.\n"
            "Interviewer: What changed in that time?\n"
            "Respondent: Caseloads came down and we got group supervision.\n"
            "Interviewer 2 : Sorry, can I ask who chairs the supervision?\n"
            "Respondent: The consultant social worker, every fortnight.\n")
    turns = detect_turns(text)
    said = [(t.speaker, t.is_interviewer, text[t.start:t.end]) for t in turns]
    assert said[4] == ("Interviewer 2", True, "Sorry, can I ask who chairs the supervision?")
    assert "Sorry" not in text[turns[3].start:turns[3].end]  # no longer inside the answer
    assert len(turns) == 6


def test_numbered_role_written_two_ways_is_one_speaker():
    text = ("Interviewer1: What does a typical week look like?\n"
            "Participant: Two home visits a day, then the write-ups.\n"
            "Interviewer 1: And the TAF meetings?\n"
            "Participant: Those are on Thursdays.\n")
    turns = detect_turns(text)
    assert [t.speaker for t in turns] == ["Interviewer1", "Participant", "Interviewer1", "Participant"]
    assert [t.is_interviewer for t in turns] == [True, False, True, False]


THINK_ALOUD = """Think-aloud session 7, case-recording prototype
Date: 14 March

MODERATOR: Please start by opening the family's plan.
Okay. So I'd go to the case list first, I think.
It's asking me for the case number, which I don't have in my head.
MODERATOR: What would you normally do?
I'd ring the admin team, honestly.
MODERATOR: Thank you. Now try adding a safety goal.
Right, there's a button here... no, that's the danger statement.
"""


def test_think_aloud_with_only_the_moderator_labelled():
    turns = detect_turns(THINK_ALOUD)
    said = [(t.speaker, t.is_interviewer, THINK_ALOUD[t.start:t.end]) for t in turns]
    assert said == [
        ("MODERATOR", True, "Please start by opening the family's plan."),
        ("Participant", False, "Okay. So I'd go to the case list first, I think.\n"
                               "It's asking me for the case number, which I don't have in my head."),
        ("MODERATOR", True, "What would you normally do?"),
        ("Participant", False, "I'd ring the admin team, honestly."),
        ("MODERATOR", True, "Thank you. Now try adding a safety goal."),
        ("Participant", False, "Right, there's a button here... no, that's the danger statement."),
    ]


def test_prose_with_one_recurring_name_is_not_a_think_aloud():
    text = "Jo: visited on Monday.\nThe family were in.\nJo: visited on Friday.\nNobody answered."
    assert detect_turns(text) == []
    named = detect_turns(text, ["Jo"])  # unless the user says Jo asked the questions
    assert [t.speaker for t in named] == ["Jo", "Participant", "Jo", "Participant"]
