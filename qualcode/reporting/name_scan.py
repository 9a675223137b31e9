"""The report's name check in a process of its own, started before the report is built.

Importing spaCy and loading the NER model take over a second, and building the
report's tables, quotes and figures takes a few more; both are mostly CPU. So
``build_report`` starts this helper first: the model loads on another core while the
report is computed, and the texts are scanned there once they are known. The helper
is kept for the rest of the session (a report built again in a notebook finds the
model loaded) and ended when Python exits.

It is a plain ``python -m qualcode.reporting.name_scan MODEL`` reading one JSON line of
texts and answering one JSON line of hits per request; not ``multiprocessing``, whose
"spawn" start imports the caller's main script again in the child and would rerun a
script without an ``if __name__ == "__main__"`` guard. Whatever goes wrong with the
helper (it cannot start, the model is missing, it dies), the caller scans in its own
process instead, which raises the real error if there is one.

>>> hits_of(["Ring 07700 900412 on Monday."], model=None)
[[['07700 900412', 'Phone']]]
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

NO_MODEL = "-"  # argv for model=None (rules only)
PREFETCH_BATCH = 128  # texts per request while the report is being built
REMEMBERED = 20_000  # texts whose answers the scanner keeps between reports
# The helper shares the machine with the report it checks: one thread for the model's
# matrix products, not a BLAS pool spinning on the cores the report is being built on.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def hits_of(texts: list[str], model: str | None) -> list[list[list[str]]]:
    """``[identifier, type]`` pairs for each text, in order, each identifier once per text.

    Labels a pseudonymisation wrote (``[Parent 1]``) are not identifiers.
    """
    from ..privacy.detection import _default_detector

    hits: list[list[list[str]]] = [[] for _ in texts]
    docs = [{"id": i, "name": "", "text": text} for i, text in enumerate(texts)]
    for hit in _default_detector(model).scan(docs):
        found = hits[hit.document_id]
        if not hit.text.startswith("[") and all(hit.text != seen for seen, _ in found):
            found.append([hit.text, hit.type])
    return hits


class HelperFailed(RuntimeError):
    """The helper process could not answer; the caller scans in its own process."""


class NameScanner:
    """One helper process with one model loaded (or loading).

    ``prefetch`` hands it texts as the report's sections are built, from a thread of
    this process that waits for the answers, so the scan runs while later sections
    are computed; ``hits_of`` then only waits for what is left.
    """

    def __init__(self, model: str | None):
        self.model = model
        self.process = subprocess.Popen(
            [sys.executable, "-m", __name__, model or NO_MODEL],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, encoding="utf-8", env=_helper_environment(),
        )
        self.known: dict[str, list[list[str]]] = {}  # text -> its hits, as answered
        self._exchanges = ThreadPoolExecutor(max_workers=1)  # one request on the pipe at a time
        self._pending: list[Future] = []
        self._waiting: dict[str, None] = {}  # prefetched texts not sent yet, in order
        self._sent: set[str] = set()  # texts sent, answered or not

    def prefetch(self, texts: list[str]) -> None:
        """Have the helper scan ``texts`` soon, without waiting for its answer.

        Texts are sent in batches of ``PREFETCH_BATCH``: a request of a few quotes costs
        the model about as much as one of a hundred.
        """
        self._waiting.update((t, None) for t in texts if t not in self._sent)
        if len(self._waiting) >= PREFETCH_BATCH:
            batch, self._waiting = list(self._waiting), {}
            self._sent.update(batch)
            self._pending.append(self._exchanges.submit(self._exchange, batch))

    def hits_of(self, texts: list[str]) -> list[list[list[str]]]:
        """``hits_of(texts, model)``, computed in the helper."""
        for future in self._pending:
            future.result()  # raises HelperFailed if an earlier exchange failed
        self._pending.clear()
        self._waiting.clear()
        missing = [t for t in dict.fromkeys(texts) if t not in self.known]
        if missing:
            self._sent.update(missing)
            self._exchange(missing)
        hits = [self.known[t] for t in texts]
        if len(self.known) > REMEMBERED:  # a long notebook session: start afresh (the caller keeps its own)
            self.known.clear()
            self._sent.clear()
        return hits

    def _exchange(self, texts: list[str]) -> None:
        try:
            self.process.stdin.write(json.dumps(texts) + "\n")
            self.process.stdin.flush()
            hits = json.loads(self.process.stdout.readline())
        except (OSError, ValueError) as exc:
            raise HelperFailed(f"the name-check helper did not answer ({exc or 'it ended'})") from None
        if not isinstance(hits, list) or len(hits) != len(texts):
            raise HelperFailed("the name-check helper answered for a different number of texts")
        self.known.update(zip(texts, hits))

    def close(self) -> None:
        self._exchanges.shutdown(wait=False, cancel_futures=True)
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _helper_environment() -> dict[str, str]:
    """This environment, one BLAS thread, and this qualcode first on the path: the helper
    runs the same code as its caller even from a checkout on ``sys.path`` only."""
    package_parent = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (package_parent, os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, **ONE_THREAD, "PYTHONPATH": path}


_SCANNERS: dict[str | None, NameScanner] = {}


def start(model: str | None) -> None:
    """Start the helper for ``model`` now, unless one runs or this process already has spaCy.

    A process that imported the detector already (a second report, keyword discovery,
    a pseudonymisation) scans faster itself than a new process could load the model.
    """
    if model in _SCANNERS or "qualcode.privacy.detection" in sys.modules:
        return
    try:
        _SCANNERS[model] = NameScanner(model)
    except OSError:
        pass  # no helper: the scan runs here


def prefetch(texts: list[str], model: str | None) -> None:
    """Start scanning ``texts`` in the helper for ``model``, if one was started."""
    scanner = _SCANNERS.get(model)
    if scanner is not None:
        scanner.prefetch(texts)


def scan(texts: list[str], model: str | None) -> list[list[list[str]]]:
    """Hits for each text: in the helper if one was started for ``model``, else here."""
    scanner = _SCANNERS.get(model)
    if scanner is not None:
        try:
            return scanner.hits_of(texts)
        except HelperFailed:
            _SCANNERS.pop(model).close()
    return hits_of(texts, model)


@atexit.register
def _close_all() -> None:
    for scanner in _SCANNERS.values():
        scanner.close()
    _SCANNERS.clear()


def main(argv: list[str]) -> int:
    """The helper: load the detector at once, then answer each line of texts."""
    model = None if argv[1] == NO_MODEL else argv[1]
    answers, sys.stdout = sys.stdout, sys.stderr  # nothing but answers on the pipe
    from ..privacy.detection import _default_detector

    _default_detector(model)  # load while the caller builds its report
    for line in sys.stdin:
        print(json.dumps(hits_of(json.loads(line), model)), file=answers, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
