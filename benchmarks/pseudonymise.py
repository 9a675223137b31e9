"""Identifier detection: recall and precision per identifier type, and words per second.

Runs qualcode's detector (``qualcode.privacy.Detector``, the one ``pseudonymise
detect`` uses) over the labelled set in ``benchmarks/data/names/`` (fictional case
notes, interviews and audit forms with every identifier marked ``[[text|TYPE]]``) in
two set-ups: the rules alone (``--model none``) and rules with the installed
statistical NER model (the default). Recall counts a marked identifier as found only
when all its letters lie under detections; precision counts a detection as correct
when it overlaps a marked identifier.

Speed: the set is repeated to ``--words`` words and timed three times (best of three),
with the bare spaCy model's ``pipe`` over the same texts as the same-process baseline.

    python benchmarks/pseudonymise.py [--words 50000] [--misses]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from qualcode.privacy import Detector
from qualcode.privacy.scoring import false_alarms, misses, read_marked, score

DATA = Path(__file__).resolve().parent / "data" / "names"


def evaluate(model: str | None, folder: Path = DATA) -> tuple[object, list, list, Detector]:
    """(score table, misses, false alarms, detector) for one set-up on the labelled set."""
    items = read_marked(folder)
    detector = Detector(model=model)
    found = [detector.find(item.text) for item in items]
    return score(items, found), misses(items, found), false_alarms(items, found), detector


def _best(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def speed(detector: Detector, words: int, folder: Path = DATA) -> dict[str, float]:
    """Words per second of ``detector.find`` and of the bare model's pipe on the same texts."""
    texts = [item.text for item in read_marked(folder)]
    per_round = sum(len(t.split()) for t in texts)
    corpus = texts * max(1, words // per_round)
    total = per_round * max(1, words // per_round)
    out = {"words": total, "detector": total / _best(lambda: [detector.find(t) for t in corpus])}
    if detector.ner is not None:
        out["bare model"] = total / _best(lambda: list(detector.ner.pipe(corpus, batch_size=16)))
        out["ratio"] = out["detector"] / out["bare model"]
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--words", type=int, default=50_000, help="words to time (the set, repeated)")
    parser.add_argument("--misses", action="store_true", help="list every miss and false alarm")
    args = parser.parse_args(argv)
    for model in (None, "auto"):
        table, missed, alarms, detector = evaluate(model)
        print(f"\n== {'rules only' if model is None else 'rules + NER model ' + str(detector.model_name)}")
        print(table.to_string(index=False))
        figures = speed(detector, args.words)
        line = f"speed: {figures['detector']:,.0f} words/s over {figures['words']:,} words"
        if "ratio" in figures:
            line += (f"; bare model {figures['bare model']:,.0f} words/s; "
                     f"detector/bare model = {figures['ratio']:.2f}")
        print(line)
        if args.misses:
            for name, g in missed:
                print(f"  missed {g.type:<8} {g.text!r} ({name})")
            for name, s in alarms:
                print(f"  false alarm {s.type:<8} {s.text!r} ({name}, {s.rule})")


if __name__ == "__main__":
    main()
