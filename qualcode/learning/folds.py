"""Cross-validation folds by document, shuffled with a fixed seed and balanced per code.

Why not scikit-learn's ``GroupKFold``: unshuffled, it deals equal-size documents to
folds in the order they come, so when codes follow the order of the documents (a
code used in every other interview, a wave imported after another) a fold can hold
all of a code's positives or none, and its out-of-fold figures say nothing (a pooled
AUC of 0.18 on such data). ``StratifiedGroupKFold`` stratifies one label, and every
segment here carries many codes at once. So documents are dealt greedily, in a
seeded random order (the documents carrying the largest share of some code's
positives first), each to the fold where it adds least to the fold's share of every
code's positives and of all segments: each code's positives spread over the folds,
folds of similar size, every fold non-empty, the same folds on every run.

>>> groups = np.repeat(np.arange(6), 3)                 # six documents of 3 segments
>>> labels = np.repeat(np.arange(6) % 2 == 0, 3)[:, None]   # the code in every other one
>>> folds = document_folds(groups, labels, 3)
>>> [bool(labels[test].any() and not labels[test].all()) for _, test in folds]
[True, True, True]
"""

from __future__ import annotations

import numpy as np

SEED = 0  # the folds are shuffled, but the same on every run of the same data


def document_folds(groups: np.ndarray, labels: np.ndarray, n_splits: int, seed: int = SEED
                   ) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) index arrays of ``n_splits`` folds (at most one per document)
    over segments grouped by ``groups`` (document ids), spreading the positives of each
    column of ``labels`` (segments x codes, bool) evenly across the folds.

    >>> groups = np.array([1, 1, 2, 2, 3, 4])         # no codes: folds of equal size
    >>> [sorted(set(groups[test].tolist())) for _, test in document_folds(groups, np.zeros((6, 0), bool), 2)]
    [[1, 3], [2, 4]]
    """
    groups = np.asarray(groups)
    labels = np.asarray(labels, dtype=float).reshape(len(groups), -1)
    docs, inverse = np.unique(groups, return_inverse=True)
    n_splits = max(1, min(int(n_splits), len(docs)))
    positives = np.zeros((len(docs), labels.shape[1]))
    np.add.at(positives, inverse, labels)
    size = np.bincount(inverse, minlength=len(docs)).astype(float)
    # Each document's share of every code's positives, and of all segments.
    share = np.hstack([positives / np.maximum(positives.sum(axis=0), 1.0), (size / size.sum())[:, None]])
    shuffled = np.random.default_rng(seed).permutation(len(docs))
    order = shuffled[np.argsort(-share[shuffled].max(axis=1), kind="stable")]
    load = np.zeros((n_splits, share.shape[1]))
    members = np.zeros(n_splits, dtype=int)
    fold_of_doc = np.empty(len(docs), dtype=int)
    for d in order:
        # Adding share s to a fold with load l raises the sum of squared loads by
        # 2 l.s + |s|^2: the least crowded fold for this document's codes wins; ties
        # (an empty fold costs 0) go to the fold with fewest documents, so none stays empty.
        cost = load @ share[d]
        best = min(range(n_splits), key=lambda f: (round(float(cost[f]), 12), members[f], f))
        fold_of_doc[d] = best
        load[best] += share[d]
        members[best] += 1
    fold = fold_of_doc[inverse]
    index = np.arange(len(groups))
    return [(index[fold != f], index[fold == f]) for f in range(n_splits)]
