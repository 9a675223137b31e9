"""Agreement from a hand-made project, with answers computed by hand in each docstring."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import pytest
import sqlalchemy as sa

from qualcode import NewCoding, Project, store
from qualcode.agreement import agreement, disagreements, settle
from qualcode.errors import InputError, NotEnoughData, NotFoundError

# The store behaves the same on SQLite and PostgreSQL: run these on both (conftest.py).
pytestmark = pytest.mark.backends

# Ten lines of nine characters plus a newline: 100 characters, and one paragraph per
# line (no blank lines), so paragraph i is [10 i, 10 i + 9).
TEXT = "\n".join(f"Line {i} ok" for i in range(10)) + "\n"
assert len(TEXT) == 100


def add_document(project: Project, name: str, text: str = TEXT) -> int:
    with project.transaction() as conn:
        return conn.execute(sa.insert(store.documents).values(
            name=name, source_file=name, format="txt", sha256=name, source_type="interview",
            text=text, words=len(text.split()), imported_at=store.now()).returning(store.documents.c.id)
        ).scalar_one()


def add_codes(project: Project, *keys: str) -> None:
    with project.transaction() as conn:
        conn.execute(sa.insert(store.codes), [
            {"key": k, "name": k.replace("_", " ").title(), "definition": "", "created_at": store.now(),
             "updated_at": store.now()} for k in keys])


def code(project: Project, doc: int, coder: str, key: str, *spans: tuple[int, int], status: str = "accepted") -> None:
    method = "manual" if status == "accepted" else "rules"
    project.add_codings([NewCoding(doc, s, e, key, coder, status=status, method=method) for s, e in spans])


@pytest.fixture
def coded(project: Project) -> tuple[Project, int]:
    """One 100-character document; alex codes supervision on [0, 30), sam on [12, 25).

    A rejected coding of alex's and a third coder ('rules', suggested) are there too.
    """
    add_codes(project, "supervision", "caseloads")
    doc = add_document(project, "w1_sw01.txt")
    code(project, doc, "alex", "supervision", (0, 30))
    code(project, doc, "sam", "supervision", (12, 25))
    code(project, doc, "alex", "supervision", (50, 59), status="rejected")
    code(project, doc, "rules", "supervision", (10, 39), status="suggested")
    return project, doc


def test_character_level_known_answer(coded):
    """100 characters: alex 30, sam 13, both 13, neither 70.
    p_o = (13 + 70) / 100 = 0.83; p_e = 0.30·0.13 + 0.70·0.87 = 0.648;
    kappa = (0.83 - 0.648) / 0.352 = 0.517045. Brennan–Prediger (q=2): (0.83 - 0.5)/0.5 = 0.66.
    alpha: o(1,1) = 26, o(0,0) = 140, o(0,1) = o(1,0) = 17; n1 = 43, n0 = 157, n = 200;
    alpha = 1 - 199·34 / (2·157·43) = 0.498889. Unitizing alpha: 0.720346 (see
    test_agreement_stats.test_unitizing_alpha_hand_computed, the same spans)."""
    project, _ = coded
    result = agreement(project, ["alex", "sam"], unit="character", min_coded=1)
    row = result.by_code.set_index("code").loc["supervision"]
    assert row["n_units"] == 100 and row["coded_by_alex"] == 30 and row["coded_by_sam"] == 13
    assert row["all_coded"] == 13 and row["any_coded"] == 30
    assert row["percent_agreement"] == pytest.approx(0.83)
    assert row["kappa"] == pytest.approx(0.182 / 0.352)
    assert row["brennan_prediger"] == pytest.approx(0.66)
    assert row["alpha"] == pytest.approx(1 - 199 * 34 / (2 * 157 * 43))
    assert round(row["unitizing_alpha"], 6) == 0.720346
    assert row["flag"] == ""
    assert result.kappa_name == "Cohen's kappa"
    assert list(result.by_code["code"]) == ["supervision"]  # caseloads: nobody used it


def test_rejected_codings_do_not_count_and_statuses_choose(coded):
    """alex's rejected span [50, 59) is ignored by default; counting it adds 9 characters."""
    project, _ = coded
    default = agreement(project, ["alex", "sam"], min_coded=1).by_code.iloc[0]
    with_rejected = agreement(project, ["alex", "sam"], min_coded=1,
                              statuses=("accepted", "rejected")).by_code.iloc[0]
    assert default["coded_by_alex"] == 30 and with_rejected["coded_by_alex"] == 39


