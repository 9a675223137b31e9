"""Benchmark: rule-based auto-coding against bare spaCy on the same text, in one run.

Builds a synthetic corpus of interview transcripts (speaker labels, filler talk, the
shipped codebooks' terms, some misspelt), imports it into a temporary project, then
for each corpus size times:

- bare spaCy as spaCy ships it: blank English + sentencizer + lookup lemmatiser
  (``nlp.pipe``), the yardstick of DESIGN.md section 4;
- qualcode's own pipeline bare (the same, with the lower-casing cached lemmatiser);
- the full auto-coder: codebooks loaded, every document parsed, segmented, matched
  (lemma, exact, pattern, regex, fuzzy, vetoes) and its suggestions written.

Times are CPU seconds of this (single-threaded) process, so other work on a shared
machine does not distort the ratio; auto-coding's wall time is shown beside it. Each
size is measured ``--repeat`` times (default 3), the three runs interleaved (stock,
ours, auto-coding, stock, …) so a noisy spell hits them alike, and the best time of
each is kept, as ``timeit`` does. Every auto-coding run starts from a fresh copy of the
imported project, so each writes all its suggestions.

and prints throughputs (words/s) and ratios as a plain table. Usage:

    python benchmarks/autocode.py                 # 100k and 1M words
    python benchmarks/autocode.py --sizes 100k,1M,5M --repeat 1
    python benchmarks/autocode.py --profile 1M    # where auto-coding's time goes, by function
    python benchmarks/autocode.py --workers 2 --sizes 1M,5M --repeat 1   # a local Dask cluster vs one process

With ``--workers N`` it instead compares auto-coding in this process with the same run
on a local Dask cluster of N single-threaded workers (``qualcode.distributed``), by
wall time (the workers' CPU is not this process's), and prints each worker's peak
memory and the load average. The cluster is started once, and each worker builds the
pipeline and matchers once before the timed runs, as a cluster kept running would
have: both start-up times are printed apart, outside the table. Each run codes a fresh
copy of the project.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from qualcode import Project  # noqa: E402
from qualcode.autocode import autocode  # noqa: E402
from qualcode.codebook import Codebook, load_codebook, parse_codebook  # noqa: E402
from qualcode.corpus import import_paths  # noqa: E402
from qualcode.nlp import load_pipeline, stock_pipeline  # noqa: E402

SHIPPED = ["dfe_practice_features", "evaluation_framework", "signs_of_safety"]
WORDS_PER_DOCUMENT = 5000

FILLER = """i we you they she he it the a an and but so because that this there then when what
which who how really just quite very well yeah um er you know i mean sort of kind of think
thought feel felt said say says told tell know knew mean meant want wanted need needed have had
has been was were is are be do did does done go went going come came get got make made see saw
look looked work worked working team teams family families child children mum dad parent school
home week weeks month months year years time day days meeting meetings plan plans case cases
worker workers manager managers social staff service services council office hub north south
visit visits call calls phone email report reports form forms system systems support help
helped change changed better worse different same new old first last next more less much many
some all every each other own good bad hard easy difficult important together again still
always never often sometimes now already yet back around about into with from for of in on at
to by over after before between through during without under again honestly definitely""".split()

MISSPELL = {"safeguarding": "safegaurding", "supervision": "supervison", "caseload": "caseolad",
            "practitioner": "practioner", "assessment": "assesment", "referral": "referal"}


def parse_size(text: str) -> int:
    """'100k' -> 100000, '1M' -> 1000000, '2500' -> 2500."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmM]?)", text.strip())
    if not m:
        raise SystemExit(f"--sizes: cannot read {text!r}; write e.g. 100k,1M,5M")
    factor = {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2).lower()]
    return int(float(m.group(1)) * factor)


