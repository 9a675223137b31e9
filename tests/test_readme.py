"""The README's command-line tour runs as written, top to bottom, on the demo corpus."""

from __future__ import annotations

import os
import re
import shlex

import pytest
from typer.testing import CliRunner

from conftest import REPO
from qualcode.cli import app


def readme_commands() -> list[str]:
    """The `qualcode …` lines of the README's bash blocks, continuation lines joined."""
    blocks = re.findall(r"```bash\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)
    text = "\n".join(blocks).replace("\\\n", " ")
    lines = [line.split("  #")[0].strip() for line in text.splitlines()]
    return [line for line in lines if line.startswith("qualcode ")]


def test_the_readme_shows_the_workflow():
    verbs = {shlex.split(c)[1] for c in readme_commands()}
    assert {"init", "import", "autocode", "agreement", "evidence", "report"} <= verbs


@pytest.mark.slow
def test_readme_cli_tour_runs_as_written(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "keys").mkdir()  # the README keeps the pseudonymisation key outside the project folder
    for name in ("corpus", "codebooks"):
        os.symlink(REPO / name, work / name)
    monkeypatch.chdir(work)
    runner = CliRunner()
    for command in readme_commands():
        args = shlex.split(command)[1:]
        if args[0] == "demo":  # the whole demo runs in test_no_network
            continue
        result = runner.invoke(app, args)
        assert result.exit_code == 0, f"`{command}` failed:\n{result.output}"


def readme_python_tour() -> str:
    """The README's Python tour: its first ```python block."""
    return re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)[0]


@pytest.mark.slow
def test_readme_python_tour_runs_as_written(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "keys").mkdir()  # the tour keeps the pseudonymisation key outside the project folder
    for name in ("corpus", "codebooks"):
        os.symlink(REPO / name, work / name)
    monkeypatch.chdir(work)
    namespace: dict = {}
    exec(compile(readme_python_tour(), "README.md (Python tour)", "exec"), namespace)
    assert (work / "report.docx").exists() and (tmp_path / "keys" / "eval-key.csv").exists()
    namespace["project"].close()
