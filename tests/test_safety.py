"""Nothing lost: check, backup, concurrent writers, a process killed mid-import."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import sqlite3

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from qualcode import NewCoding, Project, store
from qualcode.cli import app
from qualcode.corpus import import_paths
from qualcode.integrity import check

TEXT = "Interviewer: How is supervision?\nRespondent: Group supervision helps me think. Caseloads are high.\n"


def _setup(path) -> int:
    folder = path.parent / "docs"
    folder.mkdir(exist_ok=True)
    (folder / "a.txt").write_text(TEXT)
    with Project.create(path) as p:
        import_paths(p, [folder])
        with p.transaction() as conn:
            conn.execute(sa.insert(store.codes).values(key="supervision", name="Supervision", definition="",
                                                       created_at=store.now(), updated_at=store.now()))
        return p.document_id("a.txt")


def test_check_passes_on_a_whole_project_and_finds_bad_spans_and_drift(tmp_path):
    path = tmp_path / "p.qc"
    doc = _setup(path)
    with Project.open(path) as p:
        p.add_codings([NewCoding(doc, 45, 62, "supervision", "alex"), NewCoding(doc, 0, 11, "supervision", "alex")])
        assert check(p).ok
    con = sqlite3.connect(path)
    con.execute("UPDATE codings SET \"end\" = 100000 WHERE start = 45")
    con.execute("UPDATE documents SET text = 'Xnterviewer' || substr(text, 12)")
    con.commit()
    con.close()
    with Project.open(path) as p:
        problems = check(p).to_frame()
    assert set(problems["check"]) == {"spans", "drift"}
    assert problems.loc[problems.check == "spans", "problem"].iloc[0].startswith("span [45, 100000) outside")
    result = CliRunner().invoke(app, ["check", str(path), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["ok"] is False


def test_backup_cli_copies_and_never_overwrites(tmp_path):
    path = tmp_path / "p.qc"
    _setup(path)
    runner = CliRunner()
    ok = runner.invoke(app, ["backup", str(path), str(tmp_path / "copy.qc"), "--json"])
    assert ok.exit_code == 0, ok.output
    with Project.open(tmp_path / "copy.qc") as copy:
        assert list(copy.documents()["name"]) == ["a.txt"]
    again = runner.invoke(app, ["backup", str(path), str(tmp_path / "copy.qc")])
    assert again.exit_code != 0


def _writer(path: str, doc: int, who: str, n: int) -> None:
    with Project.open(path) as p:
        for i in range(n):
            p.add_codings([NewCoding(doc, 45, 62, "supervision", who, confidence=i / n)])


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    path = tmp_path / "p.qc"
    doc = _setup(path)
    ctx = mp.get_context("spawn")
    workers = [ctx.Process(target=_writer, args=(str(path), doc, who, 60)) for who in ("ann", "bo")]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
        assert w.exitcode == 0
    with Project.open(path) as p:
        counts = p.codings().groupby("coder").size().to_dict()
        assert counts == {"ann": 60, "bo": 60}
        assert len(p.coding_events()) == 120
        assert check(p).ok


def _import_then_die(path: str, folder: str) -> None:
    from qualcode import corpus

    def die(conn, names, cache):  # the process is killed with the transaction open
        os.kill(os.getpid(), signal.SIGKILL)

    corpus._case_ids = die
    with Project.open(path) as p:
        import_paths(p, [folder], attributes={"b.txt": {"case": "C1"}})


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_a_process_killed_mid_import_leaves_the_project_as_it_was(tmp_path):
    path = tmp_path / "p.qc"
    _setup(path)
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "b.txt").write_text(TEXT.replace("high", "low"))
    proc = mp.get_context("spawn").Process(target=_import_then_die, args=(str(path), str(folder)))
    proc.start()
    proc.join(120)
    assert proc.exitcode == -signal.SIGKILL
    with Project.open(path) as p:
        assert list(p.documents()["name"]) == ["a.txt"]
        assert p.cases().empty
        assert check(p).ok
