"""Keyword discovery: terms over-represented in a code's accepted segments, for the
researcher to add to the codebook.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Iterable

import numpy as np
import pandas as pd

from ..errors import NotEnoughData, NotFoundError
from ..project import Project
from .pool import _codebook_phrases, build_pool, segment_terms

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language


def _codebook_terms(project: Project, code: str, nlp: "Language") -> set[str]:
    """The code's keywords and exact phrases from the loaded codebook, as our terms and
    as written (lower-cased), so discovery leaves out what the codebook already has."""
    phrases = _codebook_phrases(project).get(code, [])
    return {segment_terms(nlp(p)) for p in phrases} | {p.lower() for p in phrases}


def _ngram_counts(terms: Iterable[str]):
    from sklearn.feature_extraction.text import CountVectorizer

    vec = CountVectorizer(token_pattern=r"\S+", lowercase=False, ngram_range=(1, 2))
    return vec, vec.fit_transform(list(terms))


def discover_keywords(project: Project, code: str, top: int = 20, unit: str = "sentence",
                      prior: float = 500.0, min_count: int = 2, nlp: "Language | None" = None) -> pd.DataFrame:
    """Terms over-represented in a code's accepted segments, not yet among its keywords.

    Log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008,
    "Fightin' words"): the prior is the corpus's own term frequencies scaled to ``prior``
    pseudo-counts, which shrinks rare terms; ``z`` is the log-odds difference over its
    standard error. Compares the code's segments with the other segments of coded
    documents. Columns: term, z, log_odds, in_code, in_rest, segments (code segments
    holding the term).

    >>> discover_keywords(project, "feature.group_case_discussion", top=5)   # doctest: +SKIP
                 term     z  log_odds  in_code  in_rest  segments
       reflective space  3.1      2.4        6        0         6
    """
    from ..nlp import load_pipeline

    nlp = nlp or load_pipeline()
    pool = build_pool(project, unit, nlp)
    if code not in pool.positive:
        keys = list(pool.positive)
        close = difflib.get_close_matches(code, keys, n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise NotFoundError(f"{project.location}: no active code {code!r}{hint}. "
                            f"Fix: use one of: {', '.join(keys) or '(no codes loaded)'}.")
    mask = pool.positive[code] & pool.trainable
    if not mask.any():
        raise NotEnoughData(f"{project.location}: code {code!r} has no accepted codings yet. "
                            "Fix: code or accept some segments of it first.")
    rest = ~pool.positive[code] & pool.trainable
    terms = np.array(pool.terms, dtype=object)
    vec, counts = _ngram_counts(terms[mask | rest])
    in_code_rows = mask[mask | rest]
    y_code = np.asarray(counts[in_code_rows].sum(axis=0)).ravel().astype(float)
    y_rest = np.asarray(counts[~in_code_rows].sum(axis=0)).ravel().astype(float)
    seg_code = np.asarray((counts[in_code_rows] > 0).sum(axis=0)).ravel()
    total = y_code + y_rest
    alpha = prior * total / total.sum()
    a0 = alpha.sum()
    n_code, n_rest = y_code.sum(), y_rest.sum()
    delta = (np.log((y_code + alpha) / (n_code + a0 - y_code - alpha))
             - np.log((y_rest + alpha) / (n_rest + a0 - y_rest - alpha)))
    z = delta / np.sqrt(1.0 / (y_code + alpha) + 1.0 / (y_rest + alpha))
    known = _codebook_terms(project, code, nlp)
    frame = pd.DataFrame({"term": vec.get_feature_names_out(), "z": z.round(3), "log_odds": delta.round(3),
                          "in_code": y_code.astype(int), "in_rest": y_rest.astype(int), "segments": seg_code})
    frame = frame[(frame["in_code"] >= min_count) & (frame["z"] > 0) & ~frame["term"].isin(known)]
    return frame.sort_values(["z", "term"], ascending=[False, True]).head(top).reset_index(drop=True)
