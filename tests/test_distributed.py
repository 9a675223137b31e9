"""Auto-coding on a Dask cluster writes exactly what a single-process run writes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qualcode import Project
from qualcode import distributed as dist
from qualcode.autocode import autocode
from qualcode.corpus import import_paths
from qualcode.errors import DaskUnavailable

pytest.importorskip("distributed", reason="Dask is not installed: pip install -e '.[test]' brings it")

REPO = Path(__file__).resolve().parents[1]
CODEBOOKS = [REPO / "codebooks" / "dfe_practice_features.yaml", REPO / "codebooks" / "signs_of_safety.yaml"]


@pytest.fixture(scope="module")
def cluster():
    """A local cluster of two worker processes, shared by this module's tests."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, silence_logs=40) as running:
        yield running


@pytest.fixture
def imported(tmp_path) -> Path:
    """The demo interviews imported once; each run codes its own copy."""
    location = tmp_path / "imported.qc"
    with Project.create(location) as project:
        import_paths(project, [REPO / "corpus" / "interviews"], progress=False)
    return location


def _copy(imported: Path, name: str) -> Path:
    dest = imported.with_name(name)
    shutil.copy(imported, dest)
    return dest


def _written(location: Path):
    """Every suggestion and its create event, without the timestamps."""
    with Project.open(location) as project:
        codings = project.codings().drop(columns=["created_at", "updated_at"])
        events = project.coding_events().drop(columns=["at"])
    return codings, events


def test_a_cluster_run_writes_what_a_single_process_run_writes(imported, cluster, monkeypatch):
    here = autocode(Project.open(_copy(imported, "here.qc")), CODEBOOKS, progress=False)
    monkeypatch.setattr(dist, "PARTITION_WORDS", 3_000)  # many partitions, taken back out of order
    there = autocode(Project.open(_copy(imported, "there.qc")), CODEBOOKS, progress=False,
                     scheduler=cluster.scheduler_address)
    assert here.suggestions > 50
    assert (there.suggestions, there.vetoed, there.per_code) == (here.suggestions, here.vetoed, here.per_code)
    codings_here, events_here = _written(imported.with_name("here.qc"))
    codings_there, events_there = _written(imported.with_name("there.qc"))
    assert codings_there.equals(codings_here)
    assert events_there.equals(events_here)
    # a second run on the cluster finds everything already there
    again = autocode(Project.open(imported.with_name("there.qc")), CODEBOOKS, progress=False,
                     scheduler=cluster.scheduler_address)
    assert again.suggestions == 0 and again.already_present == here.suggestions


def test_partitions_follow_document_order_and_size():
    assert dist.partitions_of([(5, 100), (6, 100), (9, 100)], words=150) == [[5, 6], [9]]
    assert dist.partitions_of([], words=10) == []


def test_cli_workers_runs_a_local_cluster(imported):
    single = _copy(imported, "single.qc")
    autocode(Project.open(single), CODEBOOKS, progress=False)
    target = _copy(imported, "cli.qc")
    args = [sys.executable, "-m", "qualcode", "autocode", str(target), "--workers", "2", "--json"]
    for book in CODEBOOKS:
        args += ["--codebook", str(book)]
    done = subprocess.run(args, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["suggestions"] == len(Project.open(single).codings())
    assert _written(target)[0].equals(_written(single)[0])


def test_an_unreachable_scheduler_is_a_clear_error(imported, monkeypatch):
    monkeypatch.setattr(dist, "CONNECT_TIMEOUT", "2s")
    target = _copy(imported, "nowhere.qc")
    with pytest.raises(DaskUnavailable, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        autocode(Project.open(target), CODEBOOKS, progress=False, scheduler="tcp://127.0.0.1:9")
    assert Project.open(target).codings().empty


def test_without_dask_the_error_names_the_extra(imported, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(DaskUnavailable, match=r"pip install 'qualcode\[dask\]'"):
        autocode(Project.open(_copy(imported, "nodask.qc")), CODEBOOKS, progress=False, workers=2)
