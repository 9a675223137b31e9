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
def project(tmp_path):
    project, d = make_project(tmp_path / "e.qc")
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
    assert r["strength"] == "moderate"
    assert r["reason"] == ("moderate: 4 source types, 5 participants, direction mixed (supports 2, challenges 1, "
                           "mixed 1); not strong: needs direction consistent (is mixed)")


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