def test_too_little_data_is_flagged_not_given_a_number(coded):
    """Two codings are fewer than the default five: counts stay, statistics are blank."""
    project, _ = coded
    row = agreement(project, ["alex", "sam"]).by_code.iloc[0]
    assert row["coded_by_alex"] == 30
    assert math.isnan(row["kappa"]) and math.isnan(row["alpha"]) and math.isnan(row["percent_agreement"])
    assert row["flag"] == "too little data: 2 codings (fewer than 5)"


def test_segment_level_paragraphs_known_answer(coded):
    """Paragraph i is [10 i, 10 i + 9). alex's [0, 30) overlaps paragraphs 0-2, sam's [12, 25)
    paragraphs 1-2. Of 10 units: both 2, alex only 1, neither 7. p_o = 0.9;
    p_e = 0.3·0.2 + 0.7·0.8 = 0.62; kappa = 0.28 / 0.38 = 0.736842. Only 3 coded paragraphs:
    flagged at the default minimum of 5."""
    project, _ = coded
    row = agreement(project, ["alex", "sam"], unit="segment", segment="paragraph", min_coded=1).by_code.iloc[0]
    assert (row["n_units"], row["coded_by_alex"], row["coded_by_sam"], row["all_coded"]) == (10, 3, 2, 2)
    assert row["kappa"] == pytest.approx(0.28 / 0.38)
    assert row["percent_agreement"] == pytest.approx(0.9)
    assert "unitizing_alpha" not in row.index
    flagged = agreement(project, ["alex", "sam"], unit="segment", segment="paragraph").by_code.iloc[0]
    assert flagged["flag"] == "too little data: 3 coded paragraphs (fewer than 5)"


def test_three_coders_use_fleiss_kappa(coded):
    """Paragraphs with rules' [10, 39) added (paragraphs 1-3). Units coded by (of 3 coders):
    p0: 1, p1: 3, p2: 3, p3: 1, p4-p9: 0. P_u = 1/3, 1, 1, 1/3, then 1 × 6; P-bar = 26/30.
    p(coded) = 8/30; P-bar_e = (8/30)² + (22/30)²; kappa = (P-bar - P_e) / (1 - P_e) = 0.659091."""
    project, _ = coded
    result = agreement(project, ["alex", "sam", "rules"], unit="segment", segment="paragraph", min_coded=1)
    p_bar, p_e = Fraction(26, 30), Fraction(8, 30) ** 2 + Fraction(22, 30) ** 2
    assert result.kappa_name == "Fleiss' kappa"
    assert result.by_code.iloc[0]["kappa"] == pytest.approx(float((p_bar - p_e) / (1 - p_e)))
    assert result.by_code.iloc[0]["coded_by_rules"] == 3


def test_segment_level_turns_and_sentences(project):
    """Turns from the store are the segments at unit 'turn'; sentences come from spaCy."""
    add_codes(project, "voice")
    text = "I: How was it? P: We listened. Then we planned."
    doc = add_document(project, "t.txt", text)
    with project.transaction() as conn:
        conn.execute(sa.insert(store.turns), [
            {"document_id": doc, "seq": 0, "start": 0, "end": 14, "speaker": "I", "is_interviewer": True},
            {"document_id": doc, "seq": 1, "start": 15, "end": len(text), "speaker": "P", "is_interviewer": False},
        ])
    code(project, doc, "alex", "voice", (18, 30))   # "We listened."
    code(project, doc, "sam", "voice", (31, 47))    # "Then we planned."
    turns = agreement(project, ["alex", "sam"], unit="segment", segment="turn", min_coded=1).by_code.iloc[0]
    assert (turns["n_units"], turns["all_coded"], turns["percent_agreement"]) == (2, 1, 1.0)
    sentences = agreement(project, ["alex", "sam"], unit="segment", segment="sentence", min_coded=1).by_code.iloc[0]
    assert sentences["n_units"] == 3 and sentences["all_coded"] == 0 and sentences["any_coded"] == 2


