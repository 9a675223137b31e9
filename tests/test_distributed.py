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


@pytest.mark.parametrize("workers_read_the_file", [True, False], ids=["workers-read-the-file", "texts-shipped"])
def test_a_cluster_run_writes_what_a_single_process_run_writes(imported, cluster, monkeypatch, workers_read_the_file):
    here = autocode(Project.open(_copy(imported, "here.qc")), CODEBOOKS, progress=False)
    monkeypatch.setattr(dist, "PARTITION_WORDS", 3_000)  # many partitions, taken back out of order
    from distributed import Client

    with Client(cluster.scheduler_address) as client:
        assert dist.workers_share_this_disk(client)  # a local cluster: they could read it
    if not workers_read_the_file:  # as on a remote cluster: this process reads and sends the texts
        monkeypatch.setattr(dist, "workers_share_this_disk", lambda client: False)
    sent = []
    real_dumps = dist.pickle.dumps
    monkeypatch.setattr(dist.pickle, "dumps", lambda obj, **kw: sent.append(obj) or real_dumps(obj, **kw))
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
    jobs = [obj[0] for obj in sent if isinstance(obj, tuple) and obj and obj[0] in ("store", "items")]
    assert len(jobs) > 5 and set(jobs) == {"store" if workers_read_the_file else "items"}


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


# -- pseudonymise detect ------------------------------------------------------------


def test_detect_on_a_cluster_finds_what_detect_in_process_finds(imported, cluster, tmp_path, monkeypatch):
    """Both passes (scan, then every further occurrence) run on the workers, in small partitions."""
    import qualcode.privacy as ps
    from qualcode.privacy import passes
    from qualcode.privacy.detection import _documents

    names = tmp_path / "names.csv"
    names.write_text("name,type,label\nKerry Ashdown,parent,\nLee Brannigan,staff,\n", encoding="utf-8")
    with Project.open(imported) as project:
        here = ps.detect(project, names=names)
        monkeypatch.setattr(passes, "PARTITION_WORDS", 2_000)  # many partitions, names found across them
        assert len(list(passes.partitions_by_words(_documents(project, None)))) > 5
        there = ps.detect(project, names=names, scheduler=cluster.scheduler_address)
    assert here.model and there.model == here.model
    assert len(here.rows) > 100 and {r.rule for r in here.rows} >= {"name variant", "speaker label"}
    assert there.to_frame().equals(here.to_frame())


def test_results_come_back_in_order_with_few_partitions_in_flight(cluster):
    from distributed import Client

    pulled = []

    def tasks():
        for i in range(12):
            pulled.append(i)
            yield (i,)

    with Client(cluster.scheduler_address) as client:
        seen = []
        for value in dist.ordered_results(client, _square_slowly, tasks(), window=3):
            seen.append((value, len(pulled)))
    assert [v for v, _ in seen] == [i * i for i in range(12)]
    assert all(n <= i + 3 for i, (_, n) in enumerate(seen))  # never more than 3 read ahead of the consumer


def _square_slowly(i: int) -> int:
    import random
    import time

    time.sleep(random.random() / 20)  # finish out of order
    return i * i


def test_cli_detect_with_workers(imported, tmp_path):
    out = tmp_path / "detections.csv"
    done = subprocess.run([sys.executable, "-m", "qualcode", "pseudonymise", "detect", str(imported), "--model", "none",
                           "--workers", "2", "--out", str(out), "--json"], capture_output=True, text=True, cwd=REPO,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    import qualcode.privacy as ps

    with Project.open(imported) as project:
        here = ps.detect(project, model=None)
    assert json.loads(done.stdout)["detections"] == len(here.rows)
    assert out.read_text(encoding="utf-8") == _csv_of(here, tmp_path)


def _csv_of(found, tmp_path: Path) -> str:
    path = tmp_path / "here.csv"
    found.write_csv(path)
    return path.read_text(encoding="utf-8")


def _housekeeping_intervals(dask_worker=None, dask_scheduler=None) -> dict[str, float]:
    server = dask_worker or dask_scheduler
    return {name: server.periodic_callbacks[name].callback_time for name in ("tick", "monitor")}


def test_a_local_cluster_leaves_port_8787_alone_wakes_seldom_and_still_watches_memory():
    import socket
    import warnings

    from distributed import Client

    taken = socket.socket()
    try:
        taken.bind(("127.0.0.1", 8787))  # as a dashboard already running would (else something else has it)
    except OSError:
        pass
    with warnings.catch_warnings(), taken:
        warnings.simplefilter("error", UserWarning)  # "Port 8787 is already in use" would fail here
        cluster = dist.local_cluster(1)
    with cluster, Client(cluster) as client:
        workers = client.run(_housekeeping_intervals)
        nannies = client.run(_housekeeping_intervals, nanny=True)
        scheduler = client.run_on_scheduler(_housekeeping_intervals)
        memory = client.run(lambda dask_worker: dask_worker.periodic_callbacks["memory_monitor"].callback_time,
                            nanny=True)
    for intervals in [*workers.values(), *nannies.values(), scheduler]:
        assert intervals == {"tick": 1000, "monitor": 5000}  # Dask's defaults: 20 ms and 500 ms
    assert list(memory.values()) == [1000]  # the memory limit is still enforced, every second


def test_a_cluster_kept_running_lets_go_of_the_project_after_a_run(imported, cluster):
    location = _copy(imported, "kept.qc")
    with Project.open(location) as project:
        assert autocode(project, CODEBOOKS, progress=False, scheduler=cluster.scheduler_address).suggestions > 50
    # SQLite removes these when the last connection closes; a worker still holding one would keep them
    assert not location.with_name("kept.qc-wal").exists() and not location.with_name("kept.qc-shm").exists()
