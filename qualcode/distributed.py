"""Auto-coding past one process: documents parsed and matched on Dask workers.

``autocode(..., workers=N)`` starts a local Dask cluster of N single-threaded worker
processes (on 127.0.0.1 only); ``scheduler="tcp://host:8786"`` uses a cluster a team
already runs (every worker needs qualcode and the same spaCy pipeline installed).

How the work is split, and why:
- This process reads the documents partition by partition (about ``PARTITION_WORDS``
  words each, with their speaker turns) and hands each partition to a worker, keeping
  at most ``2 x workers`` partitions in flight: memory stays bounded however large the
  corpus, and no process ever holds all of it.
- Each worker builds the spaCy pipeline and the codebooks' matchers once (cached for
  the codebooks' bytes) and returns the partition's suggestions, which are small next
  to the text.
- Results are taken back in document order and written by this process alone, in
  batches inside one transaction, through the same writer as a run in one process;
  so a run on a cluster writes exactly the suggestions a single-process run writes.

Needs ``pip install 'qualcode[dask]'``; without ``workers`` or ``scheduler`` nothing
here is imported and Dask is not needed.

>>> partitions_of([(1, 30_000), (2, 5_000), (3, 5_000), (4, 40_000)], words=20_000)
[[1], [2, 3, 4]]
"""

from __future__ import annotations

import hashlib
import pickle
import resource
from collections import deque
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from .errors import DaskUnavailable

if TYPE_CHECKING:  # pragma: no cover
    from .autocode import AutocodeResult, _CodeFilter, _DocumentInfo
    from .codebook import Codebook
    from .project import Project
    from .suggestion_rows import RowPlan

PARTITION_WORDS = 20_000  # a partition is a few seconds of one worker's time
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
    cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None, silence_logs=40)
    return distributed.Client(cluster)


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

_WORKER_CACHE: dict[tuple[str, str | None], Any] = {}


def _rules_on_worker(books_blob: bytes, model: str | None):
    """The pipeline and matchers for these codebooks, built once per worker process."""
    key = (hashlib.sha256(books_blob).hexdigest(), model)
    if key not in _WORKER_CACHE:
        from .matchers import RuleSet
        from .nlp import load_pipeline

        books = pickle.loads(books_blob)
        nlp = load_pipeline(model)
        _WORKER_CACHE.clear()  # one codebook set at a time: bounded memory
        _WORKER_CACHE[key] = (nlp, RuleSet.build(books, nlp))
    return _WORKER_CACHE[key]


def code_partition(books_blob: bytes, model: str | None, plan: "RowPlan",
                   items: list[tuple[int, str, list, frozenset[int]]]) -> tuple[list[tuple[int, list[tuple]]], int]:
    """Parse and match one partition: ``(document id, suggestion rows)`` in order, and segments vetoed.

    Runs on a worker; ``items`` are ``(document id, text, turns, codes that apply)``. The
    rows are ready to insert (``suggestion_rows.document_rows``): the writer only adds
    ids, coder and timestamps.
    """
    from .suggestion_rows import document_rows, text_to_parse

    nlp, rules = _rules_on_worker(books_blob, model)
    out, vetoed = [], 0
    views = [text_to_parse(text, turns, rules, allowed) for _, text, turns, allowed in items]
    for doc, view, (doc_id, text, turns, allowed) in zip(nlp.pipe(views, batch_size=32), views, items):
        rows, dropped = document_rows(doc, text, doc_id, turns, rules, allowed, plan, parsed=view)
        out.append((doc_id, rows))
        vetoed += dropped
    return out, vetoed


def peak_memory() -> int:
    """This process's peak resident memory in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# -- in this process ----------------------------------------------------------------


def _read_partition(project: "Project", ids: list[int], allowed: "_CodeFilter",
                    by_id: dict[int, "_DocumentInfo"]) -> list[tuple[int, str, list, frozenset[int]]]:
    from .segments import load_turns

    turns = load_turns(project, ids)
    return [(doc_id, text, turns.get(doc_id, []), allowed.codes_for(by_id[doc_id]))
            for doc_id, text in project.iter_texts(ids)]


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
    try:
        blob = pickle.dumps(books)
        by_id = {i.id: i for i in infos}
        n_workers = max(1, len(client.scheduler_info().get("workers", {})) or (workers or 1))
        window = IN_FLIGHT_PER_WORKER * n_workers
        queued: deque = deque()
        for ids in partitions_of([(i.id, i.words) for i in infos], partition_words or PARTITION_WORDS):
            items = _read_partition(project, ids, allowed, by_id)
            queued.append(client.submit(code_partition, blob, model, plan, items, pure=False))
            while len(queued) >= window:
                yield from _collect(queued.popleft(), result)
        while queued:
            yield from _collect(queued.popleft(), result)
    finally:
        if own:
            close_client(client)


def _collect(future, result: "AutocodeResult") -> list[tuple[int, list[tuple]]]:
    found, vetoed = future.result()
    future.release()
    result.vetoed += vetoed
    return found
