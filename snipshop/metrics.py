"""The metrics frame every role shares: where metric values live and how they are exposed.

Each role defines its own metrics beside the code that counts them (web/request_metrics.py and
web/edge/edge_metrics.py on the read side, projector/pipeline_metrics.py on the write side); this
module only knows processes. The servers (granian for the edge, gunicorn for the admin app, the
Celery worker's prefork pool) answer from several processes, so their counters live in
prometheus-client's multiprocess mode: :func:`prepare`, called once in the parent before any
worker starts, makes a fresh directory for this run's files (``PROMETHEUS_MULTIPROC_DIR``,
inherited by every worker) and :func:`exposition` sums them per scrape. A process that never
called :func:`prepare` (a test, a one-off command) keeps its metrics in memory.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import threading
import time
import weakref
from bisect import bisect_left
from pathlib import Path
from typing import Any

from snipshop.config import Settings

#: prometheus-client reads the multiprocess directory from this variable.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: The label every metric of the shop carries: the code's revision (SNIPSHOP_REVISION).
REVISION = "revision"
#: How long a :class:`Tally` keeps counts before they reach the metric files (at most).
FLUSH_SECONDS = 1.0

log = logging.getLogger(__name__)


def prepare(settings: Settings, role: str) -> Path | None:
    """Give this run (this process and the workers it starts) a fresh multiprocess directory.

    The directory is ``<METRICS_DIR>/<role>-<pid>``, emptied at start and removed when this
    process exits; directories of runs whose process is gone are removed too (a killed server
    leaves its own behind). None, and nothing done, when metrics are off.
    """
    if not settings.metrics_enabled:
        return None
    base = Path(settings.metrics_dir or Path(tempfile.gettempdir()) / "snipshop-metrics")
    base.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(base)
    run = base / f"{role}-{os.getpid()}"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir()
    os.environ[MULTIPROC_ENV] = str(run)
    from prometheus_client import values

    # prometheus-client chose its value class when it was imported; choose again now the
    # directory is set, so that metrics made from here on (in this process and its forks) use it.
    values.ValueClass = values.MultiProcessValue()
    owner = os.getpid()

    def remove() -> None:  # forked workers inherit the hook: only the run's owner removes it
        if os.getpid() == owner:
            shutil.rmtree(run, ignore_errors=True)

    atexit.register(remove)
    return run


def _remove_abandoned(base: Path) -> None:
    for path in base.iterdir():
        _, _, pid = path.name.rpartition("-")
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def registry(*collectors):
    """The registry a scrape reads: every process's files in multiprocess mode, else this
    process's own metrics; plus ``collectors`` (objects with a ``collect()``)."""
    from prometheus_client import REGISTRY, CollectorRegistry, multiprocess

    if MULTIPROC_ENV not in os.environ:
        for collector in collectors:
            REGISTRY.register(collector)
        return REGISTRY
    chosen = CollectorRegistry()
    multiprocess.MultiProcessCollector(chosen)
    for collector in collectors:
        chosen.register(collector)
    return chosen


def exposition() -> tuple[bytes, str]:
    """The text a ``/metrics`` request answers, and its content type (this process's tallies
    flushed first; other processes' are at most :data:`FLUSH_SECONDS` behind)."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    for tally in list(_TALLIES):
        tally.flush()
    return generate_latest(registry()), CONTENT_TYPE_LATEST


_TALLIES: weakref.WeakSet[Tally] = weakref.WeakSet()


class Tally:
    """Counts kept in plain memory and added to their metrics every ``flush_seconds`` by a
    thread of its own, for code on a hot path (the edge's page cache answers in tens of
    microseconds; a metric's increment in multiprocess mode is a locked write to a memory-mapped
    file, a few microseconds each). ``count`` and ``observe`` take a metric's child (``.labels(...)``)."""

    def __init__(self, flush_seconds: float = FLUSH_SECONDS) -> None:
        self._counts: dict[Any, float] = {}
        self._sums: dict[Any, float] = {}
        self._buckets: dict[tuple[Any, int], int] = {}
        self._lock = threading.Lock()
        self.flush_seconds = flush_seconds
        _TALLIES.add(self)
        threading.Thread(target=self._run, args=(weakref.ref(self),), name="metrics-tally", daemon=True).start()

    def count(self, counter: Any, amount: float = 1.0) -> None:
        with self._lock:
            self._counts[counter] = self._counts.get(counter, 0.0) + amount

    def observe(self, histogram: Any, value: float) -> None:
        # The bucket prometheus-client's Histogram.observe would choose: the first bound >= value.
        key = (histogram, bisect_left(histogram._upper_bounds, value))
        with self._lock:
            self._sums[histogram] = self._sums.get(histogram, 0.0) + value
            self._buckets[key] = self._buckets.get(key, 0) + 1

    def record(self, counter: Any, histogram: Any, value: float) -> None:
        """``count(counter)`` and ``observe(histogram, value)`` under one lock (a request)."""
        key = (histogram, bisect_left(histogram._upper_bounds, value))
        with self._lock:
            self._counts[counter] = self._counts.get(counter, 0.0) + 1.0
            self._sums[histogram] = self._sums.get(histogram, 0.0) + value
            self._buckets[key] = self._buckets.get(key, 0) + 1

    def flush(self) -> None:
        """Add what was counted since the last flush to the metrics."""
        with self._lock:
            counts, self._counts = self._counts, {}
            sums, self._sums = self._sums, {}
            buckets, self._buckets = self._buckets, {}
        for counter, amount in counts.items():
            counter.inc(amount)
        # Histogram.observe, many observations at once: its sum and its (non-cumulative) bucket
        # values, as prometheus-client keeps them (tests/unit/test_metrics_frame.py checks that
        # the result is the same as observing each value).
        for histogram, total in sums.items():
            histogram._sum.inc(total)
        for (histogram, index), n in buckets.items():
            histogram._buckets[index].inc(n)

    @staticmethod
    def _run(ref: weakref.ref[Tally]) -> None:
        while True:
            tally = ref()
            if tally is None:
                return
            interval = tally.flush_seconds
            tally.flush()
            del tally  # a tally nobody uses any more may go
            time.sleep(interval)


def serve(settings: Settings, port: int, *collectors) -> bool:
    """Answer ``/metrics`` on ``port`` from a thread of this process (the worker's and the
    scheduler's endpoint); port 0 or metrics off: none. A port in use is logged, not fatal: the
    role's work matters more than its numbers."""
    if not settings.metrics_enabled or not port:
        return False
    from prometheus_client import start_http_server

    try:
        start_http_server(port, settings.metrics_host, registry(*collectors))
    except OSError as exc:
        log.error("metrics endpoint not started", extra={"port": port, "error": str(exc)})
        return False
    log.info("metrics endpoint", extra={"url": f"http://{settings.metrics_host}:{port}/metrics"})
    return True
