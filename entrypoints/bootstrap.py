"""The one wiring point: every part a process needs, built from :class:`~snipshop.config.Settings`.

The roles and commands get their connection pool, Redis clients, search index, Celery app and
sender and :class:`~projector.service.Projector` here, and nowhere else:

=============================================  ===================================================
caller                                         parts
=============================================  ===================================================
``snipshop serve edge``                        :func:`edge_app`: snippet Redis (2 s timeouts),
                                               its replica for reads, if any; search index
``snipshop serve admin``                       :func:`admin_app`: pool (opened without waiting for
                                               the database), the outbox sender
``snipshop worker``, ``snipshop scheduler``,   :func:`worker_app`: the Celery app with the
``celery -A entrypoints.worker``               projection tasks; pool, Redis, search index,
                                               Projector and dead letters per worker process, on
                                               first use
``snipshop import``, ``snipshop token ...``    :class:`Parts`: the outbox sender (the import
                                               opens its own connection); one database
                                               connection per token command
``projector ...``                              :class:`Parts`: Projector, Celery app, dead letters,
                                               status
the scheduler's ``/metrics``                   :func:`pipeline_collector`: snippet Redis, broker
                                               Redis and a connection per scrape
=============================================  ===================================================

Each part is built on first use and then shared by everything in the process that needs it
(the embedded search index shares the snippet Redis, for instance). Modules are imported with the
part that needs them, so a process loads only what it uses: the edge never loads the write side
(catalog, psycopg) nor Celery. Tests and benchmarks may compose parts of their own; the web apps
take theirs as arguments (``web.edge.app.create_app`` makes its two itself only when called with
the settings alone, as tests do).
"""

from __future__ import annotations

import atexit
from functools import cached_property
from typing import TYPE_CHECKING

import redis

from snipshop import config, redis_clients
from snipshop.config import Settings
from vocab.keys import KeyScheme

if TYPE_CHECKING:
    import psycopg
    from celery import Celery
    from flask import Flask
    from psycopg_pool import ConnectionPool

    from catalog.relay import Send
    from projector.deadletters import DeadLetters
    from projector.pipeline_metrics import PipelineCollector
    from projector.service import Projector
    from search.port import SearchIndex

#: Seconds the edge waits for Redis before it answers 503 (a page must not hang).
EDGE_REDIS_TIMEOUT = 2.0
#: Seconds a projection task waits for the broker when it asks for the queue's depth.
BROKER_TIMEOUT = 2.0
#: Seconds the dead-letter list waits for Redis: Redis may be what failed.
DEAD_LETTER_TIMEOUT = 5.0
#: Seconds a one-off command (``projector status``) waits for the database.
CONNECT_TIMEOUT = 3


