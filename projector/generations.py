"""Generations: switching the live one (and rolling back), and collecting replaced ones.

A replaced generation is kept for ``generation_grace_seconds`` so an operator can switch back
to it; only the most recently replaced one is kept, older ones go at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import cast

import redis

from projector.canary import refuse_if_running
from projector.service import Projector
from projector.store import delete_generation, switch_live
from vocab.keys import CanaryRecord, Context, KeyScheme, Kind


class UnknownGeneration(Exception):
    """The generation asked for does not exist (or holds no snippets)."""


@dataclass(frozen=True)
class Generation:
    number: int
    live: bool
    building: bool
    retired_at: float | None


def _retired(client: redis.Redis, keys: KeyScheme) -> list[tuple[bytes, float]]:
    """The replaced generations and when each was replaced, oldest first."""
    # With scores, ZRANGE answers (member, score) pairs; redis types all its reply forms as one union.
    return cast("list[tuple[bytes, float]]", client.zrange(keys.retired, 0, -1, withscores=True))


def generations(projector: Projector) -> list[Generation]:
    client, keys = projector.writer.client, projector.keys
    live, building = (int(v) if v is not None else None for v in client.mget(keys.live, keys.building))
    retired = {int(m): score for m, score in _retired(client, keys)}
    return [
        Generation(g, g == live, g == building, retired.get(g))
        for g in sorted(int(m) for m in client.smembers(keys.generations))
    ]


def switch_to(projector: Projector, gen: int, ending_canary: bool = False) -> int | None:
    """Make ``gen`` live (search alias first, then the snippet pointer); return the one it replaced.

    While a canary runs only its promotion (``ending_canary``) may switch: :class:`CanaryRunning`."""
    client, keys = projector.writer.client, projector.keys
    frame = keys.snippet(
        gen, Kind.FRAME, Context(projector.settings.default_locale, projector.settings.default_currency)
    )
    if not client.sismember(keys.generations, str(gen)) or not client.exists(frame):
        raise UnknownGeneration(f"generation {gen} does not exist or holds no snippets")
    if not ending_canary:
        refuse_if_running(projector)
    previous = client.get(keys.live)
    if projector.search is not None:
        projector.search.switch(gen)
    switch_live(client, keys, gen, ending_canary)
    projector.listings.switched()  # after both pointers: edges drop the results of the old index
    client.zrem(keys.retired, gen)
    if previous is not None and int(previous) != gen:
        client.zadd(keys.retired, {str(int(previous)): time.time()})
        return int(previous)
    return None


def delete_old_generations(projector: Projector, now: float | None = None) -> list[int]:
    """Delete replaced generations past their grace period, all but the newest replaced one, and
    orphans: generations that are neither live, being built, a canary nor replaced (a killed rebuild's)."""
    client, keys = projector.writer.client, projector.keys
    now = time.time() if now is None else now
    grace = projector.settings.generation_grace_seconds
    retired = _retired(client, keys)  # oldest first
    doomed = [int(m) for i, (m, at) in enumerate(retired) if i < len(retired) - 1 or at + grace < now]
    live, building, canary = client.mget(keys.live, keys.building, keys.canary)
    keep = {int(m) for m, _ in retired} | {int(v) for v in (live, building) if v is not None}
    record = CanaryRecord.decode(canary)
    if record is not None:
        keep.add(record.generation)
    doomed += [int(m) for m in client.smembers(keys.generations) if int(m) not in keep]
    for gen in doomed:
        delete_generation(client, keys, gen)
        client.srem(keys.generations, gen)
        client.zrem(keys.retired, gen)
        if projector.search is not None:
            projector.search.drop(gen)
    return doomed
