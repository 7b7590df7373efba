"""The shop's Redis clients, made in one place from :class:`~snipshop.config.Settings`.

Part of the process frame (like :mod:`snipshop.config`): every role asks here for the snippet
store and the broker's Redis instead of building a client from a URL, so how the shop reaches
Redis (one server, a replica beside the edge, Sentinel, a cluster) is decided in this module alone.
"""

from __future__ import annotations

from typing import Any, cast

import redis

from snipshop import redis_cluster
from snipshop.config import Settings


def _store(settings: Settings, **options: Any) -> redis.Redis:
    """A client of the snippet store: one server, or a Redis Cluster (REDIS_CLUSTER=1), whose
    client has the same commands (snipshop/redis_cluster.py says what differs)."""
    if settings.redis_cluster:
        return cast("redis.Redis", redis_cluster.connect(settings.redis_url, **options))
    return redis.Redis.from_url(settings.redis_url, **options)


def snippet_store(settings: Settings, *, timeout: float | None = 2.0, **options: Any) -> redis.Redis:
    """The snippet store (and the embedded search index's home): where the projector writes and,
    unless told otherwise, where the edge reads. ``timeout`` bounds connecting and each command."""
    return _store(settings, socket_timeout=timeout, socket_connect_timeout=timeout, **options)


def broker(settings: Settings, *, timeout: float | None = 2.0, **options: Any) -> redis.Redis:
    """The Celery broker's Redis, read directly for queue depths and dead letters."""
    return redis.Redis.from_url(settings.broker_url, socket_timeout=timeout, socket_connect_timeout=timeout, **options)


def subscriber(settings: Settings) -> redis.Redis:
    """A connection of its own for a pub/sub listener on the snippet store (the edge's
    invalidations): no command timeout (it waits for messages), keep-alive and a health check."""
    return _store(settings, socket_connect_timeout=2, socket_keepalive=True, health_check_interval=10)
