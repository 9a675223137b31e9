"""Learned suggestions (a subpackage: ``pool`` the examples, ``model`` the features and
classifier, ``folds`` the cross-validation folds, ``evaluate`` cross-validation,
``suggest`` writing suggestions, ``keywords`` keyword discovery, ``embeddings`` the
optional sentence-embedding features): codes suggested from the researcher's own
accepted coding.

This is what NVivo calls autocoding from existing patterns, done locally and reported
honestly. The model, per code, is a logistic regression with balanced class weights
(scikit-learn, fixed random state) over three blocks of features of a segment:

- TF-IDF of its lemma 1–2-grams (stop words dropped, sublinear tf);
- TF-IDF of the lemmas of its neighbours (two segments either side in the same
  document), down-weighted: researchers code passages of one to three sentences, so a
  sentence's theme is often named in the sentence before or after it;
- for every code whose codebook lists keywords, log(1 + the number of its keyword
  lemmas in the segment): what the researcher already wrote down about the code;
- optionally (``embeddings=True``, the ``qualcode[embeddings]`` extra): the segment's
  all-MiniLM-L6-v2 sentence embedding and the mean of its neighbours', so passages
  that say the same in other words score alike.

Training examples are segments (sentences, paragraphs or turns) of participant speech
in the documents people have coded: a segment is positive for a code when an accepted
coding of that code overlaps it, negative otherwise. Quality is measured by
cross-validation grouped by document (``folds.document_folds``: shuffled with a fixed
seed, each code's positives spread over the folds), so sentences of one interview never
sit on both sides of a split, and reported two ways:

- threshold-free: average precision (area under the precision-recall curve) and ROC
  AUC of the out-of-fold scores, beside the base rate (the AP of guessing);
- at a decision threshold chosen per code to maximise F1. The threshold is chosen on
  inner folds of each outer training part (nested cross-validation), so the precision,
  recall and F1 reported are those of the whole procedure on unseen documents, not of
  a threshold fitted to the very scores it is judged on.

The out-of-fold scores also calibrate the confidence: Platt scaling (a one-feature
logistic regression from decision score to probability), so a code's confidence means
what it says on unseen text. With codes on 1–8% of segments a calibrated probability
rarely reaches 0.5, which is why each code gets its own threshold.

Codes with too few examples are refused, not guessed at: fewer than ``min_examples``
positive segments, or positives from a single document only.

>>> cross_validate(project, folds=5)                         # doctest: +SKIP
>>> result = suggest(project)              # each code at its chosen threshold  # doctest: +SKIP
>>> review_queue(project).head()                              # doctest: +SKIP
>>> discover_keywords(project, "feature.group_case_discussion")   # doctest: +SKIP
"""


from .evaluate import COLUMNS, Decision, cross_validate
from .keywords import discover_keywords
from .model import (ALL_CODED, CALIBRATION, HELD_OUT, METHOD, MODEL, THRESHOLD_RULE, Features, Platt,
                    best_f1_threshold)
from .report import LearnReport, assess, out_of_fold
from .pool import LEARNING_UNITS, Pool, choose_unit, build_pool, codebook_keywords, keyword_hits, neighbour_terms, segment_terms
from .suggest import MAX_PER_CODE, SuggestResult, review_queue, suggest

__all__ = ["MAX_PER_CODE", "LEARNING_UNITS", "LearnReport", "assess", "choose_unit", "out_of_fold", "ALL_CODED", "CALIBRATION", "COLUMNS", "Decision", "Features", "HELD_OUT", "METHOD", "MODEL", "Platt",
           "Pool", "SuggestResult", "THRESHOLD_RULE", "best_f1_threshold", "build_pool", "codebook_keywords",
           "cross_validate", "discover_keywords", "keyword_hits", "neighbour_terms", "review_queue",
           "segment_terms", "suggest"]
