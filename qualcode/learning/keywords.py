"""Keyword discovery: terms over-represented in a code's accepted segments, for the
researcher to add to the codebook.
"""

from __future__ import annotations

import difflib
import re
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
    holding the term). Left out, with the reason in ``frame.attrs["left_out"]``: terms
    with a stop word, people's names the pseudonymisation detector flags in the code's
    segments, and terms the codebook already has for the code.

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
    frame = pd.DataFrame({"term": vec.get_feature_names_out(), "z": z.round(3), "log_odds": delta.round(3),
                          "in_code": y_code.astype(int), "in_rest": y_rest.astype(int), "segments": seg_code})
    frame = frame[(frame["in_code"] >= min_count) & (frame["z"] > 0)]
    reasons = _left_out(project, pool, mask, frame["term"].tolist(), code, nlp)
    frame = frame[~frame["term"].isin(reasons)]
    frame = frame.sort_values(["z", "term"], ascending=[False, True]).head(top).reset_index(drop=True)
    frame.attrs["left_out"] = reasons  # term -> why (stop word, a name, in the codebook)
    return frame


def _left_out(project: Project, pool, mask: np.ndarray, candidates: list[str], code: str,
              nlp: "Language") -> dict[str, str]:
    """Which candidate terms a codebook should not gain, and why: a stop word among
    its words (lemmas such as 'have' slip past spaCy's check on the word as written),
    a person's name the pseudonymisation detector finds in the code's segments, or a
    term the codebook already has for the code."""
    from spacy.lang.en.stop_words import STOP_WORDS

    known = _codebook_terms(project, code, nlp)
    names = _names_in(project, pool, mask) if candidates else set()
    reasons = {}
    for term in candidates:
        words = term.split()
        if any(w in STOP_WORDS for w in words):
            reasons[term] = "stop word"
        elif any(w in names for w in words):
            reasons[term] = "a name (pseudonymisation detector)"
        elif term in known:
            reasons[term] = "already in the codebook"
    return reasons


def _names_in(project: Project, pool, mask: np.ndarray) -> set[str]:
    """Lower-cased words of the people's names the pseudonymisation detector flags in
    the code's segments (the detector ``qualcode pseudonymise detect`` runs), except
    words the same passages also use in lower case."""
    from ..privacy import find_names

    texts: dict[int, str] = {}
    passages = []
    for i in np.flatnonzero(mask):
        doc_id = int(pool.document[i])
        if doc_id not in texts:
            texts[doc_id] = project.text(doc_id)
        passages.append(texts[doc_id][int(pool.start[i]):int(pool.end[i])])
    joined = "\n\n".join(passages)
    flagged = {w for span in find_names(joined) for w in span.text.split()}
    # A word also written in lower case in these passages is a common word the detector
    # took for a name at the start of a sentence ('Supervision with the consultant …').
    lower = set(re.findall(r"\b[a-z][a-z'-]*\b", joined))
    found = {w.lower() for w in flagged if w.lower() not in lower}
    return found
