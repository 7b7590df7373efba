"""Search results kept in each edge process until the projector says listings changed.

A listing or search page is one search query (which products, in which order, and the facet
counts) plus one snippet fetch. The snippets (tiles, prices, badges) come through the near cache
and are always current. The query's result is reused for as long as nothing that could change
it was announced: the projector publishes on ``{prefix}:listings:changed`` when a product's
visibility, categories, text, attributes, prices or in-stock state changed in a generation
shoppers read, and on every switch of the search generation (projector/listing_changes.py);
web/edge/listing_epochs.py listens and counts epochs. A result is kept with the epoch its query
began in and answers only in that epoch, so a page never shows a result from before a change the
process has heard of; while the listener is down nothing is reused. ``SEARCH_CACHE_SECONDS``
(default 60) bounds how long a result is kept in any case, like ``EDGE_CACHE_SECONDS`` does for
the near cache (a change made outside the projector, such as a flushed Redis); 0 turns the
cache off. Entries are bounded (the oldest go first).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from search.port import SearchIndex
from search.query import Query, Result

MAX_ENTRIES = 4096


class Epochs(Protocol):
    """What the cache needs of web/edge/listing_epochs.py's listener."""

    def current(self) -> int | None: ...

    def may_keep(self, began: int, began_at: float) -> bool: ...


def query_key(q: Query) -> tuple:
    return (
        q.locale,
        q.currency,
        q.text,
        q.category,
        tuple(sorted((k, tuple(v)) for k, v in q.filters.items())),
        q.price_min,
        q.price_max,
        q.in_stock,
        q.sort,
        q.page,
        q.per_page,
    )


class SearchResultCache:
    def __init__(
        self,
        search: SearchIndex,
        changes: Epochs | None,
        seconds: float,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``changes`` (None: nothing is reused) says in which epoch results may be reused;
        ``clock`` is where the cache reads the time (monotonic seconds, the one ``changes`` uses)."""
        self.search = search
        self.changes = changes if seconds > 0 else None
        self.seconds = seconds
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[tuple, tuple[Result, int, float]] = {}  # key -> (result, epoch, expires at)
        self._lock = threading.Lock()
        self._names: tuple[frozenset[str], int, float] | None = None
        self.hits = self.misses = 0

    def facet_names(self) -> frozenset[str]:
        """The index's facet names, kept like a result (a new attribute code is a change)."""
        changes = self.changes
        epoch = changes.current() if changes is not None else None
        now = self.clock()
        names = self._names
        if epoch is not None and names is not None and names[1] == epoch and names[2] > now:
            return names[0]
        known = self.search.facet_names()
        if epoch is not None and changes is not None and changes.may_keep(epoch, now):
            self._names = (known, epoch, now + self.seconds)
        return known

    def kept_in(self, q: Query, result: Result) -> int | None:
        """The epoch in which ``result`` is the kept answer to ``q``, or None: a page built from it
        stays current while that epoch lasts (web/edge/listing_bodies.py)."""
        changes = self.changes
        epoch = changes.current() if changes is not None else None
        entry = self._entries.get(query_key(q)) if epoch is not None else None
        if entry is None or entry[0] is not result or entry[1] != epoch or entry[2] <= self.clock():
            return None
        return epoch

    def query(self, q: Query) -> Result:
        changes = self.changes
        epoch = changes.current() if changes is not None else None
        if epoch is None:
            return self.search.query(q)
        key = query_key(q)
        now = self.clock()
        entry = self._entries.get(key)
        if entry is not None and entry[1] == epoch and entry[2] > now:
            self.hits += 1
            return entry[0]
        self.misses += 1
        result = self.search.query(q)
        if changes is not None and changes.may_keep(epoch, now):
            with self._lock:
                if self._entries and next(reversed(self._entries.values()))[1] != epoch:
                    self._entries.clear()  # even the newest is of an earlier epoch: all are
                self._entries.pop(key, None)
                self._entries[key] = (result, epoch, now + self.seconds)
                while len(self._entries) > self.max_entries:
                    del self._entries[next(iter(self._entries))]
        return result
