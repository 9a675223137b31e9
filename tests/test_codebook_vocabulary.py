"""The shipped codebooks know the evaluators' abbreviations, and not their other meanings
(docs/codebooks.md lists each term and its source)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qualcode import Project
from qualcode.autocode import autocode
from test_learn_corpus import add_document

CODEBOOKS = Path(__file__).resolve().parents[1] / "codebooks"

SENTENCES = {
    "Since we went over to SoS the mapping feels natural.": "feature.strengths_based_framework",
    "The model means we start from what is working well.": "feature.strengths_based_framework",
    "We spend Thursday mornings discussing cases as a team.": "feature.group_case_discussion",
    "Mum came to the TAF at school last week.": "feature.multidisciplinary",
    "Both children stepped down from a CP plan in March.": "outcome.reduce_risk",
    "She stayed on CIN for another three months.": "outcome.reduce_risk",
    "Two of the LAC reviews were moved.": "outcome.days_in_care",
    "The CiC council met the director.": "outcome.days_in_care",
}
NOT = {
    "He pressed the SOS button on his phone.": "feature.strengths_based_framework",
    "A boy with CP needs a new wheelchair.": "outcome.reduce_risk",
    "A local CIC runs the youth club on Fridays.": "outcome.days_in_care",
    "The funding model for the approach changed in April.": "feature.strengths_based_framework",
}


@pytest.fixture(scope="module")
def coded(tmp_path_factory):
    project = Project.create(tmp_path_factory.mktemp("vocab") / "v.qc")
    for i, sentence in enumerate([*SENTENCES, *NOT]):
        add_document(project, f"note_{i:02d}", sentence)
    autocode(project, [CODEBOOKS / "dfe_practice_features.yaml", CODEBOOKS / "signs_of_safety.yaml"],
             progress=False)
    frame = project.codings(status="suggested")
    by_text = {}
    for doc, code in zip(frame["document"], frame["code"]):
        by_text.setdefault(project.text(doc), set()).add(code)
    yield by_text
    project.close()


@pytest.mark.parametrize("sentence", [s for s, c in SENTENCES.items() if c])
def test_evaluators_words_are_coded(coded, sentence):
    assert SENTENCES[sentence] in coded.get(sentence, set())


@pytest.mark.parametrize("sentence", list(NOT))
def test_the_other_meanings_are_not(coded, sentence):
    assert NOT[sentence] not in coded.get(sentence, set())


def test_signs_of_safety_abbreviation_is_case_sensitive(coded):
    assert "sos.implementation" in coded.get("Since we went over to SoS the mapping feels natural.", set())
    assert "sos.implementation" not in coded.get("He pressed the SOS button on his phone.", set())
