"""Worker processes of a full rebuild: every core renders.

Rendering is Python holding the GIL, so one process renders on one core. A full rebuild with
``jobs`` > 1 starts ``jobs - 1`` worker processes beside its own (multiprocessing, *spawn*
context: a fresh interpreter, nothing inherited from the parent's threads and connections). Each
worker makes its own parts from the same settings (:class:`Recipe`): a PostgreSQL pool, a Redis
client and the same search adapter, so its bulk writes go over connections of its own.

The SKUs are read once, by the rebuild, in keyset-paginated batches. Every process, the rebuild's
own included, takes the next batch it has not projected from a shared counter (a batch is taken
exactly once), so a process slowed down by other work on the machine takes fewer. Workers report
each batch's product count (the progress bar and the back office's progress hash are the
rebuild's), and at the end their totals; a worker that fails reports its traceback. The rebuild
stops every worker (an event they look at before each batch, then SIGTERM for one that does not
end) before it deletes a half-built generation, so nothing writes into it afterwards; a worker
whose rebuild was killed stops by itself at its next batch.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import queue
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.process import BaseProcess
from typing import Any

from projector.service import Projector, utcnow
from search.factory import Adapter, adapter_of
from snipshop.config import Settings
from vocab.keys import Kind

log = logging.getLogger(__name__)

#: Seconds a stopped worker gets to finish its batch before it is terminated.
STOP_GRACE_SECONDS = 30.0
#: Seconds between looks at the workers while the rebuild waits for them.
POLL_SECONDS = 0.2


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class RebuildWorkerFailed(Exception):
    """A worker process of the rebuild failed; the message holds its traceback."""


class Stopped(Exception):
    """The rebuild told its workers to stop (it failed elsewhere)."""


@dataclass(frozen=True)
class Recipe:
    """What a worker needs to make a :class:`Projector` equal to the rebuild's (picklable)."""

    settings: Settings
    search: Adapter | None
    clock: Callable[[], datetime] = utcnow

    @classmethod
    def of(cls, projector: Projector) -> Recipe:
        """Raises ValueError if a worker cannot make the same projector: its search index is not
        one the settings describe, or its clock cannot be handed to another process."""
        search = adapter_of(projector.search, projector.settings) if projector.search is not None else None
        recipe = cls(projector.settings, search, projector.clock)
        try:
            pickle.dumps(recipe)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise ValueError(f"the projector cannot be handed to a worker process: {exc}") from exc
        return recipe

    @classmethod
    def find(cls, projector: Projector) -> Recipe | None:
        """:meth:`of`, or None (logged) when the projector cannot be made in a worker."""
        try:
            return cls.of(projector)
        except ValueError as exc:
            log.warning("rebuilding in one process: %s", exc)
            return None


@dataclass(frozen=True)
class Work:
    """One rebuild's work, shared by all its processes."""

    generations: list[int]
    kinds: tuple[Kind, ...]
    chunks: list[list[str]]
    categories: dict


