"""The model behind learned suggestions: features of a segment, the per-code classifier,
calibration of its scores and the choice of a decision threshold.

>>> best_f1_threshold(np.array([0.9, 0.2]), np.array([True, False]))
0.9
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .pool import Pool

if TYPE_CHECKING:  # pragma: no cover
    from scipy import sparse

METHOD = "learned"
# How a learned suggestion's confidence was scored (recorded in its provenance).
HELD_OUT = "cross-validation model that held the segment's document out"
ALL_CODED = "model trained on every coded document"
MODEL = ("logistic-regression(balanced) over tfidf(lemma 1-2-grams) + tfidf(neighbour lemmas, x0.7) "
         "+ codebook keyword counts (x0.5)")
CALIBRATION = "platt-scaling on out-of-fold scores (shuffled, per-code balanced folds by document)"
THRESHOLD_RULE = "max F1 on out-of-fold scores; figures from thresholds chosen on inner folds"
RANDOM_STATE = 0
C = 1.0  # inverse regularisation; TF-IDF rows are L2-normalised, so 1.0 is the usual scale
# Feature weights and reach, measured on the demo corpus (see the module docstring):
# neighbour lemmas raised mean AP from 0.12 to 0.17, codebook keywords to 0.19 with them.
CONTEXT_WEIGHT = 0.7
KEYWORD_WEIGHT = 0.5
# Sentence embeddings (optional, ``embeddings``): on the demo (3 inner folds), weights 0.5/1/2 for the
# segment's own vector gave macro-F1 0.284/0.292/0.281; the neighbours' mean vector at
# 0.5/1 added 0.299/0.309.
EMBEDDING_WEIGHT = 1.0
CONTEXT_EMBEDDING_WEIGHT = 1.0
EMBEDDINGS = "+ all-MiniLM-L6-v2 sentence embedding of the segment (x1) and mean of its neighbours' (x1)"
INNER_FOLDS = 5  # folds inside each outer training part, to choose thresholds on: on the demo 3/4/5 gave
# macro-F1 0.251/0.255/0.256 and machine-researcher kappa 0.219/0.223/0.224 (a) and 0.259/0.263/0.269 (b);
# with embeddings 5 gave 0.317 against 0.309 at 3. More inner training data, steadier thresholds; AP is unchanged.

def _tfidf(ngrams: int = 2, min_df: int = 1):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(token_pattern=r"\S+", lowercase=False, ngram_range=(1, ngrams), sublinear_tf=True,
                           min_df=min_df)


def _classifier():
    from sklearn.linear_model import LogisticRegression

    # The dual problem: with more features than segments liblinear's dual solver reaches
    # the same weights as the primal one about 30 times faster (measured on the demo).
    return LogisticRegression(C=C, class_weight="balanced", solver="liblinear", dual=True, max_iter=1000,
                              random_state=RANDOM_STATE)


class Features:
    """The featuriser, fitted on the training segments of a pool and applied to any.

    The TF-IDF vocabularies and weights come from the rows it is fitted on only, so a
    cross-validation fold never sees the words of its test documents.

    >>> feats = Features.fit(pool, np.flatnonzero(pool.trainable))   # doctest: +SKIP
    >>> x = feats.transform(pool, np.arange(len(pool.terms)))         # doctest: +SKIP
    """

    def __init__(self, words, context, n_keywords: int, keyword_codes: list[str], vectors: int = 0,
                 context_vectors: int = 0):
        self.words, self.context = words, context
        self.n_keywords, self.keyword_codes = n_keywords, keyword_codes
        self.vectors, self.context_vectors = vectors, context_vectors  # embedding widths (0: none)

    @classmethod
    def fit(cls, pool: Pool, rows: np.ndarray) -> "Features":
        words = _tfidf().fit([pool.terms[i] for i in rows])
        context = None
        if pool.context:
            try:  # single words seen twice or more: neighbours' bigrams and rare words cost
                # fitting time (liblinear slowed 30-fold) and added nothing measurable
                context = _tfidf(ngrams=1, min_df=2).fit([pool.context[i] for i in rows])
            except ValueError:
                context = None
        n_keywords = 0 if pool.keyword_hits is None else pool.keyword_hits.shape[1]
        width = (lambda v: 0 if v is None else v.shape[1])
        return cls(words, context, n_keywords, list(pool.keyword_codes), width(pool.vectors),
                   width(pool.context_vectors))

    def transform(self, pool: Pool, rows: np.ndarray) -> "sparse.csr_matrix":
        from scipy import sparse

        blocks = [self.words.transform([pool.terms[i] for i in rows])]
        if self.context is not None:
            blocks.append(CONTEXT_WEIGHT * self.context.transform([pool.context[i] for i in rows]))
        if self.n_keywords:
            blocks.append(sparse.csr_matrix(KEYWORD_WEIGHT * np.log1p(pool.keyword_hits[rows])))
        if self.vectors:
            blocks.append(sparse.csr_matrix(EMBEDDING_WEIGHT * pool.vectors[rows]))
        if self.context_vectors:
            blocks.append(sparse.csr_matrix(CONTEXT_EMBEDDING_WEIGHT * pool.context_vectors[rows]))
        return sparse.hstack(blocks, format="csr")

    def names(self) -> np.ndarray:
        """Readable feature names for explanations: the term, 'near <term>' for a
        neighbour's term, 'keywords of <code>' for a codebook keyword count, 'sentence
        meaning #k' / "neighbours' meaning #k" for an embedding dimension."""
        names = [str(n) for n in self.words.get_feature_names_out()]
        if self.context is not None:
            names += [f"near {n}" for n in self.context.get_feature_names_out()]
        names += [f"keywords of {code}" for code in self.keyword_codes[:self.n_keywords]]
        names += [f"sentence meaning #{k}" for k in range(self.vectors)]
        names += [f"neighbours' meaning #{k}" for k in range(self.context_vectors)]
        return np.array(names, dtype=object)


