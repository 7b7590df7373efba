"""The snippet store on a Redis Cluster (``REDIS_CLUSTER=1``; docs/keys.md, "Redis Cluster").

redis-py's :class:`~redis.cluster.RedisCluster` routes each command to the node that holds its
keys' slot and pipelines per node. The one thing the shop needs beyond it: an ``MGET`` of keys in
different slots (a product page's snippets are in its SKU's slot and in the shop-wide ``{_}`` one)
is split per slot, one ``MGET`` per slot, all sent in one pipeline (to every node concurrently)
and answered in the order asked. On a single server an ``MGET`` is atomic; here it is atomic per
slot, which is all the shop relies on (the keys that must change together share a hash tag).

Part of the process frame (like :mod:`snipshop.redis_clients`): it imports nothing of the shop.
"""

from __future__ import annotations

from typing import Any, cast

import redis
from redis.cluster import RedisCluster
from redis.exceptions import RedisClusterException


class SnippetCluster(RedisCluster):
    """A :class:`RedisCluster` whose ``mget`` splits its keys per slot, and whose pipelines send
    registered scripts whole.

    A script called in a pipeline (``script(keys=..., args=..., client=pipe)``) is sent as
    ``EVAL`` with its source there, not ``EVALSHA``: a single server's pipeline loads missing
    scripts before it runs, a cluster pipeline does not, and a node that restarted (or joined)
    since would answer ``NOSCRIPT`` in the middle of a batch. Redis keeps the compiled script
    either way; the cost is the script's text per call. Outside pipelines, redis-py's
    :class:`~redis.commands.core.Script` sends ``EVALSHA`` and, on ``NOSCRIPT``, loads the
    script on every primary."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._script_sources: dict[str, str] = {}

    def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().execute_command(*args, **kwargs)
        except RedisClusterException as exc:  # no node for a slot, none reachable: not a RedisError
            raise redis.ConnectionError(f"Redis Cluster: {exc}") from exc

    def mget(self, keys: Any, *args: Any) -> list[Any]:
        return self.mget_nonatomic(keys, *args)

    def register_script(self, script: Any) -> Any:
        registered = super().register_script(script)
        source = registered.script
        self._script_sources[registered.sha] = source if isinstance(source, str) else bytes(source).decode()
        return registered

    def pipeline(self, transaction: Any = None, shard_hint: Any = None) -> Any:
        pipe = super().pipeline(transaction, shard_hint)
        sources, evalsha = self._script_sources, pipe.evalsha

        def whole(sha: str, numkeys: int, *keys_and_args: Any) -> Any:
            source = sources.get(sha)
            return (
                evalsha(sha, numkeys, *keys_and_args)
                if source is None
                else pipe.execute_command("EVAL", source, numkeys, *keys_and_args)
            )

        pipe.evalsha = whole
        return pipe


def connect(url: str, **options: Any) -> SnippetCluster:
    """A cluster client from the URL of any node (``redis://host:port/0``); it discovers the rest,
    so, unlike a single server's client, it connects at once: a cluster that cannot be reached
    is a :class:`redis.ConnectionError` here (like any other Redis that is down)."""
    try:
        return cast("SnippetCluster", SnippetCluster.from_url(url, **options))
    except RedisClusterException as exc:
        raise redis.ConnectionError(f"Redis Cluster: {exc}") from exc


def is_cluster(client: object) -> bool:
    return isinstance(client, RedisCluster)