class Workers:
    """``jobs - 1`` worker processes sharing the batches of ``work`` with the rebuild's process.

    Use as a context manager: on leaving with an exception (or without :meth:`finish`) the
    workers are stopped and reaped."""

    def __init__(self, recipe: Recipe, work: Work, count: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.work = work
        self._next = ctx.Value("q", 0)  # the index of the next batch to take (with its lock)
        self._events: multiprocessing.Queue[tuple[Any, ...]] = ctx.Queue()
        self._stop = ctx.Event()
        self._procs: list[BaseProcess] = [
            ctx.Process(
                target=_work,
                args=(i, os.getpid(), recipe, work, self._next, self._events, self._stop),
                name=f"rebuild-worker-{i}",
                daemon=True,
            )
            for i in range(1, count)
        ]
        self._done: dict[int, tuple[int, int]] = {}

    @property
    def processes(self) -> int:
        """How many processes render, the rebuild's own included."""
        return 1 + len(self._procs)

    def __enter__(self) -> Workers:
        for proc in self._procs:
            proc.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def take(self) -> list[str] | None:
        """The next batch nobody has taken (None: all are taken)."""
        return _take(self._next, self.work.chunks)

    def poll(self, on_progress: Callable[[int], None], timeout: float = 0.0) -> None:
        """Hand the workers' progress to ``on_progress``; raise :class:`RebuildWorkerFailed` if one
        failed or exited without its totals. ``timeout``: wait that long for a first event."""
        while True:
            try:
                event = self._events.get(timeout=timeout) if timeout else self._events.get_nowait()
            except queue.Empty:
                break
            timeout = 0.0
            self._handle(event, on_progress)
        for i, proc in enumerate(self._procs, start=1):
            if proc.exitcode is None or i in self._done:
                continue
            try:  # what it sent just before it exited may still be on its way
                while i not in self._done:
                    self._handle(self._events.get(timeout=1.0), on_progress)
            except queue.Empty:
                raise RebuildWorkerFailed(
                    f"rebuild worker {i} exited with code {proc.exitcode} before it was done"
                ) from None

    def _handle(self, event: tuple[Any, ...], on_progress: Callable[[int], None]) -> None:
        kind, worker, *rest = event
        if kind == "progress":
            on_progress(rest[0])
        elif kind == "done":
            self._done[worker] = (rest[0], rest[1])
        else:  # failed (or stopped, which only a failing rebuild asks for)
            raise RebuildWorkerFailed(f"rebuild worker {worker} {kind}:\n{rest[0]}")

    def finish(self, on_progress: Callable[[int], None], check: Callable[[], None]) -> tuple[int, int]:
        """Wait for every worker (calling ``check`` meanwhile); their products and snippets, summed."""
        while len(self._done) < len(self._procs):
            check()
            self.poll(on_progress, timeout=POLL_SECONDS)
        for proc in self._procs:
            proc.join()
        return sum(p for p, _ in self._done.values()), sum(s for _, s in self._done.values())

    def stop(self) -> None:
        """Stop the workers (each ends after its current batch) and reap them."""
        self._stop.set()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for proc in self._procs:
            if proc.pid is None:
                continue
            while proc.exitcode is None and time.monotonic() < deadline:
                self._discard_events()  # a worker exits only once what it sent is read
                proc.join(POLL_SECONDS)
            if proc.exitcode is None:
                log.warning("rebuild worker %s did not stop; terminating it", proc.name)
                proc.terminate()
                proc.join()
        self._events.close()
        self._events.join_thread()

    def _discard_events(self) -> None:
        try:
            while True:
                self._events.get_nowait()
        except queue.Empty:
            pass


def _take(counter, chunks: Sequence[list[str]]) -> list[str] | None:
    with counter.get_lock():
        i = counter.value
        if i >= len(chunks):
            return None
        counter.value = i + 1
    return chunks[i]


def _work(worker: int, parent: int, recipe: Recipe, work: Work, counter, events, stop) -> None:
    """A worker process: project batches until none is left; report progress and totals. It
    stops when told to, and when the rebuild's process is gone (killed: nobody would switch to
    or clean up what it writes; the next rebuild deletes that generation)."""
    try:
        projector, close = _make_projector(recipe)
        try:
            from projector.rebuild import pipeline

            def check() -> None:
                if stop.is_set():
                    raise Stopped("the rebuild stopped its workers")
                if os.getppid() != parent:
                    raise Stopped("the rebuild's process is gone")

            products, snippets = pipeline(
                projector,
                work.generations,
                work.kinds,
                iter(lambda: _take(counter, work.chunks), None),
                work.categories,
                lambda n: events.put(("progress", worker, n)),
                check,
            )
        finally:
            close()
        events.put(("done", worker, products, snippets))
    except Stopped:
        events.put(("stopped", worker, "stopped"))
    except BaseException:  # noqa: BLE001 - reported to the rebuild, which fails
        events.put(("failed", worker, traceback.format_exc()))
        events.close()
        events.join_thread()
        sys.exit(1)


def _make_projector(recipe: Recipe) -> tuple[Projector, Callable[[], None]]:
    """A Projector of this process's own: pool, Redis client and search adapter."""
    import redis

    from catalog.db import make_pool
    from search.factory import make_search

    settings = recipe.settings
    pool = make_pool(settings.database_url, name="projector-rebuild-worker", max_size=2)
    pool.open(wait=True)
    client = redis.Redis.from_url(settings.redis_url)
    search = make_search(settings, client, recipe.search) if recipe.search is not None else None

    def close() -> None:
        pool.close()
        client.close()

    return Projector(settings, pool, client, search, recipe.clock), close
