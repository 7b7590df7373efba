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

#: A pub/sub listener's connection: no command timeout (it waits for messages), keep-alive and a
#: health check.
LISTENER = {"socket_connect_timeout": 2, "socket_keepalive": True, "health_check_interval": 10}


def _timeouts(timeout: float | None) -> dict[str, Any]:
    """Bounds on connecting and on each command."""
    return {"socket_timeout": timeout, "socket_connect_timeout": timeout}


def _store(settings: Settings, **options: Any) -> redis.Redis:
    """A client of the snippet store: one server, a Redis Cluster (REDIS_CLUSTER=1, whose client
    has the same commands: snipshop/redis_cluster.py says what differs), or the primary Redis
    Sentinel names (REDIS_SENTINELS: :func:`sentinel_primary`)."""
    if settings.redis_cluster:
        return cast("redis.Redis", redis_cluster.connect(settings.redis_url, **options))
    if settings.redis_sentinels:
        return sentinel_primary(settings, **options)
    return redis.Redis.from_url(settings.redis_url, **options)


def snippet_store(settings: Settings, *, timeout: float | None = 2.0, **options: Any) -> redis.Redis:
    """The snippet store (and the embedded search index's home): where the projector writes and,
    unless told otherwise, where the edge reads. ``timeout`` bounds connecting and each command."""
    return _store(settings, **_timeouts(timeout), **options)


def broker(settings: Settings, *, timeout: float | None = 2.0, **options: Any) -> redis.Redis:
    """The Celery broker's Redis, read directly for queue depths and dead letters."""
    return redis.Redis.from_url(settings.broker_url, **_timeouts(timeout), **options)


def subscriber(settings: Settings) -> redis.Redis:
    """A connection of its own for a pub/sub listener on the snippet store (:data:`LISTENER`)."""
    return _store(settings, **LISTENER)


# -- replicas and Sentinel (docs/resilience.md, "Redis replicas and Sentinel") ---------------------

#: Seconds a question to a sentinel may take before the next sentinel is asked.
SENTINEL_TIMEOUT = 0.5


def sentinel_primary(settings: Settings, **options: Any) -> redis.Redis:
    """The snippet store's primary as Redis Sentinel names it (``REDIS_SENTINELS``,
    ``REDIS_SENTINEL_SERVICE``), with REDIS_URL's database and credentials. The client asks the
    sentinels again whenever its connection fails or the server has become a replica, so after a
    failover the next command goes to the promoted replica."""
    from redis.connection import parse_url
    from redis.sentinel import Sentinel

    url = parse_url(settings.redis_url)
    credentials = {name: url[name] for name in ("db", "username", "password") if name in url}
    sentinel = Sentinel(
        list(settings.redis_sentinels),
        sentinel_kwargs={"socket_timeout": SENTINEL_TIMEOUT, "socket_connect_timeout": SENTINEL_TIMEOUT},
    )
    return sentinel.master_for(settings.redis_sentinel_service, redis_class=redis.Redis, **credentials, **options)


def snippet_reads(settings: Settings, *, timeout: float | None = 2.0) -> redis.Redis | None:
    """The edge's reads (``REDIS_READ_URL``: the replica on its host); None: it reads the snippet store."""
    if settings.redis_read_url is None:
        return None
    return redis.Redis.from_url(settings.redis_read_url, **_timeouts(timeout))


def read_subscriber(settings: Settings) -> redis.Redis:
    """The edge's invalidation listener: on the server it reads (a replica hears every PUBLISH of
    the primary through replication, in order with the writes), so a change is announced only
    once the reads can see it."""
    if settings.redis_read_url is None:
        return subscriber(settings)
    return redis.Redis.from_url(settings.redis_read_url, **LISTENER)
