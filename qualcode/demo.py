"""The whole workflow on the shipped demo corpus (``corpus/``), for `make demo`.

Each step calls the same API a researcher would; the demo holds no logic of its own
beyond saying which files go where.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .corpus import ImportReport, import_paths, import_summary
from .project import Project

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
CODEBOOKS = REPO / "codebooks"

# Which table files are which, and the columns that hold their text.
TABLE_SOURCES = (
    ("case_notes.csv", "case note", ["text"], "case_id"),
    ("staff_survey_comments.csv", "survey response", ["comment"], None),
)


@dataclass
class DemoResult:
    """What the demo made: the project, the tables it printed, the files it wrote."""

    project_path: Path
    imports: list[ImportReport] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)


def import_demo_corpus(project: Project, corpus: Path = CORPUS, progress: bool = False) -> list[ImportReport]:
    """Import the interviews (with their sidecar attributes) and the table exports."""
    reports = [import_paths(project, [corpus / "interviews"], attributes=corpus / "attributes.csv",
                            progress=progress)]
    for file_name, source_type, text_columns, case_column in TABLE_SOURCES:
        path = corpus / file_name
        if path.exists():
            reports.append(import_paths(project, [path], source_type=source_type,
                                        text_columns=text_columns, case_column=case_column))
    return reports


def run_demo(out: Path, corpus: Path = CORPUS, progress: bool = False) -> DemoResult:
    """Build ``out/demo.qc`` from the corpus afresh and write the outputs under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    project_path = out / "demo.qc"
    for stale in out.glob("demo.qc*"):
        stale.unlink()
    result = DemoResult(project_path)
    with Project.create(project_path) as project:
        result.imports = import_demo_corpus(project, corpus, progress=progress)
        failed = [r for report in result.imports for r in report.failed]
        if failed:
            result.tables["import failures"] = pd.DataFrame([r.__dict__ for r in failed])
        result.tables.update(import_summary(project))
        summary_path = out / "import_summary.csv"
        project.documents().drop(columns=["sha256"]).to_csv(summary_path, index=False)
        result.files.append(summary_path)
    return result
