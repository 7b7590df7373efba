"""The edge's per-generation counts while a canary runs, added up in Redis for ``projector compare``.

Why Redis and not the Prometheus metrics: ``projector compare`` and the scheduler's auto-abort
must see every edge process on every machine without a Prometheus server to ask, and a canary
needs its numbers only while it runs. The same requests are in the metrics as well (labelled by
generation) for dashboards. The format is vocab/canary_stats.py's.

Each process counts in memory (a dict under a lock: a request pays a few microseconds) and a
daemon thread adds the counts to the minute's hashes once per ``flush_seconds``, one pipeline for
all of them. Nothing is counted while no canary runs.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import redis

from vocab import canary_stats as fmt
from vocab.keys import CanaryRecord, KeyScheme
from web.edge.page_responses import DEGRADED
from web.edge.shopper_buckets import NOT_PAGES
from web.edge.snippets import MISSES

log = logging.getLogger(__name__)

FLUSH_SECONDS = 1.0


class CanaryStats:
    """``observe`` has the signature of web/revision.py's ``Observe``: it is told about every response."""

    def __init__(
        self,
        client: redis.Redis,
        keys: KeyScheme,
        canary: Callable[[], CanaryRecord | None],
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        self.client, self.keys, self.canary = client, keys, canary
        self.flush_seconds = flush_seconds
        self._counts: dict[tuple[int, int], Counter[str]] = {}
        self._lock = threading.Lock()
        self._pid: int | None = None

    def observe(self, environ: dict[str, Any], status: str, route: str, generation: int | None, seconds: float):
        canary = self.canary()
        if canary is None or generation is None or route.startswith(NOT_PAGES):
            return
        code = int(status[:3]) if status[:3].isdigit() else 0
        fields = [fmt.REQUESTS, fmt.status_field(code), fmt.latency_field(seconds * 1000)]
        if environ.get(DEGRADED):
            fields.append(fmt.DEGRADED)
        misses = environ.get(MISSES, 0)
        slot = (generation, int(time.time()) // 60)
        if self._pid != os.getpid():
            self._start()
        with self._lock:
            counts = self._counts.setdefault(slot, Counter())
            counts.update(fields)
            if misses:
                counts[fmt.MISSES] += misses

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._counts = {}  # a forked worker does not add its parent's counts again
        threading.Thread(target=self._run, name="canary-stats", daemon=True).start()

    def _run(self) -> None:
        while True:
            time.sleep(self.flush_seconds)
            try:
                self.flush()
            except redis.RedisError as exc:  # counts of a second are lost, the shop keeps selling
                log.warning("could not add the canary counts: %s", exc)

    def flush(self) -> None:
        with self._lock:
            counts, self._counts = self._counts, {}
        if not counts:
            return
        pipe = self.client.pipeline(transaction=False)
        for (gen, minute), fields in counts.items():
            key = self.keys.canary_stats(gen, minute)
            for name, n in fields.items():
                pipe.hincrby(key, name, n)
            pipe.expire(key, fmt.STATS_TTL_SECONDS)
        pipe.execute()
