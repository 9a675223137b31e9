"""Auto-coding past one process: documents parsed and matched on Dask workers.

``autocode(..., workers=N)`` starts a local Dask cluster of N single-threaded worker
processes (on 127.0.0.1 only); ``scheduler="tcp://host:8786"`` uses a cluster a team
already runs (every worker needs qualcode and the same spaCy pipeline installed).

How the work is split, and why (measured on 2 cores: see the README's Dask section):
- The documents go out in partitions of about ``PARTITION_WORDS`` words, at most
  ``2 x workers`` partitions in flight: memory stays bounded however large the corpus,
  and no process ever holds all of it. Partitions are large (150,000 words, a fraction of a
  worker's time) because Dask costs milliseconds per task.
- Workers on this machine reading an SQLite project read their partition's texts and
  turns from the file themselves; this process only sends document ids. Otherwise (a
  remote cluster, a PostgreSQL project) this process reads each partition and sends it.
- Each worker builds the spaCy pipeline and the codebooks' matchers once (cached for
  the codebooks' bytes) and returns the partition's rows ready to insert
  (``suggestion_rows.document_rows``: provenance JSON, snippet and all).
- Everything crosses between processes as one pickled ``bytes`` object per task:
  Dask then ships it as it is instead of walking thousands of nested tuples.
- Results are taken back in document order and written by this process alone, in
  batches inside one transaction, through the same writer as a run in one process;
  so a run on a cluster writes exactly the suggestions a single-process run writes,
  and this process does little besides inserting.

Needs ``pip install 'qualcode[dask]'``; without ``workers`` or ``scheduler`` nothing
here is imported and Dask is not needed.

>>> partitions_of([(1, 30_000), (2, 5_000), (3, 5_000), (4, 40_000)], words=20_000)
[[1], [2, 3, 4]]
"""

from __future__ import annotations

import hashlib
import pickle
import resource
import socket
import uuid
from collections import deque
from pathlib import Path
from urllib.parse import urlparse
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from .errors import DaskUnavailable

if TYPE_CHECKING:  # pragma: no cover
    from .autocode import AutocodeResult, _CodeFilter, _DocumentInfo
    from .codebook import Codebook
    from .project import Project
    from .suggestion_rows import RowPlan

PARTITION_WORDS = 150_000  # ~0.15 s of a worker: fewer tasks cut Dask's cost (50k: 1.16-1.34 CPU-s of workers per 1M words, 150k: 1.02-1.04)
IN_FLIGHT_PER_WORKER = 2  # partitions queued per worker: busy workers, bounded memory
CONNECT_TIMEOUT = "20s"  # to reach a scheduler given by address


def partitions_of(sizes: list[tuple[int, int]], words: int = PARTITION_WORDS) -> list[list[int]]:
    """Group ``(document id, words)`` in order into runs of about ``words`` words each."""
    out: list[list[int]] = []
    current: list[int] = []
    total = 0
    for doc_id, n in sizes:
        current.append(doc_id)
        total += n
        if total >= words:
            out.append(current)
            current, total = [], 0
    if current:
        out.append(current)
    return out


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise DaskUnavailable(
            "auto-coding with --workers or --scheduler needs Dask. Fix: pip install 'qualcode[dask]', "
            "or leave both out to run in this process."
        ) from None
    return distributed


def open_client(workers: int | None = None, scheduler: str | None = None):
    """A Dask client: on the scheduler at ``scheduler``, or on a new local cluster of ``workers``."""
    distributed = _import_distributed()
    if scheduler:
        try:
            return distributed.Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise DaskUnavailable(
                f"cannot reach the Dask scheduler at {scheduler} ({exc}). Fix: check the address "
                "(e.g. tcp://10.0.0.5:8786) and that `dask scheduler` is running there."
            ) from None
    if workers is None or workers < 1:
        raise DaskUnavailable(f"--workers {workers}: give one worker or more, e.g. --workers 2.")
    return distributed.Client(local_cluster(workers))


