"""What the write side counts: the projection pipeline's metrics.

Counted where the work happens, in the worker's pool processes (summed over them at a scrape):
changes projected and tasks run per topic, the projection lag per topic (outbox row dispatched →
its snippets written), read-repairs and dead letters. Read from the stores at each scrape of the
scheduler, of which one runs per shop (:class:`PipelineCollector`): the outbox backlog and the age
of its oldest row, rows dispatched but not acknowledged, each queue's depth, dead letters kept,
offer timers, read-repairs and refresh batches pending, the live generation and a running rebuild's progress.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import psycopg
import redis
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

from projector.broker import queue_depths
from projector.deadletters import DeadLetters
from projector.rebuildlock import current_holder
from snipshop import metrics
from vocab.keys import KeyScheme

log = logging.getLogger(__name__)

PROJECTED = Counter(
    "snipshop_projected_changes",
    "Outbox rows (changes) whose projection finished, by topic",
    [metrics.REVISION, "topic"],
)
TASKS = Counter(
    "snipshop_projection_tasks",
    "Projection tasks that finished, by topic",
    [metrics.REVISION, "topic"],
)
LAG = Histogram(
    "snipshop_projection_lag_seconds",
    "From an outbox row's dispatch to its snippets written, by topic",
    [metrics.REVISION, "topic"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
READ_REPAIRS = Counter(
    "snipshop_read_repairs",
    "Read-repair runs that re-projected what the edge found missing",
    [metrics.REVISION],
)
READ_REPAIR_KEYS = Counter(
    "snipshop_read_repair_snippets",
    "Snippet keys written by read-repairs",
    [metrics.REVISION],
)
DEAD_LETTERS = Counter(
    "snipshop_dead_letters",
    "Tasks that failed for good and became dead letters, by task",
    [metrics.REVISION, "task"],
)


class PipelineMetrics:
    """The worker's counters at ``revision``."""

    def __init__(self, revision: str) -> None:
        self.revision = revision

    def projected(self, topic: str, changes: int, lag_seconds: float | None) -> None:
        TASKS.labels(self.revision, topic).inc()
        if changes:
            PROJECTED.labels(self.revision, topic).inc(changes)
        if lag_seconds is not None:
            LAG.labels(self.revision, topic).observe(max(lag_seconds, 0.0))

    def repaired(self, keys_written: int) -> None:
        if keys_written:
            READ_REPAIRS.labels(self.revision).inc()
            READ_REPAIR_KEYS.labels(self.revision).inc(keys_written)

    def dead_letter(self, task: str) -> None:
        DEAD_LETTERS.labels(self.revision, task).inc()


class PipelineCollector:
    """Gauges read from PostgreSQL, the snippet Redis and the broker at each scrape.

    A store that does not answer leaves its gauges out and sets ``snipshop_pipeline_source_up``
    for it to 0, so a scrape never fails because of it."""

    def __init__(
        self,
        revision: str,
        client: redis.Redis,
        broker: redis.Redis,
        keys: KeyScheme,
        connect: Callable[[], AbstractContextManager[psycopg.Connection]],
    ) -> None:
        self.revision = revision
        self.client = client
        self.broker = broker
        self.keys = keys
        self.connect = connect

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = self._family("snipshop_pipeline_source_up", "1 if the store answered this scrape", ["source"])
        for source, read in (("snippet_redis", self._snippets), ("broker", self._broker), ("database", self._outbox)):
            try:
                found = read()
            except (redis.RedisError, psycopg.Error, OSError) as exc:
                log.warning("metrics source unavailable", extra={"source": source, "error": str(exc)})
                up.add_metric([self.revision, source], 0)
                continue
            up.add_metric([self.revision, source], 1)
            for name, (help_text, value) in found.items():
                if isinstance(value, dict):  # one sample per label value (by queue)
                    label, samples = next(iter(value.items()))
                    family = self._family(name, help_text, [label])
                    for label_value, sample in samples.items():
                        family.add_metric([self.revision, label_value], sample)
                else:
                    family = self._family(name, help_text)
                    family.add_metric([self.revision], value)
                yield family
        yield up

    def _family(self, name: str, help_text: str, labels: list[str] | None = None) -> GaugeMetricFamily:
        return GaugeMetricFamily(name, help_text, labels=[metrics.REVISION, *(labels or [])])

    def _snippets(self) -> dict[str, tuple[str, Any]]:
        keys = self.keys
        pipe = self.client.pipeline(transaction=False)
        pipe.get(keys.live)
        pipe.zcard(keys.timers)
        pipe.scard(keys.repair_pending)
        pipe.zcard(keys.refresh_pending)
        pipe.hmget(keys.rebuild_progress, "done", "total")
        live, timers, repairs, refresh, (done, total) = pipe.execute()
        holder, expires_in = current_holder(self.client, keys)
        running = holder is not None or expires_in is not None
        return {
            "snipshop_live_generation": ("The live snippet generation (0: none)", int(live or 0)),
            "snipshop_offers_pending": ("Offer starts and ends waiting for their time (timers)", timers),
            "snipshop_repairs_pending": ("Read-repairs the edge asked for, not yet run", repairs),
            "snipshop_refresh_batches_queued": ("Batches of the scheduled refresh sent, not yet started", refresh),
            "snipshop_dead_letters_stored": ("Dead letters kept for replay", DeadLetters(self.client, keys).count()),
            "snipshop_rebuild_running": ("1 while a full rebuild holds the lock", int(running)),
            "snipshop_rebuild_products_done": (
                "Products the running full rebuild has projected",
                int(done or 0) if running else 0,
            ),
            "snipshop_rebuild_products_total": (
                "Products the running full rebuild projects",
                int(total or 0) if running else 0,
            ),
        }

    def _broker(self) -> dict[str, tuple[str, Any]]:
        return {"snipshop_queue_depth": ("Tasks waiting in the broker, by queue", {"queue": queue_depths(self.broker)})}

    def _outbox(self) -> dict[str, tuple[str, Any]]:
        with self.connect() as conn:
            row = conn.execute(
                """SELECT count(*) FILTER (WHERE dispatched_at IS NULL),
                          coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE dispatched_at IS NULL)), 0),
                          count(*) FILTER (WHERE dispatched_at IS NOT NULL AND projected_at IS NULL),
                          coalesce(extract(epoch FROM now() - min(dispatched_at)
                                   FILTER (WHERE dispatched_at IS NOT NULL AND projected_at IS NULL)), 0)
                   FROM outbox WHERE projected_at IS NULL"""
            ).fetchone()
        assert row is not None  # an aggregate without GROUP BY answers one row
        backlog, age, unacked, unacked_age = row
        return {
            "snipshop_outbox_backlog": ("Outbox rows not yet dispatched", backlog),
            "snipshop_outbox_oldest_age_seconds": ("Age of the oldest undispatched outbox row", float(age)),
            "snipshop_outbox_unacknowledged": ("Outbox rows dispatched, not yet acknowledged by a task", unacked),
            "snipshop_outbox_unacknowledged_age_seconds": (
                "Time since the oldest unacknowledged outbox row was dispatched",
                float(unacked_age),
            ),
        }
