"""Rule-based (deductive) auto-coding: the codebook's terms become suggested codings.

Each document is parsed by spaCy once; the same Doc serves every code. A match marks
the segment around it (the sentence, paragraph or turn the code asks for), and each
(segment, code) gets at most one suggestion, listing every term that matched there:

    lemma match 'group supervision' as 'group supervisions'; fuzzy 0.92 'safegaurding'
    ~ 'safeguarding'; in turn 14 (Sam)

Suggestions are codings with status ``suggested`` by the coder ``rules`` (a method),
written in one transaction, so a crash leaves nothing half-written. Re-running adds
only what is new: a span+code the coder already has (suggested, accepted or rejected)
is never written twice, and decided codings are never touched.

Decisions:
- Confidence from the match types: exact 0.9, lemma 0.85, pattern 0.75, regex 0.7,
  fuzzy 0.6 x similarity; several different terms in one segment combine as
  1 - prod(1 - c) (more evidence, more confidence), capped at 0.99.
- Vetoes cancel: a match with one of its code's veto terms within ``veto_window``
  tokens before it, in the same sentence, does not count. A segment whose only matches
  were vetoed gets no suggestion; one with other matches keeps its suggestion, names
  the veto in the explanation and loses a fifth of its confidence.
- Interviewer turns, and a transcript's header (title, date, who was present: the text
  before its first turn), are skipped unless the code says ``speakers: all``.
- ``source_types`` and ``roles`` compare lower-cased, with "_" read as a space; a one-word
  source type also names every type ending in it ("interview" covers "staff interview").
- A match broken by a segment boundary (a phrase across two sentences) is not a match.

>>> result = autocode(project, [load_codebook("codebooks/dfe_practice_features.yaml")])  # doctest: +SKIP
>>> result.suggestions, round(result.words_per_second)                                 # doctest: +SKIP
"""

from __future__ import annotations

import gc
import hashlib
import pickle
import queue
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

import pandas as pd
import sqlalchemy as sa
from tqdm import tqdm

from . import store
from .errors import CodebookError, NotFoundError
from .matchers import CodeRules, RuleSet, code_rules
from .nlp import load_pipeline, model_name
from .project import Project
from .segments import load_turns
from .suggestion_rows import RowPlan, document_rows, text_to_parse

if TYPE_CHECKING:  # pragma: no cover
    from .codebook import Codebook

WRITE_EVERY = 5000  # suggestions buffered before one executemany (inside the one transaction)
WRITE_EVERY_BEHIND = 1000  # on PostgreSQL, where a thread writes: smaller batches overlap more with parsing