# Dask's Nanny starts each worker with MALLOC_TRIM_THRESHOLD_=65536, so glibc hands
# freed memory back to the system at once; spaCy and matching allocate and free so much
# that this cost a fifth to a third more CPU per partition (measured in one process with
# and without it: 1.20-1.43 s against 0.98-1.01 s). Partitions keep memory bounded anyway.
WORKER_ENVIRON = {"OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1}

# A local cluster's housekeeping, slowed: every scheduler, nanny and worker wakes every
# 20 ms to check its event loop is not blocked, every 500 ms to sample CPU, network and
# disk for the dashboard, and every 100 ms to read its memory. Measured on 1M words:
# the cluster's threads other than the workers' computing ones used 0.22-0.28 CPU
# seconds a run with Dask's defaults and 0.11-0.12 with these. The memory limit is
# still enforced, within a second instead of a tenth.
LOCAL_CLUSTER_CONFIG = {
    "distributed.worker.profile.enabled": False,  # a sampling profiler for the dashboard, every 10 ms
    "distributed.nanny.pre-spawn-environ": WORKER_ENVIRON,  # no memory trimming (above)
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
}


def local_cluster(workers: int):
    """A local cluster of ``workers`` single-threaded processes, on 127.0.0.1 only,
    with Dask's housekeeping slowed (``LOCAL_CLUSTER_CONFIG``).

    No dashboard; the scheduler's small HTTP server (health checks) takes any free port,
    so a Dask dashboard already on 8787 (JupyterLab's, say) brings no warning.
    """
    import dask
    import distributed

    with dask.config.set(LOCAL_CLUSTER_CONFIG):
        return distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                        host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                        scheduler_kwargs={"dashboard": False}, silence_logs=40)


def worker_count(client, default: int = 1) -> int:
    """How many workers the client's scheduler has now (``default`` if it does not say)."""
    return max(1, len(client.scheduler_info().get("workers", {})) or default)


def ordered_results(client, fn, tasks: Iterable[tuple], window: int | None = None) -> Iterator[Any]:
    """``fn(*args)`` on the workers for each ``args`` of ``tasks``, yielded in order.

    At most ``window`` tasks (default ``IN_FLIGHT_PER_WORKER`` per worker) are in flight,
    and ``tasks`` is read only as they finish, so a generator that reads partitions from
    the store keeps only that many in memory.
    """
    window = window or IN_FLIGHT_PER_WORKER * worker_count(client)
    queued: deque = deque()
    for args in tasks:
        queued.append(client.submit(fn, *args, pure=False))
        while len(queued) >= window:
            yield _result(queued.popleft())
    while queued:
        yield _result(queued.popleft())


def _result(future) -> Any:
    value = future.result()
    future.release()
    return value


