"""Listing and search bodies kept per edge process while what they were built from is unchanged.

A listing's body (everything inside the frame) is a pure function of the query, the shopper's
context, the search result and the snippets fetched (frame, labels, header, tiles, prices,
badges). Assembling it (the facet navigation's links above all) costs most of a kept listing's
time, so it is kept, and reused only while both sources are the very ones it was built from:

* the search result cache (web/edge/result_cache.py) hands out the same result object until a
  change is announced, so the result must be *that* object (``is``);
* the near cache (web/edge/nearcache.py) keeps each snippet's entry until its key is invalidated,
  expires or is evicted, so every entry the body was built from must still be the live entry of
  its key (:meth:`NearCache.still_holds`, as the page cache checks product pages).

The frame is filled with the shopper's personal values per request, and the response made as
usual (ETag, ``Cache-Control``), so a kept body gives the very bytes the assembling path gives.
Only whole pages are kept (no snippet missing). Bounded to ``max_entries`` (the oldest go first).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from search.query import Result
from web.edge.nearcache import NearCache

MAX_BODIES = 512


@dataclass(frozen=True)
class Body:
    result: Result
    keys: tuple[str, ...]
    held: tuple
    frame: bytes  # the stored frame, filled per request
    title: str  # escaped
    html: str


class ListingBodies:
    def __init__(self, near: NearCache, max_entries: int = MAX_BODIES) -> None:
        self.near = near
        self.max_entries = max_entries
        self._entries: dict[tuple, Body] = {}
        self._lock = threading.Lock()
        self.hits = 0

    def get(self, slot: tuple, result: Result) -> Body | None:
        body = self._entries.get(slot)
        if body is None or body.result is not result or not self.near.still_holds(body.keys, body.held):
            return None
        self.hits += 1
        return body

    def keep(
        self, slot: tuple, result: Result, keys: Sequence[str], raw: Sequence[bytes | None], title: str, html: str
    ) -> None:
        held = self.near.holding(keys, raw)
        frame = raw[0]
        if held is None or frame is None:  # some value did not come from (or is no longer in) the near cache
            return
        with self._lock:
            self._entries.pop(slot, None)
            self._entries[slot] = Body(result, tuple(keys), held, frame, title, html)
            while len(self._entries) > self.max_entries:
                del self._entries[next(iter(self._entries))]
