"""The project store: create, open, migrate, refuse what it cannot read."""

from __future__ import annotations

import json
import sqlite3

import pytest
import sqlalchemy as sa

from qualcode import NewCoding, Project, store
from qualcode import bulk_write
from qualcode.errors import InputError, NewerProjectError, NotFoundError, ProjectError

# The store behaves the same on SQLite and PostgreSQL: run these on both (conftest.py).
pytestmark = pytest.mark.backends


def _doc(project: Project, text: str = "We held group supervision every week.") -> int:
    with project.transaction() as conn:
        return conn.execute(sa.insert(store.documents).values(
            name="d1.txt", source_file="d1.txt", format="txt", sha256="x", source_type="other",
            text=text, words=len(text.split()), imported_at=store.now()).returning(store.documents.c.id)
        ).scalar_one()


def _code(project: Project, key: str = "supervision") -> None:
    with project.transaction() as conn:
        conn.execute(sa.insert(store.codes).values(key=key, name=key.title(), definition="d",
                                                   created_at=store.now(), updated_at=store.now()))


def test_create_then_open_has_every_table(tmp_path):
    Project.create(tmp_path / "a.qc").close()
    with Project.open(tmp_path / "a.qc") as p:
        names = set(sa.inspect(p.engine).get_table_names())
    assert {"documents", "turns", "codes", "codings", "coding_events", "memos", "cases"} <= names


@pytest.mark.sqlite_only
def test_sqlite_runs_in_wal_with_foreign_keys(project):
    with project.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_create_refuses_to_overwrite(tmp_path):
    Project.create(tmp_path / "a.qc").close()
    with pytest.raises(ProjectError, match="already exists"):
        Project.create(tmp_path / "a.qc")


def test_open_missing_file_says_how_to_create(tmp_path):
    with pytest.raises(ProjectError, match="qualcode init"):
        Project.open(tmp_path / "nope.qc")


def test_open_non_sqlite_file_is_refused(tmp_path):
    bad = tmp_path / "notes.qc"
    bad.write_text("hello, I am not a database")
    with pytest.raises(ProjectError, match="not an SQLite file"):
        Project.open(bad)
    assert bad.read_text() == "hello, I am not a database"


def test_project_from_newer_qualcode_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "new.qc"
    Project.create(path).close()
    con = sqlite3.connect(path)
    con.execute("INSERT INTO migrations VALUES ('9999_from_the_future', '2030-01-01')")
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(NewerProjectError, match="newer qualcode"):
        Project.open(path)
    assert path.read_bytes() == before


def test_older_project_is_backed_up_then_migrated(tmp_path):
    path = tmp_path / "old.qc"
    Project.create(path).close()
    con = sqlite3.connect(path)
    last = con.execute("SELECT name FROM migrations ORDER BY name DESC LIMIT 1").fetchone()[0]
    con.execute("DELETE FROM migrations WHERE name = ?", (last,))
    con.commit()
    con.close()
    with Project.open(path) as p:
        with p.engine.connect() as conn:
            assert last in {r[0] for r in conn.execute(sa.select(store.migrations.c.name))}
    assert (tmp_path / f"old.qc.before-{last}.bak").exists()


def test_add_codings_stores_snippet_and_audit_event(project):
    doc = _doc(project)
    _code(project)
    [cid] = project.add_codings([NewCoding(doc, 8, 25, "supervision", coder="alex")])
    codings = project.codings()
    assert codings.loc[0, "snippet"] == "group supervision"
    assert codings.loc[0, "coder"] == "alex"
    events = project.coding_events(cid)
    assert list(events["action"]) == ["create"]


@pytest.mark.parametrize("sqlite_json", [True, False])
def test_create_events_record_who_and_the_changeable_fields(project, monkeypatch, sqlite_json):
    # Events are built by SQLite's json_object where it has one, in Python where not:
    # both must say the same.
    monkeypatch.setattr(bulk_write, "sqlite_has_json", lambda conn: sqlite_json)
    doc = _doc(project)
    _code(project)
    ids = project.add_codings([
        NewCoding(doc, 8, 25, "supervision", coder="alex", confidence=0.85, method="rules:lemma",
                  status="suggested", provenance={"rule": "lemma"}),
        NewCoding(doc, 0, 7, "supervision", coder="sam"),
    ], actor=None)
    events = project.coding_events()
    assert list(events["coding_id"]) == ids and list(events["actor"]) == ["alex", "sam"]
    first = json.loads(events.loc[0, "after"])
    assert first == {"document_id": doc, "code_id": first["code_id"], "coder_id": first["coder_id"], "start": 8,
                     "end": 25, "status": "suggested", "confidence": 0.85, "method": "rules:lemma",
                     "codebook_version": None, "direction": None}
    assert events["before"].isna().all()
    project.add_codings([NewCoding(doc, 26, 31, "supervision", coder="alex")], actor="lead")
    assert project.coding_events()["actor"].iloc[-1] == "lead"


def test_add_codings_rejects_bad_span_and_writes_nothing(project):
    doc = _doc(project)
    _code(project)
    with pytest.raises(InputError, match="outside document"):
        project.add_codings([NewCoding(doc, 0, 5, "supervision", "alex"),
                             NewCoding(doc, 10, 9999, "supervision", "alex")])
    assert project.codings().empty
    assert project.coding_events().empty


def test_add_codings_unknown_code_says_load_codebook(project):
    doc = _doc(project)
    with pytest.raises(NotFoundError, match="codebook load"):
        project.add_codings([NewCoding(doc, 0, 5, "nope", "alex")])


def test_document_lookup_by_name_and_id(project):
    doc = _doc(project)
    assert project.document_id("d1.txt") == doc
    assert project.document_id(doc) == doc
    assert project.text("d1.txt").startswith("We held")
    with pytest.raises(NotFoundError, match="qualcode documents"):
        project.document_id("missing.txt")


@pytest.mark.sqlite_only
def test_backup_is_a_consistent_copy(project, tmp_path):
    _doc(project)
    dest = project.backup(tmp_path / "copy.qc")
    with Project.open(dest) as copy:
        assert list(copy.documents()["name"]) == ["d1.txt"]


def test_a_project_from_before_code_directions_gains_the_column(tmp_path):
    path = tmp_path / "old.qc"
    Project.create(path).close()
    con = sqlite3.connect(path)
    con.execute("ALTER TABLE codes DROP COLUMN direction")
    con.execute("DELETE FROM migrations WHERE name = '0003_code_direction'")
    con.commit()
    con.close()
    with Project.open(path) as p:
        assert "direction" in p.codes().columns
