"""Benchmark: auto-coding into PostgreSQL against auto-coding into SQLite, in one run.

The same synthetic corpus as ``benchmarks/autocode.py`` is imported once into SQLite,
copied (``qualcode copy``) into a fresh PostgreSQL database for every run, and
auto-coded there and in a fresh copy of the SQLite file, runs interleaved, best of
``--repeat``. Times are wall seconds: the PostgreSQL server does its share of the work
in its own processes, which this process's CPU time would not see. The target is a
ratio of at most 1.5 (PostgreSQL time / SQLite time). Usage:

    python benchmarks/autocode_postgres.py                      # 100k and 1M words, own server
    python benchmarks/autocode_postgres.py --sizes 100k --repeat 2
    python benchmarks/autocode_postgres.py --server-url postgresql://me@/postgres?host=/run/postgresql

Without ``--server-url`` it starts a throwaway server from the system's PostgreSQL
binaries (as ``tests/postgres_server.py`` does for the suite) and stops it after.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "tests"))

from autocode import build_project, codebooks, parse_size  # noqa: E402

from qualcode import Project  # noqa: E402
from qualcode.autocode import autocode  # noqa: E402
from qualcode.team.copy import copy_project  # noqa: E402


class Databases:
    """Fresh databases on a server: our own throwaway one, or one the user names."""

    def __init__(self, server_url: str | None):
        import sqlalchemy as sa

        self.own = None
        if server_url is None:
            from postgres_server import start_server

            self.own = start_server()
            server_url = self.own.url("postgres")
        self.admin_url = sa.engine.make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
        self.engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")

    def fresh(self) -> str:
        name = f"bench_{uuid.uuid4().hex[:10]}"
        with self.engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        import sqlalchemy as sa

        name = sa.engine.make_url(url).database
        with self.engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        self.engine.dispose()
        if self.own is not None:
            self.own.stop()


def timed_autocode(location: str, books) -> tuple[float, int]:
    with Project.open(location) as project:
        started = time.perf_counter()
        result = autocode(project, books, progress=False)
        return time.perf_counter() - started, result.suggestions


def measure(words: int, books, folder: Path, databases: Databases, repeat: int) -> dict:
    built = build_project(folder, words, books)
    imported = Path(built.location)
    built.close()  # folds the WAL into the file before it is copied
    sqlite_s, pg_s, counts = [], [], set()
    for attempt in range(repeat):
        copy = imported.with_name(f"run{attempt}.qc")
        shutil.copy(imported, copy)
        seconds, n = timed_autocode(str(copy), books)
        sqlite_s.append(seconds)
        counts.add(("sqlite", n))
        copy.unlink()
        url = databases.fresh()
        copy_project(imported, url)
        seconds, n = timed_autocode(url, books)
        pg_s.append(seconds)
        counts.add(("postgresql", n))
        databases.drop(url)
    suggestions = {n for _, n in counts}
    if len(suggestions) != 1:
        raise SystemExit(f"the backends wrote different numbers of suggestions: {sorted(counts)}")
    return {"words": words, "suggestions": suggestions.pop(), "sqlite_s": min(sqlite_s), "postgresql_s": min(pg_s),
            "ratio": min(pg_s) / min(sqlite_s), "ratios_each_run": [p / s for p, s in zip(pg_s, sqlite_s)]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100k,1M", help="comma-separated corpus sizes in words")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size and backend; the best is kept")
    parser.add_argument("--server-url", help="a superuser URL on an existing server (default: start our own)")
    args = parser.parse_args(argv)
    books = codebooks()
    databases = Databases(args.server_url)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            rows = [measure(parse_size(s), books, Path(tmp), databases, max(1, args.repeat))
                    for s in args.sizes.split(",") if s.strip()]
    finally:
        databases.close()
    print(f"{'words':>10} {'suggestions':>12} {'sqlite_s':>9} {'postgresql_s':>13} {'ratio':>6} {'median':>7}  each run")
    for r in rows:
        print(f"{r['words']:>10,} {r['suggestions']:>12,} {r['sqlite_s']:>9.2f} {r['postgresql_s']:>13.2f} "
              f"{r['ratio']:>6.2f} {statistics.median(r['ratios_each_run']):>7.2f}  "
              + ", ".join(f"{x:.2f}" for x in r["ratios_each_run"]))
    print("ratio = PostgreSQL wall time / SQLite wall time, best of each (target: at most 1.5); median = the "
          "median of each run's ratio (a run here and one there, back to back), steadier on a busy machine")


if __name__ == "__main__":
    main()
