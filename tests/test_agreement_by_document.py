"""Per-document agreement rows, laid out over documents x codes at once, equal the old
computation: every document and code through the statistics one by one."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from qualcode import NewCoding, Project
from qualcode.agreement import stats
from qualcode.agreement import (_columns, _compare, _doc_units, _masks, _patterns, _row, _unit_matrix, agreement)
from test_agreement import add_codes, add_document

CODERS = ["alex", "sam", "kim"]
KEYS = [f"theme_{k}" for k in range(7)]


def _old_by_document(project: Project, coders: list[str], unit: str, min_coded: int = 2) -> pd.DataFrame:
    """The per-document rows as every call computed them before: for each document and
    each code, the unit matrix, its patterns and ``_row``."""
    comparison = _compare(project, coders, None, None, ("suggested", "accepted"))
    unit_word = {"character": "coding", "document": "document"}.get(unit, "paragraph")
    rows = []
    for doc_id, name, text, bounds, segments in _doc_units(comparison, project, unit, "paragraph", None):
        n_units = {"character": len(text), "document": 1}.get(unit, len(segments))
        for code in comparison.codes:
            spans = comparison.coder_spans(doc_id, code)
            if any(spans):
                counts = _patterns(_unit_matrix(_masks(spans, len(text)), unit, bounds))
            else:
                counts = np.zeros(1 << len(coders))
                counts[0] = n_units
            unitizing = stats.unitizing_alpha(spans, len(text)) if unit == "character" else None
            rows.append({"document_id": doc_id, "document": name, "code": code,
                         **_row(coders, counts, comparison.n_codings.get((doc_id, code), 0), unit_word, min_coded,
                                unitizing)})
    return pd.DataFrame(rows, columns=_columns(coders, unit, ["document_id", "document", "code"]))


@pytest.fixture(scope="module")
def survey(tmp_path_factory) -> Project:
    """Twelve documents of ten paragraphs; three coders code seven themes at random,
    some themes in a few documents only, kim leaving two documents almost bare."""
    project = Project.create(tmp_path_factory.mktemp("bydoc") / "survey.qc")
    add_codes(project, *KEYS)
    rng = random.Random(3)
    codings = []
    for d in range(12):
        doc = add_document(project, f"answer_{d:02d}.txt")
        for coder in CODERS:
            for key in KEYS[: 2 + d % 6]:
                if coder == "kim" and d in (4, 9) and key != KEYS[0]:
                    continue
                if rng.random() < 0.55:
                    start = 10 * rng.randrange(9) + rng.randrange(3)
                    codings.append(NewCoding(doc, start, min(100, start + rng.randrange(5, 25)), key, coder))
    project.add_codings(codings)
    yield project
    project.close()


@pytest.mark.parametrize("unit", ["document", "segment", "character"])
@pytest.mark.parametrize("coders", [CODERS[:2], CODERS])
def test_by_document_rows_equal_the_one_by_one_computation(survey, unit, coders):
    new = agreement(survey, coders, unit=unit, segment="paragraph", min_coded=2, by_document=True).by_document
    old = _old_by_document(survey, coders, unit)
    assert list(new.columns) == list(old.columns)
    assert len(new) == len(set(old["document_id"])) * len(set(old["code"])) == len(old)
    assert (new["flag"] == "not coded by any coder").any() and (new["any_coded"] > 0).any()
    if unit != "document":  # one unit per document: counts only, no statistics
        assert new["kappa"].notna().any() and new["flag"].str.contains("did not use").any()
    pd.testing.assert_frame_equal(new.reset_index(drop=True), old, check_dtype=False)
