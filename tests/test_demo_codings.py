"""The demo corpus's human coding (corpus/codings_researcher_{a,b}.csv) fits the corpus.

The two files stand in for two evaluators' accepted coding; the demo, agreement, evidence
and report work from them. If an importer changes the stored text of a document (and so
its offsets), these tests say which rows stopped matching.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from qualcode.codebook import load_codebook
from qualcode.codebook_sync import load_into_project
from qualcode.codings_io import import_codings
from qualcode.demo import CODEBOOKS, CORPUS, import_demo_corpus
from qualcode.project import Project

CODING_FILES = {
    "researcher_a": CORPUS / "codings_researcher_a.csv",
    "researcher_b": CORPUS / "codings_researcher_b.csv",
}
DEMO_CODEBOOKS = ("evaluation_framework", "dfe_practice_features", "signs_of_safety")


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Project:
    """The demo project with its codebooks and both researchers' codings imported."""
    path: Path = tmp_path_factory.mktemp("demo_codings") / "demo.qc"
    project = Project.create(path)
    import_demo_corpus(project)
    for name in DEMO_CODEBOOKS:
        source = CODEBOOKS / f"{name}.yaml"
        load_into_project(project, load_codebook(source), source.read_text(encoding="utf-8"))
    for csv_path in CODING_FILES.values():
        import_codings(project, csv_path)
    yield project
    project.close()


def _rows(csv_path: Path) -> list[dict[str, str]]:
    with open(csv_path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("coder", sorted(CODING_FILES))
def test_every_row_imported_as_accepted(demo: Project, coder: str) -> None:
    rows = _rows(CODING_FILES[coder])
    codings = demo.codings()
    mine = codings[codings.coder == coder]
    assert len(rows) > 0 and len(mine) == len(rows)
    assert set(mine.status) == {"accepted"}
    assert {r["coder"] for r in rows} == {coder}


@pytest.mark.parametrize("coder", sorted(CODING_FILES))
def test_text_column_is_the_stored_span(demo: Project, coder: str) -> None:
    texts: dict[str, str] = {}
    wrong = []
    for line, row in enumerate(_rows(CODING_FILES[coder]), start=2):
        text = texts.setdefault(row["document"], demo.text(row["document"]))
        span = text[int(row["start"]):int(row["end"])]
        if span != row["text"]:
            wrong.append(f"line {line}: {row['document']} [{row['start']}, {row['end']}) is {span[:60]!r}")
    assert not wrong, "\n".join(wrong)


def test_no_coding_inside_an_interviewer_turn(demo: Project) -> None:
    codings = demo.codings()
    turns = demo.turns()
    asked = turns[turns.is_interviewer.astype(bool)]
    merged = codings.merge(asked, on="document_id", suffixes=("", "_turn"))
    overlapping = merged[(merged.start < merged.end_turn) & (merged.end > merged.start_turn)]
    assert overlapping.empty, overlapping[["document", "start", "end", "code", "coder"]].to_string()


def test_interview_codings_lie_inside_one_participant_turn(demo: Project) -> None:
    codings = demo.codings()
    turns = demo.turns()
    said = turns[~turns.is_interviewer.astype(bool)]
    in_interviews = codings[codings.document_id.isin(turns.document_id)]
    merged = in_interviews.merge(said, on="document_id", suffixes=("", "_turn"))
    inside = merged[(merged.start >= merged.start_turn) & (merged.end <= merged.end_turn)]
    outside = in_interviews[~in_interviews.id.isin(inside.id)]
    assert outside.empty, outside[["document", "start", "end", "code", "coder"]].to_string()


def test_every_dfe_outcome_has_accepted_evidence(demo: Project) -> None:
    codes = demo.codes()
    outcomes = set(codes[codes.key.str.startswith("outcome.")].key)
    assert len(outcomes) == 7  # the DfE's seven outcomes
    codings = demo.codings()
    evidenced = set(codings[codings.status == "accepted"].code)
    assert outcomes - evidenced == set()


def test_researcher_a_codes_every_interview_and_case_notes(demo: Project) -> None:
    documents = demo.documents()
    interviews = set(documents[documents.source_type.str.endswith("interview")].name)
    codings = demo.codings()
    coded_by_a = set(codings[codings.coder == "researcher_a"].document)
    assert len(interviews) == 20 and interviews <= coded_by_a
    assert sum(name.startswith("case_notes.csv#") for name in coded_by_a) >= 12


def test_both_coders_overlap_on_at_least_three_documents(demo: Project) -> None:
    codings = demo.codings()
    per_coder = codings.groupby("coder").document.agg(set)
    shared = per_coder["researcher_a"] & per_coder["researcher_b"]
    assert len(shared) >= 3, shared


def test_codes_are_known_and_not_parent_themes(demo: Project) -> None:
    codings = demo.codings()
    parents = {"activity", "impact", "feature", "outcome", "sos"}
    assert not set(codings.code) & parents
    assert set(codings.code) <= set(demo.codes().key)


def test_double_coding_pairs_topic_with_cross_cutting_codes(demo: Project) -> None:
    """At least some passages carry a topic and a cross-cutting code, as the framework asks."""
    codings = demo.codings()
    cross = {"enabler", "barrier", "impact.actual", "impact.expected", "lesson", "suggestion"}
    by_span = codings.groupby(["coder", "document_id", "start", "end"]).code.agg(set)
    paired = by_span[by_span.map(lambda keys: bool(keys & cross) and bool(keys - cross))]
    assert len(paired) >= 100


def test_coding_files_have_the_documented_columns() -> None:
    for csv_path in CODING_FILES.values():
        header = pd.read_csv(csv_path, nrows=0).columns.tolist()
        assert header == ["document", "start", "end", "code", "coder", "status", "text"]