def codebooks(extra_codes: int = 10) -> list[Codebook]:
    """The shipped codebooks plus a generated one, so there are >= 50 codes and >= 500 terms."""
    books = [load_codebook(REPO / "codebooks" / f"{name}.yaml") for name in SHIPPED]
    rng = random.Random(7)
    nouns = ["review", "panel", "pathway", "hub", "audit", "network", "protocol", "forum", "tracker", "clinic"]
    lines = ["id: bench_extra", "name: Benchmark extra codes", 'version: "1.0"', "codes:"]
    pairs = [f"{w} {n}" for w in FILLER[60:] for n in nouns]
    rng.shuffle(pairs)
    for i in range(extra_codes):
        keywords = pairs[i * 6:(i + 1) * 6]  # distinct across codes, as the validator asks
        lines += [f"  - id: bench.extra_{i:02d}", f"    name: Extra {i}", "    definition: Generated for the benchmark.",
                  f"    match: {{keywords: [{', '.join(keywords)}], fuzzy: {str(i % 2 == 0).lower()}, "
                  f"veto: [not, never], regex: ['\\b{i}/10\\b']}}"]
    books.append(parse_codebook("\n".join(lines) + "\n", "bench_extra.yaml"))
    return books


def terms_of(books: list[Codebook]) -> list[str]:
    return [t for b in books for c in b.codes for t in c.match.keywords + c.match.exact]


def sentence(rng: random.Random, terms: list[str]) -> str:
    words = rng.choices(FILLER, k=rng.randint(6, 18))
    if rng.random() < 0.35:
        term = rng.choice(terms)
        if rng.random() < 0.1:
            term = " ".join(MISSPELL.get(w, w) for w in term.split())
        words.insert(rng.randrange(len(words) + 1), term)
    if rng.random() < 0.05:
        words.insert(0, rng.choice(["not", "never"]))
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice([".", ".", ".", "?", "!"])


def transcript(rng: random.Random, terms: list[str], words: int) -> str:
    lines, n = [], 0
    while n < words:
        speaker = "Interviewer" if len(lines) % 2 == 0 else "Respondent"
        said = " ".join(sentence(rng, terms) for _ in range(rng.randint(1, 2) if speaker == "Interviewer" else rng.randint(2, 8)))
        lines.append(f"{speaker}: {said}")
        n += len(said.split())
    return "\n\n".join(lines) + "\n"


def build_project(folder: Path, words: int, books: list[Codebook]) -> Project:
    rng = random.Random(words)
    terms = terms_of(books)
    source = folder / f"corpus_{words}"
    source.mkdir()
    total, i = 0, 0
    while total < words:
        text = transcript(rng, terms, min(WORDS_PER_DOCUMENT, words - total))
        (source / f"T{i:05d}.txt").write_text(text, encoding="utf-8")
        total += len(text.split())
        i += 1
    project = Project.create(folder / f"bench_{words}.qc")
    import_paths(project, [source], source_type="staff interview")
    return project


def clock() -> float:
    """CPU seconds of this process: everything here runs on one thread, and on a shared
    machine wall time measures the neighbours as much as the code."""
    return time.process_time()


def time_pipeline(nlp, texts: list[str]) -> float:
    started = clock()
    for _ in nlp.pipe(texts, batch_size=32):
        pass
    return clock() - started


def measure(words: int, books: list[Codebook], folder: Path, repeat: int = 3) -> dict:
    project = build_project(folder, words, books)
    texts = [text for _, text in project.iter_texts()]
    n_words = int(project.documents()["words"].sum())
    imported = Path(project.location)
    project.close()
    stock, ours = stock_pipeline(), load_pipeline()
    time_pipeline(ours, texts[:2])  # warm the lemma cache as a long run would
    bare, own, seconds, wall = [], [], [], []
    for attempt in range(repeat):
        bare.append(time_pipeline(stock, texts))
        own.append(time_pipeline(ours, texts))
        copy = imported.with_name(f"{imported.stem}_run{attempt}.qc")
        shutil.copy(imported, copy)
        run_on = Project.open(copy)
        started, wall_started = clock(), time.perf_counter()
        result = autocode(run_on, books, progress=False)
        seconds.append(clock() - started)
        wall.append(time.perf_counter() - wall_started)
        run_on.close()
        copy.unlink()
    bare_s, own_s, auto_s = min(bare), min(own), min(seconds)
    return {"words": n_words, "documents": len(texts), "bare_stock_wps": n_words / bare_s,
            "bare_qualcode_wps": n_words / own_s, "autocode_wps": n_words / auto_s,
            "autocode_s": auto_s, "autocode_wall_s": min(wall), "suggestions": result.suggestions,
            "ratio_vs_stock": bare_s / auto_s, "ratio_vs_own_pipeline": own_s / auto_s,
            "ratios_each_run": [b / a for b, a in zip(bare, seconds)]}


