"""``projector rebuild``: re-project everything into a new generation and switch to it.

The new generation (snippets and search index) is filled beside the live one (tasks write to
both meanwhile), then the search alias and the snippet pointer switch (projector.generations:
the replaced generation stays for a rollback during a grace period; generations already past
their grace period are deleted while the new one is built). On failure the half-built
generation is deleted and the error re-raised.
A full rebuild renders on every usable core (``jobs``): its own process and worker processes
take the batches of SKUs between them (projector/rebuild_workers.py); it switches only when
every process has projected all it took, and a failure in any of them fails the whole rebuild.
One full rebuild runs at a time: it holds the rebuild lock (projector.rebuildlock) from before it
changes anything until after the switch, and a second one raises :class:`RebuildRunning` at once.
A partial rebuild (``--only`` / ``--sku``) re-projects that part in place, version-guarded.
"""

from __future__ import annotations

import contextlib
import gc
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from tqdm import tqdm

from projector import canary as canary_module
from projector.canary import CanaryRunning
from projector.generations import delete_old_generations, switch_to
from projector.readmodel import count_products, iter_sku_batches, load_categories
from projector.rebuild_workers import RebuildWorkerFailed, Recipe, Work, Workers, usable_cores
from projector.rebuildlock import LOCK_TTL_SECONDS, RebuildLock, RebuildLockLost, RebuildRunning, delete_if_equal
from projector.service import Loaded, Projector
from projector.store import delete_generation
from vocab.keys import PRICE_KINDS, PRODUCT_KINDS, STOCK_KINDS, Kind

__all__ = [
    "ONLY",
    "CanaryRunning",
    "RebuildLockLost",
    "RebuildRunning",
    "RebuildWorkerFailed",
    "Summary",
    "rebuild",
    "usable_cores",
]

#: The interpreter's thread switch interval during the pipeline (default 5 ms): fewer forced
#: switches between the rendering thread and the two I/O threads.
SWITCH_INTERVAL = 0.05
#: Allocations between the garbage collector's young-generation passes during the pipeline
#: (default 700): rendering allocates and frees millions of short-lived objects, nearly none in
#: reference cycles.
GC_THRESHOLD = 50_000

ONLY = {
    "products": PRODUCT_KINDS,
    "prices": PRICE_KINDS,
    "stock": STOCK_KINDS,
    "text": (Kind.DETAIL, Kind.TILE, Kind.LD, Kind.VARIANTS, Kind.VARIANT),
    "breadcrumbs": (Kind.CRUMB,),
    "navigation": (),
    "labels": (),
    "home": (),
}


@dataclass
class Summary:
    generation: int | None
    products: int
    snippets: int
    seconds: float
    canary: int | None = None  # the percent of shoppers the new generation serves beside the live one
    processes: int = 1  # the processes that rendered: the rebuild's own and its workers

    @property
    def products_per_second(self) -> float:
        return self.products / self.seconds if self.seconds else 0.0

    def __str__(self) -> str:
        where = f"generation {self.generation} is live" if self.generation else "in place"
        if self.canary is not None:
            where = f"generation {self.generation} is the canary for {self.canary} % of shoppers"
        on = f" on {self.processes} processes" if self.processes > 1 else ""
        return (
            f"{self.products} products, {self.snippets} snippets in {self.seconds:.1f}s{on} "
            f"({self.products_per_second:.0f} products/s); {where}"
        )


#: A progress note outlives its last renewal this long (a killed rebuild's goes soon after).
PROGRESS_TTL_SECONDS = 120


def rebuild(
    projector: Projector,
    *,
    only: str | None = None,
    skus: Sequence[str] | None = None,
    batch: int = 500,
    progress: bool = True,
    lock_ttl: float = LOCK_TTL_SECONDS,
    canary: int | None = None,
    jobs: int | None = None,
) -> Summary:
    """Raises :class:`RebuildRunning` (changing nothing) if another full rebuild holds the lock, and
    :class:`CanaryRunning` if a canary runs. ``canary``: a percent of shoppers; the new generation is
    then served to them beside the live one instead of switched to (projector/canary.py).
    ``jobs``: the processes that render a full rebuild (None: one per usable core), this one and
    ``jobs - 1`` workers (projector/rebuild_workers.py); a partial rebuild renders in this one."""
    started = time.monotonic()
    jobs = usable_cores() if jobs is None else jobs
    if jobs < 1:
        raise ValueError("a rebuild renders in at least one process (jobs >= 1)")
    if only or skus:  # in place and version-guarded: runs beside anything, needs no lock
        return _in_place(projector, only, skus, batch, progress, started)
    if canary is not None and not canary_module.MIN_PERCENT <= canary <= canary_module.MAX_PERCENT:
        raise ValueError(f"a canary serves {canary_module.MIN_PERCENT} to {canary_module.MAX_PERCENT} % of shoppers")
    with RebuildLock(projector.writer.client, projector.keys, lock_ttl) as lock:
        canary_module.refuse_if_running(projector)
        return _full(projector, lock, batch, progress, started, canary, jobs)


