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

A signed-in shopper's page (a personalization cookie: name, basket count) is kept too, but never
as that shopper's bytes: the route leaves the page's template (web/edge/personalize.py: every
shared value filled, the personal variables as slots, no shopper's value) and it is kept per path
and context (locale and currency, from the cookies) under the same rules, for a GET with no query
string of a 200 the edge declared ``private, no-cache`` without setting a cookie. A later request
of any shopper with personal values in that context is answered by putting that request's own
escaped values (or the defaults) in the slots: its response is what the app would have made, the
``Content-Length`` counted anew, still ``private, no-cache``, and it is retired exactly as an
anonymous page is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from web.edge import personalize
from web.edge.nearcache import NearCache
from web.edge.shopper_buckets import POINTER_ERROR
from web.revision import CACHED_ROUTE, GENERATION, route_of

#: The environ key under which a route leaves what its page was assembled from.
SOURCES = "snipshop.page_sources"
#: Where a personal page leaves its template (personalize.Template: no shopper's value in it);
#: it is kept only for a page that may be kept (:class:`ServeCached`).
TEMPLATE = "snipshop.page_template"


#: Where a page is kept: its generation, path and (a personal page's) context.
Slot = tuple[int | None, str, str]


@dataclass(frozen=True)
class Page:
    generation: int
    keys: tuple[str, ...]
    held: tuple  # the near cache's entries for keys, at assembly
    headers: tuple[tuple[str, str], ...]
    body: bytes
    route: str = ""  # the route rule that made it, for the request metrics (web/request_metrics.py)
    #: A personal page's template (its body is then empty); its headers' Content-Length is counted per request.
    template: personalize.Encoded | None = None

    @property
    def size(self) -> int:
        return len(self.body) + (0 if self.template is None else self.template.size) + 100 * len(self.keys) + 500

    def personal(self, template: personalize.Encoded, values: dict[str, str]) -> tuple[list[tuple[str, str]], bytes]:
        """The headers and body of this personal page (its ``template``) for a shopper with ``values``."""
        body = template.render(values)
        length = str(len(body))
        return [(k, length if k == "Content-Length" else v) for k, v in self.headers], body


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
        self._pages: dict[Slot, Page] = {}
        self._bytes = 0
        self._lock = threading.Lock()  # for changes; a hit reads without it
        self.hits = 0

    def lookup(self, path: str, generation: int | None = None, context: str = "") -> Page | None:
        """The page of ``path`` (a personal page's: in ``context``, :class:`~web.edge.context.PersonalShopper`)."""
        if generation is None:
            generation = self.live()
        slot = (generation, path, context)
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
        context: str = "",
        template: personalize.Template | None = None,
    ) -> None:
        """Keep a page: an anonymous one's ``body``, or a personal one's ``template`` in ``context``."""
        generation, keys, values = sources
        held = self.near.holding(keys, values)
        if held is None:  # some value did not come from (or is no longer in) the near cache
            return
        encoded = None if template is None else personalize.Encoded.of(template)
        page = Page(generation, tuple(keys), held, tuple(headers), body, route, encoded)
        slot = (generation, path, context)
        with self._lock:
            self._pop(slot)
            self._pages[slot] = page
            self._bytes += page.size
            while self._bytes > self.max_bytes and self._pages:
                self._pop(next(iter(self._pages)))

    def _drop(self, slot: Slot) -> None:
        with self._lock:
            self._pop(slot)

    def _pop(self, slot: Slot) -> None:
        page = self._pages.pop(slot, None)
        if page is not None:
            self._bytes -= page.size

    def stats(self) -> dict[str, int]:
        return {"pages": len(self._pages), "bytes": self._bytes, "hits": self.hits}


class ServeCached:
    """WSGI middleware: answer from the page cache, or call the app and keep what it marked."""

    def __init__(
        self,
        app,
        cache: PageCache,
        public: str,
        private: str | None = None,
        shopper: Callable[[str], tuple[str, dict[str, str]] | None] | None = None,
    ) -> None:
        """``public`` and ``private`` are the Cache-Control of the anonymous and of the personal
        pages it may keep; ``shopper`` (:class:`~web.edge.context.PersonalShopper`) reads a
        ``Cookie`` header; without both, personal pages are not kept."""
        self.app = app
        self.cache = cache
        self.public = public
        self.private = private
        self.shopper = shopper if private is not None else None

    def __call__(self, environ: dict, start_response):
        if environ["REQUEST_METHOD"] != "GET" or environ.get("QUERY_STRING"):
            return self.app(environ, start_response)
        cookie = environ.get("HTTP_COOKIE")
        if cookie is not None:
            return self._personal(environ, start_response, cookie)
        path = environ.get("PATH_INFO", "")
        # Conditional requests go the long way (a 304); so do requests whose pointer read failed.
        if "HTTP_IF_NONE_MATCH" not in environ and POINTER_ERROR not in environ:
            page = self._lookup(environ, path)
            if page is not None:
                environ[CACHED_ROUTE] = page.route
                start_response("200 OK", list(page.headers))
                return [page.body]
        answer: list = []
        body = self.app(environ, capturing(environ, answer, start_response))
        sources = environ.get(SOURCES)
        if sources is None or answer[0] != "200 OK" or ("Cache-Control", self.public) not in answer[1]:
            return body
        data = read_body(body)
        self.cache.keep(path, sources, answer[1], data, answer[2])
        return [data]

    def _personal(self, environ: dict, start_response, cookie: str):
        """A request with cookies: answered from a personal page's template, or by the app (and
        the template it leaves kept)."""
        if self.shopper is None or POINTER_ERROR in environ:
            return self.app(environ, start_response)
        found = self.shopper(cookie)
        if found is None:  # no personal value: the app answers (a public page, with its ETag)
            return self.app(environ, start_response)
        context, values = found
        path = environ.get("PATH_INFO", "")
        page = self._lookup(environ, path, context)
        if page is not None and page.template is not None:
            environ[CACHED_ROUTE] = page.route
            headers, data = page.personal(page.template, values)
            start_response("200 OK", headers)
            return [data]
        answer: list = []
        body = self.app(environ, capturing(environ, answer, start_response))
        sources = environ.get(SOURCES)
        template = environ.get(TEMPLATE)
        if (
            sources is None
            or not template
            or answer[0] != "200 OK"
            or ("Cache-Control", self.private) not in answer[1]
            or any(name == "Set-Cookie" for name, _ in answer[1])
        ):
            return body
        data = read_body(body)
        self.cache.keep(path, sources, answer[1], b"", answer[2], context, template)
        return [data]

    def _lookup(self, environ: dict, path: str, context: str = "") -> Page | None:
        try:
            return self.cache.lookup(path, environ.get(GENERATION), context)
        except Exception:  # noqa: BLE001 - the pointer could not be read: the app answers that
            return None


def capturing(environ: dict, answer: list, start_response):
    """A ``start_response`` that also leaves the status, the headers and the route in ``answer``
    (for a keeper in front of the app: this module's and web/edge/listing_bodies.py's)."""

    def capture(status: str, headers: list[tuple[str, str]], exc_info=None):
        answer[:] = [status, headers, route_of(environ)]
        return start_response(status, headers, exc_info)

    return capture


def read_body(body) -> bytes:
    """The whole body of a WSGI answer, closed after."""
    try:
        return b"".join(body)
    finally:
        if hasattr(body, "close"):
            body.close()
