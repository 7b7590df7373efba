"""Benchmark ``projector rebuild`` against its render ceiling, on each search adapter.

Usage::

    python -m bench.projection [--products 20000] [--search embedded|elasticsearch] [--rounds 2]
                               [--jobs N] [--profile DIR] [--servers-apart]

What it measures (issue #6 a), on one stack (:class:`bench.stack.Stack`) with N products:

* **Render ceiling**: what the rebuild renders, rendered in memory with no I/O at all. Every
  ProductView is loaded once beforehand, untimed (``projector.readmodel``: the same batched reads
  the rebuild makes, 500 SKUs a batch; then ``gc.freeze()`` so the garbage collector does not scan
  them during the timed parts). Timed: ``Renderer.product`` (all product kinds) for every
  product, ``Renderer.frames``, ``category_headers`` and ``home`` once, and
  ``projector.search_documents.search_document`` for every product. Two figures in products/s: snippets
  + search documents (the ceiling of a rebuild with search) and snippets only (the ceiling of one
  without).
* **Rebuild**: the real ``projector rebuild`` (:func:`projector.rebuild.rebuild` through
  ``stack.rebuild``): a new generation, filled and switched to. Adapters: ``none`` (snippets
  only, ``stack.rebuild(search=False)``), ``embedded`` (the Redis index; also on an Elasticsearch
  stack) and ``elasticsearch`` (only when the stack runs Elasticsearch). The rebuild renders in
  one process per usable core, as ``projector rebuild`` does by default (``--jobs N``: N
  processes). products/s = N ÷ wall seconds of the whole rebuild; the ratio is that ÷ (cores ×
  the ceiling with documents) (``none``: the snippet-only ceiling), where cores are this process's
  usable cores and the ceiling is one core's. The target (issue #16) is ≥ 0.7: both cores render,
  at 0.7 of what rendering alone does on each. ``single_core_ratio`` is the figure against one
  core's ceiling, as measured before.
* **Deleting the replaced generation**: a rebuild also deletes the generation replaced by the
  rebuild before it once that one's grace period is over (``projector.generations.delete_old_generations``:
  SCAN + UNLINK) — in production, where rebuilds are hours apart, every rebuild does. Here they
  follow each other within seconds and alternate adapters, so each one would delete a generation
  of another adapter (an embedded index is far more keys to delete than snippets alone). So
  before each timed rebuild the bench deletes the replaced generation itself (``delete_old_generations`` with
  the grace period taken as over) and times that on its own, per adapter of the deleted
  generation. The table gives the rebuild proper, the deletion, and products/s and ratio with
  the two added up. The target is judged on the rebuild proper: a production rebuild deletes
  the generations past their grace period beside the build (``projector.rebuild``), where the
  work is Redis's, on the other core (measured: a 20,000-product rebuild took 12.0 and 13.0 s
  with that deletion beside it, 12.9 and 12.5 s without; the deletion alone 1.1 s). The summed
  columns are the upper bound of a machine with one core.
* The measurements alternate: each round times the ceiling, then one rebuild per adapter, so
  drifting machine load hits all of them alike, and each rebuild's ratio is taken against the
  ceiling of its own round. Figures are medians over the rounds (min–max shown). The CPU
  seconds of PostgreSQL, Redis and Elasticsearch (process trees, /proc) and of this process are
  recorded per rebuild; "rendering ÷ bench CPU" (the ceiling's CPU seconds ÷ this process's CPU
  seconds in the rebuild) says how much of the projector's own work is rendering, a figure that
  other work on the machine hardly moves, unlike wall-clock rates.
* **Servers apart** (``--servers-apart`` / ``apart``): every thread of PostgreSQL, Redis
  and Elasticsearch is pinned to the last usable core and this process (with the rebuild workers
  it starts) to the others, the rendering cores, for the whole measurement: the ceiling and the
  rebuilds run on rendering cores only, one process per rendering core, and the ratio is against
  (rendering cores) × the ceiling. It measures the projector as on a machine whose servers have
  cores of their own, where the shared-core figure above also pays for the servers' CPU.
* **Profile** (``--profile DIR`` / ``profile_dir``): per adapter, a production-like rebuild under
  py-spy (``--idle --threads --nonblocking --subprocesses``, 250 Hz: wall time, waiting included,
  the rebuild's worker processes too; phase seconds are process-seconds): one that
  replaces a generation of its own kind and then deletes the one replaced before it. Its samples
  are put into phases by the project function on their stack (reading PostgreSQL, rendering
  snippets, search documents, embedded index memberships, snippet writes = the ``guarded_set.lua``
  calls, search index writes, offer timers, switch + deleting the old generation), and each phase
  into time waiting for the server (a socket read/write or psycopg's wait as the innermost frame),
  time encoding requests (Redis RESP packing, Elasticsearch JSON) and other time in this process.
  The raw stacks stay in DIR. Profiled rebuilds are slower than unprofiled ones; their times are
  not in the table.

Between rebuilds the search pointer may name a generation that a snippet-only or foreign-adapter
rebuild has already collected; the last rebuild of every round uses the stack's own adapter, so
the stack is consistent again at the end (Elasticsearch indices orphaned meanwhile are deleted).
Running edge or worker processes keep working but see those transient states.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

from bench.report import fmt_num, median, proc_table, py_spy, read_collapsed, table, tree_cpu_seconds
from bench.stack import Stack, run_cli

MODES = ("none", "embedded", "elasticsearch")
#: The goal (issue #16): a rebuild at ≥ 0.7 × (cores) × the single-core render ceiling.
TARGET = 0.7
PROFILE_RATE = 250
FAR_FUTURE = 10 * 365 * 86400  # seconds: "every grace period is over"

# Profile phases: the first whose (function prefix, file part) is on a sample's stack names it.
# search_document calls Renderer.live_offer, so it comes before the renderers.
PHASES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("search documents", (("search_document", "projector/search_documents.py"),)),
    ("render snippets", (("Renderer.", "projector/render.py"),)),
    (
        "read PostgreSQL",
        (
            ("load_products", "projector/readmodel.py"),
            ("load_categories", "projector/readmodel.py"),
            ("iter_sku_batches", "projector/readmodel.py"),
            ("count_products", "projector/readmodel.py"),
            ("home_state", "projector/readmodel.py"),
            ("ConnectionPool.", "psycopg_pool/"),
        ),
    ),
    ("embedded index memberships", (("memberships", "search/embedded_docs.py"),)),
    ("snippet writes (guarded_set.lua)", (("SnippetWriter.write", "projector/store.py"),)),
    (
        "search index writes",
        (("EmbeddedIndex.index", "search/embedded.py"), ("ElasticIndex.index", "search/elastic.py")),
    ),
    ("offer timers", (("Projector._set_offer_timers", "projector/service.py"),)),
    (
        "switch + delete old generation",
        (("delete_old_generations", "projector/generations.py"), ("switch_to", "projector/generations.py")),
    ),
    ("search setup + refresh", (("EmbeddedIndex.", "search/embedded.py"), ("ElasticIndex.", "search/elastic.py"))),
)
# Innermost frames that mean "waiting for the server" (the C call below them blocks on a socket).
WAIT_LEAVES = (
    "Connection.wait",
    "_HiredisParser.read_from_socket",
    "SocketBuffer._read_from_socket",
    "AbstractConnection.send_packed_command",
    "SocketIO.readinto",
    "socket.recv",
    "socket.sendall",
    "HTTPConnection.send",
    "BaseSelector.select",
    "EpollSelector.select",
)
# Frames that encode requests for the wire (Redis RESP, Elasticsearch JSON).
ENCODE_FRAMES = (
    "AbstractConnection.pack_commands",
    "JsonSerializer.dumps",
    "JSONSerializer.dumps",
    "SerializerCollection.dumps",
    "NdjsonSerializer.dumps",
)


# --- the ceiling -----------------------------------------------------------------------------------


@dataclass
class Views:
    """Everything the rebuild reads, in memory."""

    products: list
    categories: dict
    home: tuple[int, list[str]]


def load_views(stack: Stack, batch: int = 500) -> Views:
    from projector.readmodel import home_state, iter_sku_batches, load_categories, load_products

    products = []
    with stack.connect() as conn:
        for chunk in iter_sku_batches(conn, batch):
            views = load_products(conn, chunk)
            products += [views[sku] for sku in chunk if sku in views]
        categories = load_categories(conn)
        home = home_state(conn, stack.settings.featured_count)
    return Views(products, categories, home)


def render_ceiling(stack: Stack, views: Views) -> dict[str, float]:
    """Time rendering every snippet and search document the rebuild makes, with no I/O."""
    from datetime import datetime

    from projector.render import Renderer
    from projector.search_documents import search_document
    from vocab.keys import PRODUCT_KINDS

    settings = stack.settings
    renderer = Renderer(settings.locales, settings.currencies, settings.low_stock_threshold)
    now = datetime.now(UTC)
    categories, (home_version, featured) = views.categories, views.home
    c0, t0 = time.process_time(), time.perf_counter()
    snippets = 0
    for p in views.products:
        snippets += len(renderer.product(p, categories, now, PRODUCT_KINDS))
    snippets += len(renderer.frames(categories)) + len(renderer.category_headers(categories))
    snippets += len(renderer.home(home_version, featured))
    t1, c1 = time.perf_counter(), time.process_time()
    for p in views.products:
        search_document(p, categories, now, renderer)
    t2, c2 = time.perf_counter(), time.process_time()
    n = len(views.products)
    return {
        "products": n,
        "snippets": snippets,
        "snippet_seconds": t1 - t0,
        "document_seconds": t2 - t1,
        "cpu_seconds": c2 - c0,
        "snippet_cpu_seconds": c1 - c0,
        "products_per_s": n / (t2 - t0),
        "snippet_only_products_per_s": n / (t1 - t0),
    }


# --- rebuilds ------------------------------------------------------------------------------------


def modes_for(stack: Stack) -> list[str]:
    """The adapters this stack can rebuild with: none, embedded and (with a node) elasticsearch."""
    return ["none", "embedded"] + (["elasticsearch"] if stack.search == "elasticsearch" else [])


@contextlib.contextmanager
def projector_for(stack: Stack, mode: str):
    """A Projector writing snippets plus the ``mode`` search adapter (the stack's own, or embedded)."""
    if mode == "none" or mode == stack.search:
        with stack.projector(search=mode != "none") as projector:
            yield projector
    elif mode == "embedded":
        from search.embedded import EmbeddedIndex

        with stack.projector(search=False) as projector:
            settings = stack.settings
            projector.search = EmbeddedIndex(
                projector.writer.client, projector.keys, settings.locales, settings.currencies
            )
            yield projector
    else:
        raise ValueError(f"this stack cannot rebuild with {mode!r} (it runs search={stack.search!r})")


def server_roots(stack: Stack) -> dict[str, int]:
    """Process trees whose CPU a rebuild uses besides this process."""
    # Stack.create started both, Redis as its child
    assert stack.pg is not None and stack.redis is not None and stack.redis.process is not None
    roots = {
        "postgres": int((stack.pg.datadir / "postmaster.pid").read_text().split()[0]),
        "redis": stack.redis.process.pid,
    }
    nodes = sorted(getattr(stack.es, "_procs", {}).items())  # tools.elasticsearch keeps no public pid
    for node, proc in nodes:
        roots["elasticsearch" if len(nodes) == 1 else f"elasticsearch{node}"] = proc.pid
    return roots


def timed_rebuild(stack: Stack, mode: str, jobs: int | None = None) -> dict:
    """One ``projector rebuild`` with ``mode`` (``jobs``: its processes, None: one per usable
    core): seconds, products/s, the processes that rendered and CPU seconds per process tree
    ('bench': this process and its rebuild workers)."""
    from projector.rebuild import rebuild

    roots = server_roots(stack)
    cpu0 = tree_cpu_seconds(roots, "bench")
    if mode == "none" or mode == stack.search:
        summary, seconds = stack.rebuild(search=mode != "none", jobs=jobs)
    else:
        with projector_for(stack, mode) as projector:
            started = time.perf_counter()
            summary = rebuild(projector, progress=False, jobs=jobs)
            seconds = time.perf_counter() - started
    cpu1 = tree_cpu_seconds(roots, "bench")
    return {
        "mode": mode,
        "generation": summary.generation,
        "products": summary.products,
        "snippets": summary.snippets,
        "processes": summary.processes,
        "seconds": seconds,
        "products_per_s": summary.products / seconds,
        "cpu_s": {name: cpu1[name] - cpu0[name] for name in cpu1},
    }


def drop_replaced_generations(stack: Stack) -> tuple[list[int], float]:
    """Delete every replaced generation now, their grace period notwithstanding (what the first
    rebuild after the grace period does); return them and the seconds it took."""
    from projector.generations import delete_old_generations

    with stack.projector(search=True) as projector:
        started = time.perf_counter()
        doomed = delete_old_generations(projector, now=time.time() + FAR_FUTURE)
        return doomed, time.perf_counter() - started


def rebuild_then_collect(stack: Stack, mode: str) -> dict:
    """A rebuild, then deleting the generation it replaced: a rebuild as it runs in production,
    where the previous one is past its grace period (profiled as one)."""
    run = timed_rebuild(stack, mode)
    doomed, seconds = drop_replaced_generations(stack)
    return {
        **run,
        "rebuild_seconds": run["seconds"],
        "collect_seconds": seconds,
        "collected": doomed,
        "seconds": run["seconds"] + seconds,
        "products_per_s": run["products"] / (run["seconds"] + seconds),
    }


def drop_orphaned_es_indices(stack: Stack) -> list[str]:
    """Delete Elasticsearch generation indices whose generation no longer exists (left by rebuilds
    that collected generations without the Elasticsearch adapter)."""
    if stack.search != "elasticsearch":
        return []
    with stack.projector(search=True) as projector:
        index, client, keys = projector.search, projector.writer.client, projector.keys
        alive = {int(g) for g in client.smembers(keys.generations)}
        dropped = []
        for name in index.client.indices.get(index=f"{index.alias}-*", ignore_unavailable=True):
            suffix = name.rsplit("-", 1)[-1]
            if suffix.isdigit() and int(suffix) not in alive:
                index.client.indices.delete(index=name, ignore_unavailable=True)
                dropped.append(name)
        return dropped


# --- profile -------------------------------------------------------------------------------------


def _frame_name(frame: str) -> tuple[str, str]:
    name, _, where = frame.partition(" (")
    return name, where


def classify(frames: list[str]) -> tuple[str, str]:
    """(phase, activity) of one sampled stack (outermost frame first); activity is "wait" (for a
    server), "encode" (requests for the wire) or "cpu" (anything else in this process)."""
    parsed = [_frame_name(f) for f in frames]
    phase = "other"
    for label, markers in PHASES:
        if any(name.startswith(prefix) and part in where for name, where in parsed for prefix, part in markers):
            phase = label
            break
    if parsed and parsed[-1][0] in WAIT_LEAVES:
        return phase, "wait"
    if any(name in ENCODE_FRAMES for name, _ in parsed):
        return phase, "encode"
    return phase, "cpu"


#: The functions (name, file part) whose stacks are the rebuild's: this module's, and a rebuild worker process's.
PROFILE_ROOTS = (("rebuild_then_collect", "bench/projection.py"), ("_work", "projector/rebuild_workers.py"))


def summarize_rebuild_profile(
    path: Path, seconds: float, roots: tuple[tuple[str, str], ...] = PROFILE_ROOTS, processes: int = 1
) -> dict:
    """Phases of the rebuild from a py-spy raw file: samples on stacks through one of ``roots``.

    A phase's seconds are its share of the samples times the rebuild's wall ``seconds`` times the
    ``processes`` that rendered (process-seconds; py-spy misses samples on a busy machine, so
    counting samples at the nominal rate would come out short).
    """
    phases: dict[str, dict[str, int]] = defaultdict(lambda: {"wait": 0, "encode": 0, "cpu": 0})
    total = 0
    for frames, n in read_collapsed(path):
        names = [_frame_name(f) for f in frames]
        if not any(name == root and part in where for name, where in names for root, part in roots):
            continue
        phase, activity = classify(frames)
        phases[phase][activity] += n
        total += n
    out = {}
    for label, counts in sorted(phases.items(), key=lambda kv: -sum(kv[1].values())):
        samples = sum(counts.values())
        out[label] = {
            "share": samples / total,
            "seconds": processes * seconds * samples / total,
            **{f"{activity}_share": n / samples for activity, n in counts.items()},
        }
    return {"samples": total, "phases": out}


def profiled_rebuild(stack: Stack, mode: str, out: Path, rate: int = PROFILE_RATE) -> dict:
    """A production-like rebuild under py-spy (this process, all threads, idle included): a rebuild
    that replaces a generation of its own kind, then deletes the one replaced before (its grace
    period taken as over); its phase breakdown."""
    timed_rebuild(stack, mode)  # the generation the profiled rebuild's deletion removes
    drop_replaced_generations(stack)  # so the profiled rebuild itself finds nothing past its grace period
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"rebuild-{mode}.txt"
    spy = subprocess.Popen(
        [
            py_spy(),
            "record",
            "--pid",
            str(os.getpid()),
            "--idle",
            "--threads",
            "--nonblocking",
            "--subprocesses",  # the rebuild's worker processes
            "--nolineno",
            "--format",
            "raw",
            "--rate",
            str(rate),
            "--output",
            str(path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        time.sleep(1.0)  # let py-spy attach
        run = rebuild_then_collect(stack, mode)
    finally:
        spy.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        try:
            _, err = spy.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            spy.kill()
            _, err = spy.communicate()
    if not path.exists():
        raise RuntimeError(f"py-spy wrote no profile: {err.decode(errors='replace')[-2000:]}")
    summary = summarize_rebuild_profile(path, run["seconds"], processes=run["processes"])
    return {"run": run, "file": str(path), "rate": rate, **summary}


# --- the measurement -----------------------------------------------------------------------------


def _usable_cores() -> int:
    from projector.rebuild_workers import usable_cores

    return usable_cores()


def _pin_trees(roots: list[int], cpus: set[int]) -> None:
    """Every thread of the process trees under ``roots`` on ``cpus`` (threads started later inherit it)."""
    kids: dict[int, list[int]] = defaultdict(list)
    for pid, (ppid, _) in proc_table().items():
        kids[ppid].append(pid)
    todo = list(roots)
    while todo:
        pid = todo.pop()
        todo += kids[pid]
        with contextlib.suppress(FileNotFoundError):
            for tid in os.listdir(f"/proc/{pid}/task"):
                with contextlib.suppress(ProcessLookupError):
                    os.sched_setaffinity(int(tid), cpus)


@contextlib.contextmanager
def servers_apart(stack: Stack):
    """The stack's servers on the last usable core, this thread (and the processes it starts) on
    the others, until the block ends; yields the rendering cores."""
    usable = sorted(os.sched_getaffinity(0))
    if len(usable) < 2:
        raise ValueError("servers apart needs at least two usable cores")
    roots = list(server_roots(stack).values())
    rendering = set(usable[:-1])
    _pin_trees(roots, {usable[-1]})
    os.sched_setaffinity(0, rendering)
    try:
        yield rendering
    finally:
        os.sched_setaffinity(0, set(usable))
        _pin_trees(roots, set(usable))


def measure(
    stack: Stack,
    modes: list[str] | None = None,
    rounds: int = 2,
    profile_dir: Path | None = None,
    jobs: int | None = None,
    apart: bool = False,
) -> dict:
    """Ceiling and rebuild throughput on ``stack`` (which must hold a loaded catalog); see the
    docstring. ``jobs``: the rebuilds' processes (None: one per usable core, as ``projector rebuild``);
    ``apart``: the servers on a core of their own (:func:`servers_apart`)."""
    if apart:
        with servers_apart(stack) as rendering:
            result = measure(stack, modes, rounds, profile_dir, jobs)
        return {**result, "servers_apart": sorted(set(os.sched_getaffinity(0)) - rendering)}
    modes = modes or modes_for(stack)
    unknown = set(modes) - set(modes_for(stack))
    if unknown:
        raise ValueError(f"cannot rebuild with {sorted(unknown)} on a search={stack.search!r} stack")
    native = "none" if stack.search == "none" else stack.search
    order = [m for m in modes if m != native] + [native]  # the stack's own adapter last: consistent after
    views = load_views(stack)
    gc.collect()
    gc.freeze()  # the views stay for the whole measurement: keep them out of the collector's scans
    built: dict[int, str] = {}  # generation -> the adapter it was built with
    deletions: dict[str, list[float]] = defaultdict(list)  # adapter -> seconds to delete one of its generations
    try:
        ceilings, runs = [], defaultdict(list)
        for _ in range(rounds):
            ceilings.append(render_ceiling(stack, views))
            for mode in order:
                doomed, seconds = drop_replaced_generations(stack)
                if len(doomed) == 1 and doomed[0] in built:
                    deletions[built[doomed[0]]].append(seconds)
                run = timed_rebuild(stack, mode, jobs)
                built[run["generation"]] = mode
                if mode in modes:
                    runs[mode].append(run)
    finally:
        del views
        gc.unfreeze()
    return {
        **summarize(ceilings, runs, deletions, modes, rounds, stack.search, _usable_cores()),
        **profile_and_tidy(stack, modes, order, profile_dir),
    }


def summarize(
    ceilings: list[dict],
    runs: dict[str, list[dict]],
    deletions: dict[str, list[float]],
    modes: list[str],
    rounds: int,
    search: str,
    cores: int = 1,
) -> dict:
    """Medians over the rounds; each rebuild's ratio is taken against ``cores`` × the ceiling of its
    own round (``single_core_ratio``: against the ceiling alone)."""
    result: dict = {
        "products": ceilings[0]["products"],
        "cores": cores,
        "rounds": rounds,
        "search": search,
        "snippets_per_product": ceilings[0]["snippets"] / max(ceilings[0]["products"], 1),
    }
    result["ceiling"] = {
        "products_per_s": median([c["products_per_s"] for c in ceilings]),
        "runs": [c["products_per_s"] for c in ceilings],
        "cpu_seconds": median([c["cpu_seconds"] for c in ceilings]),
        "snippet_cpu_seconds": median([c["snippet_cpu_seconds"] for c in ceilings]),
        "document_share": median(
            [c["document_seconds"] / (c["snippet_seconds"] + c["document_seconds"]) for c in ceilings]
        ),
    }
    result["ceiling_snippets"] = {
        "products_per_s": median([c["snippet_only_products_per_s"] for c in ceilings]),
        "runs": [c["snippet_only_products_per_s"] for c in ceilings],
    }
    result["rebuild"] = {}
    for mode in modes:
        key = "snippet_only_products_per_s" if mode == "none" else "products_per_s"
        ratios = [r["products_per_s"] / (cores * c[key]) for r, c in zip(runs[mode], ceilings, strict=True)]
        delete_s = median(deletions.get(mode, []))
        with_delete = [r["products"] / (r["seconds"] + delete_s) for r in runs[mode]]
        ratios_with_delete = [rate / (cores * c[key]) for rate, c in zip(with_delete, ceilings, strict=True)]
        cpu: dict[str, float] = defaultdict(float)
        for r in runs[mode]:
            for name, seconds in r["cpu_s"].items():
                cpu[name] += seconds / len(runs[mode])
        result["rebuild"][mode] = {
            "products_per_s": median([r["products_per_s"] for r in runs[mode]]),
            "runs": [r["products_per_s"] for r in runs[mode]],
            "seconds": median([r["seconds"] for r in runs[mode]]),
            "ratio": median(ratios),  # ÷ (cores × ceiling)
            "ratio_runs": ratios,
            "single_core_ratio": cores * median(ratios),  # ÷ the ceiling alone, the figure before #16
            "processes": max(r.get("processes", 1) for r in runs[mode]),
            # deleting one replaced generation of the same kind, as a rebuild past the grace period does
            "delete_seconds": delete_s,
            "delete_runs": deletions.get(mode, []),
            "with_delete_products_per_s": median(with_delete),
            "with_delete_runs": with_delete,
            "with_delete_ratio": median(ratios_with_delete),
            "with_delete_ratio_runs": ratios_with_delete,
            "ceiling_used": "snippets only" if mode == "none" else "snippets + documents",
            "cpu_s": dict(cpu),
            # the share of this process's CPU in the rebuild that the pure rendering accounts for: the
            # ceiling's CPU seconds ÷ the rebuild's (CPU time hardly depends on other work on the machine)
            "render_cpu_share": (
                result["ceiling"]["snippet_cpu_seconds" if mode == "none" else "cpu_seconds"] / cpu["bench"]
            )
            if cpu.get("bench")
            else float("nan"),
        }
    return result


def profile_and_tidy(stack: Stack, modes: list[str], order: list[str], profile_dir: Path | None) -> dict:
    result: dict = {}
    if profile_dir is not None:
        result["profile"] = {mode: profiled_rebuild(stack, mode, profile_dir) for mode in order if mode in modes}
        if order[-1] not in modes:  # leave the stack on its own adapter
            timed_rebuild(stack, order[-1])
    result["dropped_es_indices"] = drop_orphaned_es_indices(stack)
    return result


# --- output --------------------------------------------------------------------------------------


def print_results(result: dict) -> None:
    n = result["products"]
    c, cs = result["ceiling"], result["ceiling_snippets"]

    def spread(values: list[float]) -> str:
        return f"{min(values):,.0f}–{max(values):,.0f}" if len(values) > 1 else "-"

    def ratio_range(values: list[float]) -> str:
        return f"{min(values):.2f}–{max(values):.2f}" if len(values) > 1 else "-"

    rows = [
        (
            "ceiling: snippets + documents",
            fmt_num(c["products_per_s"]),
            spread(c["runs"]),
            "-",
            "1.00",
            "-",
            "",
            "",
            "",
            "",
        ),
        (
            "ceiling: snippets only",
            fmt_num(cs["products_per_s"]),
            spread(cs["runs"]),
            "-",
            f"{cs['products_per_s'] / c['products_per_s']:.2f}",
            "-",
            "",
            "",
            "",
            "",
        ),
    ]
    cores = result.get("cores", 1)
    for mode, r in result["rebuild"].items():
        deleting = r["delete_seconds"] == r["delete_seconds"]  # not NaN: a deletion of its kind was timed
        rows.append(
            (
                f"rebuild, search {mode}" + (" *" if mode == "none" else ""),
                fmt_num(r["products_per_s"]),
                spread(r["runs"]),
                f"{r['seconds']:.1f}",
                f"{r['ratio']:.2f}",
                ratio_range(r["ratio_runs"]),
                f"{r['delete_seconds']:.1f}" if deleting else "-",
                fmt_num(r["with_delete_products_per_s"]),
                f"{r['with_delete_ratio']:.2f}" if deleting else "-",
                "yes" if r["ratio"] >= TARGET else "NO",
            )
        )
    processes = sorted({r.get("processes", 1) for r in result["rebuild"].values()})
    print(
        f"\nN = {n:,} products ({result['snippets_per_product']:.1f} snippets each), {result['rounds']} rounds, "
        f"medians; {cores} usable cores, the rebuilds rendered in {'/'.join(map(str, processes))} processes; "
        f"a rebuild's ratio is against {cores} × the single-core ceiling of its own round (* search none: the "
        f"snippet-only ceiling); search documents are {100 * c['document_share']:.0f} % of the ceiling's render time"
    )
    if result.get("servers_apart"):
        print(
            f"servers apart: PostgreSQL, Redis and Elasticsearch pinned to CPU {result['servers_apart']}, the "
            f"ceiling and the rebuilds to the other {cores} (the rendering cores)"
        )
    print(
        table(
            [
                "",
                "products/s",
                "min–max",
                "seconds",
                f"÷ ({cores} × ceiling)",
                "min–max",
                "+ delete old s",
                "products/s",
                f"÷ ({cores} × ceiling)",
                f"≥ {TARGET:g}",
            ],
            rows,
        )
    )
    print(
        "(the first columns: the rebuild proper, a new generation filled and switched to; '+ delete old': "
        "deleting one replaced generation of the same kind, which a rebuild does once the previous one is past "
        "its grace period, beside the build in production; the last columns add it as if it ran after the build, "
        "an upper bound; ≥ 0.7 judges the rebuild proper; the ceiling rows are one core's)"
    )
    names = sorted({name for r in result["rebuild"].values() for name in r["cpu_s"]})
    print(
        f"\nCPU seconds per rebuild (mean over rounds; 'bench' is this process and its rebuild workers, the "
        f"projector; the ceiling took {c['cpu_seconds']:.1f} CPU s, {c['snippet_cpu_seconds']:.1f} of them "
        "for the snippets):"
    )
    print(
        table(
            ["search"] + names + ["wall s", "rendering ÷ bench CPU"],
            [
                [mode]
                + [f"{r['cpu_s'].get(name, 0):.1f}" for name in names]
                + [f"{r['seconds']:.1f}", f"{r['render_cpu_share']:.2f}"]
                for mode, r in result["rebuild"].items()
            ],
        )
    )
    for mode, prof in result.get("profile", {}).items():
        run = prof["run"]
        print(
            f"\nprofile of a rebuild with search {mode}: {run['seconds']:.1f}s under py-spy "
            f"({run['products_per_s']:,.0f} products/s, {run['processes']} processes; seconds are process-seconds), "
            f"{prof['samples']} samples at {prof['rate']} Hz; "
            f"stacks in {prof['file']}"
        )
        print(
            table(
                ["phase", "share", "seconds", "waiting for server", "encoding requests", "other CPU here"],
                [
                    (
                        label,
                        f"{100 * p['share']:.1f} %",
                        f"{p['seconds']:.2f}",
                        f"{100 * p['wait_share']:.0f} %",
                        f"{100 * p['encode_share']:.0f} %",
                        f"{100 * p['cpu_share']:.0f} %",
                    )
                    for label, p in prof["phases"].items()
                ],
            )
        )
    if result.get("dropped_es_indices"):
        print(f"\ndeleted orphaned Elasticsearch indices: {', '.join(result['dropped_es_indices'])}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument(
        "--search",
        choices=["embedded", "elasticsearch"],
        default="elasticsearch",
        help="the stack's search: elasticsearch measures all three adapters, embedded skips it",
    )
    parser.add_argument("--modes", help="comma list of adapters to rebuild with (default: all the stack can)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--jobs", type=int, help="processes per rebuild (default: one per usable core, as projector rebuild)"
    )
    parser.add_argument("--profile", type=Path, metavar="DIR", help="profile one rebuild per adapter with py-spy")
    parser.add_argument(
        "--servers-apart",
        action="store_true",
        help="the servers on the last usable core, the ceiling and the rebuilds on the others",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs) at the end")
    args = parser.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",")] if args.modes else None
    if modes and set(modes) - set(MODES):
        parser.error(f"--modes: choose from {', '.join(MODES)}")
    return run_cli(
        lambda stack: print_results(measure(stack, modes, args.rounds, args.profile, args.jobs, args.servers_apart)),
        search=args.search,
        products=args.products,
        keep=args.keep,
    )


if __name__ == "__main__":
    sys.exit(main())
