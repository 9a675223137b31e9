"""A process killed anywhere in ``apply`` leaves no original on disk once it has committed.

The child process counts every SQL statement SQLite runs (``set_trace_callback`` on
each new connection), every return from a commit and every close, and kills itself
with SIGKILL at point N: N = 1, the last commit,
the statement after it, the last statement, and random points between (seeded, so a
failure can be rerun). Before
anything opens the project again, the bytes of the .qc, -wal and -journal files are
read. Then the project is opened: either the apply never happened (the journal rolled
back; every text as before, the project checks clean) or it did, and then none of the
key's originals was in those bytes.
"""

from __future__ import annotations

import csv
import json
import multiprocessing as mp
import os
import random
import shutil
import signal
from pathlib import Path

import pytest
import sqlalchemy as sa

from qualcode import Project, store
from qualcode.corpus import import_paths
from qualcode.integrity import check
from qualcode.privacy import detect, status

TEXT = ("Interviewer: Who helps at home?\nKERRY: My son Tyler Ashdown and my mum. Kerry Ashdown is me, "
        "I live at 31 Calder Street, HV3 7QT, phone 07700 900412. Tyler goes to Vale Park Academy.\n")


def _apply_and_die_at(path: str, detections: str, key: str, kill_at: int, count_file: str) -> None:
    import sqlite3
    import sqlite3.dbapi2

    from qualcode.privacy import apply

    seen: list[str] = []

    def trace(statement: str) -> None:
        seen.append(statement)
        if len(seen) == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    class Traced(sqlite3.Connection):
        """Kill points between statements too: just after a commit returns, before a close."""

        def commit(self):
            super().commit()
            trace("-- after commit")

        def close(self):
            trace("-- before close")
            super().close()

    connect = sqlite3.connect

    def traced(*args, **kwargs):  # every connection, SQLAlchemy's and raw ones alike
        conn = connect(*args, factory=Traced, **kwargs)
        conn.set_trace_callback(trace)
        return conn

    sqlite3.connect = sqlite3.dbapi2.connect = traced
    with Project.open(path) as p:
        apply(p, detections, key)
    Path(count_file).write_text(json.dumps(seen))


def _run(*args) -> int:
    proc = mp.get_context("spawn").Process(target=_apply_and_die_at, args=args)
    proc.start()
    proc.join(180)
    return proc.exitcode


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("crash")
    (tmp / "in").mkdir()
    (tmp / "in" / "kerry.txt").write_text(TEXT * 30)  # long enough for overflow pages
    path = tmp / "base.qc"
    with Project.create(path) as p:
        import_paths(p, [tmp / "in"], attributes={"kerry.txt": {"speakers": "Kerry Ashdown"}})
        with p.transaction() as conn:
            conn.execute(sa.insert(store.memos).values(kind="project", text="Ask Kerry Ashdown about Tyler",
                                                       author="alex", created_at=store.now(),
                                                       updated_at=store.now()))
        found = detect(p, model=None)
        found.write_csv(tmp / "detections.csv")
        before = dict(p.iter_texts())
    originals = {r["text"] for r in csv.DictReader(open(tmp / "detections.csv", encoding="utf-8"))}
    assert {"Kerry Ashdown", "Tyler", "HV3 7QT", "07700 900412", "Vale Park Academy"} <= originals
    (tmp / "keys").mkdir()
    return tmp, path, originals, before


def _fresh(tmp: Path, base: Path, name: str) -> Path:
    path = tmp / f"{name}.qc"
    shutil.copy(base, path)
    return path


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_a_kill_at_any_statement_leaves_no_original_after_the_commit(prepared):
    tmp, base, originals, before = prepared
    counted = tmp / "count.txt"
    whole = _fresh(tmp, base, "whole")
    assert _run(str(whole), str(tmp / "detections.csv"), str(tmp / "keys" / "whole.csv"), 10**9, str(counted)) == 0
    statements = json.loads(counted.read_text())
    total = len(statements)
    # The riskiest moments are either side of the last commit; the rest are drawn at random.
    commit = max(i for i, s in enumerate(statements, start=1) if s.strip().upper().startswith("COMMIT"))
    rng = random.Random(16)
    points = sorted({1, commit, commit + 1, total, *rng.sample(range(2, total), 5)})
    outcomes = []
    for n in points:
        path = _fresh(tmp, base, f"kill{n}")
        key = tmp / "keys" / f"kill{n}.csv"
        assert _run(str(path), str(tmp / "detections.csv"), str(key), n, str(counted)) == -signal.SIGKILL
        on_disk = b"".join(Path(f).read_bytes() for f in (path, f"{path}-wal", f"{path}-journal")
                           if Path(f).exists())
        with Project.open(path) as p:  # a hot journal is rolled back here
            applied = not status(p).empty
            texts = dict(p.iter_texts())
            assert check(p).ok, (n, check(p).to_frame())
        if applied:
            leaked = sorted(o for o in originals if o.encode() in on_disk)
            assert leaked == [], f"killed at statement {n} of {total}: {leaked} still on disk"
            assert not any("Kerry" in t for t in texts.values())
        else:
            assert texts == before, f"killed at statement {n} of {total}: half an apply"
        outcomes.append(applied)
    assert outcomes[0] is False and outcomes[-1] is True  # both sides of the commit were hit
