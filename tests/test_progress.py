"""Progress on long steps: the library says how far it has got, the CLI draws it on stderr.

The steps are checked where they are made (learn, suggest, pseudonymise detect and
apply report through ``qualcode.progress``), and the bar where it is drawn: a real
``qualcode learn`` with stderr on a pseudo-terminal shows it; with ``--json``, or with
stderr not a terminal, nothing but the result is written.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from qualcode import learn
from qualcode.corpus import import_paths
from qualcode.privacy import apply, detect
from qualcode.progress import reporting_to
from qualcode.project import Project
from test_learn_corpus import build


def _collect():
    seen: list[tuple[str, int | None, int | None]] = []
    return seen, lambda text, done, total: seen.append((text, done, total))


def test_learn_and_suggest_report_documents_folds_and_codes(tmp_path):
    lab = build(tmp_path)
    seen, listener = _collect()
    with reporting_to(listener):
        learn.assess(lab.project, folds=3)
    texts = [t for t, _, _ in seen]
    assert any(t.startswith("segmenting documents (1 of 7)") for t in texts)
    folds = [(t, done, total) for t, done, total in seen if t.startswith("cross-validating: fold")]
    assert folds[:3] == [(f"cross-validating: fold {n} of 3", n - 1, 3) for n in (1, 2, 3)]
    seen.clear()
    with reporting_to(listener):
        result = learn.suggest(lab.project, min_confidence=0.0, max_per_code=2)
    texts = [t for t, _, _ in seen]
    assert "fitting on every accepted coding" in texts
    assert any(t.startswith("suggesting ") for t in texts)
    assert f"writing {result.written:,} suggestions" in texts
    lab.project.close()


def test_pseudonymise_detect_and_apply_report_their_documents(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(3):
        (folder / f"i{n}.txt").write_text(f"Respondent: My son Tyler rang on 07700 90012{n}.\n", encoding="utf-8")
    project = Project.create(tmp_path / "p.qc")
    import_paths(project, [folder])
    seen, listener = _collect()
    with reporting_to(listener):
        found = detect(project, model=None)
    assert ("scanning documents (0 of 3)", 0, 3) in seen
    detections = tmp_path / "det.csv"
    found.write_csv(detections)
    (tmp_path / "safe").mkdir()
    seen.clear()
    with reporting_to(listener):
        apply(project, detections, tmp_path / "safe" / "key.csv")
    texts = [t for t, _, _ in seen]
    assert texts[0] == "reading the documents"
    assert "replacing in documents, moving codings (3 of 3)" in texts
    assert texts[-1] == "committing (old pages overwritten)"
    project.close()


@pytest.fixture(scope="module")
def learn_project(tmp_path_factory):
    lab = build(tmp_path_factory.mktemp("progress"))
    lab.project.close()
    return str(lab.project.location)


def _run(args: list[str], stderr_on_terminal: bool) -> tuple[str, str]:
    """Run ``qualcode ARGS``; stdout is a pipe, stderr a pseudo-terminal or a pipe."""
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"}
    command = [sys.executable, "-m", "qualcode", *args]
    if not stderr_on_terminal:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout, done.stderr
    leader, follower = pty.openpty()
    received = bytearray()

    def read() -> None:
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the other side closed
                return
            if not chunk:
                return
            received.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=follower, env=env, text=True)
    os.close(follower)
    stdout, _ = process.communicate(timeout=300)
    reader.join(timeout=10)
    os.close(leader)
    assert process.returncode == 0, received.decode(errors="replace")
    return stdout, received.decode(errors="replace")


def test_cli_learn_draws_progress_on_a_terminal_only(learn_project):
    stdout, stderr = _run(["learn", learn_project, "--folds", "3"], stderr_on_terminal=True)
    assert "learning" in stderr and "cross-validating: fold" in stderr
    assert "━" in stderr  # the bar itself
    assert "learning" not in stdout and "Cross-validated by document" in stdout

    stdout, stderr = _run(["learn", learn_project, "--folds", "3", "--json"], stderr_on_terminal=True)
    assert "learning" not in stderr and "cross-validating" not in stderr
    assert json.loads(stdout)["unit"]

    stdout, stderr = _run(["learn", learn_project, "--folds", "3"], stderr_on_terminal=False)
    assert "cross-validating" not in stderr and "━" not in stderr
    assert "Cross-validated by document" in stdout
