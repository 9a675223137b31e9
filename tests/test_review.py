"""Review actions, their audit trail, undo, and the method-agreement table."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from qualcode import review, store
from qualcode.errors import InputError, NotFoundError
from qualcode.project import NewCoding
from test_learn_corpus import build

# The store behaves the same on SQLite and PostgreSQL: run these on both (conftest.py).
pytestmark = pytest.mark.backends

OLD = "2000-01-01T00:00:00+00:00"


@pytest.fixture
def lab(tmp_path, project_location):
    """Two coded interviews plus suggestions from two methods with known confidences.

    rule: supervision 0.95, 0.90, 0.40 and family 0.85, 0.30; learned: workload 0.70, 0.55.
    """
    lab = build(tmp_path, n_docs=2, location=project_location)
    doc = lab.documents["W2_SW99"]
    spec = [("supervision", "rule", "rules", 0.95), ("supervision", "rule", "rules", 0.90),
            ("supervision", "rule", "rules", 0.40), ("family", "rule", "rules", 0.85),
            ("family", "rule", "rules", 0.30), ("workload", "learned", "learned", 0.70),
            ("workload", "learned", "learned", 0.55)]
    lab.suggestion_ids = lab.project.add_codings(
        NewCoding(doc, i * 5, i * 5 + 4, code, coder, status="suggested", confidence=conf, method=method)
        for i, (code, method, coder, conf) in enumerate(spec)
    )
    with lab.project.transaction() as conn:  # an old stamp, so a bump is visible
        conn.execute(sa.update(store.codings).values(updated_at=OLD))
    yield lab
    lab.project.close()


def _status(lab, ids):
    frame = lab.project.codings().set_index("id")
    return [frame.loc[i, "status"] for i in ids]


def test_accept_by_ids_records_who_when_before_and_after(lab):
    first = lab.suggestion_ids[0]
    result = review.accept(lab.project, ids=[first], by="sam")
    assert (result.changed, result.unchanged, result.ids, result.by) == (1, 0, [first], "sam")
    row = lab.project.codings().set_index("id").loc[first]
    assert row["status"] == "accepted" and row["updated_at"] > OLD
    events = lab.project.coding_events(first)
    event = events.iloc[-1]
    assert (event["action"], event["actor"], event["batch"]) == ("accept", "sam", result.batch)
    assert event["at"] == row["updated_at"]
    before, after = json.loads(event["before"]), json.loads(event["after"])
    assert (before["status"], after["status"]) == ("suggested", "accepted")
    assert before["confidence"] == after["confidence"] == 0.95
    assert {k: v for k, v in before.items() if k != "status"} == {k: v for k, v in after.items() if k != "status"}


def test_bulk_accept_by_code_method_and_confidence(lab):
    result = review.accept(lab.project, code="supervision", method="rule", min_confidence=0.9, by="sam")
    assert result.changed == 2 and result.by_code == {"supervision": 2}
    assert _status(lab, lab.suggestion_ids) == ["accepted", "accepted"] + ["suggested"] * 5
    events = lab.project.coding_events()
    batch = events[events["batch"] == result.batch]
    assert len(batch) == 2 and set(batch["coding_id"]) == set(lab.suggestion_ids[:2])


def test_bulk_reject_by_coder_and_by_method(lab):
    assert review.reject(lab.project, coder="learned", by="sam").changed == 2
    assert review.accept(lab.project, method="rule", by="sam").changed == 5
    assert _status(lab, lab.suggestion_ids) == ["accepted"] * 5 + ["rejected"] * 2
    # the human's accepted codings were never touched by the bulk actions
    assert set(lab.project.codings(coder="alex")["status"]) == {"accepted"}


def test_explicit_ids_can_redecide_and_same_state_is_unchanged(lab):
    a, b = lab.suggestion_ids[:2]
    review.accept(lab.project, ids=[a], by="sam")
    result = review.reject(lab.project, ids=[a, b], by="kim")
    assert (result.changed, result.unchanged) == (2, 0)
    again = review.reject(lab.project, ids=[a, b], by="kim")
    assert (again.changed, again.unchanged, again.batch) == (0, 2, None)


def test_unknown_filters_name_what_exists(lab):
    with pytest.raises(NotFoundError) as err:
        review.accept(lab.project, code="supervison", by="sam")
    assert "no code 'supervison' (did you mean 'supervision'?)" in str(err.value)
    assert "family, supervision, voice, workload" in str(err.value)
    with pytest.raises(NotFoundError, match=r"no codings made by method 'rules' \(did you mean 'rule'\?\).*learned, manual, rule"):
        review.accept(lab.project, method="rules", by="sam")
    with pytest.raises(NotFoundError, match="no coder 'bob'"):
        review.reject(lab.project, coder="bob", by="sam")
    with pytest.raises(InputError, match="outside 0..1"):
        review.accept(lab.project, min_confidence=1.5, by="sam")
    with pytest.raises(NotFoundError, match="no coding with id 999"):
        review.accept(lab.project, ids=[lab.suggestion_ids[0], 999], by="sam")
    assert _status(lab, lab.suggestion_ids) == ["suggested"] * 7  # nothing changed


def test_selecting_nothing_is_an_error_not_a_no_op(lab):
    with pytest.raises(NotFoundError) as err:
        review.accept(lab.project, code="voice", by="sam")
    assert "nothing to review: no suggested codings match code 'voice' (7 suggestion(s) pending in all)" in str(err.value)
    with pytest.raises(NotFoundError, match="confidence >= 0.99"):
        review.accept(lab.project, min_confidence=0.99, by="sam")


def test_undo_a_batch_restores_the_before_state(lab):
    result = review.accept(lab.project, method="rule", min_confidence=0.8, by="sam")
    assert result.changed == 3
    undone = review.undo(lab.project, batch=result.batch, by="kim")
    assert undone.changed == 3 and sorted(undone.ids) == sorted(result.ids)
    assert _status(lab, lab.suggestion_ids) == ["suggested"] * 7
    events = lab.project.coding_events()
    undo_events = events[events["action"] == "undo"]
    assert len(undo_events) == 3 and set(undo_events["actor"]) == {"kim"}
    assert {json.loads(a)["status"] for a in undo_events["after"]} == {"suggested"}
    with pytest.raises(InputError, match="was already undone"):
        review.undo(lab.project, batch=result.batch, by="kim")
    with pytest.raises(NotFoundError, match="no review batch 'nope'.*" + result.batch):
        review.undo(lab.project, batch="nope", by="kim")


def test_undo_refuses_a_batch_decided_again_later(lab):
    first = review.accept(lab.project, code="family", by="sam")
    later = review.reject(lab.project, ids=[lab.suggestion_ids[3]], by="kim")
    with pytest.raises(InputError, match=f"codings {lab.suggestion_ids[3]} of batch .* were decided again later"):
        review.undo(lab.project, batch=first.batch, by="sam")
    review.undo(lab.project, batch=later.batch, by="kim")
    review.undo(lab.project, batch=first.batch, by="sam")
    assert _status(lab, lab.suggestion_ids[3:5]) == ["suggested", "suggested"]


def test_undo_by_ids_steps_back_one_decision_at_a_time(lab):
    one = lab.suggestion_ids[0]
    review.accept(lab.project, ids=[one], by="sam")
    review.reject(lab.project, ids=[one], by="sam")
    review.undo(lab.project, ids=[one], by="sam")
    assert _status(lab, [one]) == ["accepted"]
    review.undo(lab.project, ids=[one], by="sam")
    assert _status(lab, [one]) == ["suggested"]
    with pytest.raises(InputError, match=f"coding\\(s\\) {one} have no review decision to undo"):
        review.undo(lab.project, ids=[one], by="sam")
    with pytest.raises(InputError, match="exactly one of a batch or coding ids"):
        review.undo(lab.project, by="sam")


def test_recode_rejects_the_original_and_adds_the_reviewers_coding(lab):
    one, two = lab.suggestion_ids[5:7]
    result = review.recode(lab.project, [one, two], "family", by="sam")
    assert result.changed == 2 and len(result.created) == 2
    codings = lab.project.codings().set_index("id")
    assert list(codings.loc[[one, two], "status"]) == ["rejected", "rejected"]
    new = codings.loc[result.created]
    assert set(new["code"]) == {"family"} and set(new["coder"]) == {"sam"} and set(new["status"]) == {"accepted"}
    assert list(new["start"]) == list(codings.loc[[one, two], "start"])
    assert json.loads(new.iloc[0]["provenance"])["recoded_from"] == one
    # undoing one half of one recode undoes that pair only
    review.undo(lab.project, ids=[one], by="sam")
    codings = lab.project.codings().set_index("id")
    assert codings.loc[one, "status"] == "suggested" and result.created[0] not in codings.index
    assert codings.loc[two, "status"] == "rejected" and result.created[1] in codings.index
    review.undo(lab.project, ids=[result.created[1]], by="sam")
    assert _status(lab, [two]) == ["suggested"]
    assert len(lab.project.codings(coder="sam")) == 0


def test_recode_to_an_unknown_code_changes_nothing(lab):
    with pytest.raises(NotFoundError, match=r"no code 'famly' \(did you mean 'family'\?\)"):
        review.recode(lab.project, [lab.suggestion_ids[0]], "famly", by="sam")
    assert _status(lab, lab.suggestion_ids) == ["suggested"] * 7
    assert set(lab.project.coding_events()["action"]) == {"create"}


def test_method_agreement_matches_a_hand_count(lab):
    ids = lab.suggestion_ids
    review.accept(lab.project, ids=[ids[0], ids[1]], by="sam")        # rule supervision: 2 accepted
    review.reject(lab.project, ids=[ids[2]], by="sam")                # rule supervision: 1 rejected
    review.recode(lab.project, [ids[4]], "workload", by="sam")        # rule family: 1 rejected (recoded)
    review.accept(lab.project, ids=[ids[5]], by="sam")                # learned workload: 1 accepted, 1 pending
    table = review.method_agreement(lab.project).set_index(["method", "code"])
    expected = {
        ("learned", "workload"): (2, 1, 0, 0, 1, 1.0),
        ("rule", "family"): (2, 0, 1, 1, 1, 0.0),
        ("rule", "supervision"): (3, 2, 1, 0, 0, 0.667),
    }
    for key, (suggested, accepted, rejected, recoded, pending, precision) in expected.items():
        row = table.loc[key]
        assert (row["suggested"], row["accepted"], row["rejected"], row["recoded"], row["pending"]) == \
            (suggested, accepted, rejected, recoded, pending), key
        assert row["precision"] == pytest.approx(precision, abs=1e-3)
    overall = review.method_agreement(lab.project, by_code=False).set_index("method")
    assert overall.loc["rule", "precision"] == pytest.approx(2 / 4, abs=1e-3)
    assert overall.loc["learned", "pending"] == 1
    # the reviewer's own coding from the recode is not a method's suggestion
    assert ("manual", "workload") not in table.index
