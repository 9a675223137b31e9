"""Quote selection, attribution, trimming, pins and drift on the hand-made project."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import given, strategies as st

from qualcode import NewCoding, store
from qualcode.errors import NotFoundError
from qualcode.quotes import (
    ELLIPSIS, QuoteDrift, QuotePool, QuoteRules, attribution, clear_quote_mark, exclude_quote, pin_quote,
    quote_marks, trim_quote,
)
from test_report_project import DOCUMENTS, build_project

NAMES = [attrs["participant"] for *_, attrs in DOCUMENTS]
FAMILY = ["family", "family.together", "family.plan"]


@pytest.fixture
def built(tmp_path):
    built = build_project(tmp_path / "p.qc")
    yield built
    built.project.close()


def test_attribution_by_role_and_wave_only():
    attrs = {"role": "social worker", "wave": "2", "participant": "Jane Smith", "site": "North"}
    assert attribution(attrs, "staff interview") == "Social Worker, Wave 2"
    assert attribution({"role": "TAF coordinator", "wave": "W3"}) == "TAF coordinator, Wave 3"
    assert attribution({"role": "Team Manager", "wave": "Round 1"}) == "Team Manager, Round 1"
    assert attribution({"wave": "1"}, "family interview") == "Family interview, Wave 1"
    assert attribution({}, None) == "Participant"


def test_attribution_never_leaks_a_name_typed_as_role():
    attrs = {"role": "Jane Smith (social worker)", "wave": "1", "participant": "Jane Smith"}
    assert attribution(attrs, "staff interview") == "Staff interview, Wave 1"
    attrs = {"role": "Social worker Smith", "participant": "Jane Smith"}
    assert "Smith" not in attribution(attrs, "staff interview")


def test_trim_quote_cuts_at_a_word_boundary():
    text = "We now see the whole family together at home, and the child's voice is recorded."
    trimmed = trim_quote(text, 40)
    assert trimmed == "We now see the whole family together …"
    assert len(trimmed) <= 40
    assert trim_quote("Short and whole.", 40) == "Short and whole."
    assert trim_quote("Line one\n  line two", 40) == "Line one line two"
    assert trim_quote("a" * 50, 20) == "a" * 18 + " " + ELLIPSIS  # one long word: cut, marked


@given(st.lists(st.text(alphabet="abcdefghij", min_size=1, max_size=12), min_size=1, max_size=60),
       st.integers(min_value=15, max_value=200))
def test_trimmed_quotes_keep_whole_words_in_order(words, limit):
    text = " ".join(words)
    shown = trim_quote(text, limit)
    if len(text) <= limit:
        assert shown == text
        return
    assert shown.endswith(" " + ELLIPSIS)
    kept = shown[: -len(ELLIPSIS) - 1].split(" ")
    assert len(shown) <= limit
    if len(words[0]) < limit - 2:
        assert kept == words[: len(kept)]  # whole words only, never half of one


def test_selection_spreads_across_roles_and_waves(built):
    selection = QuotePool(built.project).select(["voice"])
    # The parent's two whole sentences (19 words) first, then the team manager's whole sentence
    # from the other wave (11 words), the social worker's fragment last.
    assert [q.attribution for q in selection.quotes] == [
        "Parent, Wave 1", "Team Manager, Wave 2", "Social Worker, Wave 1"]
    assert selection.quotes[0].reason == "whole sentence(s) from a role and wave not yet quoted"
    assert selection.quotes[2].reason == "fragment (no whole sentence left) from a role not yet quoted"


def test_whole_sentences_of_useful_length_beat_short_ones(tmp_path):
    from test_report_project import build_project

    built = build_project(tmp_path / "q.qc")
    text = built.project.text(built.doc_ids["SW02_w2.txt"])
    short = "Honestly the caseloads are still too high and the administration eats my week."
    long = "But the family plan meetings are better, we bring the whole family together to agree what happens next."
    from qualcode.quotes import _whole_sentences

    assert _whole_sentences(text, text.index(long), text.index(long) + len(long))
    pool = QuotePool(built.project)
    assert pool._preference((1, built.doc_ids["SW02_w2.txt"], text.index(long), text.index(long) + len(long), "x", ""))\
        < pool._preference((2, built.doc_ids["SW02_w2.txt"], text.index(short), text.index(short) + len(short), "x", ""))


def test_selection_skips_interviewer_turns_and_short_segments(built):
    selection = QuotePool(built.project).select(FAMILY)
    ids = [q.coding_id for q in selection.quotes]
    assert built.coding_ids[("SW01_w1.txt", "family")] not in ids
    assert (built.coding_ids[("SW01_w1.txt", "family")], "interviewer's turn") in selection.passed_over
    short = QuotePool(built.project, QuoteRules(min_words=12)).select(["voice"])
    assert all(len(q.text.split()) >= 12 for q in short.quotes)
    assert any("fewer than 12 words" in why for _, why in short.passed_over)


def test_no_two_quotes_from_the_same_passage(built):
    selection = QuotePool(built.project, QuoteRules(gap=10_000)).select(FAMILY, n=4)
    documents = [q.document_id for q in selection.quotes]
    assert len(documents) == len(set(documents))
    assert any(why.startswith("same passage as coding") for _, why in selection.passed_over)


def test_quotes_keep_exact_text_and_never_names(built):
    pool = QuotePool(built.project)
    for codes in (["voice"], FAMILY, ["workload", "workload.admin"]):
        for quote in pool.select(codes).quotes:
            assert built.project.text(quote.document_id)[quote.start:quote.end] == quote.text
            assert quote.formatted() == f"'{quote.shown}' ({quote.attribution})"
            assert not any(part in quote.attribution for name in NAMES for part in name.split())
            assert quote.document not in quote.formatted()


def test_report_prefers_quotes_not_used_elsewhere(built):
    pool = QuotePool(built.project)
    first = pool.select(["voice"], n=2).quotes
    second = pool.select(["voice"], n=3).quotes
    assert {q.coding_id for q in second[:1]}.isdisjoint({q.coding_id for q in first})
    assert second[-1].reason.startswith("already quoted elsewhere")


def test_pinned_and_excluded_quotes_are_honoured(built):
    project = built.project
    pinned = built.coding_ids[("SW02_w2.txt", "family.plan")]
    excluded = built.coding_ids[("SW01_w1.txt", "family.together")]
    pin_quote(project, pinned, note="the funder asked about plans")
    exclude_quote(project, excluded, note="identifies the family")
    selection = QuotePool(project).select(FAMILY)
    assert selection.quotes[0].coding_id == pinned
    assert selection.quotes[0].pinned and selection.quotes[0].reason == "pinned by the researcher"
    assert excluded not in [q.coding_id for q in selection.quotes]
    assert (excluded, "excluded by the researcher") in selection.passed_over
    marks = quote_marks(project)
    assert marks[["coding_id", "mark", "note"]].values.tolist() == [
        [pinned, "quote_pin", "the funder asked about plans"], [excluded, "quote_exclude", "identifies the family"]]
    exclude_quote(project, pinned)  # excluding lifts the pin: one mark per coding
    assert quote_marks(project).set_index("coding_id").loc[pinned, "mark"] == "quote_exclude"
    clear_quote_mark(project, pinned)
    clear_quote_mark(project, excluded)
    assert quote_marks(project).empty


def test_pinning_an_unknown_coding_names_the_fix(built):
    with pytest.raises(NotFoundError, match=r"no coding 99999\. Fix: take the id from project.codings\(\)"):
        pin_quote(built.project, 99999)


def _drift(project, document_id: int) -> None:
    """Change a document's text under its codings (what the store forbids, but a tool might do)."""
    with project.transaction() as conn:
        text = conn.execute(sa.select(store.documents.c.text).where(store.documents.c.id == document_id)).scalar()
        conn.execute(sa.update(store.documents).where(store.documents.c.id == document_id)
                     .values(text="X" * 40 + text))


