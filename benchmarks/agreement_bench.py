"""Benchmark: intercoder agreement at document unit on a large survey, in one run.

The case from issue 19: 301 free-text answers coded as a whole by two people against a
codebook of 356 codes (survey coding frames grow that long), about three codes an answer
each, the second coder agreeing on most of the first's. Built in a temporary project
through the public API (a codebook YAML, a survey CSV, a codings CSV).

It times, in the same process, each the best of ``--repeat`` runs:

- ``agreement(..., unit="document")``: per code and overall, as ``qualcode agreement``
  shows by default;
- the same with ``by_document=True`` (one row per document and code, what
  ``--by-document`` asks for; the rows of codes nobody used in a document are laid
  out as columns at once, only the used ones computed one by one);
- a baseline for the arithmetic alone: scikit-learn's ``cohen_kappa_score`` per code
  over the answers × codes presence matrix read straight from the codings table.

and prints the times and their ratios. Usage:

    python benchmarks/agreement_bench.py                  # 301 answers x 356 codes
    python benchmarks/agreement_bench.py --answers 1000 --codes 500 --repeat 1
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from qualcode import Project  # noqa: E402
from qualcode.agreement import agreement  # noqa: E402
from qualcode.codebook import load_codebook  # noqa: E402
from qualcode.codebook_sync import load_into_project  # noqa: E402
from qualcode.codings_io import import_codings  # noqa: E402
from qualcode.corpus import import_paths  # noqa: E402

WORDS = ("key worker visits helped the family plan school support caseload time meeting team "
         "manager social worker child mum dad safety network early help training supervision").split()


def build(folder: Path, answers: int, codes: int, seed: int = 0) -> Project:
    """A project with ``answers`` survey answers, ``codes`` codes and two coders."""
    rng = random.Random(seed)
    book = folder / "frame.yaml"
    lines = ["id: survey_frame", "name: Survey coding frame", 'version: "1.0"', "codes:"]
    for c in range(codes):
        lines += [f"  - id: c{c:03d}", f"    name: Answer theme {c:03d}",
                  f"    definition: Answers that mention theme {c:03d}."]
    book.write_text("\n".join(lines) + "\n", encoding="utf-8")
    survey = folder / "answers.csv"
    texts = []
    with survey.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["respondent", "answer"])
        for a in range(answers):
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40))).capitalize() + "."
            texts.append(text)
            writer.writerow([f"R{a:04d}", text])
    project = Project.create(folder / "survey.qc")
    import_paths(project, [survey], text_columns=["answer"], source_type="survey response", attribute_columns=["respondent"])
    load_into_project(project, load_codebook(book), book.read_text(encoding="utf-8"))
    documents = project.documents()
    names = documents["name"].tolist()
    codings = folder / "codings.csv"
    with codings.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["document", "start", "end", "code", "coder", "status"])
        for name, text in zip(names, (project.text(n) for n in names)):
            chosen = rng.sample(range(codes), rng.randint(1, 5))
            for c in chosen:
                writer.writerow([name, 0, len(text), f"c{c:03d}", "coder_a", "accepted"])
                if rng.random() < 0.85:  # the second coder mostly agrees ...
                    writer.writerow([name, 0, len(text), f"c{c:03d}", "coder_b", "accepted"])
            if rng.random() < 0.3:  # ... and sometimes adds one of their own
                writer.writerow([name, 0, len(text), f"c{rng.randrange(codes):03d}", "coder_b", "accepted"])
    import_codings(project, codings)
    return project


def sklearn_baseline(project: Project) -> int:
    """Cohen's kappa per code with scikit-learn over answers x codes presence."""
    import numpy as np
    from sklearn.metrics import cohen_kappa_score

    codings = project.codings(status="accepted")
    docs = sorted(codings["document_id"].unique())
    codes = sorted(codings["code"].unique())
    row = {d: i for i, d in enumerate(docs)}
    col = {c: j for j, c in enumerate(codes)}
    present = {}
    for coder, group in codings.groupby("coder"):
        m = np.zeros((len(docs), len(codes)), dtype=bool)
        m[[row[d] for d in group["document_id"]], [col[c] for c in group["code"]]] = True
        present[coder] = m
    a, b = present["coder_a"], present["coder_b"]
    for j in range(len(codes)):
        cohen_kappa_score(a[:, j], b[:, j])
    return len(codes)


def best(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=301)
    parser.add_argument("--codes", type=int, default=356)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = build(Path(tmp), args.answers, args.codes)
        with project:
            coders = ["coder_a", "coder_b"]
            fast, result = best(lambda: agreement(project, coders, unit="document"), args.repeat)
            full, full_result = best(lambda: agreement(project, coders, unit="document", by_document=True),
                                     args.repeat)
            base, n_codes = best(lambda: sklearn_baseline(project), args.repeat)
    pooled = result.overall.iloc[0]
    print(f"agreement at document unit: {args.answers} answers x {len(result.by_code)} codes used "
          f"({args.codes} in the codebook), pooled kappa {pooled['kappa']:.3f}, "
          f"mean per-code kappa {pooled['mean_code_kappa']:.3f}")
    print(f"{'run':<48}{'seconds':>10}{'ratio':>10}")
    print(f"{'agreement() per code + overall (default)':<48}{fast:>10.3f}{1.0:>10.2f}")
    print(f"{'agreement(by_document=True)':<48}{full:>10.3f}{full / fast:>10.2f}")
    print(f"{'sklearn cohen_kappa_score per code (baseline)':<48}{base:>10.3f}{base / fast:>10.2f}")
    print(f"per-document rows: {len(full_result.by_document):,}; codes the baseline scored: {n_codes}")


if __name__ == "__main__":
    main()
