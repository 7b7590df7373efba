"""Celery tasks: each carries ids only and re-reads the current state (see projector.service).

Tasks acknowledge late (a worker killed mid-task leaves the message for another) and retry
with exponential backoff when PostgreSQL, Redis or the search engine is unreachable. Only those transient errors are
retried; what still fails after MAX_RETRIES, or fails with any other error, becomes a dead letter
(projector.deadletters).
"""

from __future__ import annotations

import logging
import time
from typing import Protocol, TypedDict

import psycopg
import redis
from celery import Celery
from psycopg_pool import PoolTimeout

from catalog.relay import Send, acknowledge, dispatch, prune
from projector import canary, replication
from projector import celery_app as names
from projector import refresh as refresh_ledger
from projector.broker import queue_depths
from projector.compare import compare
from projector.deadletters import DeadLetters, DeadLetterTask
from projector.pipeline_metrics import PipelineMetrics
from projector.read_repair import drain
from projector.service import Projector
from search.port import SearchUnavailable
from snipshop.config import Settings
from vocab.keys import PRODUCT_KINDS
from vocab.topics import PROJECTION_QUEUES, Topic

log = logging.getLogger(__name__)

TRANSIENT = (psycopg.OperationalError, PoolTimeout, redis.ConnectionError, redis.TimeoutError, SearchUnavailable)
MAX_RETRIES = 30  # with backoff capped at 10 s: about five minutes of outage


class RetryOptions(TypedDict):
    """The options of a task that retries transient errors (keyword arguments of ``app.task``)."""

    base: type[DeadLetterTask]
    autoretry_for: tuple[type[BaseException], ...]
    retry_backoff: int
    retry_backoff_max: int
    retry_jitter: bool
    max_retries: int


RETRY: RetryOptions = {
    "base": DeadLetterTask,
    "autoretry_for": TRANSIENT,
    "retry_backoff": 1,
    "retry_backoff_max": 10,
    "retry_jitter": True,
    "max_retries": MAX_RETRIES,
}
LAG_SAMPLES = 10_000


class WorkerParts(Protocol):
    """What the tasks use. The wiring (entrypoints/bootstrap.py) builds each part on first use, so
    in a prefork worker every pool process gets its own connections."""

    settings: Settings

    @property
    def projector(self) -> Projector: ...

    @property
    def broker_redis(self) -> redis.Redis: ...

    @property
    def dead_letters(self) -> DeadLetters: ...

    @property
    def send(self) -> Send: ...


