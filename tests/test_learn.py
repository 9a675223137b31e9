"""Learned suggestions on a small labelled set built in code (see test_learn_corpus)."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from qualcode import learn, store
from qualcode.codebook import parse_codebook
from qualcode.codebook_sync import load_into_project
from qualcode.errors import NotEnoughData, NotFoundError
from qualcode.project import NewCoding
from test_learn_corpus import HELD_OUT_OFF, HELD_OUT_ON, SENTENCES, add_codes, add_document, build


@pytest.fixture(scope="module")
def learned(tmp_path_factory):
    """Six coded interviews + one uncoded; suggestions written once at confidence 0."""
    lab = build(tmp_path_factory.mktemp("learn"))
    cv = learn.cross_validate(lab.project, folds=5)
    result = learn.suggest(lab.project, min_confidence=0.0, max_per_code=None)  # every segment, uncapped
    yield lab, cv, result
    lab.project.close()


def _held_out(lab, sentence: str, code: str):
    start, end = lab.spans[("W2_SW99", sentence)]
    rows = lab.project.codings(status="suggested", code=code, document="W2_SW99")
    return rows[(rows["start"] == start) & (rows["end"] == end)]


def test_cross_validation_counts_are_consistent(learned):
    lab, cv, _ = learned
    usable = cv[~cv["refused"]].set_index("code")
    assert set(usable.index) == {"supervision", "workload", "family"}
    for code, row in usable.iterrows():
        assert row["n_positive"] == lab.coded[code] == 18
        assert row["tp"] + row["fn"] == row["n_positive"]
        assert row["fp"] + row["tn"] == row["n_negative"]
        assert row["folds"] == 5 and row["documents"] == 6
        expected_precision = row["tp"] / (row["tp"] + row["fp"])
        assert row["precision"] == pytest.approx(expected_precision, abs=1e-3)
        assert row["f1"] == pytest.approx(2 * row["tp"] / (2 * row["tp"] + row["fp"] + row["fn"]), abs=1e-3)
        assert row["recall"] >= 0.75  # distinct vocabularies: a working model finds most of them


def test_too_few_examples_are_refused_with_a_reason_and_no_figures(learned):
    _, cv, result = learned
    voice = cv.set_index("code").loc["voice"]
    assert bool(voice["refused"]) and voice["n_positive"] == 2
    assert voice["reason"] == "only 2 positive segment(s); needs at least 8"
    assert voice[["tp", "fp", "fn", "precision"]].isna().all()
    assert result.refused == {"voice": "only 2 positive segment(s); needs at least 8"}
    assert "voice" not in result.by_code


def test_on_topic_held_out_segment_beats_off_topic(learned):
    lab, _, _ = learned
    on = _held_out(lab, HELD_OUT_ON, "supervision")
    off = _held_out(lab, HELD_OUT_OFF, "supervision")
    assert len(on) == len(off) == 1
    assert on["confidence"].iloc[0] > 0.5 > off["confidence"].iloc[0]
    assert on["confidence"].iloc[0] > off["confidence"].iloc[0] + 0.3


def test_suggestion_records_method_explanation_and_provenance(learned):
    lab, _, result = learned
    on = _held_out(lab, HELD_OUT_ON, "supervision").iloc[0]
    assert (on["coder"], on["method"], on["status"]) == ("learned", "learned", "suggested")
    assert re.fullmatch(r"learned: '[a-z ]+' \([+-]\d+\.\d\d\)(, '[a-z ]+' \([+-]\d+\.\d\d\))*; P=\d\.\d\d",
                        on["explanation"]), on["explanation"]
    assert "'supervision'" in on["explanation"]
    provenance = json.loads(on["provenance"])
    assert provenance["training_segments"] == result.training_segments == 6 * 13 - 4
    assert provenance["positives"] == 18 and provenance["training_documents"] == 6
    assert provenance["calibration"].startswith("platt")
    assert provenance["trained_at"] == result.trained_at
    kinds = dict(zip(lab.project.coders()["name"], lab.project.coders()["kind"]))
    assert kinds == {"alex": "human", "learned": "method"}


def test_suggestions_skip_coded_segments_and_rerun_adds_nothing(learned):
    lab, _, result = learned
    accepted = lab.project.codings(status="accepted")
    suggested = lab.project.codings(status="suggested")
    clash = suggested.merge(accepted, on=["document_id", "start", "end", "code"])
    assert clash.empty
    assert result.written == len(suggested) and result.below_confidence == 0
    again = learn.suggest(lab.project, min_confidence=0.0)
    assert again.written == 0 and again.already_coded > result.already_coded


def test_two_runs_at_once_write_each_suggestion_once(tmp_path):
    """A colleague's run finishes while this one trains: this one keeps only what is new."""
    from qualcode.progress import reporting_to
    from qualcode.project import Project

    lab = build(tmp_path)
    other: list = []
    started: list = []

    def colleague_runs_now(text, done, total):
        if text.startswith("writing") and not started:
            started.append(True)
            with Project.open(lab.project.location) as theirs:  # their own connection, as another process has
                other.append(learn.suggest(theirs, min_confidence=0.0))

    with reporting_to(colleague_runs_now):
        mine = learn.suggest(lab.project, min_confidence=0.0)
    assert other[0].written > 0
    assert mine.written == 0 and mine.by_code == {}  # no IntegrityError, nothing doubled
    assert mine.already_coded >= other[0].already_coded + other[0].written
    suggested = lab.project.codings(status="suggested")
    assert len(suggested) == other[0].written
    assert not suggested.duplicated(["document_id", "start", "end", "code"]).any()
    lab.project.close()


