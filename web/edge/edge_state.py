"""What the edge's views share: one :class:`Edge` per app, kept in ``app.extensions``.

It holds the parts a page is assembled from (the snippet reader with its near cache, the search
result cache, the read-repair requests, the page cache) and the one piece of state the requests
of a process share, the featured-products guess of the home page (:class:`FeaturedGuess`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import partial

import redis
from flask import current_app, g, request

from search.port import SearchIndex
from snipshop import redis_clients
from snipshop.config import Settings
from snipshop.metrics import Tally
from vocab.keys import KeyScheme
from web.edge.edge_metrics import EdgeMetrics
from web.edge.listing_bodies import ListingBodies, ListingResponses
from web.edge.listing_epochs import ListingChanges
from web.edge.nearcache import NearCache
from web.edge.pagecache import PageCache, mark
from web.edge.pages import MissingSnippet
from web.edge.repair_requests import RepairRequests, Thing
from web.edge.result_cache import SearchResultCache
from web.edge.shopper_buckets import ON_CANARY, POINTER_ERROR
from web.edge.snippets import SnippetReader
from web.revision import GENERATION, note_generation

EXTENSION = "snipshop.edge"


class FeaturedGuess:
    """The featured SKUs as last seen in the home snippet, shared by every request of a process.

    The home page fetches their tiles in the same MGET as the home snippet, which keeps it at one
    round trip; only when the snippet names other SKUs does it fetch again, and update the guess.
    Owned by the :class:`Edge`; only the home page (web/edge/home.py) reads and updates it. A
    reader takes the current tuple (immutable), an update replaces it whole under a lock, so
    concurrent requests never see a half-written list.
    """

    def __init__(self) -> None:
        self._skus: tuple[str, ...] = ()
        self._lock = threading.Lock()

    def skus(self) -> list[str]:
        return list(self._skus)

    def update(self, skus: list[str]) -> None:
        with self._lock:
            self._skus = tuple(skus)


@dataclass
class Edge:
    settings: Settings
    keys: KeyScheme
    reader: SnippetReader
    search: SearchIndex
    results: SearchResultCache
    repairs: RepairRequests
    #: Whole anonymous pages kept in front of Flask (web/edge/pagecache.py); None when off.
    page_cache: PageCache | None = None
    featured: FeaturedGuess = field(default_factory=FeaturedGuess)
    #: What the edge counts (web/edge/edge_metrics.py); None when metrics are off.
    metrics: EdgeMetrics | None = None
    #: The search index reading the canary's generation (docs/canary.md), and its result cache,
    #: made anew for each canary generation so no result of one canary serves another.
    canary_search: SearchIndex | None = None
    _canary_results: tuple[int, SearchResultCache] | None = None
    #: The listener that says when search results may be reused (web/edge/listing_epochs.py).
    listings: ListingChanges | None = None
    #: Listing bodies kept while their result and snippets are unchanged (web/edge/listing_bodies.py).
    listing_bodies: ListingBodies | None = None
    #: Whole anonymous listing responses (web/edge/listing_bodies.py); None when off.
    listing_responses: ListingResponses | None = None

    @classmethod
    def build(
        cls,
        settings: Settings,
        client: redis.Redis,
        search: SearchIndex,
        tally: Tally | None = None,
        reads: redis.Redis | None = None,
    ) -> Edge:
        """The edge's parts on ``client`` (the snippet Redis) and ``search``, sized by ``settings``;
        ``tally`` (None: metrics off) is where its metrics are counted. ``reads`` (a replica on the
        edge's host, snipshop.redis_clients.snippet_reads) serves the snippet reads and the
        invalidations instead of ``client``, which then only takes the read-repair requests."""
        keys = KeyScheme(settings.key_prefix)
        listings = (
            ListingChanges(
                partial(redis_clients.read_subscriber, settings), keys.listing_changes, search.visible_within
            )
            if settings.search_cache_seconds > 0
            else None
        )
        counts = EdgeMetrics(settings.revision, tally) if tally is not None else None
        canary_search = search.canary_view()
        if counts is not None:
            search, canary_search = counts.timed(search), counts.timed(canary_search)
        near = (
            NearCache(
                partial(redis_clients.read_subscriber, settings),
                keys.invalidations,
                settings.edge_cache_mb * 2**20,
                settings.edge_cache_seconds,
            )
            if settings.edge_cache_mb > 0
            else None
        )
        if near is not None and counts is not None:
            near.count = counts.near_cache
        reader = SnippetReader(
            reads if reads is not None else client,
            keys,
            settings.pointer_cache_seconds,
            near,
            counts.snippets if counts is not None else None,
        )
        pages = (
            PageCache(near, reader.live_generation, settings.edge_page_cache_mb * 2**20)
            if near is not None and settings.edge_page_cache_mb > 0
            else None
        )
        return cls(
            settings,
            keys,
            reader,
            search,
            SearchResultCache(search, listings, settings.search_cache_seconds),
            RepairRequests(client, keys),
            pages,
            metrics=counts,
            canary_search=canary_search,
            listings=listings,
            listing_bodies=ListingBodies(near) if near is not None and listings is not None else None,
            listing_responses=(
                ListingResponses(near, listings.current, settings.edge_page_cache_mb * 2**20)
                if near is not None and listings is not None and settings.edge_page_cache_mb > 0
                else None
            ),
        )

    def live(self) -> int:
        """The generation this request is served from: the one web/edge/shopper_buckets.py chose for the
        shopper (the live one, or a running canary's), else the live one; :class:`MissingSnippet`
        when there is none (Redis lost everything)."""
        environ = request.environ
        gen = environ.get(GENERATION)
        if gen is not None:
            return gen
        if POINTER_ERROR in environ:
            raise environ[POINTER_ERROR]
        gen = self.reader.live_generation()
        if gen is None:
            raise MissingSnippet("live generation")
        note_generation(request.environ, gen)  # X-Generation (web/revision.py)
        return gen

    def searching(self) -> tuple[SearchIndex, SearchResultCache]:
        """The search index (and its result cache) of this request's generation."""
        if not request.environ.get(ON_CANARY) or self.canary_search is None:
            return self.search, self.results
        gen = request.environ[GENERATION]
        held = self._canary_results
        if held is None or held[0] != gen:
            held = self._canary_results = (
                gen,
                SearchResultCache(self.canary_search, self.listings, self.settings.search_cache_seconds),
            )
        return self.canary_search, held[1]

    def fetch(self, gen: int, wanted: list[str]) -> list[bytes | None]:
        """A fetch for a page assembled from snippets alone: its response may be kept whole."""
        raw = self.reader.fetch(wanted)
        self.mark(gen, wanted, raw)
        return raw

    def mark(self, gen: int, keys: list[str], values: list[bytes | None]) -> None:
        """Note snippets (fetched with ``reader.fetch``) the page is assembled from, for the page cache."""
        if self.page_cache is not None:
            mark(request.environ, gen, keys, values)

    def ask_repair(self, things: list[Thing]) -> bool:
        """Note what this page missed (one script call, only if anything is missing)."""
        if things:
            self.repairs.request(things)
            g.repair_asked = True
            if self.metrics is not None:
                self.metrics.repair_asked()
        return bool(things)


def current() -> Edge:
    edge: Edge = current_app.extensions[EXTENSION]
    return edge
