"""Evidence per outcome on a hand-made project whose answers are counted by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from qualcode import store
from qualcode.evidence import evidence, overall_direction
from qualcode.indicators import import_indicators
from qualcode.project import NewCoding, Project
from qualcode.survey import import_survey
from qualcode.toc import load_toc

# The store behaves the same on SQLite and PostgreSQL: run these on both (conftest.py).
pytestmark = pytest.mark.backends

TOC = """\
id: t
name: Test ToC
activities:
  - id: act
    name: Do the work
    leads_to: [reduce_risk, wellbeing, stability]
outcomes:
  - id: reduce_risk
    name: Reduced risk
    codes: [theme.safety]
    leads_to: [imp]
    indicators:
      - id: rr
        name: Re-referrals
        unit: "%"
        direction: down
        baseline: {period: 2022-23, value: 24}
        target: {value: 15}
  - id: wellbeing
    name: Wellbeing
    leads_to: [imp]
  - id: stability
    name: Stability
    leads_to: [imp]
impacts:
  - id: imp
    name: Better lives
assumptions:
  - id: as_caseloads
    name: Caseloads can be protected
    about: [act]
    codes: [activity.caseloads]
"""

# (name, source type, participant, wave, case)
DOCS = [
    ("SW01 wave 1", "staff interview", "SW01", "Wave 1", "C1"),
    ("SW01 wave 2", "staff interview", "SW01", "Wave 2", None),
    ("FAM01", "family interview", "FAM01", "Wave 1", "C1"),
    ("PA01", "partner interview", "PA01", "Wave 2", None),
    ("note 1", "case note", None, None, "C2"),
    ("SW02", "staff interview", "SW02", "Wave 2", None),
]
# key, name, parent, kind, outcome links (the codebook side)
CODES = [
    ("theme.safety", "Safety", None, "topic", []),
    ("theme.safety.plans", "Safety plans", "theme.safety", "topic", []),
    ("outcome.wellbeing", "Wellbeing", None, "topic", ["wellbeing"]),
    ("activity.caseloads", "Caseloads", None, "topic", []),
    ("enabler", "Enabler", None, "cross-cutting", []),
    ("barrier", "Barrier", None, "cross-cutting", []),
]


def make_project(path: Path) -> tuple[Project, dict[str, int]]:
    project = Project.create(path)
    stamp = store.now()
    ids = {}
    with project.transaction() as conn:
        for name, source_type, participant, wave, case in DOCS:
            case_id = None
            if case:
                case_id = conn.execute(sa.select(store.cases.c.id).where(store.cases.c.name == case)).scalar()
                if case_id is None:
                    case_id = conn.execute(sa.insert(store.cases).values(name=case, created_at=stamp)
                                           .returning(store.cases.c.id)).scalar_one()
            doc_id = conn.execute(sa.insert(store.documents).values(
                name=name, source_file=f"{name}.txt", format="txt", sha256=name, source_type=source_type,
                case_id=case_id, text="x" * 300, words=1, imported_at=stamp).returning(store.documents.c.id)).scalar_one()
            ids[name] = doc_id
            for key, value in (("participant", participant), ("wave", wave)):
                if value:
                    conn.execute(sa.insert(store.document_attributes).values(document_id=doc_id, key=key, value=value))
        for key, name, parent, kind, outcomes in CODES:
            conn.execute(sa.insert(store.codes).values(key=key, name=name, parent_key=parent, kind=kind,
                                                       outcomes=json.dumps(outcomes), created_at=stamp,
                                                       updated_at=stamp))
    return project, ids


def code(doc: int, start: int, end: int, key: str, status: str = "accepted", direction: str | None = None):
    return NewCoding(doc, start, end, key, "alex", status=status, direction=direction)


@pytest.fixture
def project(project_location):
    project, d = make_project(project_location)
    project.add_codings([
        # reduced risk (theme.safety and its child code)
        code(d["SW01 wave 1"], 0, 10, "theme.safety"), code(d["SW01 wave 1"], 5, 20, "enabler"),
        code(d["SW01 wave 1"], 0, 10, "theme.safety.plans"),  # same span: one segment
        code(d["SW01 wave 2"], 0, 10, "theme.safety.plans", direction="challenges"),
        code(d["FAM01"], 20, 30, "theme.safety"), code(d["FAM01"], 25, 40, "enabler"),
        code(d["FAM01"], 20, 30, "barrier", status="rejected"),  # rejected: ignored
        code(d["PA01"], 0, 10, "theme.safety"), code(d["PA01"], 0, 5, "barrier"), code(d["PA01"], 8, 12, "enabler"),
        code(d["note 1"], 50, 60, "theme.safety"),
        code(d["SW02"], 0, 10, "theme.safety"), code(d["SW02"], 10, 20, "enabler"),  # touching, not overlapping
        code(d["SW02"], 30, 40, "theme.safety", status="suggested"),  # not accepted: ignored
        # wellbeing (linked from the codebook side)
        code(d["SW01 wave 1"], 100, 110, "outcome.wellbeing"), code(d["SW01 wave 1"], 100, 120, "enabler"),
        code(d["FAM01"], 100, 110, "outcome.wellbeing"), code(d["FAM01"], 105, 106, "enabler"),
        code(d["SW02"], 100, 110, "outcome.wellbeing", direction="supports"),
        # the caseloads assumption did not hold
        code(d["PA01"], 150, 160, "activity.caseloads"), code(d["PA01"], 150, 170, "barrier"),
    ])
    yield project
    project.close()


@pytest.fixture
def toc(tmp_path):
    path = tmp_path / "toc.yaml"
    path.write_text(TOC)
    return load_toc(path)


def row(result, node):
    return result.summary.set_index("node").loc[node]


def test_counts_for_an_outcome_linked_from_the_toc(project, toc):
    r = row(evidence(project, toc), "reduce_risk")
    assert r["codes"] == ["theme.safety", "theme.safety.plans"]
    assert (r["segments"], r["documents"], r["participants"], r["cases"]) == (6, 6, 5, 2)
    assert r["source_types"] == {"case note": 1, "family interview": 1, "partner interview": 1, "staff interview": 3}
    assert (r["supports"], r["challenges"], r["mixed"]) == (2, 1, 1)
    assert r["direction"] == "mixed"
    assert r["by_wave"] == {"(no wave)": 1, "Wave 1": 2, "Wave 2": 3}
    # How much evidence is apart from which way it points: plenty of it, pointing both ways.
    assert r["strength"] == "strong"
    assert r["reason"] == "strong: 4 source types, 5 participants"
    assert (r["directed"], r["indicator"], r["conflict"]) == (4, "no data", "")
    assert (r["verdict"], r["judgement"]) == ("mixed", "mixed evidence")
    assert r["judgement_reason"] == (
        "mixed evidence (rule 6): amount strong; direction mixed — 2 support, 1 challenge, 1 mixed of 6 segments "
        "(4 carry a direction); indicator no data")


def test_segment_directions(project, toc):
    segs = evidence(project, toc).for_node("reduce_risk").set_index("document")
    assert segs.loc["SW01 wave 1", "direction"] == "supports"  # overlapping enabler
    assert segs.loc["SW01 wave 2", "direction"] == "challenges"  # the coding's own direction
    assert segs.loc["PA01", "direction"] == "mixed"  # enabler and barrier both overlap
    assert pd.isna(segs.loc["SW02", "direction"])  # the enabler only touches the span
    assert segs.loc["note 1", "participant"] == "note 1"  # no participant: the document name


def test_codebook_side_link_and_consistent_direction(project, toc):
    r = row(evidence(project, toc), "wellbeing")
    assert r["codes"] == ["outcome.wellbeing"]
    assert (r["segments"], r["participants"], r["supports"], r["challenges"]) == (3, 3, 3, 0)
    assert r["direction"] == "supports"
    assert r["strength"] == "moderate"
    assert "not strong: needs 3 source types (has 2)" in r["reason"]


def test_gap_is_listed_not_dropped(project, toc):
    result = evidence(project, toc)
    r = row(result, "stability")
    assert r["segments"] == 0 and r["strength"] == "none" and bool(r["gap"])
    assert r["reason"] == "none: no accepted codings — no codes linked"
    assert "stability" in result.gaps and "imp" in result.gaps
    assert list(result.summary["node"]) == ["reduce_risk", "wellbeing", "stability", "imp", "as_caseloads"]


def test_assumption_evidence_shows_it_did_not_hold(project, toc):
    r = row(evidence(project, toc), "as_caseloads")
    assert (r["segments"], r["challenges"], r["direction"], r["strength"]) == (1, 1, "challenges", "weak")


def test_suggested_codings_count_when_asked(project, toc):
    r = row(evidence(project, toc, statuses=("accepted", "suggested")), "reduce_risk")
    assert r["segments"] == 7


def test_strength_rules_from_yaml_change_the_rating(project, tmp_path):
    path = tmp_path / "lenient.yaml"
    path.write_text(TOC + """\