def test_a_drifted_quote_is_refused(built):
    project = built.project
    coding = built.coding_ids[("FAM01_w1.txt", "voice")]
    _drift(project, built.doc_ids["FAM01_w1.txt"])
    with pytest.raises(QuoteDrift, match=rf"coding {coding} in 'FAM01_w1.txt' .*no longer holds the words.*Fix: check"):
        QuotePool(project).quote(coding)
    with pytest.raises(QuoteDrift, match="no longer holds"):
        pin_quote(project, coding)
    selection = QuotePool(project).select(["voice"])
    assert coding not in [q.coding_id for q in selection.quotes]
    assert any(cid == coding and why.startswith("refused:") for cid, why in selection.passed_over)
    assert len(selection.quotes) == 2  # the other two still quoted


def test_quote_of_unknown_coding(built):
    with pytest.raises(NotFoundError, match="no accepted coding 4242 to quote"):
        QuotePool(built.project).quote(4242)


def test_a_double_coded_passage_is_one_candidate(built):
    project = built.project
    original = built.coding_ids[("FAM01_w1.txt", "voice")]
    row = project.codings().set_index("id").loc[original]
    [twin] = project.add_codings([NewCoding(int(row.document_id), int(row.start), int(row.end), "voice", coder="sam")])
    pin_quote(project, twin)
    selection = QuotePool(project).select(["voice"], n=5)
    spans = [(q.document_id, q.start, q.end) for q in selection.quotes]
    assert len(spans) == len(set(spans)) == 3
    assert selection.quotes[0].coding_id == twin  # the pinned twin is the one kept
