"""The search port: what the projector and the edge need from a search engine."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from search.documents import SearchDocument
from search.query import Query, Result, Suggestion


class SearchUnavailable(Exception):
    """The search engine cannot take a write for now (unreachable, timed out, overloaded, a shard
    without a primary): a transient error, which a projection task retries with backoff like a
    database or Redis outage (projector/tasks.py)."""


class SearchIndex(Protocol):
    """A product index with generations, like the snippets: write N+1 beside N, then switch.

    Writes are version-guarded: a document older than the stored one is ignored, on the single
    and the bulk path alike. Reads always go to the live generation.
    """

    #: Seconds after :meth:`index` returns within which queries see what it wrote (0: at once).
    #: The edge keeps no search result whose query began earlier than this after a change was
    #: announced (web/edge/listing_epochs.py).
    visible_within: float

    def ensure_generation(self, generation: int, bulk: bool = False) -> None:
        """Create the index of ``generation`` if it does not exist yet (idempotent). ``bulk``: a
        rebuild is about to fill it, and nobody queries it before :meth:`compact`; an engine may
        set it up for bulk loading until then."""

    def index(self, documents: Sequence[SearchDocument], generations: Sequence[int]) -> None:
        """Add or replace documents in each of ``generations``."""

    def switch(self, generation: int) -> None:
        """Make ``generation`` the one queries read (atomically)."""

    def point_canary(self, generation: int | None) -> None:
        """Make ``generation`` the one :meth:`canary_view` queries read (None: no canary)."""

    def canary_view(self) -> SearchIndex:
        """This index reading the canary's generation (``point_canary``) instead of the live one,
        for the shoppers a canary is served to (docs/canary.md). Queries only."""

    def drop(self, generation: int) -> None:
        """Delete the index of ``generation``."""

    def live_generation(self) -> int | None:
        """The generation queries read, or None before the first switch."""

    def query(self, query: Query) -> Result:
        """Ordered SKUs of one page, the total number of matches, and facet counts."""

    def facet_names(self) -> frozenset[str]:
        """The facets shoppers may filter by in the live generation: ``brand`` and every
        attribute code indexed (whatever their counts in a particular listing)."""

    def suggest(self, text: str, locale: str, limit: int = 8) -> list[Suggestion]:
        """Visible products for a search box as the shopper types ``text`` (stripped, cut to 100
        characters; empty: none), at most ``limit`` (clamped to 1..20).

        A product is suggested when its SKU starts with the text, ignoring case, or when the text
        has words and every one of them, folded like the index folds (case, accents) and cut to
        its first 20 characters, is the start of some word of the product's name in ``locale``:
        in any order, every word may be partial (``jac`` and ``duf bag`` find "Juno Jacket" and
        "Joust Duffle Bag"). Order: the SKU matches, then names starting with the text, then the
        others; each group by SKU. tests/search_reference.py states it exactly; docs/search-*.md
        say where each adapter departs from it (Lucene's folding and words in Elasticsearch,
        bounded reads in the embedded index)."""

    def refresh(self) -> None:
        """Make everything written so far visible to queries (tests and rebuild only)."""

    def compact(self, generation: int) -> None:
        """Make a generation built in bulk as cheap to query as it can be, before it goes live
        (rebuild only; changes no answer). It ends a bulk load (:meth:`ensure_generation`) and
        leaves everything written visible. May take a while; nothing to do where writes leave
        nothing to tidy."""