def register(app: Celery, parts: WorkerParts) -> None:
    """Register the projection tasks on ``app``; they take what they use from ``parts``."""
    settings = parts.settings
    app.conf.dead_letters = lambda: parts.dead_letters  # where DeadLetterTask puts a final failure
    counts = PipelineMetrics(settings.revision) if settings.metrics_enabled else None
    app.conf.pipeline_metrics = counts  # DeadLetterTask counts its dead letters there

    def projector() -> Projector:
        return parts.projector

    def done(topic: Topic, sent_at: float | None, outbox: list[int] | None) -> None:
        """Record the lag, wait for the replicas (projector.replication) and acknowledge the task's
        outbox rows (end to end: see catalog.relay)."""
        lag = time.time() - sent_at if sent_at is not None else None
        # The relay sends sent_at with every outbox row: the lag sample is the write WAIT follows.
        replicas = settings.redis_wait_replicas if outbox and lag is not None else 0
        if lag is not None:
            lag_ms = int(lag * 1000)
            key = projector().keys.lag(topic)
            pipe = projector().writer.client.pipeline(transaction=False)
            pipe.lpush(key, lag_ms)
            pipe.ltrim(key, 0, LAG_SAMPLES - 1)
            if replicas:
                replication.wait(pipe, replicas)
            replies = pipe.execute()
            if replicas:
                replication.check(replies[-1], replicas)
        if outbox:
            with projector().pool.connection() as conn:
                acknowledge(conn, outbox)
        if counts is not None:
            counts.projected(topic, len(outbox or ()), lag)

    @app.task(name=names.PROJECT_PRODUCTS, **RETRY)
    def project_products(
        skus: list[str], sent_at: float | None = None, outbox: list[int] | None = None, refresh: bool = False
    ) -> None:
        p = projector()
        if refresh:  # a batch of the scheduled refresh
            refresh_ledger.started(p.writer.client, p.keys, skus)
        written = p.products(skus, PRODUCT_KINDS) + p.home()
        done(Topic.PRODUCT, sent_at, outbox)
        log.info("projected", extra={"topic": Topic.PRODUCT, "skus": len(skus), "keys_written": written})

    @app.task(name=names.PROJECT_PRICES, **RETRY)
    def project_prices(skus: list[str], sent_at: float | None = None, outbox: list[int] | None = None) -> None:
        """Prices or offers of variants (a simple product: the product) changed."""
        written = projector().prices(skus)
        done(Topic.PRICE, sent_at, outbox)
        log.info("projected", extra={"topic": Topic.PRICE, "skus": len(skus), "keys_written": written})

    @app.task(name=names.PROJECT_STOCK, **RETRY)
    def project_stock(skus: list[str], sent_at: float | None = None, outbox: list[int] | None = None) -> None:
        """Stock levels of variants (a simple product: the product) changed."""
        written = projector().stock(skus)
        done(Topic.STOCK, sent_at, outbox)
        log.debug("projected", extra={"topic": Topic.STOCK, "skus": len(skus), "keys_written": written})

    @app.task(name=names.PROJECT_CATEGORIES, **RETRY)
    def project_categories(keys: list[str], sent_at: float | None = None, outbox: list[int] | None = None) -> None:
        written = projector().categories(keys)
        done(Topic.CATEGORY, sent_at, outbox)
        log.info("projected", extra={"topic": Topic.CATEGORY, "categories": len(keys), "keys_written": written})

    @app.task(name=names.PROJECT_ATTRIBUTES, **RETRY)
    def project_attributes(codes: list[str], sent_at: float | None = None, outbox: list[int] | None = None) -> None:
        """Labels changed: the labels snippets only (pages fill their labels from them)."""
        written = projector().labels()
        done(Topic.ATTRIBUTE, sent_at, outbox)
        log.info("projected", extra={"topic": Topic.ATTRIBUTE, "attributes": len(codes), "keys_written": written})

    send_refresh_batch = names.refresh_sender(app)

    @app.task(name=names.RELAY_SWEEP, ignore_result=True)
    def relay_sweep() -> int:
        # Send again only what no longer waits in its queue: unprojected rows of a topic once its
        # queue has drained (a stock burst does not hold back the re-sending of prices), refresh
        # batches once the rebuild queue has.
        p = projector()
        depths = queue_depths(parts.broker_redis, (*PROJECTION_QUEUES, names.REFRESH_BATCH_QUEUE))
        topics = [topic for topic, task in names.TASK_BY_TOPIC.items() if depths[names.ROUTES[task]] == 0]
        with p.pool.connection() as conn:
            sent = dispatch(
                conn,
                parts.send,
                redeliver_after=settings.outbox_redeliver_seconds if topics else None,
                redeliver_topics=topics,
            )
        if depths[names.REFRESH_BATCH_QUEUE] == 0:  # after the writes: the snippet Redis may be away
            for skus in refresh_ledger.overdue(p.writer.client, p.keys, settings.outbox_redeliver_seconds):
                send_refresh_batch(skus)
        return sent

    @app.task(name=names.PRUNE_OUTBOX, ignore_result=True)
    def prune_outbox() -> int:
        with projector().pool.connection() as conn:
            return prune(conn, settings.outbox_keep_days)

    @app.task(name=names.FIRE_TIMERS, ignore_result=True)
    def fire_timers() -> int:
        return projector().fire_timers()

    @app.task(name=names.REPAIR, ignore_result=True)
    def repair() -> int:
        """Read-repair: re-project what the edge found missing (the next run retries a failure)."""
        written = drain(projector(), transient=TRANSIENT)
        if counts is not None:
            counts.repaired(written)
        return written

    @app.task(name=names.WATCH_CANARY, ignore_result=True)
    def watch_canary() -> str:
        """Abort a running canary whose 5xx or degraded pages cross the thresholds (docs/canary.md)."""
        p = projector()
        found = compare(p.writer.client, p.keys, settings)
        if found is None:
            return "no canary"
        if found.verdict.word == "abort":
            log.warning("aborting canary generation %s: %s", found.record.generation, found.verdict)
            canary.abort(p)
        return str(found.verdict)

    @app.task(name=names.REFRESH, **RETRY)
    def refresh() -> None:
        """Keep live snippets from expiring while the database is up: re-project everything."""
        p = projector()
        p.navigation()
        p.home()
        with p.pool.connection() as conn:
            refresh_ledger.fan_out(conn, p.writer.client, p.keys, send_refresh_batch)
