"""A fast smoke run of benchmarks/autocode.py on ~20k words (the real run is not a test)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "autocode.py"


def _bench():
    spec = importlib.util.spec_from_file_location("autocode_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_codebook_meets_the_issue_sizes():
    bench = _bench()
    books = bench.codebooks()
    assert sum(1 for b in books for c in b.codes if not c.match.is_empty) >= 50
    assert sum(b.n_terms() for b in books) >= 500
    assert bench.parse_size("1M") == 1_000_000 and bench.parse_size("100k") == 100_000


def test_benchmark_runs_end_to_end_on_a_small_corpus(tmp_path):
    bench = _bench()
    (row,) = bench.run([20_000], folder=tmp_path)
    assert 20_000 <= row["words"] < 21_000
    assert row["suggestions"] > 100
    assert row["bare_stock_wps"] > 0 and row["autocode_wps"] > 0
    assert row["ratio_vs_stock"] == pytest.approx(row["autocode_wps"] / row["bare_stock_wps"])
    assert "ratio_vs_stock" in bench.table([row], bench.codebooks())


def test_benchmark_profile_names_where_the_time_goes():
    out = _bench().profile(20_000, top=40)
    assert "tottime" in out and "qualcode/suggestion_rows.py" in out  # document_rows and _row are always near the top


def test_benchmark_workers_compares_a_local_cluster_with_one_process():
    pytest.importorskip("distributed", reason="Dask is not installed: pip install -e '.[test]' brings it")
    out = _bench().run_workers([20_000], workers=2, repeat=1)
    header, row = out.splitlines()[1:3]
    assert header.split()[:5] == ["words", "suggestions", "single_s", "dask_s", "speedup"]
    assert int(row.split()[1].replace(",", "")) > 100  # both runs wrote the same suggestions, or it stops
    assert "start-up, not in the table: cluster" in out
    assert out.count(" MiB") == 3  # two workers and this process
    [line] = [line for line in out.splitlines() if line.startswith("this machine's ceiling: ")]
    ceiling = float(line.rsplit(": ", 1)[1].rstrip("x"))
    assert ceiling > 0  # two workers coding side by side, against one doing it all (noisy under a busy suite)


def test_postgres_benchmark_compares_both_backends_on_a_small_corpus(pg_server, capsys):
    spec = importlib.util.spec_from_file_location("autocode_postgres_bench", BENCH.with_name("autocode_postgres.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--sizes", "20k", "--repeat", "2", "--server-url", pg_server.url("postgres")])
    header, row = capsys.readouterr().out.splitlines()[:2]
    assert header.split()[:6] == ["words", "suggestions", "sqlite_s", "postgresql_s", "ratio", "median"]
    assert int(row.split()[1].replace(",", "")) > 100  # both backends wrote the same suggestions, or it stops
