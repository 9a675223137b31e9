"""The document browser and the attribute sheet driven from Python as the front end drives
them (the same messages), on a real interview; the browser test drives them in Chromium."""

from __future__ import annotations

import pytest

from qualcode.attributes import attribute_sheet, set_attribute
from qualcode.errors import InputError, NotFoundError
from qualcode.memos import list_memos
from qualcode.widgets import AttributeSheet, DocumentBrowser
from evaluation_project import build, span

DOC = "W1_SW01_social_worker.txt"


@pytest.fixture
def lab(tmp_path):
    lab = build(tmp_path)
    yield lab
    lab.project.close()


def test_the_browser_holds_the_text_turns_codings_and_colours(lab):
    browser = DocumentBrowser(lab.project, DOC, coder="sam")
    assert browser.text == lab.text
    blocks = browser.blocks
    assert blocks[0]["start"] == 0 and blocks[-1]["end"] == len(lab.text)
    assert all(a["end"] == b["start"] for a, b in zip(blocks, blocks[1:]))  # every character once
    assert any(b["interviewer"] for b in blocks) and any(b["speaker"] and not b["interviewer"] for b in blocks)
    assert {c["id"] for c in browser.codings} == set(lab.researcher + lab.suggestions)
    colours = {c["key"]: c["colour"] for c in browser.codes}
    assert all(colours[c["code"]].startswith("#") for c in browser.codings)
    assert "text/html" in browser._repr_mimebundle_()[0]


def test_a_selection_message_codes_exact_offsets_and_errors_show(lab):
    browser = DocumentBrowser(lab.project, DOC, coder="sam")
    start, end = span(lab.text, "group supervision")
    browser._on_msg(browser, {"action": "code", "start": start + 2, "end": end - 3, "code": "lesson"}, [])
    made = lab.project.codings(code="lesson").iloc[0]
    assert (made["start"], made["end"], made["coder"]) == (start + 2, end - 3, "sam")
    assert browser.selected == made["id"] and not browser.error
    before = len(lab.project.codings())
    browser._on_msg(browser, {"action": "code", "start": start, "end": end, "code": "lesson",
                              "end_document": "W1_FAM01_parent.txt"}, [])
    assert browser.error and "into document 'W1_FAM01_parent.txt'" in browser.message
    browser._on_msg(browser, {"action": "code", "start": start, "end": start, "code": "lesson"}, [])
    assert browser.error and "the selection is empty" in browser.message
    assert len(lab.project.codings()) == before


def test_panel_actions_move_memo_recode_uncode_and_undo(lab):
    browser = DocumentBrowser(lab.project, DOC, coder="sam")
    coding = lab.researcher[2]
    row = lab.project.codings().set_index("id").loc[coding]
    browser._on_msg(browser, {"action": "adjust", "id": coding, "start": int(row["start"]),
                              "end": int(row["end"]) + 10}, [])
    assert lab.project.codings().set_index("id").at[coding, "end"] == row["end"] + 10
    browser._on_msg(browser, {"action": "memo", "id": coding, "text": "Caseload talk starts here."}, [])
    browser._on_msg(browser, {"action": "memo", "id": coding, "text": "Caseload talk starts here; see W2."}, [])
    memos = list_memos(lab.project, coding=coding)
    assert list(memos["text"]) == ["Caseload talk starts here; see W2."]
    assert next(c for c in browser.codings if c["id"] == coding)["memo"].endswith("see W2.")
    browser._on_msg(browser, {"action": "memo", "id": None, "text": "Interview ran short."}, [])
    assert browser.document_memo == "Interview ran short."
    browser._on_msg(browser, {"action": "undo"}, [])
    assert lab.project.codings().set_index("id").at[coding, "end"] == row["end"]
    browser._on_msg(browser, {"action": "uncode", "id": coding}, [])
    assert coding not in {c["id"] for c in browser.codings}
    browser._on_msg(browser, {"action": "undo"}, [])
    assert coding in {c["id"] for c in browser.codings}


def test_filters_by_code_with_descendants_coder_and_status(lab):
    browser = DocumentBrowser(lab.project, DOC, coder="sam")
    browser.code_filter = "activity"
    assert {c["code"] for c in browser.codings} == {"activity.group_supervision", "activity.caseloads"}
    browser.code_filter = ""
    browser.status_filter = "suggested"
    assert {c["id"] for c in browser.codings} == set(lab.suggestions)
    browser.status_filter, browser.coder_filter = "", "sam"
    assert {c["id"] for c in browser.codings} == set(lab.researcher)


def test_in_vivo_and_no_coder(lab):
    browser = DocumentBrowser(lab.project, DOC, coder="sam")
    start, end = span(lab.text, "group supervision")
    browser._on_msg(browser, {"action": "invivo", "start": start, "end": end, "parent": "activity"}, [])
    assert "invivo.group_supervision" in {c["key"] for c in browser.codes}
    nobody = DocumentBrowser(lab.project, DOC)
    nobody.code(start, end, "lesson")
    assert nobody.error and "no coder name" in nobody.message


def test_attribute_sheet_edits_one_cell_and_refuses_bad_keys(lab):
    sheet = AttributeSheet(lab.project, entity="document")
    row = next(r for r in sheet.rows if r["name"] == DOC)
    assert row["role"] == "Social Worker" and "wave" in sheet.columns
    sheet._on_msg(sheet, {"action": "set", "id": int(row["id"]), "key": "wave", "value": "Wave 2"}, [])
    assert attribute_sheet(lab.project).set_index("name").at[DOC, "wave"] == "Wave 2"
    assert not sheet.set(int(row["id"]), "name", "x") and "cannot be an attribute name" in sheet.message
    sheet.set(int(row["id"]), "interviewer", "KM")
    assert "interviewer" in sheet.columns
    sheet.set(int(row["id"]), "interviewer", "")
    assert "interviewer" not in sheet.columns
    with pytest.raises(NotFoundError, match="no case"):
        set_attribute(lab.project, "case", "C999", "outcome", "stepped down")
    with pytest.raises(InputError, match="use 'document' or 'case'"):
        attribute_sheet(lab.project, "code")
    sheet.entity = "case"
    assert [r["name"] for r in sheet.rows] == ["C003"]


def test_retrieve_lists_passages_and_jumps_to_them(lab):
    browser = DocumentBrowser(lab.project, "W1_FAM01_parent.txt", coder="sam")
    frame = browser.retrieve("activity")
    assert len(frame) == 2 and browser.segments_title.endswith("2 passage(s)")
    first = browser.segments[0]
    assert first["document"] == DOC and first["role"] == "Social Worker" and first["text"]
    browser._on_msg(browser, {"action": "jump", "document": DOC, "id": first["coding_id"]}, [])
    assert browser.document == DOC and browser.selected == first["coding_id"]
    browser._on_msg(browser, {"action": "retrieve", "code": "barrier", "how": "and", "other": "activity"}, [])
    assert browser.segments_title.startswith("barrier AND activity: 1 passage")
    browser._on_msg(browser, {"action": "retrieve", "code": "barrier", "how": "or", "other": "activity"}, [])
    assert browser.error and "how='and'" in browser.message


def test_a_colour_chosen_in_the_legend_is_stored(lab):
    browser = DocumentBrowser(lab.project, DOC, coder="sam")
    browser._on_msg(browser, {"action": "colour", "code": "barrier", "colour": "#123456"}, [])
    assert {c["key"]: c["colour"] for c in browser.codes}["barrier"] == "#123456"
    browser._on_msg(browser, {"action": "colour", "code": "barrier", "colour": "blue"}, [])
    assert browser.error and "not a colour" in browser.message
