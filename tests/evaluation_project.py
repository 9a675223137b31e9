"""A small evaluation project built from the shipped corpus, for hand-coding, memo and
retrieval tests: three staff interviews and one family interview (two waves, with
their attributes and cases), the evaluation framework codebook, a researcher's codings
and two rule suggestions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qualcode import NewCoding, Project
from qualcode.codebook import parse_codebook
from qualcode.codebook_sync import load_into_project
from qualcode.corpus import import_paths

REPO = Path(__file__).resolve().parents[1]
INTERVIEWS = ["W1_SW01_social_worker.txt", "W1_FAM01_parent.txt", "W1_SL01_senior_leader.txt"]
CODEBOOK = REPO / "codebooks" / "evaluation_framework.yaml"


@dataclass
class Lab:
    project: Project
    doc: int  # W1_SW01_social_worker.txt
    text: str
    researcher: list[int]  # ids of sam's accepted codings
    suggestions: list[int]  # ids of two rule suggestions


def span(text: str, phrase: str) -> tuple[int, int]:
    """The offsets of ``phrase`` in ``text`` (which must hold it)."""
    start = text.index(phrase)
    return start, start + len(phrase)


def build(folder: Path) -> Lab:
    project = Project.create(folder / "eval.qc")
    import_paths(project, [REPO / "corpus" / "interviews" / name for name in INTERVIEWS],
                 attributes=REPO / "corpus" / "attributes.csv")
    source = CODEBOOK.read_text(encoding="utf-8")
    load_into_project(project, parse_codebook(source, str(CODEBOOK)), source)
    doc = project.document_id(INTERVIEWS[0])
    text = project.text(doc)
    turns = project.turns(doc)
    answers = turns[~turns["is_interviewer"]].reset_index(drop=True)
    first, second = answers.iloc[0], answers.iloc[1]
    researcher = project.add_codings([
        NewCoding(doc, int(first.start), int(first.end), "activity.group_supervision", "sam"),
        NewCoding(doc, int(second.start), int(second.end), "barrier", "sam"),
        NewCoding(doc, int(second.start), int(second.start) + 40, "activity.caseloads", "sam"),
    ])
    third = answers.iloc[2]
    suggestions = project.add_codings([
        NewCoding(doc, int(third.start), int(third.end), "enabler", "rules", status="suggested",
                  confidence=0.9, method="rules:lemma", explanation="lemma match"),
        NewCoding(doc, int(third.start), int(third.end), "impact.actual", "rules", status="suggested",
                  confidence=0.4, method="rules:lemma", explanation="lemma match"),
    ])
    return Lab(project, doc, text, researcher, suggestions)
