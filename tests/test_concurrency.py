"""Several qualcode processes on one project at once: nothing doubled, nothing lost.

Real processes (the CLI, as users start them), not threads: the races are between
SQLite connections in different processes. The corpus is the shipped interviews,
copied until auto-coding takes a few seconds, so runs overlap for real.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qualcode import Project
from qualcode.corpus import import_paths
from qualcode.textnorm import decode_text

REPO = Path(__file__).resolve().parents[1]
CODEBOOK = REPO / "codebooks" / "dfe_practice_features.yaml"


def _big_project(tmp_path: Path, copies: int) -> Path:
    """A fresh project (no coder, no codebook yet) holding ``copies`` x the plain-text interviews."""
    texts = [decode_text(p.read_bytes(), p.name)[0] for p in sorted((REPO / "corpus" / "interviews").glob("*.txt"))]
    folder = tmp_path / "interviews"
    folder.mkdir()
    for i in range(copies):
        (folder / f"copy{i:02d}.txt").write_text(f"Copy {i}\n\n" + "\n\n".join(texts), encoding="utf-8")
    location = tmp_path / "p.qc"
    with Project.create(location) as project:
        report = import_paths(project, [folder])
    assert not report.failed
    return location


def _qualcode(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "qualcode", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})


def _codings(location: Path) -> list[tuple]:
    with sqlite3.connect(location) as conn:
        return conn.execute('SELECT document_id, start, "end", code_id, coder_id, method FROM codings').fetchall()


@pytest.mark.parametrize("runs", [2, 3])
def test_auto_coding_runs_at_once_write_each_suggestion_once(tmp_path, runs):
    location = _big_project(tmp_path, copies=6)
    procs = [_qualcode("autocode", str(location), "--codebook", str(CODEBOOK), "--json") for _ in range(runs)]
    outputs = [p.communicate(timeout=600) for p in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
    written = [json.loads(out)["suggestions"] for out, _ in outputs]
    rows = _codings(location)
    assert rows and len(rows) == len(set(rows))  # no suggestion twice
    assert sum(written) == len(rows)  # each run wrote only what no other run had
    with sqlite3.connect(location) as conn:
        assert conn.execute("SELECT count(*) FROM coders WHERE name = 'rules'").fetchone() == (1,)


def _with_codebook(location: Path) -> Path:
    """The codebook loaded first, so the only write lock auto-coding takes is its long one."""
    from qualcode.codebook import load_codebook
    from qualcode.codebook_sync import load_into_project

    with Project.open(location) as project:
        load_into_project(project, load_codebook(CODEBOOK), CODEBOOK.read_text(encoding="utf-8"))
    return location


def _wait_until_locked(location: Path, proc: subprocess.Popen, timeout: float = 300) -> None:
    """Return once another process holds the write lock (BEGIN IMMEDIATE is refused)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        conn = sqlite3.connect(location, timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
        except sqlite3.OperationalError:
            return
        finally:
            conn.close()
        time.sleep(0.05)
    raise AssertionError("auto-coding never took the write lock")


def _note(tmp_path: Path) -> Path:
    note = tmp_path / "late_note.txt"
    note.write_text("Case note, 3 May 2024. Group supervision discussed the family plan.\n", encoding="utf-8")
    return note


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run the CLI's entry point in this process (no second start-up while the lock is held)."""
    from qualcode.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(list(args))
    out, err = capsys.readouterr()
    return stopped.value.code, out, err


def test_an_import_during_auto_coding_waits_says_so_and_succeeds(tmp_path, capsys):
    location = _with_codebook(_big_project(tmp_path, copies=10))
    coding = _qualcode("autocode", str(location), "--codebook", str(CODEBOOK), "--json")
    _wait_until_locked(location, coding)
    code, out, err = _cli(capsys, "import", str(location), str(_note(tmp_path)), "--json")
    assert coding.wait(timeout=600) == 0
    assert code == 0, err
    assert "another qualcode process is writing to the project; waiting" in err
    assert json.loads(out)[0]["status"] == "imported"


def test_a_lock_held_too_long_is_reported_as_a_lock_and_nothing_is_written(tmp_path, capsys, monkeypatch):
    location = _with_codebook(_big_project(tmp_path, copies=10))
    coding = _qualcode("autocode", str(location), "--codebook", str(CODEBOOK), "--json")
    _wait_until_locked(location, coding)
    monkeypatch.setenv("QUALCODE_LOCK_WAIT", "0.2")
    code, out, err = _cli(capsys, "import", str(location), str(_note(tmp_path)))
    assert coding.wait(timeout=600) == 0
    assert code == 1
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "another qualcode process" in lines[0] and "Fix: let it finish" in lines[0]
    assert "Traceback" not in err
    with sqlite3.connect(location) as conn:
        assert conn.execute("SELECT count(*) FROM documents WHERE name LIKE 'late_note%'").fetchone() == (0,)


def test_opening_an_older_project_removes_doubled_suggestions_with_an_event_each(tmp_path):
    from qualcode import NewCoding

    location = _with_codebook(_big_project(tmp_path, copies=1))
    with sqlite3.connect(location) as conn:  # as projects were before 0004: no index, a doubled run
        conn.execute("DROP INDEX uq_codings_suggestion")
        conn.execute("DELETE FROM migrations WHERE name = '0004_unique_suggestions'")
    with Project.open(location) as project:
        project.add_codings([NewCoding(1, 0, 10, "feature.systemic_practice", "rules", status="suggested", method="rules:lemma")])
    with sqlite3.connect(location) as conn:
        conn.execute("DROP INDEX uq_codings_suggestion")
        conn.execute("DELETE FROM migrations WHERE name = '0004_unique_suggestions'")
        columns = 'document_id, code_id, coder_id, start, "end", status, method, provenance, snippet, created_at, updated_at'
        conn.execute(f"INSERT INTO codings ({columns}) SELECT {columns} FROM codings")
    with Project.open(location) as project:
        assert len(project.codings()) == 1
        events = project.coding_events()
    removed = events[events["action"] == "delete"]
    assert len(removed) == 1 and removed["actor"].iloc[0].startswith("qualcode (0004")
    assert list(tmp_path.glob("p.qc.before-0004_unique_suggestions.bak"))


def test_a_suggestion_written_twice_is_refused_by_the_database_and_explained(tmp_path):
    import sqlalchemy as sa

    from qualcode import NewCoding
    from qualcode.cli.app import explain

    with Project.open(_with_codebook(_big_project(tmp_path, copies=1))) as project:
        again = NewCoding(1, 0, 10, "feature.systemic_practice", "learned", status="suggested", method="learned")
        project.add_codings([again])
        with pytest.raises(sa.exc.IntegrityError) as refused:
            project.add_codings([again])
        assert len(project.codings()) == 1
    message, code = explain(refused.value)
    assert code == 1 and "another run wrote the same suggestions" in message and "Fix: run it again" in message