@dataclass
class AutocodeResult:
    """What a run did: counts for people, per-code numbers for tables."""

    documents: int = 0
    words: int = 0
    suggestions: int = 0  # written by this run
    already_present: int = 0  # same span+code+coder found in the project: skipped
    vetoed: int = 0  # segments whose only matches were vetoed
    codes: int = 0  # codes with something to match
    terms: int = 0
    model: str = ""
    coder: str = ""
    codebooks_loaded: list[str] = field(default_factory=list)  # loaded into the project by this run
    seconds: float = 0.0
    per_code: dict[str, int] = field(default_factory=dict)

    @property
    def words_per_second(self) -> float:
        return self.words / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, Any]:
        """The headline numbers, for the CLI's table and ``--json``."""
        out = {k: v for k, v in asdict(self).items() if k != "per_code"}
        out["words_per_second"] = round(self.words_per_second)
        out["seconds"] = round(self.seconds, 2)
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per code with suggestions written by this run, most first."""
        rows = sorted(self.per_code.items(), key=lambda kv: (-kv[1], kv[0]))
        return pd.DataFrame(rows, columns=["code", "suggestions"])


@dataclass
class _DocumentInfo:
    id: int
    words: int
    source_type: str
    role: str | None


def autocode(
    project: Project,
    codebooks: Iterable["Codebook | str | Path"],
    model: str | None = None,
    documents: Iterable[int | str] | None = None,
    coder: str = "rules",
    progress: bool = True,
    batch_size: int = 32,
    workers: int | None = None,
    scheduler: str | None = None,
) -> AutocodeResult:
    """Suggest codes for the project's documents from the codebooks' rules.

    ``codebooks`` are Codebook objects or YAML paths; any not yet in the project (or in
    another version) is loaded first, as ``qualcode codebook load`` would, and named in
    ``result.codebooks_loaded``. ``documents`` limits the run to some documents (ids or
    names). Raises CodebookError when no code has anything to match and NotFoundError
    when there is nothing to code; the project is unchanged then.

    ``workers`` (a local Dask cluster of that many processes) or ``scheduler`` (the
    address of a running one) parse and match the documents on Dask workers, partition
    by partition (``qualcode.distributed``); this process stays the one writer, so the
    suggestions are the same as a run here. Both need ``qualcode[dask]``.
    """
    started = time.perf_counter()
    books = [_as_codebook(c) for c in codebooks]
    nlp = load_pipeline(model)
    if workers or scheduler:  # the workers compile the matchers; this process needs only the codes
        rules, (codes, n_terms) = None, code_rules(books, nlp)
    else:
        rules = RuleSet.cached(books, nlp)
        codes, n_terms = rules.codes, rules.n_terms
    if not codes:
        files = ", ".join(getattr(b, "_file", b.id) for b in books) or "(no codebook given)"
        raise CodebookError(files, "no code has keywords, exact phrases, patterns or regexes to match",
                            "add a `match:` block (e.g. `keywords: [group supervision]`) to the codes "
                            "auto-coding should suggest")
    infos = _documents(project, documents)
    result = AutocodeResult(documents=len(infos), words=sum(i.words for i in infos), codes=len(codes),
                            terms=n_terms, model=model_name(model), coder=coder)
    result.codebooks_loaded = _ensure_loaded(project, books)
    allowed = _CodeFilter(codes)
    plan = _row_plan(project, codes, result.model)
    by_id = {i.id: i for i in infos}
    if workers or scheduler:
        from .distributed import suggest_on_cluster

        found = suggest_on_cluster(project, infos, allowed, books, model, plan, result,
                                   workers=workers, scheduler=scheduler)
    else:
        found = _suggest_here(project, infos, nlp, rules, allowed, plan, result, batch_size)
    key_of = dict(zip(plan.code_ids, (c.key for c in codes)))
    distinct_codes = len(key_of) == len(plan.code_ids)  # one rule code per project code (the usual case)
    pending: list[tuple] = []
    with project.transaction() as conn, _fewer_gc_pauses():
        if conn.dialect.name == "postgresql":
            # SQLite's write lock holds one run at a time; on a server, where the team
            # writes side by side, an advisory lock (this database only) does it for
            # auto-coding alone, so coders and reviewers are not held up.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('qualcode autocode'))")
        # Read inside the write transaction: a run that started meanwhile waited for the
        # lock and now sees this run's suggestions, so nothing is written twice.
        existing = project.coder_spans(conn, coder, by_id)
        writer = _WriteBehind(lambda batch: _write(project, conn, coder, batch, result, key_of),
                              on_thread=conn.dialect.name == "postgresql")
        with writer:
            for doc_id, rows in tqdm(found, total=len(infos), desc="auto-coding", unit="doc", disable=not progress):
                if not existing and distinct_codes:  # nothing coded yet: a document's rows are distinct
                    pending += rows
                else:
                    for row in rows:
                        key = row[:4]  # document, code id, start, end
                        if key in existing:
                            result.already_present += 1
                            continue
                        existing.add(key)
                        pending.append(row)
                if len(pending) >= writer.every:
                    writer.put(pending)
                    pending = []
            writer.put(pending)
    result.seconds = time.perf_counter() - started
    return result


class _WriteBehind:
    """Hands batches of rows to ``write``: on a thread of their own when ``on_thread``.

    On PostgreSQL the server does most of a COPY's work (constraints, indexes) in its
    own process, so writing on a thread lets that work go on while this one parses the
    next documents: 100k words into PostgreSQL took 0.23-0.25 s instead of 0.26 (1M:
    1.36-1.79 s instead of 1.79-2.13). On SQLite the inserting holds the GIL and a
    thread gained nothing, so there ``put`` writes at once. The thread is the only user
    of the connection until the block ends; its error, if any, is raised here.

    >>> written = []
    >>> with _WriteBehind(written.append, on_thread=True) as writer:
    ...     writer.put([1, 2])
    ...     writer.put([])
    >>> written
    [[1, 2]]
    """

    def __init__(self, write: Callable[[list[tuple]], None], on_thread: bool):
        self._write = write
        self.every = WRITE_EVERY_BEHIND if on_thread else WRITE_EVERY
        self._queue: queue.Queue | None = queue.Queue(maxsize=4) if on_thread else None  # bounded memory
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="qualcode-writer", daemon=True) if on_thread else None

    def __enter__(self) -> "_WriteBehind":
        if self._thread is not None:
            self._thread.start()
        return self

    def put(self, rows: list[tuple]) -> None:
        if not rows:
            return
        if self._queue is None:
            self._write(rows)
            return
        if self._error is not None:
            raise self._error
        self._queue.put(rows)

    def _run(self) -> None:
        while (rows := self._queue.get()) is not None:
            if self._error is None:  # after a failure, drain without writing so ``put`` never blocks
                try:
                    self._write(rows)
                except BaseException as exc:  # raised again in the caller's thread
                    self._error = exc

    def __exit__(self, *exc) -> None:
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join()  # before the transaction ends, whichever way
        if self._error is not None and exc[0] is None:
            raise self._error


def _suggest_here(project: Project, infos: list[_DocumentInfo], nlp, rules: RuleSet, allowed: "_CodeFilter",
                  plan: RowPlan, result: AutocodeResult, batch_size: int) -> Iterator[tuple[int, list[tuple]]]:
    """``(document id, its suggestion rows)`` for each document, parsed and matched in this process."""
    turns = load_turns(project, [i.id for i in infos])
    by_id = {i.id: i for i in infos}

    def to_parse() -> Iterator[tuple[str, tuple]]:
        for doc_id, text in project.iter_texts(list(by_id)):
            spans, codes = turns.get(doc_id, []), allowed.codes_for(by_id[doc_id])
            view = text_to_parse(text, spans, rules, codes)
            yield view, (doc_id, text, spans, codes, view)

    for doc, (doc_id, text, spans, codes, view) in nlp.pipe(to_parse(), as_tuples=True, batch_size=batch_size):
        rows, vetoed = document_rows(doc, text, doc_id, spans, rules, codes, plan, parsed=view)
        result.vetoed += vetoed
        yield doc_id, rows


def _row_plan(project: Project, codes: list[CodeRules], model: str) -> RowPlan:
    """Each rule code's id in the project (its codebooks are loaded by now)."""
    with project.engine.connect() as conn:
        ids = project.code_ids(conn)
    missing = [c.key for c in codes if c.key not in ids]
    if missing:
        raise NotFoundError(f"{project.location}: unknown code {missing[0]!r}. Fix: load the codebook that "
                            "defines it (`qualcode codebook load`).")
    return RowPlan(tuple(ids[c.key] for c in codes), model)