strength_rules:
  - rating: strong
    when: {min_source_types: 2, min_participants: 3, direction: consistent}
  - rating: weak
    when: {min_segments: 1}
""")
    result = evidence(project, load_toc(path))
    r = row(result, "wellbeing")
    assert r["strength"] == "strong"
    assert r["reason"] == "strong: 2 source types, 3 participants, direction consistent (supports 3, challenges 0)"
    assert row(result, "reduce_risk")["strength"] == "weak"


def test_indicators_and_survey_items_join_the_evidence(project, toc, tmp_path):
    mi = tmp_path / "mi.csv"
    mi.write_text("indicator,period,value\nrr,2023-24,17\nrr,2024-25,14\n")
    import_indicators(project, mi, toc)
    responses, items = tmp_path / "s.csv", tmp_path / "items.csv"
    responses.write_text("wave,q1\nWave 1,Agree\nWave 1,Disagree\n")
    items.write_text("item,question,outcome\nq1,I feel well,wellbeing\n")
    import_survey(project, responses, items)
    result = evidence(project, toc)
    assert row(result, "reduce_risk")["indicators"] == [
        "Re-referrals: met — 24% (2022-23) → 17% → 14% (2024-25); target 15%"]
    r = row(result, "wellbeing")
    assert r["survey_items"] == ["q1"] and r["source_types"]["survey items"] == 1
    assert r["n_source_types"] == 3  # staff and family interviews, and the survey
    assert r["reason"].startswith("moderate: 3 source types, 3 participants")
    assert r["reason"].endswith("not strong: needs 5 participants (has 3)")


def test_no_direction_words_means_unclear():
    assert overall_direction({"supports": 0, "challenges": 0, "mixed": 0}) == "unclear"
    assert overall_direction({"supports": 4, "challenges": 1, "mixed": 0}) == "supports"
    assert overall_direction({"supports": 3, "challenges": 1, "mixed": 0}, share=0.8) == "mixed"


# -- judgements held to hand-made cases --------------------------------------------

JUDGED_TOC = """\
id: j
name: Judged
outcomes:
  - id: lower_costs
    name: Lower costs
    codes: [cost]
    indicators:
      - {id: cost_i, name: Unit cost, unit: "£", direction: down, baseline: {period: "2022", value: 100}, target: {value: 80}}
  - id: early_help
    name: More families helped early
    codes: [early]
    indicators:
      - {id: early_i, name: Early-help episodes, direction: up, baseline: {period: "2022", value: 100}, target: {value: 150}}
  - id: wellbeing
    name: Better wellbeing
    codes: [well]
  - id: mixed_one
    name: Joint working
    codes: [joint]
