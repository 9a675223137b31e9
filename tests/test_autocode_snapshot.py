"""Auto-coding suggests exactly what it suggested before the speed work (issue 18).

The snapshots in tests/snapshots/ were written by the code before the single-process
speed work; every field of every suggestion and of its create event must match, on the
demo corpus and on the benchmark's synthetic corpus (misspellings, vetoes, regexes).
"""

from __future__ import annotations

import pytest

import autocode_snapshot as snapshot


def _first_difference(got: list[dict], want: list[dict]) -> str:
    for i, (a, b) in enumerate(zip(got, want)):
        if a != b:
            fields = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            return f"row {i} differs in {fields}: got {[a.get(k) for k in fields]}, want {[b.get(k) for k in fields]}"
    return f"{len(got)} rows, {len(want)} expected"


@pytest.mark.parametrize("name", ["demo", "bench"])
def test_suggestions_match_the_snapshot(name, tmp_path):
    make = {"demo": snapshot.demo_suggestions, "bench": snapshot.bench_suggestions}[name]
    got, want = make(tmp_path), snapshot.load(name)
    assert len(want) > 1000  # both corpora give enough suggestions to matter
    assert got == want, _first_difference(got, want)
