"""Loading codebooks into a project: the diff, renames that keep codings, retiring, versions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from qualcode import NewCoding, Project, store
from qualcode.codebook import load_codebook, parse_codebook
from qualcode.codebook_sync import load_into_project
from qualcode.errors import CodebookError

REPO = Path(__file__).resolve().parents[1]

V1 = """\
id: practice
name: Practice
version: "1.0"
codes:
  - id: theme
    name: Theme
    definition: Parent theme.
    children:
      - {id: theme.visits, name: Home visits, definition: Visits to the family home.}
      - {id: theme.plans, name: Plans, definition: Written plans.}
      - {id: theme.old, name: Old code, definition: Soon gone.}
  - {id: other, name: Other, definition: Another root.}
"""

V2 = """\
id: practice
name: Practice
version: "1.1"
changelog:
  - {version: "1.1", changes: [renamed visits, moved plans, dropped old, added new]}
codes:
  - id: theme
    name: Theme
    definition: Parent theme.
    children:
      - id: theme.home_visits
        name: Visits at home
        renamed_from: [theme.visits]
        definition: Visits to the family home.
      - {id: theme.new, name: New code, definition: Brand new.}
  - id: other
    name: Other
    definition: Another root, better defined.
    children:
      - {id: theme.plans, name: Plans, definition: Written plans.}
"""


def project_with_document(tmp_path: Path) -> Project:
    project = Project.create(tmp_path / "eval.qc")
    text = "We visited the family at home twice a week and wrote the plan together."
    with project.transaction() as conn:
        conn.execute(sa.insert(store.documents).values(
            name="W1_SW01", source_file="W1_SW01.txt", format="txt", sha256="0" * 64,
            text=text, words=len(text.split()), imported_at=store.now()))
    return project


def load(project: Project, text: str):
    return load_into_project(project, parse_codebook(text, "cb.yaml"), text)


def test_first_load_adds_every_code_and_records_the_codebook(tmp_path):
    project = project_with_document(tmp_path)
    diff = load(project, V1)
    assert diff.count("added") == 5 and diff.previous_version is None
    assert diff.summary() == "practice new, 1.0: 5 added, 0 renamed, 0 moved, 0 removed, 0 definitions changed"
    codes = project.codes()
    assert list(codes["key"]) == ["theme", "theme.visits", "theme.plans", "theme.old", "other"]
    row = codes.set_index("key").loc["theme.visits"]
    assert row["parent_key"] == "theme" and row["codebook"] == "practice" and row["codebook_version"] == "1.0"
    assert json.loads(row["outcomes"]) == []
    with project.engine.connect() as conn:
        [(name, version, source)] = conn.execute(sa.select(store.codebooks.c.name, store.codebooks.c.version,
                                                          store.codebooks.c.source)).all()
    assert (name, version, source) == ("Practice", "1.0", V1)


def test_new_version_diff_rename_move_remove_keeps_codings(tmp_path):
    project = project_with_document(tmp_path)
    load(project, V1)
    ids = project.codes().set_index("key")["id"]
    project.add_codings([NewCoding(1, 0, 11, "theme.visits", "alex"),
                         NewCoding(1, 12, 20, "theme.old", "alex"),
                         NewCoding(1, 21, 30, "theme.old", "sam")])
    diff = load(project, V2)
    changes = {(c.change, c.code, c.old, c.new, c.codings) for c in diff.changes}
    assert changes == {
        ("renamed", "theme.home_visits", "theme.visits", "theme.home_visits", 0),
        ("renamed", "theme.home_visits", "Home visits", "Visits at home", 0),
        ("moved", "theme.plans", "theme", "other", 0),
        ("definition", "other", "Another root.", "Another root, better defined.", 0),
        ("added", "theme.new", None, "New code", 0),
        ("removed", "theme.old", "Old code", None, 2),
    }
    assert diff.summary() == ("practice 1.0 -> 1.1: 1 added, 2 renamed, 1 moved, 1 removed, "
                              "1 definitions changed, 2 codings keep their retired codes")
    frame = diff.to_frame()
    assert list(frame.columns) == ["change", "code", "old", "new", "codings"] and len(frame) == 6
    after = project.codes(include_retired=True).set_index("key")
    assert after.loc["theme.home_visits", "id"] == ids["theme.visits"]  # same row: codings follow
    assert after.loc["theme.old", "status"] == "retired"
    assert "theme.old" not in set(project.codes()["key"])
    assert after.loc["theme.plans", "codebook_version"] == "1.1"
    codings = project.codings()
    assert sorted(codings["code"]) == ["theme.home_visits", "theme.old", "theme.old"]  # nothing orphaned


def test_loading_same_version_twice_is_a_no_op(tmp_path):
    project = project_with_document(tmp_path)
    load(project, V1)
    diff = load(project, V1 + "# a comment changes nothing\n")
    assert diff.unchanged and diff.changes == []
    assert diff.summary() == "practice 1.0 is already loaded: nothing changed"
    with project.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(store.codebooks)).scalar_one() == 1


def test_same_version_with_different_codes_is_refused(tmp_path):
    project = project_with_document(tmp_path)
    load(project, V1)
    with pytest.raises(CodebookError, match=r"version 1\.0 of codebook 'practice' is already loaded with different codes.*raise `version:`"):
        load(project, V1.replace("Written plans.", "Written plans and reviews."))


def test_older_version_is_refused_and_project_unchanged(tmp_path):
    project = project_with_document(tmp_path)
    load(project, V2)
    before = project.codes(include_retired=True)
    with pytest.raises(CodebookError) as caught:
        load(project, V1)
    assert str(caught.value) == (
        f"{project.location}: the project holds version 1.1 of codebook 'practice'; loading the older "
        "version 1.0 would undo its changes. Fix: load the newest version of the codebook file "
        "(or give your edits a version above 1.1).")
    assert project.codes(include_retired=True).equals(before)


def test_removed_code_comes_back_restored(tmp_path):
    project = project_with_document(tmp_path)
    load(project, V1)
    load(project, V2)
    v3 = V2.replace('version: "1.1"', 'version: "1.2"') + "  - {id: theme.old, name: Old code, definition: Soon gone.}\n"
    diff = load(project, v3)
    assert {(c.change, c.code, c.old, c.new) for c in diff.changes} == {
        ("restored", "theme.old", "retired", "active"), ("moved", "theme.old", "theme", None)}
    assert project.codes().set_index("key").loc["theme.old", "status"] == "active"


def test_two_codebooks_in_one_project_retire_only_their_own(tmp_path):
    project = project_with_document(tmp_path)
    load(project, V1)
    other = """\
