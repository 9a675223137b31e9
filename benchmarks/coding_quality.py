"""Benchmark: how well the learned suggester codes, measured the same way each time.

Data we may ship: the demo corpus (``corpus/``, fictional) with its two researchers'
accepted coding (``corpus/codings_researcher_{a,b}.csv``), built into a temporary
project as ``qualcode demo`` builds it. Every figure is cross-validated by document
(5 folds, shuffled with a fixed seed and balanced per code: ``learning.folds``): no
segment of a held-out interview is ever trained on.

It prints, per variant, in the same run:

- macro-F1 (each code counts once) over the codes learned and over the codes
  ``suggest`` would use, macro AP and AUC;
- macro Cohen's kappa between the machine's out-of-fold decisions and each
  researcher, beside the researchers' kappa with each other (on the documents both
  coded), at the same sentence unit;

for these variants:

- ``qualcode``: the learned suggester as shipped (``learn.assess``);
- ``baseline``: TF-IDF of the raw sentence words + logistic regression (scikit-learn
  defaults but balanced class weights, without which it predicts no rare code at all;
  decision at probability 0.5), the same folds, the same sentences;
- ``no keywords``: qualcode without the codebook keyword-count features;
- ``no class balance``: qualcode with unweighted classes;
- ``embeddings``: qualcode with sentence-embedding features (``--embeddings``; needs
  the optional extra ``qualcode[embeddings]``, skipped with a note without it).

Usage:

    python benchmarks/coding_quality.py            # all variants (a few minutes)
    python benchmarks/coding_quality.py --only qualcode,embeddings
    python benchmarks/coding_quality.py --only qualcode,baseline
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from qualcode import learn  # noqa: E402
from qualcode.demo import build_demo_project  # noqa: E402
from qualcode.learning import evaluate, model  # noqa: E402
from qualcode.learning.folds import document_folds  # noqa: E402
from qualcode.learning.pool import build_pool  # noqa: E402
from qualcode.learning.report import binary_kappa, people  # noqa: E402

FOLDS = 5
MIN_EXAMPLES = 8


def qualcode_figures(project, nlp, embeddings: bool = False) -> dict[str, float]:
    report = learn.assess(project, folds=FOLDS, unit="sentence", min_examples=MIN_EXAMPLES, nlp=nlp,
                          embeddings=embeddings)
    learned, suggested = report.overall.iloc[0], report.overall.iloc[1]
    kappas = {c: learned[c] for c in report.overall.columns if c.startswith("kappa_")}
    return {"codes": int(report.by_code["f1"].notna().sum()), "macro_f1": learned["f1"],
            "macro_f1_suggested": suggested["f1"], "macro_ap": learned["ap"], "macro_auc": learned["auc"], **kappas}


def baseline_figures(project, nlp) -> dict[str, float]:
    """TF-IDF + logistic regression (balanced) on the raw words of the same sentences and folds,
    for the same codes qualcode learns (those with enough examples)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score, f1_score, roc_auc_score
    pool = build_pool(project, "sentence", nlp)
    rows = np.flatnonzero(pool.trainable)
    texts = {d: project.text(int(d)) for d in set(pool.document[rows].tolist())}
    raw = [texts[d][s:e] for d, s, e in zip(pool.document[rows], pool.start[rows], pool.end[rows])]
    groups = pool.document[rows]
    codes = [c for c in pool.positive if evaluate._refusal(pool, c, MIN_EXAMPLES) is None]
    crowd = people(pool)
    predicted = {c: np.zeros(len(rows), bool) for c in codes}
    scores = {c: np.full(len(rows), np.nan) for c in codes}
    matrix = np.column_stack([pool.positive[c][rows] for c in codes])
    for train, test in document_folds(groups, matrix, FOLDS):
        vec = TfidfVectorizer().fit([raw[i] for i in train])
        x_train, x_test = vec.transform([raw[i] for i in train]), vec.transform([raw[i] for i in test])
        for c in codes:
            y = pool.positive[c][rows][train]
            if y.any() and not y.all():
                fitted = LogisticRegression(class_weight="balanced", max_iter=1000).fit(x_train, y)
                scores[c][test] = fitted.predict_proba(x_test)[:, 1]
                predicted[c][test] = scores[c][test] >= 0.5
    figures = {"f1": [], "ap": [], "auc": []}
    kappas: dict[str, list[float]] = {}
    for c in codes:
        y = pool.positive[c][rows]
        s = np.nan_to_num(scores[c], nan=-1.0)
        figures["f1"].append(f1_score(y, predicted[c], zero_division=0))
        figures["ap"].append(average_precision_score(y, s))
        figures["auc"].append(roc_auc_score(y, s))
        for coder in crowd.coders:
            mask = crowd.coded[coder]
            kappas.setdefault(f"kappa_machine_vs_{coder}", []).append(
                binary_kappa(predicted[c][mask], crowd.label(coder, c)[mask]))
        for a, b in crowd.pairs:
            mask = crowd.coded[a] & crowd.coded[b]
            kappas.setdefault(f"kappa_{a}_vs_{b}", []).append(
                binary_kappa(crowd.label(a, c)[mask], crowd.label(b, c)[mask]))
    return {"codes": len(codes), "macro_f1": float(np.mean(figures["f1"])), "macro_f1_suggested": np.nan,
            "macro_ap": float(np.mean(figures["ap"])), "macro_auc": float(np.mean(figures["auc"])),
            **{k: float(np.nanmean(v)) for k, v in kappas.items()}}