def test_a_passage_left_uncoded_in_a_coded_document_is_suggested_by_the_model_that_held_it_out(tmp_path):
    # The final model learns every uncoded segment of a coded document as a negative, so
    # only the cross-validation model that never saw the document can say it was missed.
    lab = build(tmp_path)
    missed = SENTENCES["supervision"][0]  # in W1_SW01, coded there as supervision
    start, end = lab.spans[("W1_SW01", missed)]
    with lab.project.transaction() as conn:
        conn.execute(sa.delete(store.codings).where(store.codings.c.document_id == lab.documents["W1_SW01"],
                                                    store.codings.c.start == start))
    result = learn.suggest(lab.project)
    rows = lab.project.codings(status="suggested", code="supervision", document="W1_SW01")
    hit = rows[(rows["start"] == start) & (rows["end"] == end)]
    assert len(hit) == 1, result.by_code
    assert hit["explanation"].iloc[0].startswith("learned, its document held out: ")
    assert json.loads(hit["provenance"].iloc[0])["scored_by"] == learn.HELD_OUT
    off_topic = {lab.spans[("W1_SW01", s)] for s in SENTENCES["off"][:3]}
    assert not off_topic & set(zip(rows["start"], rows["end"]))
    uncoded_document = lab.project.codings(status="suggested", document="W2_SW99")
    assert set(uncoded_document["provenance"].map(lambda p: json.loads(p)["scored_by"])) <= {learn.ALL_CODED}
    lab.project.close()


def test_min_confidence_filters_and_queue_puts_uncertain_first(learned):
    lab, _, _ = learned
    queue = learn.review_queue(lab.project)
    # distance from each code's decision threshold, recorded in the suggestion's provenance
    threshold = queue["provenance"].map(lambda p: json.loads(p).get("threshold", 0.5))
    assert (threshold != 0.5).any()
    distance = (queue["confidence"] - threshold).abs().round(4).tolist()
    assert distance == sorted(distance)
    assert queue["uncertainty"].tolist() == pytest.approx(distance, abs=1e-4)
    only = learn.review_queue(lab.project, code="workload")
    assert set(only["code"]) == {"workload"}


