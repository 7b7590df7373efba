"""The projection use cases, shared by Celery tasks and the ``projector`` CLI.

Each method re-reads the current state from PostgreSQL and writes version-guarded snippets,
so calling it twice, late or out of order is harmless.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable, Sequence

import redis
from psycopg_pool import ConnectionPool

from projector.documents import search_document
from projector.keys import CRUMB_KINDS, PRODUCT_KINDS, KeyScheme, Kind
from projector.readmodel import featured_skus, home_state, load_categories, load_products, skus_in_categories
from projector.render import Renderer
from projector.store import SnippetWriter
from search.port import SearchIndex
from snipshop.config import Settings


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Projector:
    def __init__(self, settings: Settings, pool: ConnectionPool, client: redis.Redis,
                 search: SearchIndex | None = None) -> None:
        self.settings = settings
        self.pool = pool
        self.keys = KeyScheme(settings.key_prefix)
        self.renderer = Renderer(settings.locales, settings.currencies, settings.low_stock_threshold)
        self.writer = SnippetWriter(client, self.keys, settings.snippet_ttl_seconds)
        self.search = search
        self._search_generations: set[int] = set()
        self._search_live_known = False

    def products(self, skus: Sequence[str], kinds: Iterable[Kind] = PRODUCT_KINDS,
                 generations: Sequence[int] | None = None) -> int:
        """Re-project ``kinds`` of the given products and their search documents.

        Returns the number of snippet keys written.
        """
        kinds = tuple(kinds)
        gens = list(generations) if generations is not None else self.writer.target_generations()
        with self.pool.connection() as conn:
            views = load_products(conn, skus)
            categories = load_categories(conn)
        now = utcnow()
        found = [views[sku] for sku in skus if sku in views]
        written = self.writer.write([s for p in found for s in self.renderer.product(p, categories, now, kinds)], gens)
        if self.search is not None and found:
            self._prepare_search(gens)
            self.search.index([search_document(p, categories, now, self.renderer) for p in found], gens)
        return written

    def _prepare_search(self, gens: Sequence[int]) -> None:
        """Create missing generation indexes; the first one made becomes live."""
        assert self.search is not None
        for gen in gens:
            if gen not in self._search_generations:
                self.search.ensure_generation(gen)
                self._search_generations.add(gen)
        if not self._search_live_known:
            if self.search.live_generation() is None:
                self.search.switch(gens[0])
            self._search_live_known = True

    def navigation(self, generations: Sequence[int] | None = None) -> int:
        """The page frames (with the category tree) and the category page headers."""
        with self.pool.connection() as conn:
            categories = load_categories(conn)
        snippets = self.renderer.frames(categories) + self.renderer.category_headers(categories)
        return self.writer.write(snippets, generations)

    def home(self, generations: Sequence[int] | None = None) -> int:
        with self.pool.connection() as conn:
            version, skus = home_state(conn, self.settings.featured_count)
            views = load_products(conn, skus)
        featured = [views[sku] for sku in skus if sku in views]
        return self.writer.write(self.renderer.home(version, featured, utcnow()), generations)

    def touches_home(self, skus: Sequence[str]) -> bool:
        with self.pool.connection() as conn:
            return bool(set(skus) & set(featured_skus(conn, self.settings.featured_count)))

    def categories(self, keys: Sequence[str], batch: int = 500) -> int:
        """A category changed: the navigation, and the breadcrumbs and documents below it."""
        written = self.navigation()
        with self.pool.connection() as conn:
            skus = skus_in_categories(conn, keys)
        for start in range(0, len(skus), batch):
            written += self.products(skus[start:start + batch], CRUMB_KINDS)
        return written
