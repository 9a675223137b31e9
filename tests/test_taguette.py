"""Taguette projects in: a project made by Taguette itself (in its own venv), and bad databases."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qualcode import Project
from qualcode.cli import app
from qualcode.errors import ImportFailed
from qualcode.taguette import HtmlText, import_taguette

REPO = Path(__file__).resolve().parents[1]
MAKER = Path(__file__).parent / "taguette" / "make_project.py"
# Taguette pins SQLAlchemy 1.4 (qualcode needs 2.x): `make taguette` installs it in its own venv.
TAGUETTE = Path(os.environ.get("QUALCODE_TAGUETTE_PYTHON", REPO / ".venv" / "taguette" / "bin" / "python"))
needs_taguette = pytest.mark.skipif(not TAGUETTE.exists(), reason=f"Taguette's venv is not at {TAGUETTE} (make taguette)")


@pytest.fixture(scope="module")
def made_by_taguette(tmp_path_factory) -> tuple[Path, list[dict]]:
    """A project database written by Taguette's own code, and what each highlight was meant to cover."""
    folder = tmp_path_factory.mktemp("taguette")
    db, manifest = folder / "project.sqlite3", folder / "manifest.json"
    done = subprocess.run([str(TAGUETTE), str(MAKER), str(db), str(manifest)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return db, json.loads(manifest.read_text(encoding="utf-8"))


def _squash(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").split())


@needs_taguette
@pytest.mark.backends
def test_every_highlight_lands_on_its_own_text(project, made_by_taguette):
    db, manifest = made_by_taguette
    result = import_taguette(project, db)
    assert result.skipped == [] and result.documents == 2
    codings = project.codings()
    got = sorted((r.document, _squash(project.text(int(r.document_id))[r.start:r.end]), r.code_name, r.coder)
                 for r in codings.itertuples())
    want = sorted((h["document"], _squash(h["phrase"]), tag, h["user"]) for h in manifest for tag in h["tags"])
    assert got == want
    # Offsets were bytes: the highlights after é, ’ and an emoji only land right if counted as such.
    assert any(h["start"] != len(h["phrase"]) and "😩" in h["phrase"] for h in manifest)
    codes = project.codes().set_index("name")
    assert codes.loc["barrier", "definition"] == "What got in the way."
    assert codes.loc["activity.key_worker", "definition"] == ""
    memos = project.memos()
    assert memos["text"].tolist() == ["Wave 2, social worker, site North"]


@needs_taguette
def test_taguette_documents_read_as_text_with_speaker_turns(project, made_by_taguette):
    db, _ = made_by_taguette
    import_taguette(project, db, interviewer_names=["Facilitator"])
    text = project.text("W2_SW04.html")
    assert "<" not in text and "&amp;" not in text and "we handed cases" in text
    assert "Group supervision on Mondays – really useful\nCaseload down from 24 to 16" in text
    turns = project.turns()
    assert set(turns[turns["is_interviewer"]]["speaker"]) == {"Interviewer", "Facilitator"}


@needs_taguette
def test_cli_imports_a_taguette_project_and_again_adds_nothing(tmp_path, made_by_taguette):
    db, manifest = made_by_taguette
    qc = tmp_path / "p.qc"
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(qc)]).exit_code == 0
    first = runner.invoke(app, ["import", str(qc), str(db), "--json"])
    assert first.exit_code == 0 and "9 codings" in first.output, first.output
    again = runner.invoke(app, ["import", str(qc), str(db), "--json"])
    assert again.exit_code == 0
    with Project.open(qc) as p:
        assert len(p.documents()) == 2 and len(p.codes()) == 4
        assert len(p.codings()) == sum(len(h["tags"]) for h in manifest)  # nothing twice



def test_html_text_counts_bytes_of_text_nodes_only():
    page = HtmlText.read("<h2>Wave 2</h2>\n<p><strong>SW04:</strong> It&#8217;s caf&eacute;&nbsp;time \U0001F629 now</p>")
    assert page.text == "Wave 2\nSW04: It’s café time \U0001F629 now"
    stripped = "Wave 2\nSW04: It’s café\xa0time \U0001F629 now"
    for word in ("It’s", "café", "time", "now", "\U0001F629"):
        at = stripped.index(word)
        start = len(stripped[:at].encode("utf-8"))
        a, b = page.span(start, start + len(word.encode("utf-8")))
        assert page.text[a:b] == word


@pytest.mark.parametrize("content, message", [
    (b"not a database at all", "not a SQLite database"),
    (None, r"not a Taguette project \(no documents, highlight_tags, highlights, projects, tags table\)"),
])
def test_files_that_are_not_taguette_projects_are_refused(project, tmp_path, content, message):
    path = tmp_path / "other.sqlite3"
    if content is None:
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE notes (id INTEGER, text TEXT)")
    else:
        path.write_bytes(content)
    with pytest.raises(ImportFailed, match=message) as err:
        import_taguette(project, path)
    assert "other.sqlite3" in str(err.value) and "Export project" in str(err.value)
    assert project.documents().empty and project.codes().empty


@needs_taguette
def test_a_highlight_whose_offsets_miss_its_snippet_is_listed(project, tmp_path, made_by_taguette):
    db, manifest = made_by_taguette
    tampered = tmp_path / "tampered.sqlite3"
    shutil.copy(db, tampered)
    with sqlite3.connect(tampered) as conn:
        conn.execute("UPDATE highlights SET start_offset = start_offset + 7, end_offset = end_offset + 7 WHERE id = 5")
    result = import_taguette(project, tampered)
    assert [s.item for s in result.skipped] == ["highlight 5 in 'W2_SW04.html'"]
    assert "do not cover the text Taguette stored" in result.skipped[0].reason
    assert result.codings == sum(len(h["tags"]) for h in manifest) - 1
