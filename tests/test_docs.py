"""Docs stay honest: every verb has help and is in the README; the §6 contract holds."""

from __future__ import annotations

import pytest
import typer.main

from conftest import REPO
from qualcode.cli import app

# The command line of DESIGN.md §6: users, scripts and checks call these.
CONTRACT = [
    "init", "import", "documents", "codebook validate", "codebook load", "codebook convert",
    "autocode", "codings import", "codings export", "learn", "suggest", "review",
    "agreement", "toc validate", "evidence", "matrix", "report", "demo", "backup", "check",
]


def _verbs(group, prefix: str = "") -> dict:
    out = {}
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if hasattr(command, "commands"):  # a group (typer vendors its own click)
            out.update(_verbs(command, path + " "))
        else:
            out[path] = command
    return out


VERBS = _verbs(typer.main.get_command(app))


@pytest.mark.parametrize("verb", CONTRACT)
def test_contract_verb_exists(verb):
    assert verb in VERBS, f"`qualcode {verb}` from DESIGN.md §6 is missing"


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_every_verb_has_help_and_is_in_the_readme(verb):
    command = VERBS[verb]
    assert (command.help or "").strip(), f"`qualcode {verb}` has no help text"
    assert f"qualcode {verb}" in (REPO / "README.md").read_text(), f"README does not show `qualcode {verb}`"


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_every_verb_with_output_offers_json(verb):
    params = {p.name for p in VERBS[verb].params}
    assert "as_json" in params, f"`qualcode {verb}` has no --json"