def run(sizes: list[int], folder: Path | None = None, repeat: int = 3) -> list[dict]:
    """Measure every size; returns the rows the table shows."""
    books = codebooks()
    with tempfile.TemporaryDirectory() as tmp:
        where = folder or Path(tmp)
        return [measure(size, books, where, repeat) for size in sizes]


def table(rows: list[dict], books: list[Codebook]) -> str:
    n_codes = sum(1 for b in books for c in b.codes if not c.match.is_empty)
    n_terms = sum(b.n_terms() for b in books)
    head = (f"codebook: {n_codes} codes with rules, {n_terms} terms; times are CPU seconds of this "
            "process (wall seconds shown for auto-coding)\n")
    cols = ["words", "documents", "bare_stock_wps", "bare_qualcode_wps", "autocode_wps", "autocode_s",
            "autocode_wall_s", "suggestions", "ratio_vs_stock", "ratio_vs_own_pipeline"]
    lines = ["  ".join(f"{c:>21}" if i > 1 else f"{c:>9}" for i, c in enumerate(cols))]
    for row in rows:
        cells = []
        for i, c in enumerate(cols):
            value = row[c]
            text = f"{value:.2f}" if isinstance(value, float) and value < 100 else f"{value:,.0f}"
            cells.append(f"{text:>21}" if i > 1 else f"{text:>9}")
        lines.append("  ".join(cells))
    lines.append("ratio vs stock in each run: " + "; ".join(
        f"{r['words']:,}: " + ", ".join(f"{x:.2f}" for x in r["ratios_each_run"]) for r in rows))
    if len(rows) > 1:
        base = rows[0]
        lines.append("scaling (time per word relative to the smallest size): " + ", ".join(
            f"{r['words']:,}: {(r['autocode_s'] / r['words']) / (base['autocode_s'] / base['words']):.2f}" for r in rows))
    return head + "\n".join(lines)


def profile(words: int, top: int = 25) -> str:
    """cProfile of one auto-coding run (after a warm-up run), the functions that took most
    time themselves; the profiler slows Python code more than C, so read it for shares."""
    import cProfile
    import io
    import pstats

    books = codebooks()
    with tempfile.TemporaryDirectory() as tmp:
        project = build_project(Path(tmp), words, books)
        imported = Path(project.location)
        project.close()
        for attempt in ("warm-up", "profiled"):
            copy = imported.with_name(f"{attempt}.qc")
            shutil.copy(imported, copy)
            with Project.open(copy) as run_on:
                if attempt == "warm-up":
                    autocode(run_on, books, progress=False)
                    continue
                profiler = cProfile.Profile()
                profiler.runcall(autocode, run_on, books, progress=False)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def measure_workers(words: int, books: list[Codebook], folder: Path, client, repeat: int) -> dict:
    """Wall seconds of auto-coding here and on the cluster behind ``client``, best of ``repeat``.

    Before the timed runs each worker builds the pipeline and this codebook set's
    matchers once (``distributed.warm_up``), as a long-running cluster would have; that
    start-up is timed apart and reported beside the table, never inside it.
    """
    address = client.scheduler_info()["address"]
    project = build_project(folder, words, books)
    imported = Path(project.location)
    n_words = int(project.documents()["words"].sum())
    project.close()
    here, there, counts, cpu_here, cpu_there, cpu_writer = [], [], set(), [], [], []
    warm = 0.0
    for attempt in range(repeat):
        for where, times in ((None, here), (client, there)):
            copy = imported.with_name(f"{imported.stem}_{'dask' if where else 'here'}{attempt}.qc")
            shutil.copy(imported, copy)
            with Project.open(copy) as run_on:
                if where is not None and attempt == 0:
                    warm = _warm(client, run_on, books)
                before = sum(client.run(cpu_seconds).values()) if where is not None else 0.0
                started, cpu = time.perf_counter(), clock()
                result = autocode(run_on, books, progress=False, scheduler=address if where else None)
                times.append(time.perf_counter() - started)
                if where is None:
                    cpu_here.append(clock() - cpu)
                else:
                    cpu_there.append(sum(client.run(cpu_seconds).values()) - before)
                    cpu_writer.append(clock() - cpu)
            counts.add(result.suggestions)
            copy.unlink()
    if len(counts) != 1:
        raise SystemExit(f"the runs wrote different numbers of suggestions: {sorted(counts)}")
    ceiling = machine_ceiling(client, imported, books, repeat)
    return {"ceiling": ceiling, "words": n_words, "suggestions": counts.pop(), "single_s": min(here), "dask_s": min(there),
            "speedup": min(here) / min(there), "single_wps": n_words / min(here), "dask_wps": n_words / min(there),
            "runs_single": here, "runs_dask": there, "warm_up_s": warm, "load": _load(),
            "worker_wps": n_words / min(cpu_there), "single_cpu_s": min(cpu_here),
            "workers_cpu_s": min(cpu_there), "writer_cpu_s": min(cpu_writer)}


