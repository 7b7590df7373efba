"""The edge's view of the snippet store: the live pointer (read at most once per interval) and
one fetch per page, served from the near cache (web/edge/nearcache.py) where it can be."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import cast

import redis

from vocab.keys import KeyScheme
from web.edge.nearcache import NearCache


class SnippetReader:
    def __init__(
        self,
        client: redis.Redis,
        keys: KeyScheme,
        pointer_ttl: float,
        cache: NearCache | None = None,
        counted: Callable[[int | None, list[bytes | None]], None] | None = None,
    ) -> None:
        """``counted(generation, values)``, if given, is told about every fetch (metrics)."""
        self.client = client
        self.counted = counted
        self.keys = keys
        self.pointer_ttl = pointer_ttl
        self.cache = cache
        self._live: int | None = None
        self._live_read_at = 0.0

    def live_generation(self) -> int | None:
        now = time.monotonic()
        if self._live is None or now - self._live_read_at > self.pointer_ttl:
            raw = self.client.get(self.keys.live)
            live = int(raw) if raw is not None else None
            if live != self._live and self.cache is not None:
                self.cache.clear()  # another generation (or none: Redis lost everything)
            self._live, self._live_read_at = live, now
        return self._live

    @property
    def last_seen(self) -> int | None:
        """The live generation as last read (no Redis call; None before the first read)."""
        return self._live

    def fetch(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        if self.cache is not None:
            values = self.cache.fetch(self.client, keys)
        else:
            values = cast("list[bytes | None]", self.client.mget(keys))  # the edge's client does not decode replies
        if self.counted is not None:
            self.counted(self._live, values)
        return values