def _full(
    projector: Projector,
    lock: RebuildLock,
    batch: int,
    progress: bool,
    started: float,
    canary: int | None,
    jobs: int,
) -> Summary:
    client, keys = projector.writer.client, projector.keys
    # The lock is ours, so a building pointer left behind belongs to a rebuild that was killed.
    client.delete(keys.building, keys.building_templates)
    previous = client.get(keys.live)
    gen = int(client.incr(keys.genseq))
    if previous is not None and gen <= int(previous):  # counter lost (Redis flushed): move past live
        gen = int(client.incr(keys.genseq, int(previous) - gen + 1))
    client.sadd(keys.generations, gen)
    search = projector.search
    try:
        if search is not None:
            search.ensure_generation(gen, bulk=True)
        client.set(keys.building, gen)  # from here on, delete_old_generations() knows the new generation is no orphan
        if canary is not None and projector.settings.templates_dir:  # tasks meanwhile render it as this does
            client.set(keys.building_templates, projector.settings.templates_dir)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rebuild-delete-old") as beside:
            # Generations already past their grace period go while this one is built (Redis does
            # that work, on another core); what this switch retires is collected after it.
            early = beside.submit(delete_old_generations, projector)
            products, snippets, processes = _project_all(
                projector, [gen], PRODUCT_KINDS, None, batch, progress, lock.check, jobs
            )
            snippets += projector.navigation([gen]) + projector.home([gen])
            if search is not None:
                search.refresh()
                search.compact(gen)  # serving settings, one segment before it goes live: listings pay per segment
            early.result()
        lock.check(ask_redis=True)  # never switch after another rebuild could have taken over
    except BaseException:
        if delete_if_equal(client, keys.building, str(gen)):  # only our pointer, never a successor's
            client.delete(keys.building_templates)
        delete_generation(client, keys, gen)
        client.srem(keys.generations, gen)
        if search is not None:
            search.drop(gen)
        raise
    finally:
        client.delete(keys.rebuild_progress)
    if canary is not None:
        canary_module.begin(projector, gen, canary)
        return Summary(gen, products, snippets, time.monotonic() - started, canary, processes)
    switch_to(projector, gen)
    delete_old_generations(projector)
    return Summary(gen, products, snippets, time.monotonic() - started, processes=processes)


def _note_progress(projector: Projector, done: int, total: int) -> None:
    key = projector.keys.rebuild_progress
    pipe = projector.writer.client.pipeline(transaction=False)
    pipe.hset(key, mapping={"done": done, "total": total})
    pipe.expire(key, PROGRESS_TTL_SECONDS)
    pipe.execute()


def _in_place(
    projector: Projector, only: str | None, skus: Sequence[str] | None, batch: int, progress: bool, started: float
) -> Summary:
    gens = projector.writer.target_generations()
    kinds = ONLY[only] if only else PRODUCT_KINDS
    products = snippets = 0
    if kinds:
        products, snippets, _ = _project_all(projector, gens, kinds, skus, batch, progress)
    if only in (None, "navigation") and not skus:
        snippets += projector.navigation(gens)  # the labels too
    if only == "labels":
        snippets += projector.labels(gens)
    if only in (None, "home", "products") or skus:
        snippets += projector.home(gens)
    return Summary(None, products, snippets, time.monotonic() - started)


