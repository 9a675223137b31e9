"""Import throughput: words per second for .txt and .docx, against a same-process baseline.

Generates a transcript corpus of at least 1M words in a temp folder, then times
(a) the baseline: reading each file and extracting its text with the bare library
(bytes.decode for .txt, python-docx paragraphs for .docx), and (b) qualcode's full
import (decode, normalise, detect turns, store documents and turns in SQLite).
The ratio (b)/(a) is the figure to watch; absolute numbers vary with the machine.

Then the table case: a case-note extract of ``--rows`` rows (default 1,000,000: note
id, case id, date, author role, note type and a note of 8 to 40 words), imported as one
document per row, against pandas reading the same file (``pandas.read_csv``); both
printed as rows per second.

    python benchmarks/import_bench.py [--words 1000000] [--files 200] [--rows 1000000]
    python benchmarks/import_bench.py --only table --rows 100000
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


ROLES = ("Social Worker", "Key Worker", "Team Manager", "Early Help Worker", "Health Visitor")
NOTE_TYPES = ("case note", "home visit", "family plan review", "supervision", "phone call")


def make_table(path: Path, rows: int, seed: int = 11) -> None:
    """A case-management export: one note per row, written in chunks (no list of a million rows)."""
    import csv

    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["note_id", "case_id", "date", "author_role", "note_type", "text"])
        for i in range(rows):
            note = " ".join(rng.choice(VOCAB) for _ in range(rng.randint(8, 40))).capitalize() + "."
            writer.writerow([f"N{i:07d}", f"C{rng.randint(1, rows // 20 + 1):06d}",
                             f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                             rng.choice(ROLES), rng.choice(NOTE_TYPES), note])


def run_table(rows: int) -> dict[str, float]:
    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case_notes_extract.csv"
        make_table(path, rows)
        t0, c0 = time.perf_counter(), time.process_time()
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        t_pandas, c_pandas = time.perf_counter() - t0, time.process_time() - c0
        assert len(frame) == rows
        del frame
        with Project.create(Path(tmp) / "bench.qc") as project:
            t0, c0 = time.perf_counter(), time.process_time()
            report = import_paths(project, [path], source_type="case note", progress=True)
            t_import, c_import = time.perf_counter() - t0, time.process_time() - c0
            (result,) = report.results
            assert result.status == "imported" and result.documents == rows, result
    return {"rows": rows, "pandas_rps": rows / t_pandas, "import_rps": rows / t_import, "ratio": t_pandas / t_import,
            "seconds": t_import, "cpu_seconds": c_import, "cpu_ratio": c_pandas / c_import}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--only", choices=("text", "table"), help="run only the text formats or only the table")
    args = parser.parse_args()
    if args.only != "table":
        print(f"{'format':6} {'words':>9} {'baseline w/s':>13} {'import w/s':>11} {'ratio':>6} {'seconds':>8}")
        for kind in ("txt", "docx"):
            r = run(kind, args.words, args.files)
            print(f"{r['format']:6} {r['words']:>9,} {r['baseline_wps']:>13,.0f} {r['import_wps']:>11,.0f} "
                  f"{r['ratio']:>6.2f} {r['seconds']:>8.2f}")
    if args.only != "text":
        r = run_table(args.rows)
        print(f"\n{'table':6} {'rows':>9} {'pandas rows/s':>14} {'import rows/s':>14} {'ratio':>6} {'seconds':>8} "
              f"{'cpu s':>7} {'cpu ratio':>9}")
        print(f"{'csv':6} {r['rows']:>9,} {r['pandas_rps']:>14,.0f} {r['import_rps']:>14,.0f} {r['ratio']:>6.2f} "
              f"{r['seconds']:>8.2f} {r['cpu_seconds']:>7.2f} {r['cpu_ratio']:>9.3f}")


if __name__ == "__main__":
    main()