id: second
name: Second
version: "1"
codes:
  - {id: s.one, name: One, definition: First of the second.}
"""
    load(project, other)
    diff = load(project, other.replace('version: "1"', 'version: "2"').replace("s.one", "s.two"))
    assert [(c.change, c.code) for c in diff.changes] == [("added", "s.two"), ("removed", "s.one")]
    active = set(project.codes()["key"])
    assert {"theme", "theme.visits", "theme.plans", "theme.old", "other", "s.two"} == active


def test_code_id_owned_by_another_codebook_is_refused(tmp_path):
    project = project_with_document(tmp_path)
    load(project, V1)
    clash = """\
id: clash
name: Clash
version: "1"
codes:
  - {id: other, name: Other again, definition: Same id as in practice.}
"""
    with pytest.raises(CodebookError, match="code id 'other' already belongs to codebook 'practice'"):
        load(project, clash)
    assert len(project.codes()) == 5


def test_shipped_codebooks_load_together(tmp_path):
    project = project_with_document(tmp_path)
    total = 0
    for name in ("dfe_practice_features", "signs_of_safety", "evaluation_framework"):
        path = REPO / "codebooks" / f"{name}.yaml"
        diff = load_into_project(project, load_codebook(path), path.read_text(encoding="utf-8"))
        total += diff.count("added")
    assert len(project.codes()) == total >= 50
    outcome = project.codes().set_index("key").loc["outcome.reduce_risk"]
    assert json.loads(outcome["outcomes"]) == ["reduce_risk"] and outcome["kind"] == "topic"


def test_cross_cutting_direction_is_stored_and_read_by_evidence(tmp_path):
    from qualcode.evidence import _code_directions

    text = """\
id: cc
name: Cross-cutting
version: "1.0"
codes:
  - {id: what_helped, name: What helped, kind: cross-cutting, direction: supports, definition: Things that helped.}
  - {id: topic, name: Topic, definition: A topic code.}
"""
    project = project_with_document(tmp_path)
    load(project, text)
    codes = project.codes().set_index("key")
    assert codes.loc["what_helped", "direction"] == "supports"
    # no codebook passed: the direction comes from the store, not from the code's name
    assert _code_directions(project.codes(), []) == {"what_helped": "supports"}
    project.close()
