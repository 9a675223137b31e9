"""``qualcode copy``: a project moved between SQLite and PostgreSQL loses nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from qualcode import NewCoding, Project, review
from qualcode.autocode import autocode
from qualcode.corpus import import_paths
from qualcode.errors import ProjectError
from qualcode.memos import add_memo
from qualcode.team.copy import copy_project

REPO = Path(__file__).resolve().parents[1]
INTERVIEWS = REPO / "corpus" / "interviews"


def every_row(location: str) -> dict[str, list[tuple]]:
    """Every table's rows in id order, as plain tuples (booleans and floats compared as values)."""
    with Project.open(location) as project, project.engine.connect() as conn:
        reflected = sa.MetaData()
        reflected.reflect(conn)
        out = {}
        for table in reflected.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            columns = sorted(table.columns, key=lambda c: c.name)
            out[table.name] = [tuple(_plain(v) for v in row)
                               for row in conn.execute(sa.select(*columns).order_by(*order))]
        return out


def _plain(value):
    return int(value) if isinstance(value, bool) else value


@pytest.fixture
def laptop(tmp_path) -> str:
    """A realistic small project: imports (one re-imported as version 2), suggestions,
    review decisions with undo, a manual coding, memos."""
    location = str(tmp_path / "laptop.qc")
    files = tmp_path / "in"
    files.mkdir()
    for name in ("W1_SW01_social_worker.txt", "W2_FAM01_parent.txt", "W1_PA01_health_visitor.txt"):
        (files / name).write_bytes((INTERVIEWS / name).read_bytes())
    with Project.create(location) as project:
        import_paths(project, [files], progress=False)
        changed = files / "W2_FAM01_parent.txt"
        changed.write_text(changed.read_text(encoding="utf-8") + "\nA later note from the key worker.\n",
                           encoding="utf-8")
        import_paths(project, [changed], progress=False)  # a second version supersedes the first
        autocode(project, [REPO / "codebooks" / "dfe_practice_features.yaml"], progress=False)
        suggested = project.codings(status="suggested")
        review.accept(project, ids=suggested["id"][:5].tolist(), by="sam")
        batch = review.reject(project, ids=suggested["id"][5:8].tolist(), by="sam").batch
        review.undo(project, batch=batch, by="sam")
        doc = int(project.documents()["id"].iloc[0])
        code = project.codes()["key"].iloc[0]
        [manual] = project.add_codings([NewCoding(doc, 10, 60, code, coder="alex")])
        add_memo(project, "Strong on supervision; check the wave 2 interview.", document=doc, author="alex")
        add_memo(project, "Why was this one coded?", coding=manual, author="sam")
    return location


def test_sqlite_to_postgresql_and_back_is_lossless(laptop, pg_url, tmp_path):
    before = every_row(laptop)
    assert len(before["codings"]) > 10 and len(before["memos"]) == 2
    with Project.open(laptop) as project, project.engine.connect() as conn:  # a superseded version is there
        assert conn.execute(sa.text("SELECT count(*) FROM documents WHERE superseded_by IS NOT NULL")).scalar() == 1
    result = copy_project(laptop, pg_url)
    assert result.rows["codings"] == len(before["codings"])
    assert every_row(pg_url) == before
    back = str(tmp_path / "back.qc")
    copy_project(pg_url, back)
    assert every_row(back) == before


def test_the_copy_keeps_working_new_ids_follow_the_copied_ones(laptop, pg_url):
    copy_project(laptop, pg_url)
    with Project.open(pg_url) as project:
        before = int(project.codings()["id"].max())
        doc = int(project.documents()["id"].iloc[-1])
        code = project.codes()["key"].iloc[-1]
        [new] = project.add_codings([NewCoding(doc, 0, 20, code, coder="jo")])
        assert new == before + 1
        review.reject(project, ids=[new], by="sam")
        assert project.coding_events(new)["action"].tolist() == ["create", "reject"]


def test_copy_refuses_a_destination_that_exists_and_changes_nothing(laptop, tmp_path, pg_url):
    taken = tmp_path / "taken.qc"
    Project.create(taken).close()
    with pytest.raises(ProjectError, match="already exists"):
        copy_project(laptop, taken)
    copy_project(laptop, pg_url)
    rows = every_row(pg_url)
    with pytest.raises(ProjectError, match="already holds a qualcode project"):
        copy_project(laptop, pg_url)
    assert every_row(pg_url) == rows


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_failed_copy_leaves_no_project_behind(laptop, backend, project_location, monkeypatch):
    from qualcode.team import copy as copy_module

    real = copy_module._copy_table

    def failing(read, write, table):
        if table.name == "codings":
            raise RuntimeError("disk full")
        return real(read, write, table)

    monkeypatch.setattr(copy_module, "_copy_table", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        copy_project(laptop, project_location)
    if backend == "sqlite":
        assert not Path(project_location).exists()
    else:
        Project.create(project_location).close()  # the database is empty again


def test_cli_copy(laptop, pg_url, tmp_path):
    done = subprocess.run([sys.executable, "-m", "qualcode", "copy", laptop, pg_url, "--json"],
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["rows.codings"] == len(every_row(laptop)["codings"])
    assert summary["dest"] == pg_url
