"""The edge's view of the snippet store: the live pointer and the canary record (read at most
once per interval) and one fetch per page, served from the near cache (web/edge/nearcache.py) where it can be."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import cast

import redis
from flask import has_request_context, request

from vocab.keys import CanaryRecord, KeyScheme
from web.edge.nearcache import NearCache
from web.revision import GENERATION

#: Where a request's count of snippets asked for and missing is kept (web/edge/canary_counts.py).
MISSES = "snipshop.snippet_misses"


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
        self._canary: CanaryRecord | None = None
        self._live_read_at = 0.0

    def live_generation(self) -> int | None:
        return self.pointers()[0]

    def pointers(self) -> tuple[int | None, CanaryRecord | None]:
        """The live generation and the running canary (docs/canary.md), read together at most once
        per ``pointer_ttl``."""
        now = time.monotonic()
        if self._live is None or now - self._live_read_at > self.pointer_ttl:
            raw, canary = cast("list[bytes | None]", self.client.mget(self.keys.live, self.keys.canary))
            live = int(raw) if raw is not None else None
            if live != self._live and self.cache is not None:
                self.cache.clear()  # another generation (or none: Redis lost everything)
            self._live, self._canary, self._live_read_at = live, CanaryRecord.decode(canary), now
        return self._live, self._canary

    @property
    def canary(self) -> CanaryRecord | None:
        """The canary as last read (no Redis call)."""
        return self._canary

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
        gen = self._live
        if has_request_context():  # the request's own generation (a canary's, perhaps), and its misses
            environ = request.environ
            gen = environ.get(GENERATION, gen)
            environ[MISSES] = environ.get(MISSES, 0) + values.count(None)
        if self.counted is not None:
            self.counted(gen, values)
        return values
