"""Hand coding on a real interview: code a selection at its exact offsets, snap to words,
uncode, recode, adjust, in vivo, undo each; bad selections change nothing."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from qualcode import handcoding, store
from qualcode.errors import InputError, NotFoundError
from qualcode.memos import add_memo
from evaluation_project import build, span

DOC = "W1_SW01_social_worker.txt"


@pytest.fixture
def lab(tmp_path):
    lab = build(tmp_path)
    yield lab
    lab.project.close()


def _snapshot(project):
    with project.engine.connect() as conn:
        return {t: conn.execute(sa.select(sa.func.count()).select_from(getattr(store, t))).scalar_one()
                for t in ("codings", "coding_events", "codes", "memos")}


def test_a_selection_is_stored_at_exactly_its_offsets(lab):
    start, end = lab.text.index("group supervision") + 2, lab.text.index("group supervision") + 13
    result = handcoding.code_selection(lab.project, DOC, start, end, "activity.group_supervision", by="sam")
    row = lab.project.codings().set_index("id").loc[result.ids[0]]
    assert (row["start"], row["end"], row["status"], row["coder"], row["method"]) == (start, end, "accepted", "sam", "manual")
    assert row["snippet"] == lab.text[start:end] == "oup supervi"
    event = lab.project.coding_events(result.ids[0]).iloc[-1]
    assert (event["action"], event["actor"], event["batch"]) == ("create", "sam", result.batch)


def test_snapping_widens_to_whole_words(lab):
    start = lab.text.index("group supervision") + 2
    result = handcoding.code_selection(lab.project, DOC, start, start + 11, "barrier", by="sam", snap=True)
    assert lab.text[result.start:result.end] == "group supervision"


@pytest.mark.parametrize("args, error, words", [
    ((DOC, 100, 100, "barrier"), InputError, "the selection is empty"),
    ((DOC, 0, 10**7, "barrier"), InputError, "outside the document"),
    ((DOC, 100, 140, "activity.group_supervison"), NotFoundError, "activity.group_supervision"),
])
def test_bad_selections_change_nothing(lab, args, error, words):
    before = _snapshot(lab.project)
    with pytest.raises(error, match=words):
        handcoding.code_selection(lab.project, *args, by="sam")
    assert _snapshot(lab.project) == before


def test_whitespace_selection_and_across_documents_are_refused(lab):
    before = _snapshot(lab.project)
    gap = lab.text.index("\n\n")
    with pytest.raises(InputError, match="the selection is empty"):
        handcoding.code_selection(lab.project, DOC, gap, gap + 2, "barrier", by="sam")
    with pytest.raises(InputError, match="runs from document .* into document 'W1_FAM01_parent.txt'"):
        handcoding.code_selection(lab.project, DOC, 100, 140, "barrier", by="sam", end_document="W1_FAM01_parent.txt")
    assert _snapshot(lab.project) == before


def test_a_retired_code_is_refused(lab):
    with lab.project.transaction() as conn:
        conn.execute(sa.update(store.codes).where(store.codes.c.key == "lesson").values(status="retired"))
    before = _snapshot(lab.project)
    with pytest.raises(InputError, match="'lesson' .* is retired"):
        handcoding.code_selection(lab.project, DOC, 100, 140, "lesson", by="sam")
    with pytest.raises(InputError, match="is retired"):
        handcoding.recode(lab.project, lab.researcher[0], "lesson", by="sam")
    assert _snapshot(lab.project) == before


def test_coding_the_same_passage_twice_is_refused(lab):
    handcoding.code_selection(lab.project, DOC, 100, 140, "barrier", by="sam")
    with pytest.raises(InputError, match="already coded this passage"):
        handcoding.code_selection(lab.project, DOC, 100, 140, "barrier", by="sam")


def test_uncode_and_undo_puts_the_coding_back_whole(lab):
    coding = lab.researcher[1]
    original = lab.project.codings().set_index("id").loc[coding]
    memo = add_memo(lab.project, "a note", coding=coding, author="sam")
    result = handcoding.uncode(lab.project, coding, by="sam")
    assert coding not in set(lab.project.codings()["id"])
    assert lab.project.memos().empty  # memos go with their coding
    with pytest.raises(NotFoundError, match=f"coding {coding} was deleted \\(delete by sam"):
        add_memo(lab.project, "too late", coding=coding)
    assert memo
    handcoding.undo(lab.project, result.batch, by="sam")
    assert lab.project.codings().set_index("id").loc[coding].equals(original)


def test_adjust_moves_a_boundary_and_undo_moves_it_back(lab):
    coding = lab.researcher[2]
    row = lab.project.codings().set_index("id").loc[coding]
    result = handcoding.adjust(lab.project, coding, end=int(row["end"]) + 25, by="sam", snap=True)
    moved = lab.project.codings().set_index("id").loc[coding]
    assert moved["start"] == row["start"] and moved["end"] >= row["end"] + 25
    assert moved["snippet"] == lab.text[moved["start"]:moved["end"]][:200]
    event = lab.project.coding_events(coding).iloc[-1]
    assert event["action"] == "update" and json.loads(event["before"])["end"] == row["end"]
    handcoding.undo(lab.project, result.batch, by="sam")
    back = lab.project.codings().set_index("id").loc[coding]
    assert (back["start"], back["end"], back["snippet"]) == (row["start"], row["end"], row["snippet"])
    with pytest.raises(InputError, match="the selection is empty"):
        handcoding.adjust(lab.project, coding, start=int(row["end"]), by="sam")


def test_recode_and_undo(lab):
    result = handcoding.recode(lab.project, lab.researcher[0], "enabler", by="sam")
    frame = lab.project.codings().set_index("id")
    assert frame.loc[lab.researcher[0], "status"] == "rejected" and frame.loc[result.ids[0], "code"] == "enabler"
    handcoding.undo(lab.project, result.batch, by="sam")
    frame = lab.project.codings().set_index("id")
    assert frame.loc[lab.researcher[0], "status"] == "accepted" and result.ids[0] not in frame.index


def test_in_vivo_makes_a_placed_coloured_code_and_codes_the_words(lab):
    start, end = span(lab.text, "group supervision")
    result = handcoding.code_in_vivo(lab.project, DOC, start + 1, end - 1, parent="activity", by="sam")
    codes = lab.project.codes().set_index("key")
    new = codes.loc[result.code]
    assert result.code == "invivo.group_supervision" and new["name"] == "group supervision"
    assert new["parent_key"] == "activity" and new["colour"].startswith("#")
    row = lab.project.codings().set_index("id").loc[result.ids[0]]
    assert (row["start"], row["end"], row["code"]) == (start, end, result.code)
    again = handcoding.code_in_vivo(lab.project, DOC, start, end, by="sam")
    assert again.code == "invivo.group_supervision_2"
    handcoding.undo(lab.project, result.batch, by="sam")
    assert result.ids[0] not in set(lab.project.codings()["id"])


def test_moving_a_coding_onto_its_twin_is_refused(lab):
    first = handcoding.code_selection(lab.project, DOC, 100, 140, "barrier", by="sam")
    second = handcoding.code_selection(lab.project, DOC, 100, 150, "barrier", by="sam")
    before = _snapshot(lab.project)
    with pytest.raises(InputError, match=f"coding {first.ids[0]} already covers"):
        handcoding.adjust(lab.project, second.ids[0], end=140, by="sam")
    assert _snapshot(lab.project) == before
