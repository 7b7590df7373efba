"""The tests' snippet store clients, made like the shop's (snipshop.redis_clients): one Redis, or
the Redis Cluster the test session started when TEST_REDIS_CLUSTER=1 (tests/conftest.py).

Tests never build a snippet store client from a URL: a plain client on one cluster node would be
answered MOVED for most keys.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import cast

import redis
from redis.cluster import RedisCluster

from snipshop import config, redis_clients, redis_cluster
from snipshop.config import Settings
from snipshop.redis_cluster import is_cluster

#: TEST_REDIS_CLUSTER=1: the snippet store is a 3-primary Redis Cluster started for the session
#: (tests/conftest.py; the broker stays a plain Redis: Celery's transport has no cluster support).
#: ./dev test runs the projection and edge tests so (tests/integration/test_redis_cluster_suite.py).
CLUSTER = os.environ.get("TEST_REDIS_CLUSTER", "") == "1"


def store_client(settings: Settings) -> redis.Redis:
    """A client of the settings' snippet store (no command timeout, like ``Redis.from_url``)."""
    return redis_clients.snippet_store(settings, timeout=None)


def store_client_of(env: Mapping[str, str]) -> redis.Redis:
    """The snippet store of a shop started with the environment ``env`` (tests/e2e/conftest.py)."""
    return store_client(config.load(env))


def flush(settings: Settings) -> None:
    """Empty the snippet store (every primary of a cluster)."""
    with store_client(settings) as client:
        client.flushdb()


def kill_pubsub_connections(client: redis.Redis) -> None:
    """Drop every pub/sub connection of the store (on every node of a cluster)."""
    if is_cluster(client):
        client.client_kill_filter(_type="pubsub", target_nodes=RedisCluster.ALL_NODES)
    else:
        client.client_kill_filter(_type="pubsub")


def scratch_store(redis_base_url: str, redis_cluster_url: str | None, db: int) -> redis.Redis:
    """An emptied store for a test of its own: database ``db`` of the session's Redis, or the
    session's Redis Cluster (which has database 0 only) when TEST_REDIS_CLUSTER=1."""
    if redis_cluster_url is not None:
        client = cast("redis.Redis", redis_cluster.connect(f"{redis_cluster_url}/0"))
    else:
        client = redis.Redis.from_url(f"{redis_base_url}/{db}")
    client.flushdb()
    return client


def publish_beside(client: redis.Redis, key: str, channel: str, message: str) -> None:
    """Publish ``message`` from the node that holds ``key``: on a cluster, messages published on
    one node reach a subscriber on another in the order they were published there (and a script's
    announcements are published on the node of its keys)."""
    if is_cluster(client):
        cluster = cast("RedisCluster", client)
        cluster.get_redis_connection(cluster.get_node_from_key(key)).publish(channel, message)
    else:
        client.publish(channel, message)