def machine_ceiling(client, imported: Path, books: list[Codebook], repeat: int) -> float:
    """How much sooner the workers finish the coding itself (parse and match, nothing
    written) side by side than one worker doing all of it, best of ``repeat``.

    Perfectly parallel work, timed inside the workers: what this machine allows two
    processes at once, before any writer or Dask message; cores shared with other
    virtual machines give less than the number of workers.
    """
    import uuid

    from qualcode.autocode import _CodeFilter, _documents
    from qualcode.distributed import partition_jobs, release_project

    copy = imported.with_name(f"{imported.stem}_ceiling.qc")
    shutil.copy(imported, copy)
    location, run = str(copy.resolve()), uuid.uuid4().hex
    with Project.open(copy) as project:
        spec, codes = _spec(project, books)
        jobs = list(partition_jobs(project, _documents(project, None), _CodeFilter(codes), location, run))
    workers = sorted(client.scheduler_info()["workers"])
    shares = [jobs[i::len(workers)] for i in range(len(workers))]
    alone, together = [], []
    for _ in range(repeat):
        alone.append(client.submit(_code_jobs, spec, jobs, workers=workers[:1], pure=False).result())
        futures = [client.submit(_code_jobs, spec, share, workers=[w], pure=False) for w, share in zip(workers, shares)]
        together.append(max(f.result() for f in futures))
    client.run(release_project, location, run)
    copy.unlink()
    return min(alone) / min(together)


def _code_jobs(spec: bytes, jobs: list[bytes]) -> float:
    """Run on a worker: code these partitions one after another; the seconds it took."""
    from qualcode.distributed import code_partition

    started = time.perf_counter()
    for job in jobs:
        code_partition(spec, job)
    return time.perf_counter() - started


def cpu_seconds() -> float:
    """CPU seconds this process has used (user and system): run on each worker."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _free_core_speedup(row: dict, cores: int) -> float:
    """One process's CPU over the least wall time the cluster's CPU could take on free
    cores: all of it spread evenly, but never less than the writer's own share."""
    total = row["workers_cpu_s"] + row["writer_cpu_s"]
    return row["single_cpu_s"] / max(row["writer_cpu_s"], total / cores)


def _warm(client, project: Project, books: list[Codebook]) -> float:
    """Each worker builds the pipeline and matchers once; returns the seconds it took."""
    from qualcode.distributed import warm_up

    spec, _ = _spec(project, books)
    started = time.perf_counter()
    client.run(warm_up, spec)
    return time.perf_counter() - started


def _spec(project: Project, books: list[Codebook]) -> tuple[bytes, list]:
    """What the workers code with (``distributed.rules_spec``) for ``books``, loaded into
    ``project`` first, as auto-coding does; and the codes with rules."""
    from qualcode.autocode import _ensure_loaded, _row_plan
    from qualcode.distributed import rules_spec
    from qualcode.matchers import code_rules
    from qualcode.nlp import load_pipeline, model_name

    _ensure_loaded(project, books)
    codes, _ = code_rules(books, load_pipeline())
    return rules_spec(books, None, _row_plan(project, codes, model_name(None))), codes


