"""Retrieval: coded segments with context and attributes; coding queries A and B, A not B,
A near B; attribute filters."""

from __future__ import annotations

import re

import pytest

from qualcode import NewCoding
from qualcode.errors import InputError, NotFoundError
from qualcode.retrieval import coded_segments, coding_query, descendants
from evaluation_project import build, span

DOC = "W1_SW01_social_worker.txt"


@pytest.fixture
def lab(tmp_path):
    lab = build(tmp_path)
    yield lab
    lab.project.close()


def test_descendants_follow_the_hierarchy(lab):
    keys = descendants(lab.project, "activity")
    assert keys[0] == "activity" and "activity.group_supervision" in keys and "barrier" not in keys


def test_coded_segments_carry_text_context_role_wave_and_speaker(lab):
    frame = coded_segments(lab.project, "activity")  # the parent finds its children's codings
    assert set(frame["code"]) == {"activity.group_supervision", "activity.caseloads"}
    for row in frame.to_dict("records"):
        assert row["text"] == lab.text[row["start"]:row["end"]]
        assert lab.text[row["start"] - len(row["before"]):row["end"] + len(row["after"])] == \
            row["before"] + row["text"] + row["after"]
        assert (row["role"], row["wave"], row["document"]) == ("Social Worker", "Wave 1", DOC)
        assert row["speaker"] and row["speaker"].lower() != "interviewer"
    assert coded_segments(lab.project, "activity", include_descendants=False).empty
    assert coded_segments(lab.project, "activity", role="Parent").empty
    assert len(coded_segments(lab.project, "activity", role=["Parent", "Social Worker"])) == 2


def test_and_not_near(lab):
    p = lab.project
    both = coding_query(p, "barrier", "activity.caseloads", how="and")
    sam = p.codings().set_index("id")
    caseload = sam.loc[lab.researcher[2]]
    assert len(both) == 1 and (both["start"][0], both["end"][0]) == (caseload["start"], caseload["end"])
    assert both["text"][0] == lab.text[caseload["start"]:caseload["end"]]
    assert coding_query(p, "barrier", "activity.caseloads", how="not").empty
    alone = coding_query(p, "activity.group_supervision", "barrier", how="not")
    assert list(alone["coding_id"]) == [lab.researcher[0]]
    near = coding_query(p, "activity.group_supervision", "barrier", how="near", within=200)
    assert list(near["b_coding_id"]) == [lab.researcher[1]] and near["gap_words"][0] >= 0
    far = coding_query(p, "activity.group_supervision", "barrier", how="near", within=near["gap_words"][0] - 1) \
        if near["gap_words"][0] > 0 else None
    assert far is None or far.empty


def test_near_counts_words_between(lab):
    p = lab.project
    start, end = span(lab.text, "group supervision")
    after = lab.text.index(" ", end + 1)
    words_later = end
    for _ in range(3):  # three words on
        words_later = lab.text.index(" ", words_later + 1)
    p.add_codings([NewCoding(lab.doc, start, end, "lesson", "kim"),
                   NewCoding(lab.doc, words_later + 1, words_later + 6, "suggestion", "kim")])
    gap = coding_query(p, "lesson", "suggestion", how="near", within=10, coder="kim")["gap_words"][0]
    assert gap == len(re.findall(r"\w+", lab.text[end:words_later + 1])) == 2  # ". My manager": punctuation is no word
    assert coding_query(p, "lesson", "suggestion", how="near", within=gap - 1, coder="kim").empty
    assert after


def test_bad_queries_say_what_to_do(lab):
    with pytest.raises(InputError, match="how='and'"):
        coding_query(lab.project, "barrier", "enabler", how="or")
    with pytest.raises(NotFoundError, match="activity.caseloads"):
        coded_segments(lab.project, "activity.caseload")
    with pytest.raises(InputError, match="no attribute 'region'"):
        coded_segments(lab.project, "barrier", region="North")