def close_client(client) -> None:
    cluster = getattr(client, "cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()


# -- on the workers -----------------------------------------------------------------

_WORKER_CACHE: dict[str, Any] = {}
_WORKER_STORE: dict[tuple[str, str], Any] = {}


def _rules_on_worker(spec: bytes):
    """The pipeline, matchers and row plan for this spec, built once per worker process."""
    key = hashlib.sha256(spec).hexdigest()
    if key not in _WORKER_CACHE:
        from .matchers import RuleSet
        from .nlp import load_pipeline

        books, model, plan = pickle.loads(spec)
        nlp = load_pipeline(model)
        _WORKER_CACHE.clear()  # one codebook set at a time: bounded memory
        _WORKER_CACHE[key] = (nlp, RuleSet.build(books, nlp), plan)
    return _WORKER_CACHE[key]


def warm_up(spec: bytes) -> None:
    """Build this spec's pipeline and matchers now (``client.run(warm_up, spec)``)."""
    _rules_on_worker(spec)


def _project_on_worker(location: str, run: str):
    """The SQLite project at ``location``, opened once per worker and run (reads only).

    Opened afresh for each run (``run`` is the run's token), so a file replaced between
    runs is never read through an old connection.
    """
    if (location, run) not in _WORKER_STORE:
        from .project import Project

        for project in _WORKER_STORE.values():
            project.close()
        _WORKER_STORE.clear()
        _WORKER_STORE[location, run] = Project.open(location)
    return _WORKER_STORE[location, run]


def release_project(location: str, run: str) -> None:
    """Close this worker's connection to a run's project (``client.run`` after the run).

    A cluster kept running would otherwise hold the file open until its next run, and
    SQLite leaves the ``-wal`` and ``-shm`` files beside a project while anyone does.
    """
    project = _WORKER_STORE.pop((location, run), None)
    if project is not None:
        project.close()


def code_partition(spec: bytes, job: bytes) -> bytes:
    """Parse and match one partition on a worker; the pickled ``([(document id, rows)], vetoed)``.

    ``job`` is a pickled ``("items", items)``, ``items`` being ``(document id, text,
    turns, codes that apply)``, or ``("store", location, run token, [(document id, codes
    that apply)])`` for a worker that reads the texts and turns from the SQLite file itself.
    """
    from .autocode import _fewer_gc_pauses
    from .suggestion_rows import document_rows, text_to_parse

    nlp, rules, plan = _rules_on_worker(spec)
    source, *payload = pickle.loads(job)
    out, vetoed = [], 0
    with _fewer_gc_pauses():  # as in one process: matching makes many short-lived objects
        items = _read_items(_project_on_worker(*payload[:2]), payload[2]) if source == "store" else payload[0]
        views = [text_to_parse(text, turns, rules, allowed) for _, text, turns, allowed in items]
        for doc, view, (doc_id, text, turns, allowed) in zip(nlp.pipe(views, batch_size=32), views, items):
            rows, dropped = document_rows(doc, text, doc_id, turns, rules, allowed, plan, parsed=view)
            out.append((doc_id, rows))
            vetoed += dropped
        return pickle.dumps((out, vetoed), protocol=pickle.HIGHEST_PROTOCOL)


def peak_memory() -> int:
    """This process's peak resident memory in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# -- in this process ----------------------------------------------------------------


def _read_items(project: "Project", wanted: list[tuple[int, frozenset[int]]]) -> list[tuple[int, str, list, frozenset[int]]]:
    """``(document id, text, turns, codes that apply)`` for each wanted document, in order."""
    from .segments import load_turns

    ids = [doc_id for doc_id, _ in wanted]
    allowed = dict(wanted)
    turns = load_turns(project, ids)
    return [(doc_id, text, turns.get(doc_id, []), allowed[doc_id]) for doc_id, text in project.iter_texts(ids)]


def _this_machine() -> set[str]:
    names = {"127.0.0.1", "localhost", "::1"}
    try:
        host = socket.gethostname()
        names |= {host, *socket.gethostbyname_ex(host)[2]}
    except OSError:
        pass
    return names


def workers_share_this_disk(client) -> bool:
    """Whether every worker runs on this machine, so it can open the project file itself."""
    hosts = {urlparse(address).hostname for address in client.scheduler_info().get("workers", {})}
    return bool(hosts) and hosts <= _this_machine()


def rules_spec(books: list["Codebook"], model: str | None, plan: "RowPlan") -> bytes:
    """What a worker needs to code: the codebooks, the model's name and the row plan."""
    return pickle.dumps((books, model, plan), protocol=pickle.HIGHEST_PROTOCOL)


def partition_jobs(project: "Project", infos: list["_DocumentInfo"], allowed: "_CodeFilter", on_disk: str | None,
                   run: str, words: int | None = None) -> Iterator[bytes]:
    """Each partition's job for ``code_partition``, read lazily: document ids for workers
    that open the SQLite file at ``on_disk`` themselves, else the texts and turns."""
    by_id = {i.id: i for i in infos}
    for ids in partitions_of([(i.id, i.words) for i in infos], words or PARTITION_WORDS):
        wanted = [(doc_id, allowed.codes_for(by_id[doc_id])) for doc_id in ids]
        job = ("store", on_disk, run, wanted) if on_disk else ("items", _read_items(project, wanted))
        yield pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)


def suggest_on_cluster(project: "Project", infos: list["_DocumentInfo"], allowed: "_CodeFilter",
                       books: list["Codebook"], model: str | None, plan: "RowPlan", result: "AutocodeResult",
                       workers: int | None = None, scheduler: str | None = None,
                       client=None, partition_words: int | None = None) -> Iterator[tuple[int, list[tuple]]]:
    """``(document id, its suggestion rows)`` in document order, computed on Dask workers.

    ``client`` reuses an open Dask client (the benchmark keeps one across runs);
    otherwise one is opened from ``workers``/``scheduler`` and closed at the end.
    """
    own = client is None
    if own:
        client = open_client(workers, scheduler)
    on_disk, run = None, uuid.uuid4().hex
    try:
        [spec] = client.scatter([rules_spec(books, model, plan)], broadcast=True)  # once per worker
        if project.engine.dialect.name == "sqlite" and workers_share_this_disk(client):
            on_disk = str(Path(project.location).resolve())

        jobs = ((spec, job) for job in partition_jobs(project, infos, allowed, on_disk, run, partition_words))
        for blob in ordered_results(client, code_partition, jobs):
            found, vetoed = pickle.loads(blob)
            result.vetoed += vetoed
            yield from found
    finally:
        if on_disk:  # a cluster kept running lets go of the file now, not at its next run
            client.run(release_project, on_disk, run, on_error="ignore")
        if own:
            close_client(client)