def _project_all(
    projector: Projector,
    gens: list[int],
    kinds,
    skus,
    batch: int,
    progress: bool,
    check: Callable[[], None] | None = None,
    jobs: int = 1,
) -> tuple[int, int, int]:
    """Every product, batch by batch (:func:`pipeline`), in this process or, with ``jobs`` > 1,
    in this one and ``jobs - 1`` worker processes (projector/rebuild_workers.py). The SKUs and
    the category tree are read once, here. ``check`` runs before each batch (the rebuild lock's:
    it raises once the lock is lost). Returns products, snippets and the processes that rendered."""
    kinds = tuple(kinds)
    with projector.pool.connection() as conn:
        total = len(skus) if skus else count_products(conn)
        chunks = list(iter_sku_batches(conn, batch, list(skus) if skus else None))
        categories = load_categories(conn)
    done = 0
    with tqdm(total=total, unit="products", disable=not progress, desc="projecting") as bar:

        def on_batch(n: int) -> None:
            nonlocal done
            done += n
            bar.update(n)
            if check is not None:  # a full rebuild: its progress is a metric (projector/pipeline_metrics.py)
                _note_progress(projector, done, total)

        recipe = Recipe.find(projector) if jobs > 1 and len(chunks) > 1 else None
        if recipe is not None:
            return _in_parallel(projector, recipe, Work(gens, kinds, chunks, categories), jobs, on_batch, check)
        return (*pipeline(projector, gens, kinds, iter(chunks), categories, on_batch, check), 1)


def _in_parallel(
    projector: Projector,
    recipe: Recipe,
    work: Work,
    jobs: int,
    on_batch: Callable[[int], None],
    check: Callable[[], None] | None,
) -> tuple[int, int, int]:
    """This process and worker processes take the batches of ``work`` from a shared counter; any
    failure (here, in a worker, or the lock lost) stops every worker and is raised."""
    with Workers(recipe, work, min(jobs, len(work.chunks))) as workers:

        def check_all() -> None:
            if check is not None:
                check()
            workers.poll(on_batch)

        products, snippets = pipeline(
            projector, work.generations, work.kinds, iter(workers.take, None), work.categories, on_batch, check_all
        )
        more_products, more_snippets = workers.finish(on_batch, check_all)
    return products + more_products, snippets + more_snippets, workers.processes


def pipeline(
    projector: Projector,
    gens: list[int],
    kinds: tuple[Kind, ...],
    chunks: Iterator[list[str]],
    categories: dict,
    on_batch: Callable[[int], None],
    check: Callable[[], None] | None,
) -> tuple[int, int]:
    """Project the batches of ``chunks`` as a three-stage pipeline: while batch i renders (Python,
    holding the GIL), batch i+1 is taken and read from PostgreSQL and batch i-1 written to Redis
    and the search engine on two I/O threads, whose waiting releases the GIL. At most three
    batches are in memory. ``check`` runs before each batch, ``on_batch`` (with its SKU count)
    after each is rendered. Returns products and snippets written."""
    products = snippets = 0

    def load_next() -> tuple[int, Loaded] | None:
        chunk = next(chunks, None)
        return None if chunk is None else (len(chunk), projector.load(chunk, categories))

    with _interpreter_for_pipeline(), ThreadPoolExecutor(max_workers=2, thread_name_prefix="rebuild-io") as io:
        loading = io.submit(load_next)
        storing = None
        while True:
            if check is not None:
                check()
            loaded = loading.result()
            if loaded is None:
                break
            count, batch = loaded
            loading = io.submit(load_next)
            rendered = projector.render(batch, kinds)
            if storing is not None:
                snippets += storing.result()
            storing = io.submit(projector.store, rendered, gens)
            products += count
            on_batch(count)
        if storing is not None:
            snippets += storing.result()
    return products, snippets


@contextlib.contextmanager
def _interpreter_for_pipeline() -> Iterator[None]:
    """While a pipeline runs (in every process that renders): fewer forced switches between its
    three threads (:data:`SWITCH_INTERVAL`), and a garbage collector that leaves alone what exists
    before it (modules, templates, the SKU batches: frozen, never scanned) and runs its
    young-generation pass less often (:data:`GC_THRESHOLD`). All is put back afterwards; a caller
    that froze objects of its own before (the benchmark's product views) finds them still frozen."""
    switch, threshold, frozen_before = sys.getswitchinterval(), gc.get_threshold(), gc.get_freeze_count()
    sys.setswitchinterval(SWITCH_INTERVAL)
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        sys.setswitchinterval(switch)
        gc.set_threshold(*threshold)
        if not frozen_before:
            gc.unfreeze()
