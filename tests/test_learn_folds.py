"""Cross-validation folds by document: shuffled with a fixed seed and balanced per code,
so codes that follow the order of the documents still meet both classes in every fold."""

from __future__ import annotations

import numpy as np

from qualcode import learn
from qualcode.learning.folds import document_folds
from qualcode.project import NewCoding, Project
from test_learn_corpus import SENTENCES, add_codes, add_document


def _alternating(tmp_path, n_docs: int = 12) -> Project:
    """Twelve survey answers of two sentences coded whole: every other answer is about
    group supervision (coded 'supervision'), the rest about caseloads ('workload')."""
    project = Project.create(tmp_path / "alternating.qc")
    add_codes(project, {"supervision": "Group supervision", "workload": "Caseloads and administration"})
    others = SENTENCES["workload"]
    codings = []
    for d in range(n_docs):
        source = SENTENCES["supervision"] if d % 2 == 0 else others
        text = " ".join(source[(2 * d + j) % len(source)] for j in range(2))
        doc_id = add_document(project, f"answer_{d:02d}", text)
        codings.append(NewCoding(doc_id, 0, len(text), "supervision" if d % 2 == 0 else "workload", "alex"))
    project.add_codings(codings)
    return project


def test_every_fold_meets_both_classes_when_the_code_alternates_by_document(tmp_path):
    # Unshuffled GroupKFold put answers 0, 4, 8 in one fold, 1, 5, 9 in the next ...:
    # every held-out fold was all coded or all uncoded, and the pooled AUC fell under 0.5.
    project = _alternating(tmp_path)
    with project:
        report = learn.assess(project, folds=4, min_examples=4)
        assert report.unit == "document"
        oof = report.predictions
        for (code, number), fold in oof.groupby(["code", "fold"]):
            assert fold["coded"].any() and not fold["coded"].all(), (code, number)
        for code in ("supervision", "workload"):
            row = report.by_code.set_index("code").loc[code]
            assert row["auc"] >= 0.9 and not row["refused"], row
        again = learn.assess(project, folds=4, min_examples=4).predictions
        assert again["fold"].tolist() == oof["fold"].tolist()  # shuffled, but the same every run


def test_folds_spread_each_codes_positives_and_keep_sizes_even():
    rng = np.random.default_rng(7)
    groups = np.repeat(np.arange(40), rng.integers(5, 30, size=40))
    labels = np.zeros((len(groups), 3), dtype=bool)
    for code, docs in enumerate(([0, 1, 2, 3, 4], [10, 20, 30], list(range(0, 40, 3)))):
        labels[:, code] = np.isin(groups, docs) & (rng.random(len(groups)) < 0.5)
    folds = document_folds(groups, labels, 5)
    assert len(folds) == 5
    tested = np.concatenate([test for _, test in folds])
    assert sorted(tested.tolist()) == list(range(len(groups)))  # each segment held out once
    for train, test in folds:
        assert not set(groups[train].tolist()) & set(groups[test].tolist())  # no document split
        assert 0.1 < len(test) / len(groups) < 0.3
    # a code in 5 documents: one of them in each fold; in 3 documents: three folds have one
    per_fold = np.array([[len(set(groups[test][labels[test, c]].tolist())) for c in range(3)] for _, test in folds])
    assert per_fold[:, 0].tolist() == [1] * 5
    assert sorted(per_fold[:, 1].tolist()) == [0, 0, 1, 1, 1]
    share = np.array([labels[test, 2].sum() for _, test in folds]) / labels[:, 2].sum()
    assert share.min() > 0.1 and share.max() < 0.3, share  # a common code: about a fifth in each
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, document_folds(groups, labels, 5)))
    other_seed = document_folds(groups, labels, 5, seed=1)
    assert any(not np.array_equal(a[1], b[1]) for a, b in zip(folds, other_seed))


def test_never_more_folds_than_documents_and_none_empty():
    groups = np.array([5, 5, 9, 9, 9])
    folds = document_folds(groups, np.ones((5, 1), bool), 5)
    assert len(folds) == 2 and all(len(test) for _, test in folds)
