"""Widgets driven as a user would, without a browser: set controls, click, check the project."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qualcode import NewCoding, Project
from qualcode.codebook import parse_codebook
from qualcode.codebook_sync import load_into_project
from qualcode.corpus import import_paths
from qualcode.widgets import CodebookBrowser, CodingWidget, DocumentViewer, ReviewWidget, find_phrase
from qualcode.widgets.review import context_span
from qualcode.widgets.viewer import Highlight, TurnBlock, render_document_html

CODEBOOK = """\
id: mini
name: Mini codebook
version: "1.0"
codes:
  - id: practice
    name: Practice
    colour: "#1f77b4"
    definition: How the work is done.
    children:
      - id: practice.supervision
        name: Group supervision
        definition: Case discussion in a group.
        include: [Talk about group supervision or unit meetings]
        exclude: [One-to-one supervision (use practice.oversight)]
        examples: ["We bring cases to group supervision."]
      - id: practice.caseloads
        name: Caseloads
        definition: How many families a worker holds.
  - id: barrier
    name: Barrier
    kind: cross-cutting
    definition: Something that gets in the way.
"""

TRANSCRIPT = (
    "Interview SW01 - Wave 1\n\n"
    "Interviewer: How is group supervision going?\n\n"
    "Respondent: Group supervision is weekly now. We talk about families <and> risks & plans. It helps.\n\n"
    "Interviewer: Anything else?\n\n"
    "Respondent: The caseloads are still high. İstanbul trip was fun 😀. Group Supervision again.\n"
)


def _span(text: str, phrase: str, nth: int = 0) -> tuple[int, int]:
    start = -1
    for _ in range(nth + 1):
        start = text.index(phrase, start + 1)
    return start, start + len(phrase)


@pytest.fixture
def coded(tmp_path: Path) -> Project:
    """A project with one transcript, the mini codebook, two coders and two suggestions."""
    (tmp_path / "SW01.txt").write_text(TRANSCRIPT, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("A case note. Mum seen. Group supervision booked.\n", encoding="utf-8")
    project = Project.create(tmp_path / "w.qc")
    import_paths(project, [tmp_path / "SW01.txt", tmp_path / "notes.txt"])
    load_into_project(project, parse_codebook(CODEBOOK, "mini.yaml"), CODEBOOK)
    doc = project.document_id("SW01.txt")
    sup = _span(TRANSCRIPT, "Group supervision is weekly now.")
    outer = _span(TRANSCRIPT, "Group supervision is weekly now. We talk about families <and> risks & plans.")
    crossing = _span(TRANSCRIPT, "weekly now. We talk")
    load = _span(TRANSCRIPT, "The caseloads are still high.")
    emoji = _span(TRANSCRIPT, "İstanbul trip was fun 😀.")
    project.add_codings([
        NewCoding(doc, *sup, "practice.supervision", "alex"),
        NewCoding(doc, *outer, "practice", "alex"),
        NewCoding(doc, *crossing, "barrier", "sam"),
        NewCoding(doc, *emoji, "barrier", "sam", status="rejected"),
        NewCoding(doc, *load, "practice.caseloads", "rules", status="suggested", confidence=0.9,
                  method="rules:lemma", explanation="lemma match 'caseload'"),
        NewCoding(doc, *_span(TRANSCRIPT, "It helps."), "barrier", "rules", status="suggested", confidence=0.55,
                  method="rules:lemma", explanation="lemma match 'help'"),
    ])
    yield project
    project.close()


def _strip(body: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", body))


def _highlighted(body: str, coding_id: int) -> str:
    """The text of every piece tagged with ``coding_id``, in order."""
    pieces = re.findall(r'<span class="qc-code[^"]*" data-codings="([^"]*)"[^>]*>(.*?)</span>', body, re.S)
    return "".join(_strip(inner) for ids, inner in pieces if str(coding_id) in ids.split())


# -- document viewer ----------------------------------------------------------------


def test_rendered_text_is_the_document_and_each_span_its_coding(coded: Project) -> None:
    viewer = DocumentViewer(coded, document="SW01.txt")
    body = viewer.body.value.split("</style>", 1)[1]
    assert _strip(body) == TRANSCRIPT
    codings = coded.codings(document="SW01.txt")
    assert len(codings) == 6
    for row in codings.itertuples():
        assert _highlighted(body, row.id) == TRANSCRIPT[row.start:row.end] == row.snippet
    assert "&lt;and&gt; risks &amp; plans" in body and "<and>" not in body


def test_overlapping_codings_stack_one_underline_per_code(coded: Project) -> None:
    body = DocumentViewer(coded, document="SW01.txt").body.value
    # "weekly now." lies inside three codings: both of alex's and sam's crossing one
    piece = re.search(r'data-codings="([^"]*)"[^>]*style="([^"]*)">weekly now\.</span>', body)
    assert piece is not None
    assert len(piece.group(1).split()) == 3
    assert piece.group(2).count("inset 0 -") == 3


def test_speaker_labels_are_bold_and_interviewer_turns_grey(coded: Project) -> None:
    body = DocumentViewer(coded, document="SW01.txt").body.value
    assert body.count('<div class="qc-turn qc-interviewer">') == 2
    assert body.count('<div class="qc-turn">') == 2
    assert "<b>Interviewer: </b>How is group supervision going?" in body


def test_speaker_not_in_the_text_is_drawn_by_css_only() -> None:
    text = "Hello there. Fine thanks."
    body = render_document_html(text, [], [TurnBlock(0, 12, "Dr <Who>", True), TurnBlock(13, 25, "P")])
    assert 'data-speaker="Dr &lt;Who&gt;"' in body
    assert _strip(body) == text


def test_filters_by_coder_status_and_code(coded: Project) -> None:
    viewer = DocumentViewer(coded, document="SW01.txt")
    viewer.coder.value = "sam"
    assert {h.id for h in viewer.highlights()} == set(coded.codings(coder="sam")["id"])
    assert "Barrier</td><td>2</td>" in viewer.legend.value
    viewer.status.value = "rejected"
    assert [h.status for h in viewer.highlights()] == ["rejected"]
    assert "qc-rejected" in viewer.body.value
    viewer.coder.value = viewer.status.value = "(any)"
    viewer.code.value = "practice.caseloads"
    assert [h.code for h in viewer.highlights()] == ["practice.caseloads"]
    viewer.coder.value = "alex"
    assert viewer.highlights() == []
    assert "No codings match" in viewer.legend.value


def test_unknown_document_is_refused_with_the_fix(coded: Project) -> None:
    with pytest.raises(Exception, match="no document 'nope.txt'.*qualcode documents"):
        DocumentViewer(coded, document="nope.txt")


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="ab <&>\n😀é", min_size=1, max_size=40), st.data())
def test_any_spans_render_exactly(text: str, data) -> None:
    n = len(text)
    spans = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(1, n)), max_size=6))
    highlights = [Highlight(i, a, b, f"c{i}", f"C{i}", "#123456") for i, (a, b) in enumerate(spans) if a < b]
    cut = data.draw(st.integers(0, n))
    turns = [TurnBlock(0, cut, "I", True), TurnBlock(cut, n, "P")] if 0 < cut < n else []
    body = render_document_html(text, highlights, turns)
    assert _strip(body) == text
    for h in highlights:
        assert _highlighted(body, h.id) == text[h.start:h.end]


# -- review widget ------------------------------------------------------------------


def test_queue_follows_review_queue_order(coded: Project) -> None:
    widget = ReviewWidget(coded, reviewer="jo")
    assert widget.current["confidence"] == 0.55  # closest to 0.5 first
    assert widget.item["text"] == "It helps." and widget.item["explanation"] == "lemma match 'help'"
    assert (widget.position, widget.total) == (0, 2)
    assert "It helps." in widget._repr_mimebundle_()[0]["text/html"]


def test_accept_saves_with_audit_trail(coded: Project) -> None:
    widget = ReviewWidget(coded, reviewer="jo")
    first = int(widget.current["id"])
    widget._on_msg(widget, {"action": "accept"}, [])  # what the Accept button sends
    row = coded.codings().set_index("id").loc[first]
    assert row["status"] == "accepted"
    events = coded.coding_events(first)
    assert list(events["action"]) == ["create", "accept"] and events["actor"].iloc[-1] == "jo"
    assert widget.position == 1 and widget.counts["accept"] == 1


def test_keys_reject_skip_and_undo(coded: Project) -> None:
    widget = ReviewWidget(coded, reviewer="jo")
    first, second = (int(i) for i in widget.queue["id"])
    widget.key("r")
    assert coded.codings().set_index("id").at[first, "status"] == "rejected"
    widget.key("s")
    assert coded.codings().set_index("id").at[second, "status"] == "suggested"
    assert widget.item == {} and widget.current is None
    widget.key("u")
    assert coded.codings().set_index("id").at[first, "status"] == "suggested"
    assert int(widget.current["id"]) == first
    assert list(coded.coding_events(first)["action"]) == ["create", "reject", "undo"]
    widget.key("x")
    assert widget.error and "Unknown key 'x'" in widget.message


def test_change_code_rejects_and_codes_the_span_again(coded: Project) -> None:
    widget = ReviewWidget(coded, reviewer="jo", code="barrier")
    target = widget.current
    widget.change_to = "practice.supervision"
    widget.key("c")
    codings = coded.codings().set_index("id")
    assert codings.at[int(target["id"]), "status"] == "rejected"
    new = coded.codings(coder="jo")
    assert list(new["code"]) == ["practice.supervision"] and list(new["status"]) == ["accepted"]
    assert (int(new["start"].iloc[0]), int(new["end"].iloc[0])) == (int(target["start"]), int(target["end"]))
    assert "recode" in list(coded.coding_events(int(target["id"]))["action"])


def test_adjust_the_span_then_accept_and_undo_both(coded: Project) -> None:
    widget = ReviewWidget(coded, reviewer="jo", method="rules:lemma", min_confidence=0.8)
    assert widget.total == 1 and widget.item["text"] == "The caseloads are still high."
    target = int(widget.current["id"])
    widget.key("ArrowLeft")  # the end moves back a word
    assert widget.item["text"] == "The caseloads are still" and widget.item["id"] == target
    widget.key("a")
    row = coded.codings().set_index("id").loc[target]
    assert (row["status"], row["snippet"]) == ("accepted", "The caseloads are still")
    widget.key("u")
    widget.key("u")
    row = coded.codings().set_index("id").loc[target]
    assert (row["status"], row["snippet"]) == ("suggested", "The caseloads are still high.")


def test_bulk_accept_after_preview(coded: Project) -> None:
    widget = ReviewWidget(coded, reviewer="jo", code="practice")  # practice and its descendants
    preview = widget.preview_bulk()
    assert list(preview["code"]) == ["practice.caseloads"] and len(widget.preview) == 1
    widget.accept_previewed()
    assert set(coded.codings(code="practice.caseloads")["status"]) == {"accepted"}
    assert set(coded.codings(code="barrier", coder="rules")["status"]) == {"suggested"}  # outside the filter
    assert "Accepted 1 suggestion" in widget.message


def test_decision_on_a_coding_gone_elsewhere_is_shown_not_raised(coded: Project) -> None:
    widget = ReviewWidget(coded, reviewer="jo")
    gone = int(widget.current["id"])
    with coded.transaction() as conn:
        conn.exec_driver_sql(f"DELETE FROM codings WHERE id = {gone}")
    widget.accept()
    assert f"no coding with id {gone}" in widget.message and widget.error
    assert widget.position == 0


def test_reviewer_name_is_required(coded: Project) -> None:
    with pytest.raises(ValueError, match="reviewer="):
        ReviewWidget(coded, reviewer=" ")


def test_empty_queue_says_so(coded: Project) -> None:
    widget = ReviewWidget(coded, reviewer="jo", method="learned")
    assert widget.current is None and widget.item == {}
    widget.accept()
    assert "nothing to decide" in widget.message


def test_context_is_a_sentence_either_side_with_role_and_speaker(coded: Project) -> None:
    widget = ReviewWidget(coded, reviewer="jo")  # first: "It helps."
    assert "We talk about families <and> risks & plans." in widget.item["before"]
    assert "Group supervision is weekly now." not in widget.item["before"]  # two sentences back
    assert widget.item["speaker"] == "Respondent"


# -- manual coding --------------------------------------------------------------------


def test_search_lists_hits_with_exact_offsets(coded: Project) -> None:
    hits = find_phrase(coded, "group SUPERVISION")
    assert len(hits) == 4
    texts = {h.document_id: coded.text(h.document_id) for h in hits}
    assert all(texts[h.document_id][h.start:h.end].lower() == "group supervision" for h in hits)
    # after "İ", whose lower case is two characters, offsets still point at the text
    last = [h for h in hits if h.match == "Group Supervision"][0]
    assert last.start == TRANSCRIPT.index("Group Supervision again")
    assert find_phrase(coded, "   ") == []


def test_apply_a_hit_as_its_sentence(coded: Project) -> None:
    viewer = DocumentViewer(coded, document="notes.txt")
    widget = CodingWidget(coded, coder="alex", viewer=viewer)
    widget.scope.value = coded.document_id("SW01.txt")
    widget.search("weekly")
    assert len(widget.hits) == 1 and widget.results.value == 0
    widget.extent.value = "sentence"
    widget.code.value = "practice.supervision"
    widget.apply_button.click()
    [coding_id] = widget.created
    row = coded.codings().set_index("id").loc[coding_id]
    assert TRANSCRIPT[row["start"]:row["end"]] == "Group supervision is weekly now."
    assert (row["coder"], row["status"], row["method"]) == ("alex", "accepted", "manual")
    assert list(coded.coding_events(coding_id)["actor"]) == ["alex"]
    assert viewer.document.value == coded.document_id("SW01.txt")
    assert str(coding_id) in viewer.body.value


def test_apply_a_hit_as_the_phrase_or_the_turn(coded: Project) -> None:
    widget = CodingWidget(coded, coder="alex")
    widget.search("caseloads")
    widget.extent.value = "phrase"
    assert widget.hit_span()[1:] == _span(TRANSCRIPT, "caseloads")
    widget.extent.value = "turn"
    start, end = widget.hit_span()[1:]
    assert TRANSCRIPT[start:end] == "The caseloads are still high. İstanbul trip was fun 😀. Group Supervision again."


def test_offsets_entry_checks_the_span(coded: Project) -> None:
    widget = CodingWidget(coded, coder="alex")
    widget.document.value = coded.document_id("notes.txt")
    widget.start.value, widget.end.value = 5, 500
    assert "start &lt; end &le; 49" in widget.preview.value
    assert widget.apply_offsets() is None
    assert "span [5, 500) is outside document" in widget.message.value
    widget.end.value = 11
    assert "<mark>e note</mark>" in widget.preview.value
    widget.code.value = "barrier"
    coding_id = widget.apply_offsets()
    assert coded.codings().set_index("id").at[coding_id, "snippet"] == "e note"


def test_coding_needs_a_coder_and_a_hit(coded: Project) -> None:
    widget = CodingWidget(coded, coder="")
    assert widget.apply_hit() is None and "Search and choose a hit" in widget.message.value
    widget.search("caseloads")
    assert widget.apply_hit() is None and "Give your name" in widget.message.value
    assert coded.codings(coder="").empty


# -- codebook browser ---------------------------------------------------------------


def test_browser_tree_counts_and_criteria(coded: Project) -> None:
    browser = CodebookBrowser(coded, author="jo")
    table = browser.table()
    assert list(table["key"]) == ["practice", "practice.supervision", "practice.caseloads", "barrier"]
    assert list(table["depth"]) == [0, 1, 1, 0]
    counts = table.set_index("key")
    assert counts.loc["barrier", ["suggested", "accepted", "rejected"]].tolist() == [1, 1, 1]
    assert counts.loc["practice.caseloads", "suggested"] == 1
    browser.select("practice.supervision")
    assert browser.detail["include"] == ["Talk about group supervision or unit meetings"]
    assert "One-to-one supervision (use practice.oversight)" in browser.detail["exclude"]
    assert browser.tree[1]["depth"] == 1 and browser.tree[1]["name"] == "Group supervision"
    assert browser.detail["counts"]["accepted"] == 1


def test_browser_edits_a_codes_memo_and_colour(coded: Project) -> None:
    browser = CodebookBrowser(coded, author="jo")
    browser.select("barrier")
    browser._on_msg(browser, {"action": "memo", "text": "Workload barriers dominate wave 1."}, [])
    browser._on_msg(browser, {"action": "memo", "text": "Workload barriers dominate both waves."}, [])
    from qualcode.memos import list_memos
    notes = list_memos(coded, code="barrier", kind="code")
    assert list(notes["text"]) == ["Workload barriers dominate both waves."] and list(notes["author"]) == ["jo"]
    assert browser.detail["memo"] == "Workload barriers dominate both waves."
    browser._on_msg(browser, {"action": "colour", "colour": "#00aa00"}, [])
    assert coded.codes().set_index("key").at["barrier", "colour"] == "#00aa00"
    browser._on_msg(browser, {"action": "colour", "colour": "green"}, [])
    assert browser.error and "not a colour" in browser.message


def test_browser_filter_and_codebook_without_project(coded: Project) -> None:
    browser = CodebookBrowser(codebooks=[parse_codebook(CODEBOOK, "mini.yaml")])
    browser.find = "how many families"
    assert [r["key"] for r in browser.tree] == ["practice.caseloads"]
    browser.find = "zzz"
    assert browser.selected == "" and browser.detail == {}
    with pytest.raises(ValueError, match="needs a project or at least one codebook"):
        CodebookBrowser()
