"""What auto-coding suggests on two corpora, as plain rows, to hold speed work to the same output.

``tests/test_autocode_snapshot.py`` compares a run of today's code with the rows kept in
``tests/snapshots/`` (written by the code before the single-process speed work of issue 18).
Every field a reviewer or an export sees is kept: span, code, confidence, method,
provenance (the stored JSON text, key order included), explanation, snippet, and the
create event's JSON; timestamps are left out.

When a change to the matching rules *means* to change suggestions, write the snapshots
again and review the diff like any other change:

    .venv/bin/python tests/autocode_snapshot.py
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
BENCH_WORDS = 30_000  # the benchmark's corpus generator, at a size a test runs in seconds

CODING_FIELDS = ("document_id", "code", "start", "end", "status", "confidence", "method", "provenance",
                 "explanation", "codebook_version", "direction", "snippet")


def _bench():
    spec = importlib.util.spec_from_file_location("autocode_bench_snapshot", REPO / "benchmarks" / "autocode.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def demo_suggestions(folder: Path) -> list[dict]:
    """Rule suggestions on the demo project (corpus/, the shipped codebooks, the human codings)."""
    from qualcode.autocode import autocode
    from qualcode.demo import build_demo_project

    with build_demo_project(folder / "demo.qc") as project:
        books = _demo_books()
        autocode(project, books, progress=False)
        return rows_of(project)


def _demo_books() -> list:
    from qualcode.codebook import load_codebook
    from qualcode.demo import CODEBOOK_FILES, CODEBOOKS

    return [load_codebook(CODEBOOKS / name) for name in CODEBOOK_FILES]


def bench_suggestions(folder: Path) -> list[dict]:
    """Rule suggestions on the benchmark's synthetic corpus (misspellings, vetoes, regexes)."""
    from qualcode.autocode import autocode

    bench = _bench()
    books = bench.codebooks()
    with bench.build_project(folder, BENCH_WORDS, books) as project:
        autocode(project, books, progress=False)
        return rows_of(project)


def rows_of(project) -> list[dict]:
    """The ``rules`` coder's codings with their create events, in id order, raw from the store."""
    import sqlalchemy as sa

    sql = sa.text(
        "SELECT k.id, k.document_id, c.key AS code, k.start, k.\"end\", k.status, k.confidence, k.method, "
        "k.provenance, k.explanation, k.codebook_version, k.direction, k.snippet, e.actor, e.after "
        "FROM codings k JOIN codes c ON c.id = k.code_id JOIN coders r ON r.id = k.coder_id "
        "JOIN coding_events e ON e.coding_id = k.id AND e.action = 'create' "
        "WHERE r.name = 'rules' ORDER BY k.id")
    with project.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sql)]
    for row in rows:
        after = json.loads(row.pop("after"))
        for volatile in ("created_at", "updated_at"):
            after.pop(volatile, None)
        row["event"] = after
    return rows


def load(name: str) -> list[dict]:
    with gzip.open(SNAPSHOTS / f"autocode_{name}.jsonl.gz", "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def save(name: str, rows: list[dict]) -> Path:
    SNAPSHOTS.mkdir(exist_ok=True)
    path = SNAPSHOTS / f"autocode_{name}.jsonl.gz"
    with gzip.GzipFile(path, "wb", mtime=0) as raw:  # mtime 0: the same rows give the same bytes
        for row in rows:
            raw.write((json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8"))
    return path


if __name__ == "__main__":
    import tempfile

    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in (("demo", demo_suggestions), ("bench", bench_suggestions)):
            folder = Path(tmp) / name
            folder.mkdir()
            rows = make(folder)
            print(f"{save(name, rows)}: {len(rows)} suggestions")
