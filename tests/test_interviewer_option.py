"""`--interviewer NAME` and the sidecar's `interviewer` column mark real exports' interviewer turns."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qualcode import Project
from qualcode.cli import app

REAL = Path(__file__).resolve().parents[2] / "shared" / "realdata"
OTTER = REAL / "transcripts-otter-descript-whisper/2022/Betty & Earl/Interview with Matthew Brelsford, creator of Betty & Earl.md"
DESCRIPT = REAL / "transcripts-otter-descript-whisper/2021/Wintermoor Tactics Club/Wintermoor Tactics Club interview transcription.md"
CAPTIONS = REAL / "captions-vtt-srt/example_long_2024-01-26.vtt"
needs_real = pytest.mark.skipif(not REAL.exists(), reason="shared/realdata not beside the checkout")


def _interviewer_speakers(project: Project) -> dict[str, set[str]]:
    turns = project.turns()
    docs = dict(zip(project.documents()["id"], project.documents()["name"]))
    out: dict[str, set[str]] = {}
    for row in turns[turns["is_interviewer"]].itertuples():
        out.setdefault(docs[row.document_id], set()).add(row.speaker)
    return out


@needs_real
def test_interviewer_option_marks_named_speakers_in_every_file(tmp_path):
    qc = tmp_path / "p.qc"
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(qc)]).exit_code == 0
    result = runner.invoke(app, ["import", str(qc), str(OTTER), str(DESCRIPT), str(CAPTIONS),
                                 "--interviewer", "Jonas Rosland", "--interviewer", "travis"])
    assert result.exit_code == 0, result.output
    with Project.open(qc) as project:
        marked = _interviewer_speakers(project)
        assert marked == {OTTER.name: {"Jonas Rosland"}, DESCRIPT.name: {"Jonas Rosland"},
                          CAPTIONS.name: {"Travis"}}
        turns = project.turns()
        assert turns["is_interviewer"].sum() == (turns["speaker"].isin(["Jonas Rosland", "Travis"])).sum()


@needs_real
def test_sidecar_interviewer_column_applies_per_file(tmp_path):
    sidecar = tmp_path / "attributes.csv"
    with sidecar.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["file", "interviewer", "wave"], [OTTER.name, "Jonas Rosland", "1"],
                                  [CAPTIONS.name, "Sarah; Gilon", "2"]])
    with Project.create(tmp_path / "p.qc") as project:
        from qualcode.corpus import import_paths

        report = import_paths(project, [OTTER, DESCRIPT, CAPTIONS], attributes=sidecar)
        assert [r.status for r in report.results] == ["imported"] * 3
        assert _interviewer_speakers(project) == {OTTER.name: {"Jonas Rosland"},
                                                  CAPTIONS.name: {"Sarah", "Gilon"}}
        attrs = project.attributes("document")
        assert "interviewer" not in set(attrs["key"]) and "wave" in set(attrs["key"])
