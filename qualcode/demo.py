"""The whole workflow on the shipped demo corpus (``corpus/``), for `make demo`.

Each step calls the same API a researcher would; the demo holds no logic of its own
beyond saying which files go where. Steps, in order: import the corpus, load the
codebooks, import the two researchers' codings, auto-code with the rules, check the
learned suggester, measure agreement, pseudonymise (every identifier the detector
finds is replaced; the key and the detections go to ``out/private/``, which a real team
keeps away from the project), bring in indicators and the staff survey, weigh the
evidence per outcome, draw the theory of change, export the framework matrix and write
the report. Pseudonymising before anything leaves the project is the order the report's
name check enforces.
"""

from __future__ import annotations

import re
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
CODEBOOK_FILES = ("evaluation_framework.yaml", "dfe_practice_features.yaml", "signs_of_safety.yaml")
TOC_FILE = "toc_whole_family.yaml"
PRIVATE = "private"  # under --out: the pseudonymisation key and detections (they hold the originals)
CODERS = ("researcher_a", "researcher_b")
SUMMARIES_FILE = "framework_summaries.csv"  # case,code,text,author: cells of the framework matrix


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


def load_demo_codebooks(project: Project, codebooks: Path = CODEBOOKS) -> list:
    """Load the shipped codebooks into the project; returns the Codebook records."""
    from .codebook import load_codebook
    from .codebook_sync import load_into_project

    books = []
    for name in CODEBOOK_FILES:
        path = codebooks / name
        book = load_codebook(path)
        load_into_project(project, book, path.read_text(encoding="utf-8"))
        books.append(book)
    return books


def import_demo_codings(project: Project, corpus: Path = CORPUS) -> None:
    """The two researchers' accepted codings, as exported from their coding sessions."""
    from .codings_io import import_codings

    for coder in CODERS:
        import_codings(project, corpus / f"codings_{coder}.csv")


def import_demo_summaries(project: Project, corpus: Path = CORPUS) -> int:
    """researcher_a's framework summaries for a few cells of the matrix (cases and staff)."""
    from .framework_summaries import import_framework_summaries

    path = corpus / SUMMARIES_FILE
    return import_framework_summaries(project, path) if path.exists() else 0


def build_demo_project(path: Path, corpus: Path = CORPUS, progress: bool = False) -> Project:
    """A project with the corpus, codebooks and human codings: what notebooks start from.

    Framework summaries are loaded by ``import_demo_summaries`` (``run_demo`` does).
    """
    project = Project.create(path)
    import_demo_corpus(project, corpus, progress=progress)
    load_demo_codebooks(project)
    import_demo_codings(project, corpus)
    return project


def run_demo(out: Path, corpus: Path = CORPUS, progress: bool = False) -> DemoResult:
    """Build ``out/demo.qc`` from the corpus afresh and write the outputs under ``out``."""
    from .agreement import agreement
    from .autocode import autocode
    from .evidence import evidence
    from .indicators import import_indicators, indicator_status
    from .learn import cross_validate
    from .matrices import export_matrix
    from .report import build_report, report_files
    from .survey import import_survey, likert_table
    from .toc import load_toc
    from .toc_figure import draw_toc

    out.mkdir(parents=True, exist_ok=True)
    project_path = out / "demo.qc"
    for stale in out.glob("demo.qc*"):
        stale.unlink()
    result = DemoResult(project_path)
    tables = result.tables
    with Project.create(project_path) as project:
        result.imports = import_demo_corpus(project, corpus, progress=progress)
        failed = [r for report in result.imports for r in report.failed]
        if failed:
            tables["import failures"] = pd.DataFrame([r.__dict__ for r in failed])
        tables.update(import_summary(project))
        summary_path = out / "import_summary.csv"
        project.documents().drop(columns=["sha256"]).to_csv(summary_path, index=False)
        result.files.append(summary_path)

        books = load_demo_codebooks(project)
        import_demo_codings(project, corpus)
        import_demo_summaries(project, corpus)
        run = autocode(project, books, progress=progress)
        tables["auto-coding (rules)"] = pd.DataFrame([{
            "documents": run.documents, "words": run.words, "codes": run.codes, "terms": run.terms,
            "suggestions": run.suggestions, "seconds": round(run.seconds, 2)}])
        sample = project.codings(coder="rules").head(8)[["document", "code", "confidence", "explanation"]]
        tables["sample rule suggestions"] = sample
        tables["learned suggester, cross-validated (researcher_a's codings)"] = cross_validate(project)

        agree = agreement(project, list(CODERS))
        tables["agreement: researcher_a vs researcher_b (character level)"] = agree.table_for_report()
        versus_rules = agreement(project, ["researcher_a", "rules"], unit="segment", segment="sentence")
        tables["agreement: researcher_a vs the rules (sentences)"] = versus_rules.table_for_report()

        result.files += pseudonymise_demo(project, out / PRIVATE)

        toc = load_toc(CODEBOOKS / TOC_FILE)
        import_indicators(project, corpus / "management_information.csv", toc=toc)
        import_survey(project, corpus / "staff_survey.csv", corpus / "staff_survey_items.csv", toc=toc)
        found = evidence(project, toc, codebooks=books)
        tables["evidence per outcome"] = found.summary
        evidence_path = out / "evidence.csv"
        found.summary.to_csv(evidence_path, index=False)
        result.files.append(evidence_path)
        tables["indicators"] = indicator_status(project, toc)
        tables["staff survey"] = likert_table(project)

        result.files += [draw_toc(toc, found, out / "toc.png"), draw_toc(toc, found, out / "toc.svg")]
        export_matrix(project, out / "framework_matrix.xlsx", rows="case")
        result.files.append(out / "framework_matrix.xlsx")
        report = build_report(project, toc=toc, codebooks=books, coders=list(CODERS))
        written = report_files(report, out / "report.docx", out / "report.html")
        result.files += [Path(f) for f in written["files"]]
    return result


def pseudonymise_demo(project: Project, private: Path) -> list[Path]:
    """Detect every identifier and replace them all, as a researcher would after review.

    A real team reviews the detections CSV first (``qualcode pseudonymise detect
    --out``). The demo's stand-in for that review rejects a detection made only of
    words the codebooks use ("supervision", "Key worker", "Signs of Safety"): the
    programme's own vocabulary, not a person or a place) and one that is a wave, role or
    source type of the study design ("Wave 2"); everything else is confirmed.
    Returns the files written.
    """
    from .privacy import apply, detect

    private.mkdir(parents=True, exist_ok=True)
    key = private / "pseudonymisation_key.csv"
    key.unlink(missing_ok=True)
    found = detect(project)
    vocabulary = {w.lower() for name in CODEBOOK_FILES
                  for w in re.findall(r"[A-Za-z]+", (CODEBOOKS / name).read_text("utf-8"))}
    documents = project.documents()
    design = {" ".join(str(v).lower().split()) for column in ("wave", "role", "role_group", "source_type")
              if column in documents for v in documents[column].dropna()}  # "Wave 2" is not a person
    for row in found.rows:
        words = re.findall(r"[A-Za-z]+", row.text)
        if (words and all(w.lower() in vocabulary for w in words)) or " ".join(row.text.lower().split()) in design:
            row.decision = "reject"
    detections = found.write_csv(private / "detections.csv")
    apply(project, found.rows, key, by="demo")
    return [detections, key]