def test_keywords_are_over_represented_terms_not_in_the_codebook(learned):
    lab, _, _ = learned
    top = learn.discover_keywords(lab.project, "supervision", top=8)
    assert top["term"].iloc[0] == "supervision"
    assert {"group supervision", "reflective"} <= set(top["term"])
    first = top.iloc[0]
    assert first["in_code"] >= 17 and first["in_rest"] == 0 and first["z"] > 0
    assert list(top["z"]) == sorted(top["z"], reverse=True)
    with pytest.raises(NotFoundError, match=r"no active code 'supervisoin' \(did you mean 'supervision'\?\)"):
        learn.discover_keywords(lab.project, "supervisoin")


def test_keywords_leave_out_the_codebooks_own_terms(tmp_path):
    lab = build(tmp_path, n_docs=3)
    source = """
id: test
name: Test
version: "1.0"
codes:
  - {id: supervision, name: Supervision, definition: Supervision., match: {keywords: [supervision, Group supervisions]}}
  - {id: workload, name: Workload, definition: Workload.}
  - {id: family, name: Family, definition: Family.}
  - {id: voice, name: Voice, definition: Voice.}
"""
    load_into_project(lab.project, parse_codebook(source, "test.yaml"), source)
    terms = set(learn.discover_keywords(lab.project, "supervision", top=50)["term"])
    assert "supervision" not in terms and "group supervision" not in terms
    assert "reflective" in terms
    lab.project.close()


def test_every_code_refused_is_an_error_listing_them(tmp_path):
    lab = build(tmp_path, n_docs=2)
    before = len(lab.project.codings())
    with pytest.raises(NotEnoughData) as err:
        learn.suggest(lab.project)
    message = str(err.value)
    for code in ("supervision", "workload", "family", "voice"):
        assert f"{code}: only" in message
    assert "Fix: code more segments" in message
    assert len(lab.project.codings()) == before
    lab.project.close()


def test_folds_never_exceed_coded_documents(tmp_path):
    lab = build(tmp_path, n_docs=3)
    cv = learn.cross_validate(lab.project, min_examples=2).set_index("code")
    assert (cv["folds"] == 3).all()
    voice = cv.loc["voice"]  # coded once in each of two documents: just enough at min_examples=2
    assert not voice["refused"] and voice["documents"] == 2
    assert voice["tp"] + voice["fn"] == 2
    lab.project.close()


def test_no_accepted_codings_and_empty_project(project, tmp_path):
    with pytest.raises(NotEnoughData, match="no participant text to learn from"):
        learn.cross_validate(project)
    add_codes(project)
    add_document(project, "a", "Group supervision helps. The car park is full.")
    with pytest.raises(NotEnoughData, match="no accepted codings to learn from"):
        learn.suggest(project)


def test_interviewer_turns_and_headers_are_neither_learned_from_nor_suggested(tmp_path):
    lab = build(tmp_path, n_docs=4, per_code=3)
    header = "Group supervision study, unit interview, May\n"
    text = header + "I: Tell me about group supervision in the unit.\nP: Reflective group supervision helps us think."
    doc_id = add_document(lab.project, "W2_SW50", text)
    first, split = len(header), text.index("\nP:")
    with lab.project.transaction() as conn:
        conn.execute(sa.insert(store.turns), [
            {"document_id": doc_id, "seq": 0, "start": first, "end": split, "speaker": "I", "is_interviewer": True},
            {"document_id": doc_id, "seq": 1, "start": split + 1, "end": len(text), "speaker": "P",
             "is_interviewer": False},
        ])
    pool = learn.build_pool(lab.project)
    assert pool.start[pool.document == doc_id].tolist() == [split + 1]
    learn.suggest(lab.project, min_confidence=0.0, min_examples=6)
    rows = lab.project.codings(document="W2_SW50")
    assert len(rows) and (rows["start"] > split).all()
    lab.project.close()


def test_a_single_coded_document_cannot_be_cross_validated(project):
    add_codes(project)
    doc = add_document(project, "a", " ".join(["Group supervision helps us reflect."] * 10))
    project.add_codings([NewCoding(doc, 0, 10, "supervision", "alex")])
    cv = learn.cross_validate(project, min_examples=1)
    assert cv.set_index("code").loc["supervision", "reason"].startswith("all positive segments come from one")