@pytest.fixture
def six_documents(project: Project) -> tuple[Project, list[int]]:
    """Six documents. 'support' coded by alex in d1-d4, by sam in d1-d3 and d5. Both code 'other'
    in every document so all six are compared; d7 is coded by alex only."""
    add_codes(project, "support", "other")
    docs = [add_document(project, f"d{i}.txt") for i in range(1, 8)]
    for i, doc in enumerate(docs[:6], start=1):
        code(project, doc, "alex", "other", (0, 5))
        code(project, doc, "sam", "other", (0, 5))
        if i <= 4:
            code(project, doc, "alex", "support", (20, 40))
        if i <= 3 or i == 5:
            code(project, doc, "sam", "support", (22, 40))
    code(project, docs[6], "alex", "support", (0, 9))
    return project, docs


def test_document_level_known_answer(six_documents):
    """Presence of 'support' in 6 documents: both 3, alex only 1, sam only 1, neither 1.
    p_o = 4/6; p_e = (4/6)² + (2/6)² = 20/36; kappa = (24/36 - 20/36) / (16/36) = 0.25.
    'other' is coded everywhere by both: one category only, kappa undefined."""
    project, _ = six_documents
    result = agreement(project, ["alex", "sam"], unit="document")
    rows = result.by_code.set_index("code")
    assert list(result.documents["document"]) == [f"d{i}.txt" for i in range(1, 7)]  # d7: alex only
    assert rows.loc["support", "kappa"] == pytest.approx(0.25)
    assert rows.loc["support", "percent_agreement"] == pytest.approx(4 / 6)
    assert rows.loc["support", "flag"] == ""
    assert math.isnan(rows.loc["other", "kappa"])
    assert rows.loc["other", "flag"].startswith("one category only")
    assert rows.loc["other", "percent_agreement"] == 1.0


def test_named_documents_count_an_uncoding_coder_as_uncoded(six_documents):
    """Naming d7 compares it too: sam coded nothing there, so 'support' is alex-only in d7."""
    project, _ = six_documents
    names = [f"d{i}.txt" for i in range(1, 8)]
    row = agreement(project, ["alex", "sam"], unit="document", documents=names).by_code.set_index("code").loc["support"]
    assert (row["n_units"], row["coded_by_alex"], row["coded_by_sam"]) == (7, 5, 4)


def test_overall_and_by_document(six_documents):
    """Pooled over both codes at the document level: 12 decisions; 'other' all both, 'support'
    as above: both 9, alex only 1, sam only 1, neither 1 -> p_o = 10/12."""
    project, docs = six_documents
    result = agreement(project, ["alex", "sam"], unit="document", by_document=True)
    assert agreement(project, ["alex", "sam"], unit="document").by_document.empty  # only when asked
    overall = result.overall.iloc[0]
    assert overall["n_units"] == 12 and overall["n_codes"] == 2 and overall["n_documents"] == 6
    assert overall["percent_agreement"] == pytest.approx(10 / 12)
    assert overall["mean_code_kappa"] == pytest.approx(0.25) and overall["codes_with_kappa"] == 1
    per_doc = result.by_document
    assert len(per_doc) == 12
    d4 = per_doc[(per_doc["document"] == "d4.txt") & (per_doc["code"] == "support")].iloc[0]
    assert d4["coded_by_alex"] == 1 and d4["coded_by_sam"] == 0
    assert d4["flag"].startswith("too little data: 1 coded document")


