"""Search results kept for a moment in each edge process.

A listing or search page is one search query (which products, in which order, and the facet
counts) plus one snippet fetch. The snippets (tiles, prices, badges) come through the near cache
and are always current; the query's result is kept for ``SEARCH_CACHE_SECONDS`` (default 2): a
product that enters or leaves a listing, or a facet count that changes, shows that much later.
The edge already lets shared caches keep anonymous pages for five seconds, so this adds no new
kind of staleness; it spares the search engine the same query many times a second. Entries are
bounded (the oldest go first); 0 seconds turns the cache off. Each edge process keeps its own
results, so two requests answered by different processes may disagree for those seconds (a
listing seen complete from one, still without the newest product from another).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from search.port import SearchIndex
from search.query import Query, Result

MAX_ENTRIES = 4096


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
        seconds: float,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``clock`` is where the cache reads the time (monotonic seconds); tests pass a fake one."""
        self.search = search
        self.seconds = seconds
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[tuple, tuple[Result, float]] = {}
        self._lock = threading.Lock()
        self._names: tuple[frozenset[str], float] | None = None

    def facet_names(self) -> frozenset[str]:
        """The index's facet names, kept as long as a result is (a new attribute code filters
        that much later)."""
        names = self._names
        if names is not None and names[1] > self.clock():
            return names[0]
        known = self.search.facet_names()
        if self.seconds > 0:
            self._names = (known, self.clock() + self.seconds)
        return known

    def query(self, q: Query) -> Result:
        if self.seconds <= 0:
            return self.search.query(q)
        key = query_key(q)
        now = self.clock()
        entry = self._entries.get(key)
        if entry is not None and entry[1] > now:
            return entry[0]
        result = self.search.query(q)
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = (result, now + self.seconds)
            while len(self._entries) > self.max_entries:
                del self._entries[next(iter(self._entries))]
        return result
