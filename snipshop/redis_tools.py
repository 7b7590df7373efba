"""Redis helpers shared by the projector and the embedded search index.

Part of the process frame (like :mod:`snipshop.config` and :mod:`snipshop.logs`): it imports
nothing of the shop, so both sides can use it without importing each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import islice
from typing import Any

import redis
from redis.cluster import RedisCluster
from redis.crc import key_slot

#: Keys one SCAN step visits.
DELETE_STEP = 10_000

# One SCAN step and the UNLINK of what it matched, inside Redis: no key travels to the client.
# Each call is a short command (DELETE_STEP keys visited), so Redis keeps serving in between.
UNLINK_STEP = """
local reply = redis.call('SCAN', ARGV[1], 'MATCH', ARGV[2], 'COUNT', ARGV[3])
local found = reply[2]
for i = 1, #found, 1000 do
  redis.call('UNLINK', unpack(found, i, math.min(i + 999, #found)))
end
return {reply[1], #found}
"""


def unlink_matching(client: redis.Redis, pattern: str) -> int:
    """Delete every key matching ``pattern`` (SCAN + UNLINK, never KEYS); return how many.

    On a Redis Cluster, SCAN sees one node's keys: each primary is scanned, and what it matched
    is unlinked per slot (a script may not touch keys of other slots than those it declares)."""
    if isinstance(client, RedisCluster):
        return _unlink_matching_cluster(client, pattern)
    step = client.register_script(UNLINK_STEP)
    cursor, deleted = b"0", 0
    while True:
        cursor, n = step(args=[cursor, pattern, DELETE_STEP])
        deleted += int(n)
        if cursor in (b"0", 0, "0"):
            return deleted


def _unlink_matching_cluster(client: RedisCluster, pattern: str) -> int:
    deleted = 0
    for node in client.get_primaries():
        found = client.get_redis_connection(node).scan_iter(match=pattern, count=DELETE_STEP)
        while chunk := list(islice(found, 1000)):
            deleted += int(client.unlink(*chunk))  # split per slot and pipelined by RedisCluster
    return deleted


def slot_groups(client: Any, keys: Sequence[str]) -> list[list[int]]:
    """The positions of ``keys`` grouped so that each group can be one multi-key command: all in
    one group on a single server, one group per hash slot on a Redis Cluster."""
    if not isinstance(client, RedisCluster):
        return [list(range(len(keys)))] if keys else []
    groups: dict[int, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key_slot(key.encode()), []).append(i)
    return list(groups.values())
