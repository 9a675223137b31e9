"""Threshold-free figures, per-code thresholds chosen on inner folds, and the context
and codebook-keyword features, on the small labelled set of test_learn_corpus."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from qualcode import learn
from qualcode.learning import evaluate
from qualcode.codebook import parse_codebook
from qualcode.codebook_sync import load_into_project
from qualcode.errors import InputError
from test_learn_corpus import build

CODEBOOK = """
id: test
name: Test
version: "1.0"
codes:
  - {id: supervision, name: Supervision, definition: Supervision., match: {keywords: [group supervision, reflective]}}
  - {id: workload, name: Workload, definition: Workload., match: {keywords: [caseload]}}
  - {id: family, name: Family, definition: Family.}
  - {id: voice, name: Voice, definition: Voice.}
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = build(tmp_path_factory.mktemp("threshold"))
    yield lab
    lab.project.close()


def test_best_f1_threshold_picks_the_cut_with_highest_f1():
    scores = np.array([0.9, 0.8, 0.7, 0.3, 0.2, np.nan])
    labels = np.array([True, False, True, True, False, True])
    # cuts: 0.9 -> F1 2/5, 0.8 -> 2/6, 0.7 -> 4/7, 0.3 -> 6/8, 0.2 -> 6/9; NaN never predicted
    assert learn.best_f1_threshold(scores, labels) == 0.3
    assert learn.best_f1_threshold(scores, np.zeros(6, dtype=bool)) is None
    tied = np.array([0.5, 0.5, 0.1])
    assert learn.best_f1_threshold(tied, np.array([True, False, False])) == 0.5  # never splits a tie


def test_neighbours_stay_in_their_document():
    terms = ["a", "b", "", "d", "e"]
    assert learn.neighbour_terms(terms, np.array([1, 1, 1, 1, 2]), reach=2) == ["b", "a d", "a b d", "b", ""]


def test_keyword_hits_count_lemma_phrases_per_code():
    hits = learn.keyword_hits(["group supervision reflective group supervision", "caseload high", ""],
                              [{"group supervision", "reflective"}, {"caseload"}])
    assert hits.tolist() == [[3.0, 0.0], [0.0, 1.0], [0.0, 0.0]]


def test_default_reports_ranking_base_rate_and_chosen_thresholds(lab):
    cv = learn.cross_validate(lab.project, folds=5).set_index("code")
    for code in ("supervision", "workload", "family"):
        row = cv.loc[code]
        assert row["base_rate"] == pytest.approx(row["n_positive"] / (row["n_positive"] + row["n_negative"]), abs=1e-3)
        assert row["ap"] > 3 * row["base_rate"] and row["auc"] > 0.9  # distinct vocabularies: far above guessing
        assert 0.0 < row["threshold"] < 1.0
        assert row["tp"] + row["fn"] == row["n_positive"] and row["fp"] + row["tn"] == row["n_negative"]
        assert row["recall"] >= 0.75
    assert cv.loc["voice", ["ap", "auc", "threshold"]].isna().all()


def test_ap_is_that_of_the_out_of_fold_scores(lab):
    pool = learn.build_pool(lab.project)
    oof = evaluate._out_of_fold(pool, ["supervision"], 5, nested=False)
    y = pool.positive["supervision"][pool.trainable]
    cv = learn.cross_validate(lab.project, folds=5).set_index("code")
    assert cv.loc["supervision", "ap"] == pytest.approx(average_precision_score(y, oof.scores["supervision"]), abs=1e-3)


def test_a_fixed_threshold_is_applied_to_every_code(lab):
    cv = learn.cross_validate(lab.project, folds=5, threshold=0.99).set_index("code")
    usable = cv[~cv["refused"]]
    assert (usable["threshold"] == 0.99).all()
    default = learn.cross_validate(lab.project, folds=5).set_index("code")
    assert (usable["tp"] + usable["fp"] <= default.loc[usable.index, "tp"] + default.loc[usable.index, "fp"]).all()
    assert (usable["ap"] == default.loc[usable.index, "ap"]).all()  # ranking figures do not depend on it
    with pytest.raises(InputError, match=r"--threshold 1.5 is outside 0..1"):
        learn.cross_validate(lab.project, threshold=1.5)


def test_suggest_uses_each_codes_threshold_and_records_it(tmp_path):
    lab = build(tmp_path)
    result = learn.suggest(lab.project)
    assert set(result.thresholds) == {"supervision", "workload", "family"}
    cv = result.cv.set_index("code")
    rows = lab.project.codings(status="suggested")
    assert len(rows) == result.written > 0
    for _, row in rows.iterrows():
        threshold = result.thresholds[row["code"]]
        assert row["confidence"] >= threshold - 1e-4
        provenance = json.loads(row["provenance"])
        assert provenance["threshold"] == threshold
        assert provenance["threshold_rule"].startswith("max F1")
        assert provenance["cv"]["ap"] == cv.loc[row["code"], "ap"]
    lab.project.close()


def test_codebook_keywords_become_features_named_in_explanations(tmp_path):
    lab = build(tmp_path, n_docs=4)
    load_into_project(lab.project, parse_codebook(CODEBOOK, "test.yaml"), CODEBOOK)
    pool = learn.build_pool(lab.project)
    assert pool.keyword_codes == ["supervision", "workload"]
    supervision = pool.keyword_hits[:, 0]
    assert (supervision[pool.positive["supervision"]] > 0).mean() > 0.5
    assert (supervision[~pool.positive["supervision"] & pool.trainable] == 0).all()  # coded documents
    features = learn.Features.fit(pool, np.flatnonzero(pool.trainable))
    names = features.names()
    assert list(names[-2:]) == ["keywords of supervision", "keywords of workload"]
    assert any(str(n).startswith("near ") for n in names)
    learn.suggest(lab.project, min_confidence=0.0)
    explained = " ".join(lab.project.codings(status="suggested", code="supervision")["explanation"])
    assert "'keywords of supervision' (+" in explained
    lab.project.close()
