"""``qualcode check`` finds damage on disk, and opening never writes to a file that is not ours.

Damage is made the way disks and half-finished copies make it: bytes overwritten in
place in the closed project file, below SQLite, so its page structure stays valid and
only the row's content is wrong.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from qualcode import NewCoding, Project
from qualcode.cli import main
from qualcode.corpus import import_paths
from qualcode.errors import ProjectError
from qualcode.integrity import check, check_location

REPO = Path(__file__).resolve().parents[1]
MARKER = "provenance-marker-7f3a9c"


def _coded_project(tmp_path: Path) -> Path:
    from qualcode.codebook import load_codebook
    from qualcode.codebook_sync import load_into_project

    note = tmp_path / "note.txt"
    note.write_text("Case note. Group supervision on Tuesday helped the worker plan the visit.\n", encoding="utf-8")
    location = tmp_path / "p.qc"
    book = REPO / "codebooks" / "dfe_practice_features.yaml"
    with Project.create(location) as project:
        import_paths(project, [note])
        load_into_project(project, load_codebook(book), book.read_text(encoding="utf-8"))
        project.add_codings([NewCoding(1, 11, 28, "feature.group_case_discussion", "rules", status="suggested",
                                       method="rules:lemma", provenance={"rule": MARKER})])
    with sqlite3.connect(location) as conn:  # fold the WAL into the file, as closing the last connection does
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return location


def _overwrite(location: Path, find: bytes, replace: bytes) -> None:
    data = location.read_bytes()
    assert data.count(find) == 1
    location.write_bytes(data.replace(find, replace))


def run(capsys, *args) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as stopped:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return stopped.value.code, out, err


def test_a_clean_project_passes_every_check(tmp_path):
    with Project.open(_coded_project(tmp_path)) as project:
        result = check(project)
    assert result.ok, result.to_frame()
    assert any("every row readable" in c for c in result.checks)


def test_flipped_bytes_in_a_coding_row_are_reported_as_damage(tmp_path, capsys):
    location = _coded_project(tmp_path)
    _overwrite(location, MARKER.encode(), b"\xff\xfe" * (len(MARKER) // 2))
    code, out, err = run(capsys, "check", location, "--json")
    assert code == 1
    import json

    problems = json.loads(out)["problems"]
    assert any(p["check"] == "damaged row" and p["where"] == "codings row 1, provenance"
               and "not valid UTF-8" in p["problem"] and "qualcode backup" in p["fix"] for p in problems)
    # and the verb that used to crash on it says what to do in one line
    code, _, err = run(capsys, "codings", "export", location, tmp_path / "out.csv")
    assert code == 1
    assert err.startswith("error: ") and "qualcode check" in err and len(err.strip().splitlines()) == 1


def test_json_that_no_longer_parses_is_reported(tmp_path):
    location = _coded_project(tmp_path)
    _overwrite(location, f'"{MARKER}"'.encode(), f'#{MARKER}"'.encode())
    result = check_location(location)
    assert [(p["check"], p["where"]) for p in result.problems] == [("damaged row", "codings row 1, provenance")]


def test_a_coding_whose_audit_trail_was_deleted_is_reported(tmp_path):
    location = _coded_project(tmp_path)
    with sqlite3.connect(location) as conn:
        conn.execute("DELETE FROM coding_events")
    problems = check_location(location).problems
    assert [(p["check"], p["where"], p["problem"]) for p in problems] == [
        ("audit trail", "coding 1", "has no 'create' event")]


def test_a_malformed_database_is_reported_as_damaged_not_a_traceback(tmp_path, capsys):
    location = _coded_project(tmp_path)
    with sqlite3.connect(location) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'documents'").fetchone()[0]
    with open(location, "r+b") as fh:  # the documents table's root page: garbage
        fh.seek((root - 1) * page_size)
        fh.write(b"\x0d\xff\xff\xff" * (page_size // 4))
    code, out, err = run(capsys, "check", location)
    assert code == 1
    assert "Traceback" not in err and "restore the latest copy" in out


def test_opening_an_empty_file_refuses_and_leaves_it_empty(tmp_path):
    empty = tmp_path / "empty.qc"
    empty.write_bytes(b"")
    with pytest.raises(ProjectError, match="the file is empty"):
        Project.open(empty)
    assert empty.stat().st_size == 0
    assert not list(tmp_path.glob("empty.qc-*"))


def test_opening_another_programs_database_leaves_it_byte_for_byte(tmp_path):
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
        conn.execute("INSERT INTO notes VALUES ('not ours')")
    before = hashlib.sha256(other.read_bytes()).hexdigest()
    with pytest.raises(ProjectError, match="another program"):
        Project.open(other)
    assert hashlib.sha256(other.read_bytes()).hexdigest() == before
    with sqlite3.connect(other) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
