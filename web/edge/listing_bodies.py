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

An anonymous listing (a GET without cookies) is also kept whole, status line, headers and bytes as
Flask produced them, by :class:`ServeListings` in front of Flask, keyed by generation, path and
query string: it answers while the search result's epoch lasts and every snippet entry of its body
is still held, like the page cache does for product pages (web/edge/pagecache.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from search.query import Result
from web.edge.nearcache import NearCache
from web.edge.pagecache import capturing, read_body
from web.edge.shopper_buckets import POINTER_ERROR
from web.revision import CACHED_ROUTE, GENERATION

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
    ) -> Body | None:
        held = self.near.holding(keys, raw)
        frame = raw[0]
        if held is None or frame is None:  # some value did not come from (or is no longer in) the near cache
            return None
        body = Body(result, tuple(keys), held, frame, title, html)
        with self._lock:
            self._entries.pop(slot, None)
            self._entries[slot] = body
            while len(self._entries) > self.max_entries:
                del self._entries[next(iter(self._entries))]
        return body


# --- whole responses ---------------------------------------------------------------------------

#: The environ key under which a listing route leaves what its response was built from.
SOURCES = "snipshop.listing_sources"
#: The paths whose anonymous responses may be kept whole (with their query strings).
LISTING_PATHS = ("/c/", "/search")


@dataclass(frozen=True)
class Answer:
    generation: int
    epoch: int
    body_of: Body  # the kept body it was made from: its result's epoch and its snippets decide
    headers: tuple[tuple[str, str], ...]
    data: bytes
    route: str

    @property
    def size(self) -> int:
        return len(self.data) + 100 * len(self.body_of.keys) + 500


class ListingResponses:
    """Whole anonymous listing responses by generation, path and query string, kept while the
    search result's epoch lasts (web/edge/listing_epochs.py) and the near cache still holds every
    snippet entry of their body. Bounded to ``max_bytes`` (the oldest go first)."""

    def __init__(self, near: NearCache, epoch: Callable[[], int | None], max_bytes: int) -> None:
        self.near = near
        self.epoch = epoch
        self.max_bytes = max_bytes
        self._answers: dict[tuple[int, str], Answer] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0

    def lookup(self, generation: int, slot: str) -> Answer | None:
        answer = self._answers.get((generation, slot))
        if answer is None:
            return None
        body = answer.body_of
        if self.epoch() != answer.epoch or not self.near.still_holds(body.keys, body.held):
            with self._lock:
                self._pop((generation, slot))
            return None
        self.hits += 1
        return answer

    def keep(self, slot: str, sources: tuple[int, int, Body], headers, data: bytes, route: str) -> None:
        generation, epoch, body = sources
        if self.epoch() != epoch:
            return
        answer = Answer(generation, epoch, body, tuple(headers), data, route)
        with self._lock:
            self._pop((generation, slot))
            self._answers[(generation, slot)] = answer
            self._bytes += answer.size
            while self._bytes > self.max_bytes and self._answers:
                self._pop(next(iter(self._answers)))

    def _pop(self, slot: tuple[int, str]) -> None:
        answer = self._answers.pop(slot, None)
        if answer is not None:
            self._bytes -= answer.size


def note(environ: dict, generation: int, epoch: int | None, body: Body | None) -> None:
    """Record, for :class:`ServeListings`, that this listing was made from ``body`` whose search
    result is kept in ``epoch`` (None: it is not, and the response may not be kept)."""
    if epoch is not None and body is not None:
        environ[SOURCES] = (generation, epoch, body)


class ServeListings:
    """WSGI middleware: answer an anonymous listing or search page from :class:`ListingResponses`,
    or call the app and keep what it noted. Like the page cache (web/edge/pagecache.py): only GETs
    without cookies or conditions, a 200 the edge declared ``public``, the generation chosen."""

    def __init__(self, app, responses: ListingResponses, public: str) -> None:
        self.app = app
        self.responses = responses
        self.public = public

    def __call__(self, environ: dict, start_response):
        path = environ.get("PATH_INFO", "")
        generation = environ.get(GENERATION)
        if (
            environ["REQUEST_METHOD"] != "GET"
            or not path.startswith(LISTING_PATHS)
            or generation is None
            or "HTTP_COOKIE" in environ
            or "HTTP_IF_NONE_MATCH" in environ
            or POINTER_ERROR in environ
        ):
            return self.app(environ, start_response)
        slot = f"{path}?{environ.get('QUERY_STRING', '')}"
        answer = self.responses.lookup(generation, slot)
        if answer is not None:
            environ[CACHED_ROUTE] = answer.route
            start_response("200 OK", list(answer.headers))
            return [answer.data]
        status: list = []
        body = self.app(environ, capturing(environ, status, start_response))
        sources = environ.get(SOURCES)
        if sources is None or status[0] != "200 OK" or ("Cache-Control", self.public) not in status[1]:
            return body
        data = read_body(body)
        self.responses.keep(slot, sources, status[1], data, status[2])
        return [data]