"""
ROLES = [("staff interview", "SW{}"), ("family interview", "FAM{}"), ("case note", None), ("partner interview", "PA{}")]


@pytest.fixture
def judged(tmp_path):
    """Twelve documents over four source types; each outcome's codings made to one known shape."""
    project = Project.create(tmp_path / "j.qc")
    stamp = store.now()
    docs = []
    with project.transaction() as conn:
        for i in range(12):
            source_type, who = ROLES[i % 4]
            doc_id = conn.execute(sa.insert(store.documents).values(
                name=f"d{i}", source_file=f"d{i}.txt", format="txt", sha256=f"d{i}", source_type=source_type,
                text="x" * 400, words=1, imported_at=stamp).returning(store.documents.c.id)).scalar_one()
            if who:
                conn.execute(sa.insert(store.document_attributes).values(
                    document_id=doc_id, key="participant", value=who.format(i)))
            docs.append(doc_id)
        for key in ("cost", "early", "well", "joint"):
            conn.execute(sa.insert(store.codes).values(key=key, name=key.title(), kind="topic", outcomes="[]",
                                                       created_at=stamp, updated_at=stamp))
    new = []
    for i, doc in enumerate(docs):
        new.append(code(doc, 0, 10, "cost", direction="challenges"))  # every segment challenges
        new.append(code(doc, 20, 30, "early", direction="challenges"))  # ... while the indicator is met
        new.append(code(doc, 40, 50, "well", direction="supports" if i < 2 else None))  # 2 of 12 directed
        new.append(code(doc, 60, 70, "joint", direction="supports" if i % 2 else "challenges"))  # 6 and 6
    project.add_codings(new)
    toc_path = tmp_path / "toc.yaml"
    toc_path.write_text(JUDGED_TOC)
    mi = tmp_path / "mi.csv"
    mi.write_text("indicator,period,value\ncost_i,2024,104\nearly_i,2024,160\n")
    toc = load_toc(toc_path)
    import_indicators(project, mi, toc)
    yield project, toc, toc_path
    project.close()


