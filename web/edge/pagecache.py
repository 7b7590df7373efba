"""Whole responses of anonymous pages, kept per edge process while their snippets are unchanged.

A product page is the same bytes for every anonymous shopper until one of its snippets changes.
The near cache (web/edge/nearcache.py) already knows when that happens: it drops an entry on the
projector's invalidation, at the key's TTL (an offer that ends), on eviction, on a generation
switch and whenever it stops listening. So a response assembled only from near-cached values
stays correct for exactly as long as each of those entries is still the very entry it was built
from. :class:`PageCache` keeps such responses (status line, headers and body as Flask produced
them) and :class:`ServeCached` answers from it in front of Flask, skipping routing, assembly,
personalization, the ETag hash and the Response object.

Only what a route marks (:func:`mark`) is kept, and only when all of this holds: a GET with no
query string and no cookies (the default context, no personal values), a 200 the edge declared
``public`` (a degraded, personal or private page never is), every value from the near cache.
Pages that also depend on a search result (listings) are not marked: web/edge/listing_bodies.py
keeps them (query strings included) while their search result's epoch lasts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from web.edge.nearcache import NearCache
from web.edge.shopper_buckets import POINTER_ERROR
from web.revision import CACHED_ROUTE, GENERATION, route_of

#: The environ key under which a route leaves what its page was assembled from.
SOURCES = "snipshop.page_sources"


@dataclass(frozen=True)
class Page:
    generation: int
    keys: tuple[str, ...]
    held: tuple  # the near cache's entries for keys, at assembly
    headers: tuple[tuple[str, str], ...]
    body: bytes
    route: str = ""  # the route rule that made it, for the request metrics (web/request_metrics.py)

    @property
    def size(self) -> int:
        return len(self.body) + 100 * len(self.keys) + 500


def mark(environ: dict, generation: int, keys: Sequence[str], values: Sequence[bytes | None]) -> None:
    """Record, for :class:`ServeCached`, the snippets (keys and the values used) of this page."""
    sources = environ.setdefault(SOURCES, (generation, [], []))
    sources[1].extend(keys)
    sources[2].extend(values)


class PageCache:
    """Pages by generation and path: while a canary runs each side has its own (docs/canary.md)."""

    def __init__(self, near: NearCache, live: Callable[[], int | None], max_bytes: int) -> None:
        """``live()`` names the generation of a request that did not note one (web/edge/shopper_buckets.py
        notes it before this cache is asked)."""
        self.near = near
        self.live = live
        self.max_bytes = max_bytes
        self._pages: dict[str, Page] = {}
        self._bytes = 0
        self._lock = threading.Lock()  # for changes; a hit reads without it
        self.hits = 0

    def lookup(self, path: str, generation: int | None = None) -> Page | None:
        if generation is None:
            generation = self.live()
        slot = f"{generation} {path}"
        page = self._pages.get(slot)
        if page is None:
            return None
        if page.generation != generation or not self.near.still_holds(page.keys, page.held):
            self._drop(slot)
            return None
        self.hits += 1
        return page

    def keep(
        self,
        path: str,
        sources: tuple[int, list[str], list],
        headers: Iterable[tuple[str, str]],
        body: bytes,
        route: str = "",
    ) -> None:
        generation, keys, values = sources
        held = self.near.holding(keys, values)
        if held is None:  # some value did not come from (or is no longer in) the near cache
            return
        page = Page(generation, tuple(keys), held, tuple(headers), body, route)
        slot = f"{generation} {path}"
        with self._lock:
            self._pop(slot)
            self._pages[slot] = page
            self._bytes += page.size
            while self._bytes > self.max_bytes and self._pages:
                self._pop(next(iter(self._pages)))

    def _drop(self, path: str) -> None:
        with self._lock:
            self._pop(path)

    def _pop(self, path: str) -> None:
        page = self._pages.pop(path, None)
        if page is not None:
            self._bytes -= page.size

    def stats(self) -> dict[str, int]:
        return {"pages": len(self._pages), "bytes": self._bytes, "hits": self.hits}


class ServeCached:
    """WSGI middleware: answer from the page cache, or call the app and keep what it marked."""

    def __init__(self, app, cache: PageCache, public: str) -> None:
        self.app = app
        self.cache = cache
        self.public = public

    def __call__(self, environ: dict, start_response):
        if environ["REQUEST_METHOD"] != "GET" or environ.get("QUERY_STRING") or "HTTP_COOKIE" in environ:
            return self.app(environ, start_response)
        path = environ.get("PATH_INFO", "")
        # Conditional requests go the long way (a 304); so do requests whose pointer read failed.
        if "HTTP_IF_NONE_MATCH" not in environ and POINTER_ERROR not in environ:
            try:
                page = self.cache.lookup(path, environ.get(GENERATION))
            except Exception:  # noqa: BLE001 - the pointer could not be read: the app answers that
                page = None
            if page is not None:
                environ[CACHED_ROUTE] = page.route
                start_response("200 OK", list(page.headers))
                return [page.body]
        answer: list = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info=None):
            answer[:] = [status, headers, route_of(environ)]
            return start_response(status, headers, exc_info)

        body = self.app(environ, capture)
        sources = environ.get(SOURCES)
        if sources is None or answer[0] != "200 OK" or ("Cache-Control", self.public) not in answer[1]:
            return body
        try:
            data = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        self.cache.keep(path, sources, answer[1], data, answer[2])
        return [data]
