"""Keyword discovery proposes terms a codebook could use: no stop words, no people's
names, nothing the codebook already has."""

from __future__ import annotations

from qualcode import learn
from qualcode.codebook import parse_codebook
from qualcode.codebook_sync import load_into_project
from qualcode.project import NewCoding, Project
from test_learn_corpus import SENTENCES, add_codes, add_document

NAMED = [
    "Donna said the reflective session with the clinician would have helped.",
    "I have found the reflective space useful, Donna told me so too.",
    "We have reflective time on Thursdays and Donna chairs it.",
]


def test_keywords_leave_out_stop_words_names_and_codebook_terms(tmp_path):
    project = Project.create(tmp_path / "kw.qc")
    add_codes(project, {"supervision": "Supervision", "workload": "Workload"})
    codings = []
    for d in range(4):
        parts = [NAMED[d % 3], SENTENCES["supervision"][d], SENTENCES["workload"][d], SENTENCES["off"][d],
                 SENTENCES["off"][d + 5]]
        text = " ".join(parts)
        doc_id = add_document(project, f"W1_SW{d:02d}", text)
        at = 0
        for j, sentence in enumerate(parts):
            if j < 3:
                codings.append(NewCoding(doc_id, at, at + len(sentence), "supervision" if j < 2 else "workload",
                                         "alex"))
            at += len(sentence) + 1
    project.add_codings(codings)
    source = """
id: test
name: Test
version: "1.0"
codes:
  - {id: supervision, name: Supervision, definition: Supervision., match: {keywords: [clinician]}}
  - {id: workload, name: Workload, definition: Workload.}
"""
    load_into_project(project, parse_codebook(source, "test.yaml"), source)
    with project:
        found = learn.discover_keywords(project, "supervision", top=100, min_count=2)
        terms = set(found["term"])
        assert "reflective" in terms
        assert not {"donna", "have", "clinician"} & terms
        assert not any("donna" in t.split() for t in terms)
        why = found.attrs["left_out"]
        assert why["donna"] == "a name (pseudonymisation detector)"
        assert why["clinician"] == "already in the codebook"