class Parts:
    """The parts of one process, each built on first use and kept for the process's life.

    ``pool_name``, ``pool_size`` and ``wait_for_database`` shape the connection pool (a role that
    must start while the database is down does not wait for it); ``redis_timeout`` bounds every
    call on the snippet Redis (None: no bound, for the long pipelines of a rebuild).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        pool_name: str = "catalog",
        pool_size: int = 10,
        wait_for_database: bool = False,
        redis_timeout: float | None = None,
    ) -> None:
        self.settings = settings if settings is not None else config.load()
        self.keys = KeyScheme(self.settings.key_prefix)
        self._pool_name = pool_name
        self._pool_size = pool_size
        self._wait_for_database = wait_for_database
        self._redis_timeout = redis_timeout

    # -- PostgreSQL --------------------------------------------------------------------------

    @cached_property
    def pool(self) -> ConnectionPool:
        from catalog.db import make_pool

        pool = make_pool(self.settings.database_url, name=self._pool_name, max_size=self._pool_size)
        pool.open(wait=self._wait_for_database)
        return pool

    def connect(self, timeout: int = CONNECT_TIMEOUT, **options) -> psycopg.Connection:
        """One connection of its own, for a one-off command (a token, a status, an import);
        ``timeout`` in whole seconds (libpq's ``connect_timeout``)."""
        import psycopg

        return psycopg.connect(self.settings.database_url, connect_timeout=timeout, **options)

    # -- Redis -------------------------------------------------------------------------------

    @cached_property
    def snippet_redis(self) -> redis.Redis:
        """The snippet store (and the embedded search index's home)."""
        return redis_clients.snippet_store(self.settings, timeout=self._redis_timeout)

    @cached_property
    def snippet_reads(self) -> redis.Redis | None:
        """The edge's reads: the replica on its host (``REDIS_READ_URL``); None: the snippet store."""
        return redis_clients.snippet_reads(self.settings, timeout=self._redis_timeout)

    @cached_property
    def broker_redis(self) -> redis.Redis:
        """The broker's Redis, read directly for the queue's depth."""
        return redis_clients.broker(self.settings, timeout=BROKER_TIMEOUT)

    @cached_property
    def dead_letters(self) -> DeadLetters:
        from projector.deadletters import DeadLetters

        return DeadLetters(redis_clients.snippet_store(self.settings, timeout=DEAD_LETTER_TIMEOUT), self.keys)

    # -- search ------------------------------------------------------------------------------

    @cached_property
    def search(self) -> SearchIndex:
        """Elasticsearch when ``ELASTICSEARCH_URL`` is set, else the index embedded in the snippet Redis."""
        from search.factory import make_search

        return make_search(self.settings, self.snippet_redis)

    # -- Celery and projection ----------------------------------------------------------------

    @cached_property
    def celery(self) -> Celery:
        from projector.celery_app import make_celery

        return make_celery(self.settings)

    @cached_property
    def send(self) -> Send:
        """The outbox relay's sender: one projection task per topic (catalog.relay)."""
        from projector.celery_app import celery_sender

        return celery_sender(self.celery)

    @cached_property
    def projector(self) -> Projector:
        from projector.service import Projector

        return Projector(self.settings, self.pool, self.snippet_redis, self.search)

    def status(self) -> dict[str, object]:
        """The lines of ``projector status``."""
        from projector.status import read_status

        return read_status(self.snippet_redis, self.broker_redis, self.keys, self.connect)

    def close(self) -> None:
        """Close what was built (and only that)."""
        built = self.__dict__
        if "pool" in built:
            self.pool.close()
        if "celery" in built:
            self.celery.close()
        for name in ("snippet_redis", "snippet_reads", "broker_redis"):
            if built.get(name) is not None:
                built[name].close()
        if "dead_letters" in built:
            self.dead_letters.client.close()

    def __enter__(self) -> Parts:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def edge_app(settings: Settings | None = None) -> Flask:
    """The edge (``snipshop serve edge`` calls this in every server worker)."""
    from snipshop import logs
    from web.edge.app import create_app

    parts = Parts(settings, redis_timeout=EDGE_REDIS_TIMEOUT)
    logs.configure(settings=parts.settings)
    return create_app(parts.settings, client=parts.snippet_redis, search=parts.search, reads=parts.snippet_reads)


def admin_app(settings: Settings | None = None) -> Flask:
    """The admin app (``snipshop serve admin``). Its pool opens without waiting, so the app starts
    while the database is down and answers 503 until it is back."""
    from snipshop import logs
    from web.admin.app import create_app

    parts = Parts(settings)
    logs.configure(settings=parts.settings)
    atexit.register(parts.close)
    return create_app(parts.settings, pool=parts.pool, send=parts.send)


def worker_app(settings: Settings | None = None) -> Celery:
    """The Celery app with the projection tasks registered, for the worker and the scheduler.

    Only the app is built here; the tasks build the rest (pool, Redis, search, Projector) on first
    use, which in a prefork worker is in each pool process, after the fork."""
    from projector.tasks import register

    parts = Parts(settings, pool_name="projector", pool_size=4)
    register(parts.celery, parts)
    return parts.celery


def pipeline_collector(settings: Settings) -> PipelineCollector:
    """The scheduler's gauges of the pipeline (outbox, queue, dead letters, rebuild...), read from
    the stores at each scrape through parts of their own."""
    from projector.pipeline_metrics import PipelineCollector

    parts = Parts(settings, redis_timeout=BROKER_TIMEOUT)
    return PipelineCollector(
        parts.settings.revision, parts.snippet_redis, parts.broker_redis, parts.keys, parts.connect
    )


def command_parts(settings: Settings | None = None) -> Parts:
    """The parts of a one-off command (``projector rebuild`` and friends): a small pool that waits
    for the database, a snippet Redis without time limits."""
    return Parts(settings, pool_name="projector-cli", pool_size=2, wait_for_database=True)