def _load() -> str:
    """The 1-minute load average: other work on the machine, which the speed-up depends on."""
    return Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"


def run_workers(sizes: list[int], workers: int, repeat: int) -> str:
    """The ``--workers`` table: throughput here and on a local cluster, and each worker's peak memory."""
    from distributed import Client

    from qualcode.distributed import local_cluster, peak_memory

    books = codebooks()
    started = time.perf_counter()
    with local_cluster(workers) as cluster, Client(cluster) as client, tempfile.TemporaryDirectory() as tmp:
        cluster_start = time.perf_counter() - started
        rows = [measure_workers(size, books, Path(tmp), client, repeat) for size in sizes]
        memory = client.run(peak_memory)
    lines = [f"{workers} local Dask workers (1 thread each) vs this process; wall seconds, best of {repeat}; "
             "start-up (cluster, then each worker's pipeline and matchers) timed apart, below",
             f"{'words':>10} {'suggestions':>12} {'single_s':>9} {'dask_s':>8} {'speedup':>8} "
             f"{'single_words/h':>15} {'dask_words/h':>13} {'load':>5}"]
    for r in rows:
        lines.append(f"{r['words']:>10,} {r['suggestions']:>12,} {r['single_s']:>9.2f} {r['dask_s']:>8.2f} "
                     f"{r['speedup']:>8.2f} {r['single_wps'] * 3600:>15,.0f} {r['dask_wps'] * 3600:>13,.0f} "
                     f"{r['load']:>5}")
    lines.append("runs (single | dask): " + "; ".join(
        f"{r['words']:,}: " + ", ".join(f"{x:.2f}" for x in r["runs_single"]) + " | "
        + ", ".join(f"{x:.2f}" for x in r["runs_dask"]) for r in rows))
    lines.append("one worker's rate while it has a core (words per hour of worker CPU, all workers' CPU "
                 "counted): " + ", ".join(f"{r['words']:,}: {r['worker_wps'] * 3600:,.0f}" for r in rows))
    lines.append("CPU seconds (best run): " + "; ".join(
        f"{r['words']:,}: one process {r['single_cpu_s']:.2f}, workers {r['workers_cpu_s']:.2f}, "
        f"writer {r['writer_cpu_s']:.2f}" for r in rows))
    lines.append(f"speed-up {workers} free cores would allow, from those CPU seconds (an estimate, not a "
                 "measurement): " + ", ".join(f"{r['words']:,}: {_free_core_speedup(r, workers):.2f}" for r in rows))
    lines.append(f"this machine's ceiling: {workers} workers coding side by side (nothing written) against one "
                 "coding it all, best of each: " + ", ".join(f"{r['words']:,}: {r['ceiling']:.2f}x" for r in rows))
    lines.append(f"start-up, not in the table: cluster {cluster_start:.1f} s; pipeline and matchers on the workers "
                 + ", ".join(f"{r['warm_up_s']:.1f} s" for r in rows))
    lines.append("peak memory per worker: " + ", ".join(
        f"{address.rsplit(':', 1)[-1]}: {rss / 2**20:,.0f} MiB" for address, rss in sorted(memory.items())))
    lines.append(f"peak memory of this process (writer; it also ran the single-process runs): "
                 f"{peak_memory() / 2**20:,.0f} MiB")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100k,1M", help="comma-separated corpus sizes in words (e.g. 100k,1M,5M)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the best time of each is kept")
    parser.add_argument("--profile", metavar="SIZE", help="instead: profile one auto-coding run of SIZE words")
    parser.add_argument("--workers", type=int, help="instead: compare with a local Dask cluster of N workers")
    args = parser.parse_args(argv)
    if args.workers:
        sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
        print(run_workers(sizes, args.workers, max(1, args.repeat)))
        return
    if args.profile:
        print(profile(parse_size(args.profile)))
        return
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    rows = run(sizes, repeat=max(1, args.repeat))
    print(table(rows, codebooks()))


if __name__ == "__main__":
    main()
