"""What the edge counts beyond requests (web/request_metrics.py): the read side's metrics.

- snippets a page asked for, found in the store or missing (by generation);
- the near cache: values answered from the process's memory (hit) or asked of Redis (miss);
- degraded pages (a 200 with a part "currently unavailable") and read-repairs asked for;
- the search engine: time and errors per adapter and operation (results the edge reuses until
  a change is announced, web/edge/result_cache.py, are not asked of it, so not timed).

The page cache's hits are requests with ``served_by="page_cache"``. :class:`EdgeMetrics` binds
the revision and keeps each label set's children; counts on the page path go through a
:class:`~snipshop.metrics.Tally` (in memory, flushed every second).
With metrics off the edge holds no :class:`EdgeMetrics` and counts nothing.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from prometheus_client import Counter, Histogram

from search.port import SearchIndex
from snipshop import metrics

SNIPPETS = Counter(
    "snipshop_edge_snippets",
    "Snippet values pages asked for: found in the store (hit) or missing (miss), by generation",
    [metrics.REVISION, "generation", "result"],
)
NEAR_CACHE = Counter(
    "snipshop_edge_near_cache",
    "Snippet values answered from the edge process's near cache (hit) or asked of Redis (miss)",
    [metrics.REVISION, "result"],
)
DEGRADED = Counter(
    "snipshop_edge_degraded_pages",
    "Pages served with a part unavailable (a snippet missing: price or availability), by route and generation",
    [metrics.REVISION, "route", "generation"],
)
REPAIRS_ASKED = Counter(
    "snipshop_edge_repair_requests",
    "Pages that missed snippets and asked for a read-repair",
    [metrics.REVISION],
)
SEARCH_LATENCY = Histogram(
    "snipshop_search_duration_seconds",
    "Time the search engine took to answer the edge, by adapter and operation",
    [metrics.REVISION, "adapter", "operation"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
SEARCH_ERRORS = Counter(
    "snipshop_search_errors",
    "Search engine calls that failed (the page answered 503), by adapter and operation",
    [metrics.REVISION, "adapter", "operation"],
)


class EdgeMetrics:
    """The edge's counters at ``revision``, for one process."""

    def __init__(self, revision: str, tally: metrics.Tally | None = None) -> None:
        self.revision = revision
        self.tally = tally if tally is not None else metrics.Tally()
        self._by_generation: dict[int | None, tuple[Any, Any]] = {}
        self._near = (NEAR_CACHE.labels(revision, "hit"), NEAR_CACHE.labels(revision, "miss"))
        self._repairs = REPAIRS_ASKED.labels(revision)

    def snippets(self, generation: int | None, values: Sequence[bytes | None]) -> None:
        """A page fetched ``values`` (None: missing) from ``generation``."""
        children = self._by_generation.get(generation)
        if children is None:
            gen = "none" if generation is None else str(generation)
            children = self._by_generation[generation] = (
                SNIPPETS.labels(self.revision, gen, "hit"),
                SNIPPETS.labels(self.revision, gen, "miss"),
            )
        missing = values.count(None) if isinstance(values, list) else sum(v is None for v in values)
        if missing:
            self.tally.count(children[1], missing)
        if len(values) > missing:
            self.tally.count(children[0], len(values) - missing)

    def near_cache(self, hits: int, misses: int) -> None:
        if hits:
            self.tally.count(self._near[0], hits)
        if misses:
            self.tally.count(self._near[1], misses)

    def degraded(self, route: str, generation: int | None) -> None:
        DEGRADED.labels(self.revision, route, "none" if generation is None else str(generation)).inc()

    def repair_asked(self) -> None:
        self._repairs.inc()

    def timed(self, search: SearchIndex) -> SearchIndex:
        """``search`` with the edge's calls (query, facet names, suggestions) timed and failures counted."""
        return TimedSearch(search, self.revision)  # a proxy of the port


def adapter_name(search: object) -> str:
    """``elastic`` for search.elastic.ElasticIndex, ``embedded`` for search.embedded.EmbeddedIndex."""
    return type(search).__name__.removesuffix("Index").lower()


class TimedSearch:
    """A search index whose ``query``, ``facet_names`` and ``suggest`` are measured; anything
    else goes to the index itself."""

    def __init__(self, search: SearchIndex, revision: str) -> None:
        self._search = search
        adapter = adapter_name(search)
        self._children = {
            op: (SEARCH_LATENCY.labels(revision, adapter, op), SEARCH_ERRORS.labels(revision, adapter, op))
            for op in ("query", "facet_names", "suggest")
        }

    def _call(self, op: str, call, *args):
        latency, errors = self._children[op]
        started = time.perf_counter()
        try:
            return call(*args)
        except Exception:
            errors.inc()
            raise
        finally:
            latency.observe(time.perf_counter() - started)

    def query(self, query):
        return self._call("query", self._search.query, query)

    def facet_names(self):
        return self._call("facet_names", self._search.facet_names)

    def suggest(self, text, locale, limit=8):
        return self._call("suggest", self._search.suggest, text, locale, limit)

    def __getattr__(self, name: str):
        return getattr(self._search, name)
