"""Every verb, given a failing input, exits non-zero with one line that says the fix.

The verbs are read from the application itself, so a new verb is covered the day it is
added. Each runs through ``qualcode.cli.main`` (the installed entry point), in this
process: first with an unknown option and without its arguments (usage errors, exit
2), then with a file that is not a qualcode project, or a file that does not exist,
where it needs one (exit 1). Then the cases the red-team pass found exiting 0.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import typer

from qualcode import NewCoding, Project
from qualcode.cli import app, main

REPO = Path(__file__).resolve().parents[1]


def _verbs() -> list[tuple[str, ...]]:
    def walk(command, path):
        subcommands = getattr(command, "commands", None)
        if subcommands is None:
            yield path
            return
        for name, sub in subcommands.items():
            yield from walk(sub, (*path, name))

    return sorted(walk(typer.main.get_command(app), ()))


def _command(verb: tuple[str, ...]):
    command = typer.main.get_command(app)
    for name in verb:
        command = command.commands[name]
    return command


def run(capsys, *args: str) -> tuple[int, str, str]:
    """``qualcode ARGS`` through the entry point: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as stopped:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return stopped.value.code, out, err


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Fix:" in lines[0], err
    assert "Traceback" not in err
    return lines[0]


VERBS = _verbs()


def test_every_verb_is_listed():
    assert ("import",) in VERBS and ("codebook", "validate") in VERBS and len(VERBS) > 25


@pytest.mark.parametrize("verb", VERBS, ids=" ".join)
def test_unknown_option_is_one_line_and_exit_2(capsys, verb):
    code, _, err = run(capsys, *verb, "--no-such-option")
    line = _one_error_line(err)
    if _command(verb).context_settings.get("ignore_unknown_options"):  # the verb parses its own options
        assert code != 0 and "--no-such-option" in line
        return
    assert code == 2
    assert "no such option: --no-such-option" in line.lower()
    assert f"qualcode {' '.join(verb)} --help" in err


@pytest.mark.parametrize("verb", [v for v in VERBS if any(p.required for p in _command(v).params)], ids=" ".join)
def test_missing_arguments_are_one_line_and_exit_2(capsys, verb):
    code, _, err = run(capsys, *verb)
    assert code == 2
    assert "missing" in _one_error_line(err).lower()


def _failing_arguments(verb: tuple[str, ...], tmp_path: Path) -> list[str]:
    """Arguments that parse but cannot work: a project that is not one, files that do not exist."""
    not_a_project = tmp_path / "notes.qc"
    not_a_project.write_text("These are my notes, not a project.\n", encoding="utf-8")
    args: list[str] = []
    for param in _command(verb).params:
        if not param.required:
            continue
        kind = param.type_descriptor.annotation
        if param.name == "project":
            value = str(not_a_project)
        elif kind in (int, float):
            value = "1"
        elif (verb, param.name) == (("review",), "action"):
            value = "accept"
        else:
            value = str(tmp_path / f"missing-{param.name}.yaml")
        args += [value] if param.param_type_name == "argument" else [param.opts[0], value]
    if verb == ("demo",):  # nothing required: ask it to write under a file
        args = ["--out", str(not_a_project / "out")]
    return args


@pytest.mark.parametrize("verb", VERBS, ids=" ".join)
def test_a_failing_input_is_one_line_with_the_fix_and_exit_1(capsys, tmp_path, verb):
    code, _, err = run(capsys, *verb, *_failing_arguments(verb, tmp_path))
    assert code == 1, err
    _one_error_line(err)


# -- what the red-team pass found exiting 0 ------------------------------------------


def test_check_exits_1_on_a_coding_outside_its_document(capsys, tmp_path):
    location = tmp_path / "p.qc"
    note = tmp_path / "note.txt"
    note.write_text("Group supervision helped.\n", encoding="utf-8")
    assert run(capsys, "init", location)[0] == 0
    assert run(capsys, "import", location, note)[0] == 0
    assert run(capsys, "codebook", "load", location, REPO / "codebooks" / "dfe_practice_features.yaml")[0] == 0
    with Project.open(location) as project:
        project.add_codings([NewCoding(1, 0, 5, "feature.systemic_practice", "alex")])
    with sqlite3.connect(location) as conn:
        conn.execute('UPDATE codings SET "end" = 5000')
    code, out, _ = run(capsys, "check", location)
    assert code == 1 and "span [0, 5000)" in out


def test_import_exits_1_when_a_file_failed_after_importing_the_rest(capsys, tmp_path):
    location = tmp_path / "p.qc"
    good = tmp_path / "note.txt"
    good.write_text("Group supervision helped.\n", encoding="utf-8")
    run(capsys, "init", location)
    code, out, err = run(capsys, "import", location, good, tmp_path / "nonexistent.txt", "--json")
    assert code == 1
    assert [r["status"] for r in json.loads(out)] == ["imported", "failed"]
    assert "nonexistent.txt: no such file" in err


@pytest.mark.parametrize("verb, text", [
    (("codebook", "validate"), "id: cb\nname: x\nversion: '1'\ncodes:\n  - id: a\n    name: A\n  - id: a\n    name: B\n"),
    (("toc", "validate"), "id: toc\nname: x\nnodes:\n  - id: o1\n    kind: nonsense\n"),
])
def test_validate_json_exits_1_on_an_invalid_file(capsys, tmp_path, verb, text):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    code, out, _ = run(capsys, *verb, path, "--json")
    assert code == 1
    assert json.loads(out)["valid"] is False


def test_interrupted_run_says_what_was_kept_and_exits_130(capsys, tmp_path, monkeypatch):
    def interrupted(cls, *args, **kwargs):
        raise KeyboardInterrupt  # as if Ctrl-C came while the verb was working

    run(capsys, "init", tmp_path / "p.qc")
    monkeypatch.setattr(Project, "open", classmethod(interrupted))
    code, _, err = run(capsys, "import", tmp_path / "p.qc", tmp_path)
    assert code == 130
    assert err.startswith("error: interrupted. Nothing half-done was kept")
