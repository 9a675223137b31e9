"""Import throughput: words per second for .txt and .docx, against a same-process baseline.

Generates a transcript corpus of at least 1M words in a temp folder, then times
(a) the baseline: reading each file and extracting its text with the bare library
(bytes.decode for .txt, python-docx paragraphs for .docx), and (b) qualcode's full
import (decode, normalise, detect turns, store documents and turns in SQLite).
The ratio (b)/(a) is the figure to watch; absolute numbers vary with the machine.

    python benchmarks/import_bench.py [--words 1000000] [--files 200]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import docx

from qualcode import Project
from qualcode.corpus import import_paths

VOCAB = (
    "um so the family key worker came round every week and we talked about the kids school "
    "housing safety plan group supervision really helped me think about the case differently "
    "caseloads are still too high honestly I spend most of my time on the system not with families "
    "the unit meets on a Tuesday we map what we are worried about what is working well what needs to happen"
).split()


def _turns(rng: random.Random, words: int) -> list[tuple[str, str]]:
    out, total = [], 0
    while total < words:
        n = rng.randint(8, 120)
        speaker = "Interviewer" if len(out) % 2 == 0 else "Respondent"
        out.append((speaker, " ".join(rng.choice(VOCAB) for _ in range(n)) + "."))
        total += n
    return out


def make_corpus(root: Path, words: int, files: int, kind: str, seed: int = 7) -> None:
    rng = random.Random(seed)
    per_file = words // files + 1
    for i in range(files):
        turns = _turns(rng, per_file)
        if kind == "txt":
            (root / f"t{i:04d}.txt").write_text("\n".join(f"{s}: {t}" for s, t in turns), encoding="utf-8")
        else:
            document = docx.Document()
            for s, t in turns:
                document.add_paragraph(f"{s}: {t}")
            document.save(root / f"t{i:04d}.docx")


def baseline(root: Path) -> int:
    words = 0
    for path in sorted(root.iterdir()):
        if path.suffix == ".txt":
            text = path.read_bytes().decode("utf-8")
        else:
            text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
        words += len(text.split())
    return words


def run(kind: str, words: int, files: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / kind
        root.mkdir()
        make_corpus(root, words, files, kind)
        t0 = time.perf_counter()
        n_words = baseline(root)
        t_base = time.perf_counter() - t0
        with Project.create(Path(tmp) / "bench.qc") as project:
            t0 = time.perf_counter()
            report = import_paths(project, [root])
            t_import = time.perf_counter() - t0
            assert report.counts() == {"imported": files}, report.counts()
            stored = int(project.documents()["words"].sum())
    return {"format": kind, "words": stored, "baseline_wps": n_words / t_base,
            "import_wps": stored / t_import, "ratio": (stored / t_import) / (n_words / t_base),
            "seconds": t_import}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=200)
    args = parser.parse_args()
    print(f"{'format':6} {'words':>9} {'baseline w/s':>13} {'import w/s':>11} {'ratio':>6} {'seconds':>8}")
    for kind in ("txt", "docx"):
        r = run(kind, args.words, args.files)
        print(f"{r['format']:6} {r['words']:>9,} {r['baseline_wps']:>13,.0f} {r['import_wps']:>11,.0f} "
              f"{r['ratio']:>6.2f} {r['seconds']:>8.2f}")


if __name__ == "__main__":
    main()