def without_keywords(project, nlp) -> dict[str, float]:
    saved = model.KEYWORD_WEIGHT
    model.KEYWORD_WEIGHT = 0.0
    try:
        return qualcode_figures(project, nlp)
    finally:
        model.KEYWORD_WEIGHT = saved


def without_balance(project, nlp) -> dict[str, float]:
    from sklearn.linear_model import LogisticRegression

    saved = evaluate._classifier
    evaluate._classifier = lambda: LogisticRegression(C=model.C, solver="liblinear", dual=True, max_iter=1000,
                                                      random_state=model.RANDOM_STATE)
    try:
        return qualcode_figures(project, nlp)
    finally:
        evaluate._classifier = saved


def with_embeddings(project, nlp) -> dict[str, float] | None:
    from qualcode.learning.embeddings import EXTRA, available

    if not available():
        print(f"embeddings: skipped, the optional extra is not installed ({EXTRA})")
        return None
    return qualcode_figures(project, nlp, embeddings=True)


VARIANTS = {"qualcode": qualcode_figures, "baseline": baseline_figures, "no keywords": without_keywords,
            "no class balance": without_balance, "embeddings": with_embeddings}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(VARIANTS), help="comma-separated variants to run")
    args = parser.parse_args()
    chosen = [v.strip() for v in args.only.split(",") if v.strip()]
    unknown = [v for v in chosen if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant {unknown[0]!r}; choose from {', '.join(VARIANTS)}")
    from qualcode.nlp import load_pipeline

    nlp = load_pipeline()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        project = build_demo_project(Path(tmp) / "demo.qc")
        with project:
            for name in chosen:
                start = time.perf_counter()
                figures = VARIANTS[name](project, nlp)
                if figures is None:
                    continue
                rows.append({"variant": name, **figures, "seconds": round(time.perf_counter() - start, 1)})
    table = pd.DataFrame(rows)
    print("Demo corpus, two researchers, sentence unit, 5-fold cross-validation by document.")
    print("macro = each code counts once; kappa columns are macro means over the codes learned.")
    with pd.option_context("display.width", 250, "display.max_columns", 30, "display.float_format", "{:.3f}".format):
        print(table.to_string(index=False))
    if {"qualcode", "baseline"} <= set(table["variant"]):
        ours = table.set_index("variant").loc["qualcode"]
        base = table.set_index("variant").loc["baseline"]
        ratio = (lambda a, b: f"{a / b:.2f}" if b else "n/a (baseline 0)")
        print(f"ratio qualcode / baseline: macro-F1 {ratio(ours['macro_f1'], base['macro_f1'])}, "
              f"macro AP {ratio(ours['macro_ap'], base['macro_ap'])}, "
              f"mean machine-human kappa {ratio(ours.filter(like='kappa_machine').mean(), base.filter(like='kappa_machine').mean())}")
    if {"qualcode", "embeddings"} <= set(table["variant"]):
        ours = table.set_index("variant").loc["qualcode"]
        more = table.set_index("variant").loc["embeddings"]
        print(f"ratio embeddings / qualcode: macro-F1 {more['macro_f1'] / ours['macro_f1']:.2f}, "
              f"macro AP {more['macro_ap'] / ours['macro_ap']:.2f}, mean machine-human kappa "
              f"{more.filter(like='kappa_machine').mean() / ours.filter(like='kappa_machine').mean():.2f}")


if __name__ == "__main__":
    main()
