"""``detect`` partition by partition, in this process or on Dask workers.

Detection looks at the whole corpus twice: a name found in one document is looked for
again in all of them (``_propagate``), and a capitalised word the corpus mostly writes
in lower case is not a name (``_drop_common``). So the documents are read in two
passes, a partition (about ``PARTITION_WORDS`` words) at a time:

1. scan: each partition's rule, cue and model hits, and its word counts;
2. propagate: with what pass 1 found anywhere, each partition's further occurrences.

Between the passes this process merges the small results (hits and word counts);
texts are read from the store one partition at a time and dropped when it is done,
so no process holds the whole corpus. On Dask (``workers`` or ``scheduler``) the
partitions are shipped to workers, at most two per worker in flight, and the results
are taken back in document order, so the detections are the same as in this process.
Each worker builds its detector (the known names and the NER model) once.

>>> list(partitions_by_words([{"id": 1, "words": 40}, {"id": 2, "words": 30}, {"id": 3, "words": 5}], 50))
[[1, 2], [3]]
"""

from __future__ import annotations

import importlib.util
import pickle
import re
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Iterator

import sqlalchemy as sa

from .. import store
from ..errors import InputError
from ..progress import step
from .records import Detection

if TYPE_CHECKING:  # pragma: no cover
    from ..project import Project
    from .detection import Detector

PARTITION_WORDS = 50_000  # a partition is a few seconds of scanning with a model


@dataclass
class ScanPart:
    """What pass 1 found in one partition."""

    rule_hits: list[Detection]
    model_hits: list[Detection]
    lower: Counter[str]
    capital: Counter[str]


def scan_part(detector: "Detector", docs: list[dict[str, Any]]) -> ScanPart:
    """Pass 1 on one partition: every signal's hits, and how often each word is capitalised."""
    from .detection import _word_counts

    rule_hits, model_hits = detector.scan_by_signal(docs)
    return ScanPart(rule_hits, model_hits, *_word_counts(d["text"] for d in docs))


def partitions_by_words(docs: list[dict[str, Any]], words: int | None = None) -> Iterator[list[int]]:
    """Document ids in order, in runs of about ``words`` words."""
    words = words or PARTITION_WORDS
    current: list[int] = []
    total = 0
    for d in docs:
        current.append(d["id"])
        total += d["words"] or 0
        if total >= words:
            yield current
            current, total = [], 0
    if current:
        yield current


def read_partitions(project: "Project", docs: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """The documents with their texts (id, name, text), one partition at a time."""
    d = store.documents
    for ids in partitions_by_words(docs):
        with project.engine.connect() as conn:
            rows = conn.execute(sa.select(d.c.id, d.c.name, d.c.text).where(d.c.id.in_(ids)).order_by(d.c.id))
            yield [{"id": i, "name": name, "text": text} for i, name, text in rows]


def counted_partitions(partitions: Iterable[list[dict[str, Any]]], text: str,
                       total: int) -> Iterator[list[dict[str, Any]]]:
    """Pass the partitions on, telling the progress bar how many documents went before."""
    done = 0
    for docs in partitions:
        step(f"{text} ({done:,} of {total:,})", done, total)
        yield docs
        done += len(docs)


# -- where the passes run -------------------------------------------------------------


class LocalRunner:
    """Both passes in this process, with the caller's detector."""

    def __init__(self, detector: "Detector"):
        self.detector = detector

    def scan(self, partitions: Iterable[list[dict[str, Any]]]) -> Iterator[ScanPart]:
        for docs in partitions:
            yield scan_part(self.detector, docs)

    def propagate(self, partitions: Iterable[list[dict[str, Any]]], plan: tuple[dict[str, str], re.Pattern],
                  named_in: dict[Any, set[str]]) -> Iterator[list[Detection]]:
        from .detection import _propagate_in

        for docs in partitions:
            yield _propagate_in(docs, plan, named_in)


class DaskRunner:
    """Both passes on Dask workers, results in document order."""

    def __init__(self, client, detector: "Detector"):
        self.client = client
        self.spec = pickle.dumps((detector.known, detector.model_name))

    def scan(self, partitions: Iterable[list[dict[str, Any]]]) -> Iterator[ScanPart]:
        from ..distributed import ordered_results

        return ordered_results(self.client, scan_on_worker, ((self.spec, docs) for docs in partitions))

    def propagate(self, partitions: Iterable[list[dict[str, Any]]], plan: tuple[dict[str, str], re.Pattern],
                  named_in: dict[Any, set[str]]) -> Iterator[list[Detection]]:
        from ..distributed import ordered_results

        [shared] = self.client.scatter([plan], broadcast=True)  # once per worker, not once per partition

        def tasks():
            for docs in partitions:
                yield shared, docs, {d["id"]: named_in[d["id"]] for d in docs if d["id"] in named_in}

        return ordered_results(self.client, propagate_on_worker, tasks())


@contextmanager
def partition_runner(detector: "Detector", workers: int | None = None,
                     scheduler: str | None = None) -> Iterator[LocalRunner | DaskRunner]:
    """This process's runner, or a Dask one on ``scheduler`` or a local cluster of ``workers``."""
    if not (workers or scheduler):
        yield LocalRunner(detector)
        return
    if detector.ner is not None and importlib.util.find_spec(detector.model_name or "") is None:
        raise InputError(str(detector.model_name), "a spaCy pipeline given as an object cannot be sent to "
                         "Dask workers", "give the model by the name it is installed under (e.g. "
                         "--model en_core_web_sm), installed on every worker")
    from ..distributed import close_client, open_client

    client = open_client(workers, scheduler)
    try:
        yield DaskRunner(client, detector)
    finally:
        close_client(client)


# -- on the workers -------------------------------------------------------------------

_DETECTORS: dict[bytes, "Detector"] = {}


def _detector_on_worker(spec: bytes) -> "Detector":
    """The detector for these known names and model, built once per worker process."""
    if spec not in _DETECTORS:
        from .detection import Detector

        known, model = pickle.loads(spec)
        _DETECTORS.clear()  # one at a time: bounded memory
        _DETECTORS[spec] = Detector(known, model=model)
    return _DETECTORS[spec]


def scan_on_worker(spec: bytes, docs: list[dict[str, Any]]) -> ScanPart:
    """Pass 1 on a worker."""
    return scan_part(_detector_on_worker(spec), docs)


def propagate_on_worker(plan: tuple[dict[str, str], re.Pattern], docs: list[dict[str, Any]],
                        named_in: dict[Any, set[str]]) -> list[Detection]:
    """Pass 2 on a worker."""
    from .detection import _propagate_in

    return _propagate_in(docs, plan, named_in)