def _write(project: Project, conn: sa.Connection, coder: str, rows: list[tuple], result: AutocodeResult,
           key_of: dict[int, str]) -> None:
    """Insert one batch of new suggestion rows and count them per code."""
    if not rows:
        return
    project.insert_coding_rows(conn, coder, rows)
    result.suggestions += len(rows)
    for code_id, n in Counter(map(itemgetter(1), rows)).items():
        result.per_code[key_of[code_id]] = result.per_code.get(key_of[code_id], 0) + n


@contextmanager
def _fewer_gc_pauses(threshold: int = 50_000) -> Iterator[None]:
    """Run with a higher young-generation GC threshold, then restore it.

    Matching allocates many short-lived objects (hits, segments, spaCy tokens) that are
    freed by reference counting; CPython's default threshold (700) still runs the cycle
    collector thousands of times per million words, a fifth of the run time measured.
    """
    before = gc.get_threshold()
    gc.set_threshold(threshold, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _as_codebook(codebook: "Codebook | str | Path") -> "Codebook":
    if isinstance(codebook, (str, Path)):
        from .codebook import load_codebook

        return load_codebook(codebook)
    return codebook


def _documents(project: Project, documents: Iterable[int | str] | None) -> list[_DocumentInfo]:
    """The current documents to code, with what the code filters need."""
    d, a = store.documents, store.document_attributes
    ids = None if documents is None else [project.document_id(ref) for ref in documents]
    role = (sa.select(a.c.value).where(a.c.document_id == d.c.id, a.c.key == "role")
            .scalar_subquery())
    query = sa.select(d.c.id, d.c.words, d.c.source_type, role).where(d.c.superseded_by.is_(None)).order_by(d.c.id)
    if ids is not None:
        query = query.where(d.c.id.in_(ids))
    with project.engine.connect() as conn:
        infos = [_DocumentInfo(*row) for row in conn.execute(query)]
    if not infos:
        raise NotFoundError(
            f"{project.location}: no documents to auto-code. Fix: import transcripts or notes first "
            f"(`qualcode import {project.location} PATH...`)."
        )
    return infos


def _ensure_loaded(project: Project, books: list["Codebook"]) -> list[str]:
    """Load each codebook the project does not hold in this version; return their ids."""
    from .codebook_sync import load_into_project, loaded_versions

    with project.engine.connect() as conn:
        versions = loaded_versions(conn)
    loaded = []
    for book in books:
        if versions.get(book.id, (None,))[0] != book.version:
            source = _source_text(book)
            load_into_project(project, book, source)
            loaded.append(f"{book.id} {book.version}")
    return loaded


def _source_text(book: "Codebook") -> str:
    """The YAML the codebook was read from (kept for provenance), else its YAML form."""
    path = Path(getattr(book, "_file", ""))
    if path.suffix.lower() in (".yaml", ".yml") and path.is_file():
        return path.read_text(encoding="utf-8")
    key = hashlib.sha256(pickle.dumps(book)).hexdigest()  # by content: writing YAML takes a while
    if key not in _YAML_OF:
        if len(_YAML_OF) >= 16:
            del _YAML_OF[next(iter(_YAML_OF))]
        _YAML_OF[key] = book.to_yaml()
    return _YAML_OF[key]


_YAML_OF: dict[str, str] = {}  # a codebook's YAML form, by its pickled content, oldest first


class _CodeFilter:
    """Which codes apply to a document, by its source type and role (cached per pair)."""

    def __init__(self, codes: list[CodeRules]):
        self.codes = codes
        self._cache: dict[tuple[str, str | None], frozenset[int]] = {}

    def codes_for(self, info: _DocumentInfo) -> frozenset[int]:
        key = (info.source_type, info.role)
        if key not in self._cache:
            self._cache[key] = frozenset(i for i, c in enumerate(self.codes) if _applies(c, *key))
        return self._cache[key]


def _norm(value: str) -> str:
    return " ".join(value.replace("_", " ").lower().split())


def _applies(code: CodeRules, source_type: str, role: str | None) -> bool:
    """
    >>> rules = CodeRules("k", "K", "cb", "1", "sentence", "participants", ["interview"], ["social_worker"], [], 4, 88)
    >>> _applies(rules, "staff interview", "Social Worker"), _applies(rules, "case note", "social worker")
    (True, False)
    """
    if code.source_types:
        kind = _norm(source_type or "")
        wanted = {_norm(s) for s in code.source_types}
        if kind not in wanted and not any(" " not in w and kind.endswith(" " + w) for w in wanted):
            return False
    if code.roles:
        if role is None or _norm(role) not in {_norm(r) for r in code.roles}:
            return False
    return True
