"""A project on a real PostgreSQL server: the URL on the command line, passwords, errors.

The server is the session's own (``postgres_server.py``); each test has a fresh database.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from qualcode import Project
from qualcode.errors import ProjectError

REPO = Path(__file__).resolve().parents[1]
SECRET = "Tr1cky-pa55word"


def qualcode(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qualcode", *args], capture_output=True, text=True,
                          cwd=REPO, env=env)


def test_every_step_of_the_cli_takes_a_database_url(pg_url, tmp_path):
    made = qualcode("init", pg_url, "--json")
    assert made.returncode == 0, made.stderr
    imported = qualcode("import", pg_url, "corpus/interviews/W1_SW01_social_worker.txt",
                        "corpus/interviews/W2_FAM01_parent.txt", "--json")
    assert imported.returncode == 0, imported.stderr
    coded = qualcode("autocode", pg_url, "--codebook", "codebooks/dfe_practice_features.yaml", "--json")
    assert coded.returncode == 0, coded.stderr
    suggestions = json.loads(coded.stdout)["suggestions"]
    assert suggestions > 0
    listed = json.loads(qualcode("documents", pg_url, "--json").stdout)
    assert sorted(d["name"] for d in listed) == ["W1_SW01_social_worker.txt", "W2_FAM01_parent.txt"]
    checked = qualcode("check", pg_url, "--json")
    assert checked.returncode == 0 and json.loads(checked.stdout)["ok"]
    with Project.open(pg_url) as project:
        assert len(project.codings(status="suggested")) == suggestions
        assert set(project.coding_events()["action"]) == {"create"}


def test_init_refuses_a_database_that_already_holds_a_project(pg_url):
    Project.create(pg_url).close()
    with pytest.raises(ProjectError, match="already holds a qualcode project"):
        Project.create(pg_url)


def test_a_missing_database_names_the_fix(pg_server):
    result = qualcode("documents", pg_server.url("no_such_db"))
    assert result.returncode == 1
    assert 'database "no_such_db" does not exist' in result.stderr and "createdb" in result.stderr


def test_a_password_on_the_command_line_is_refused_and_masked(pg_server, pg_database):
    url = f"postgresql://alex:{SECRET}@127.0.0.1:{pg_server.port}/{pg_database}"
    result = qualcode("init", url)
    assert result.returncode == 1
    assert SECRET not in result.stderr + result.stdout
    assert "alex:***@" in result.stderr and "PGPASSWORD" in result.stderr


@pytest.fixture
def alex(pg_server, pg_database) -> str:
    """A login role with a password, owning the test's database; returns its TCP URL."""
    with pg_server.admin() as conn:
        conn.execute(f"CREATE ROLE alex_{pg_database} LOGIN PASSWORD '{SECRET}'")
        conn.execute(f'ALTER DATABASE "{pg_database}" OWNER TO alex_{pg_database}')
    with pg_server.admin(pg_database) as conn:
        conn.execute(f"ALTER SCHEMA public OWNER TO alex_{pg_database}")
    yield f"alex_{pg_database}"
    with pg_server.admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{pg_database}" WITH (FORCE)')
        conn.execute(f"DROP ROLE IF EXISTS alex_{pg_database}")


def test_password_from_the_environment(pg_server, pg_database, alex, monkeypatch):
    url = pg_server.url(pg_database, user=alex, tcp=True)
    monkeypatch.setenv("PGPASSWORD", SECRET)
    Project.create(url).close()
    with Project.open(url) as project:
        assert project.documents().empty
    monkeypatch.setenv("PGPASSWORD", "wrong")
    with pytest.raises(ProjectError, match="password authentication failed") as failed:
        Project.open(url)
    assert "PGPASSWORD" in str(failed.value)


def test_password_from_a_password_file(pg_server, pg_database, alex, monkeypatch, tmp_path):
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{pg_server.port}:{pg_database}:{alex}:{SECRET}\n")
    pgpass.chmod(0o600)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    result = qualcode("init", pg_server.url(pg_database, user=alex, tcp=True), "--json")
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout


def test_password_from_a_service_file(pg_server, pg_database, alex, monkeypatch, tmp_path):
    services = tmp_path / "pg_service.conf"
    services.write_text(f"[evaluation]\nhost=127.0.0.1\nport={pg_server.port}\ndbname={pg_database}\n"
                        f"user={alex}\npassword={SECRET}\n")
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    url = "postgresql:///?service=evaluation"
    made = qualcode("init", url, "--json")
    assert made.returncode == 0, made.stderr
    assert SECRET not in made.stdout + made.stderr
    with Project.open(url) as project:
        with project.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT current_user")).scalar() == alex


def test_a_password_given_to_the_api_never_shows(pg_server, pg_database, alex):
    url = f"postgresql+psycopg://{alex}:{SECRET}@127.0.0.1:{pg_server.port}/{pg_database}"
    with Project.create(url) as project:
        assert SECRET not in repr(project) and SECRET not in project.location
    bad = url.replace(SECRET, SECRET + "x")
    with pytest.raises(ProjectError) as failed:
        Project.open(bad)
    assert SECRET not in str(failed.value) and "***" in str(failed.value)


def test_without_the_driver_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(ProjectError, match=r"pip install 'qualcode\[postgres\]'"):
        Project.open("postgresql://alex@db.example.org/evaluation")


def test_every_verb_reads_project_through_the_one_helper():
    """A verb whose PROJECT were a file path would fold postgresql:// into postgresql:/."""
    import inspect

    from qualcode.cli import app
    from qualcode.cli.location import project_location

    def callbacks(typer_app, prefix=""):
        for command in typer_app.registered_commands:
            yield prefix + (command.name or command.callback.__name__), command.callback
        for group in typer_app.registered_groups:
            yield from callbacks(group.typer_instance, prefix + group.name + " ")

    verbs = dict(callbacks(app))
    with_project = {name: inspect.signature(cb).parameters["project"].default
                    for name, cb in verbs.items() if "project" in inspect.signature(cb).parameters}
    assert {"init", "import", "autocode", "review", "report", "agreement", "export", "memo add"} <= set(with_project)
    assert len(with_project) >= 30
    wrong = [name for name, info in with_project.items() if getattr(info, "parser", None) is not project_location]
    assert wrong == []


def test_two_autocode_runs_at_once_on_a_server_write_each_suggestion_once(pg_url):
    made = qualcode("init", pg_url)
    assert made.returncode == 0, made.stderr
    assert qualcode("import", pg_url, "corpus/interviews").returncode == 0
    book = "codebooks/dfe_practice_features.yaml"
    qualcode("codebook", "load", pg_url, book)
    runs = [subprocess.Popen([sys.executable, "-m", "qualcode", "autocode", pg_url, "--codebook", book, "--json"],
                             cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert all(run.returncode == 0 for run in runs), [err for _, err in outputs]
    written = sorted(json.loads(out)["suggestions"] for out, _ in outputs)
    with Project.open(pg_url) as project:
        codings = project.codings()
    assert written[0] == 0 and written[1] == len(codings) > 0  # the second found the first's
    assert not codings.duplicated(["document_id", "start", "end", "code", "coder"]).any()
