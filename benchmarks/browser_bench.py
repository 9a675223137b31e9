"""Opening the document browser: the Python side, against a same-process baseline.

Builds a 20,000-word interview with 500 codings over 24 codes in a temp project, then
times (a) the baseline: reading the document's text, turns and codings from the store
(``project.text``, ``project.turns``, ``project.codings(document=…)``), the least any
viewer must do, and (b) ``DocumentBrowser(project, document)``: the same reads plus
code colours, memos, the turn blocks and the synced state the front end draws. The
ratio (b)/(a) is the figure to watch. The front end's own time to first render is
measured in Chromium by ``tests/test_browser_coding.py`` (out/screenshots/browser_render.json).

    python benchmarks/browser_bench.py [--words 20000] [--codings 500] [--repeat 5]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from qualcode import NewCoding, Project
from qualcode.codebook import parse_codebook
from qualcode.codebook_sync import load_into_project
from qualcode.corpus import import_paths
from qualcode.demo import CODEBOOKS, CORPUS
from qualcode.widgets import DocumentBrowser


def build(folder: Path, words: int, codings: int) -> Project:
    base = (CORPUS / "interviews" / "W1_SW01_social_worker.txt").read_text(encoding="utf-8")
    answers = [line.split(": ", 1)[1] for line in base.splitlines() if line.startswith("Respondent: ")]
    rng = random.Random(7)
    parts, total, n = ["Interview: SW99, Wave 2\n"], 0, 0
    while total < words:
        n += 1
        answer = " ".join(rng.sample(answers, 2))
        parts.append(f"Interviewer: Question {n}: can you say more about that?\n\nRespondent: {answer}\n")
        total += len(answer.split()) + 7
    (folder / "long_interview.txt").write_text("\n".join(parts), encoding="utf-8")
    project = Project.create(folder / "bench.qc")
    import_paths(project, [folder / "long_interview.txt"])
    source = (CODEBOOKS / "evaluation_framework.yaml").read_text(encoding="utf-8")
    load_into_project(project, parse_codebook(source, "evaluation_framework.yaml"), source)
    doc = project.document_id("long_interview.txt")
    turns = project.turns(doc).query("not is_interviewer")
    keys = list(project.codes()["key"])[:24]
    picks = turns.sample(codings, replace=True, random_state=3)
    project.add_codings(NewCoding(doc, int(t.start), int(t.end), keys[i % len(keys)], f"coder{i % 3}")
                        for i, t in enumerate(picks.itertuples()))
    return project


def best_of(repeat: int, call) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=20_000)
    parser.add_argument("--codings", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = build(Path(tmp), args.words, args.codings)
        doc = project.document_id("long_interview.txt")
        baseline = best_of(args.repeat, lambda: (project.text(doc), project.turns(doc), project.codings(document=doc)))
        browser = best_of(args.repeat, lambda: DocumentBrowser(project, doc, coder="bench"))
        project.close()
    print(f"words {args.words}, codings {args.codings}")
    print(f"baseline (text, turns, codings read): {baseline * 1000:.1f} ms")
    print(f"DocumentBrowser opened:               {browser * 1000:.1f} ms")
    print(f"ratio browser / baseline:             {browser / baseline:.2f}")


if __name__ == "__main__":
    main()