def test_strong_evidence_against_is_said_so(judged):
    project, toc, _ = judged
    r = row(evidence(project, toc), "lower_costs")
    assert (r["strength"], r["direction"], r["indicator"]) == ("strong", "challenges", "not met")
    assert (r["verdict"], r["judgement"]) == ("not achieved", "strong evidence that it was not achieved")
    assert "12 challenge of 12 segments" in r["judgement_reason"] and "indicator not met" in r["judgement_reason"]


def test_indicator_conflict_is_flagged(judged):
    project, toc, _ = judged
    r = row(evidence(project, toc), "early_help")
    assert (r["direction"], r["indicator"]) == ("challenges", "met")
    assert r["conflict"] == "the coded segments challenge it but its indicator is met"
    assert r["verdict"] == "conflict" and r["judgement"].startswith("conflicting evidence")


def test_few_directed_segments_are_unclear_not_consistent(judged):
    project, toc, _ = judged
    r = row(evidence(project, toc), "wellbeing")
    # 2 supporting segments of 12: "consistent" among the directed, but they say nothing about the rest.
    assert (r["strength"], r["directed"], r["direction"]) == ("strong", 2, "unclear")
    assert r["verdict"] == "unclear" and "(2 carry a direction)" in r["judgement_reason"]


def test_evidence_both_ways_is_mixed(judged):
    project, toc, _ = judged
    r = row(evidence(project, toc), "mixed_one")
    assert (r["supports"], r["challenges"], r["direction"]) == (6, 6, "mixed")
    assert (r["verdict"], r["judgement"]) == ("mixed", "mixed evidence")


def test_judgement_rules_from_yaml(judged, tmp_path):
    project, _, toc_path = judged
    path = tmp_path / "own.yaml"
    path.write_text(toc_path.read_text() + """\
judgement_rules:
  min_directed_share: 0.1
  rules:
    - judgement: the interviews say no
      verdict: not achieved
      when: {direction: challenges}
    - judgement: the interviews say yes
      verdict: achieved
      when: {direction: [supports]}
""")
    result = evidence(project, load_toc(path))
    assert row(result, "early_help")["judgement"] == "the interviews say no"  # conflict is not a rule here
    assert row(result, "wellbeing")["judgement"] == "the interviews say yes"  # 2 of 12 clears 0.1
    assert row(result, "mixed_one")["judgement"] == "no judgement rule matched"


def test_bad_judgement_rules_name_the_line_and_fix(tmp_path):
    from qualcode.errors import ValidationProblems

    path = tmp_path / "bad.yaml"
    path.write_text(JUDGED_TOC + """\
judgement_rules:
  min_directed_share: 2
  rules:
    - judgement: odd
      verdict: maybe
      when: {direction: sideways, conflcit: true}
""")
    with pytest.raises(ValidationProblems) as caught:
        load_toc(path)
    text = str(caught.value)
    assert "min_directed_share 2 is outside" in text
    assert "verdict 'maybe'" in text and "achieved" in text
    assert "direction 'sideways'" in text and "conflcit" in text
    assert f"{path}:25: direction 'sideways'" in text  # the file and the line of the rule