def test_character_level_across_documents_and_flags_an_idle_coder(six_documents):
    """'support' at the character level: 6 documents × 100 characters. alex codes 20 chars in
    d1-d4 (80), sam 18 in d1-d3 and d5 (72); both 18 × 3 = 54."""
    project, _ = six_documents
    result = agreement(project, ["alex", "sam"], codes=["support"], by_document=True)
    row = result.by_code.iloc[0]
    assert (row["n_units"], row["coded_by_alex"], row["coded_by_sam"], row["all_coded"]) == (600, 80, 72, 54)
    assert 0 < row["unitizing_alpha"] < 1
    per_doc = result.by_document.set_index("document")
    assert per_doc.loc["d6.txt", "flag"] == "not coded by any coder"
    assert "sam did not use this code" in per_doc.loc["d4.txt", "flag"]


def test_table_for_report(six_documents):
    project, _ = six_documents
    table = agreement(project, ["alex", "sam"], unit="document").table_for_report()
    assert list(table.columns) == ["Code", "Documents", "Coded by alex", "Coded by sam", "Agreement %",
                                   "Cohen's κ", "Scott's π", "Gwet's AC1", "Krippendorff's α", "Brennan–Prediger κ",
                                   "Note"]
    assert table.iloc[-1]["Code"] == "All codes (pooled)"
    support = table[table["Code"] == "Support"].iloc[0]
    assert (support["Agreement %"], support["Cohen's κ"]) == ("66.7", "0.250")
    # 4 of 6 alike, each coded 4 of 6: Scott's pi equals kappa (equal marginals);
    # AC1's chance agreement is 2 * (2/3) * (1/3) = 4/9, so AC1 = (2/3 - 4/9) / (5/9) = 0.4
    assert (support["Scott's π"], support["Gwet's AC1"]) == ("0.250", "0.400")
    other = table[table["Code"] == "Other"].iloc[0]
    assert other["Cohen's κ"] == "–" and other["Note"].startswith("one category only")


def test_bad_requests_say_what_to_do(coded, project):
    project, _ = coded
    with pytest.raises(InputError, match="at least two coders, got 1. Fix: name two or more coders"):
        agreement(project, ["alex"])
    with pytest.raises(InputError, match="named twice"):
        agreement(project, ["alex", "alex"])
    with pytest.raises(NotFoundError, match=r"no coder 'kim'. Fix: .*\(alex, rules, sam\)"):
        agreement(project, ["alex", "kim"])
    with pytest.raises(NotFoundError, match="no code 'nope'"):
        agreement(project, ["alex", "sam"], codes=["nope"])
    with pytest.raises(InputError, match="unit 'word' is not one of character, segment, document"):
        agreement(project, ["alex", "sam"], unit="word")
    with pytest.raises(InputError, match="segment 'page' is not one of"):
        agreement(project, ["alex", "sam"], unit="segment", segment="page")
    with pytest.raises(NotFoundError, match="no document 'missing.txt'"):
        agreement(project, ["alex", "sam"], documents=["missing.txt"])


def test_no_shared_document_is_not_enough_data(project):
    add_codes(project, "x")
    d1, d2 = add_document(project, "a.txt"), add_document(project, "b.txt")
    code(project, d1, "alex", "x", (0, 5))
    code(project, d2, "sam", "x", (0, 5))
    with pytest.raises(NotEnoughData, match="no document was coded by all of alex, sam. Fix: "):
        agreement(project, ["alex", "sam"])


# -- disagreements and consensus --------------------------------------------------------


def test_disagreements_at_character_level(coded):
    """alex [0, 30) vs sam [12, 25): alex alone on [0, 12) and [25, 30); the second run ends in
    a newline, trimmed away: [25, 29) is "2 ok"."""
    project, _ = coded
    frame = disagreements(project, ["alex", "sam"])
    assert list(zip(frame["start"], frame["end"])) == [(0, 12), (25, 29)]
    assert list(frame["text"]) == ["Line 0 ok\nLi", "2 ok"]
    assert list(frame["coded_by"]) == ["alex", "alex"] and list(frame["not_coded_by"]) == ["sam", "sam"]
    assert frame["alex"].all() and not frame["sam"].any()