@dataclass
class Platt:
    """``P = 1 / (1 + exp(-(a * score + b)))``, fitted on out-of-fold decision scores."""

    a: float
    b: float

    @classmethod
    def fit(cls, scores: np.ndarray, labels: np.ndarray) -> "Platt":
        from sklearn.linear_model import LogisticRegression

        # Platt's (1999) targets: (N+ + 1)/(N+ + 2) for positives, 1/(N- + 2) for
        # negatives, so a small sample never yields a promise of certainty. Soft targets
        # are fitted as each score twice, once per class, weighted by its target.
        labels = np.asarray(labels, dtype=bool)
        n_pos, n_neg = int(labels.sum()), int((~labels).sum())
        target = np.where(labels, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
        x = np.concatenate([scores, scores]).reshape(-1, 1)
        y = np.concatenate([np.ones(len(scores)), np.zeros(len(scores))])
        weight = np.concatenate([target, 1 - target])
        model = LogisticRegression(C=1e4, solver="lbfgs").fit(x, y, sample_weight=weight)
        return cls(float(model.coef_[0, 0]), float(model.intercept_[0]))

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self.a * np.asarray(scores) + self.b)))


def best_f1_threshold(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """The score ``t`` for which predicting ``score >= t`` has the highest F1 on these
    labels (the highest such ``t`` on a tie, i.e. the more precise rule); None when
    there is no positive to find. NaN scores (no model) are never predicted.

    >>> best_f1_threshold(np.array([0.9, 0.8, 0.3, 0.1]), np.array([True, False, True, False]))
    0.3
    """
    seen = ~np.isnan(scores)
    scores, labels = scores[seen], np.asarray(labels, dtype=bool)[seen]
    if not labels.any():
        return None
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], labels[order]
    tp = np.cumsum(y)
    f1 = 2 * tp / (np.arange(1, len(y) + 1) + int(labels.sum()))  # 2TP / (2TP + FP + FN)
    f1[:-1][s[1:] == s[:-1]] = -1.0  # a cut can only fall between different scores
    return float(s[int(np.argmax(f1))])