def test_whitespace_only_differences_are_not_listed(project):
    add_codes(project, "x")
    doc = add_document(project, "a.txt")
    code(project, doc, "alex", "x", (0, 10))  # includes the newline
    code(project, doc, "sam", "x", (0, 9))
    assert disagreements(project, ["alex", "sam"]).empty
    assert agreement(project, ["alex", "sam"], min_coded=1).by_code.iloc[0]["all_coded"] == 9


def test_disagreements_at_segment_level_with_three_coders(coded):
    """Paragraph 0: alex only; paragraph 3: rules only (see test_three_coders_use_fleiss_kappa)."""
    project, _ = coded
    frame = disagreements(project, ["alex", "sam", "rules"], unit="segment", segment="paragraph")
    assert list(zip(frame["start"], frame["end"], frame["coded_by"])) == [(0, 9, "alex"), (30, 39, "rules")]
    assert list(frame["text"]) == ["Line 0 ok", "Line 3 ok"]


def test_settle_writes_consensus_and_keeps_originals(coded):
    project, doc = coded
    before = project.codings(coder=["alex", "sam"])
    ids = settle(project, disagreements(project, ["alex", "sam"]), decided_by="team meeting")
    assert len(ids) == 2
    consensus = project.codings(coder="consensus")
    assert list(zip(consensus["start"], consensus["end"])) == [(0, 12), (25, 29)]
    assert set(consensus["status"]) == {"accepted"} and set(consensus["method"]) == {"consensus"}
    assert json.loads(consensus.iloc[0]["provenance"])["decided_by"] == "team meeting"
    assert json.loads(consensus.iloc[0]["provenance"])["coded_by"] == "alex"
    after = project.codings(coder=["alex", "sam"])
    assert before[["id", "start", "end", "status"]].equals(after[["id", "start", "end", "status"]])
    events = project.coding_events()
    assert set(events[events["coding_id"].isin(ids)]["actor"]) == {"team meeting"}
    assert settle(project, disagreements(project, ["alex", "sam"]), decided_by="team meeting") == []


def test_settle_drop_records_a_rejected_consensus_coding(coded):
    project, doc = coded
    ids = settle(project, [("w1_sw01.txt", 25, 30, "supervision")], decided_by="lead", keep=False)
    row = project.codings(coder="consensus").iloc[0]
    assert len(ids) == 1 and row["status"] == "rejected" and (row["start"], row["end"]) == (25, 30)
    assert json.loads(row["provenance"])["decision"] == "drop"


def test_settle_refuses_bad_input(coded):
    project, doc = coded
    with pytest.raises(InputError, match="who decided"):
        settle(project, [(doc, 0, 5, "supervision")], decided_by=" ")
    with pytest.raises(NotFoundError, match="unknown code 'nope'"):
        settle(project, [(doc, 0, 5, "nope")], decided_by="lead")
    with pytest.raises(InputError, match=r"span \[0, 500\) is outside document"):
        settle(project, [(doc, 0, 500, "supervision")], decided_by="lead")


def test_consensus_can_be_compared_like_any_coder(coded):
    project, doc = coded
    settle(project, [(doc, 0, 30, "supervision")], decided_by="team")
    row = agreement(project, ["alex", "consensus"], min_coded=1).by_code.iloc[0]
    assert row["kappa"] == pytest.approx(1.0)


def test_character_level_counts_every_character_of_a_large_corpus(project):
    """4 documents × 50,000 characters × 10 codes × 2 coders: every character is a unit.
    (Speed is for benchmarks/, never asserted in a test.)"""
    keys = [f"c{i}" for i in range(10)]
    add_codes(project, *keys)
    text = ("word " * 10_000)
    new = []
    for d in range(4):
        doc = add_document(project, f"big{d}.txt", text)
        for k, key in enumerate(keys):
            for j in range(5):
                start = (j * 9000 + k * 700 + d) % 45_000
                new.append(NewCoding(doc, start, start + 400, key, "alex"))
                new.append(NewCoding(doc, start + 20, start + 410, key, "sam"))
    project.add_codings(new)
    result = agreement(project, ["alex", "sam"])
    assert result.overall.iloc[0]["n_units"] == 4 * 50_000 * 10
