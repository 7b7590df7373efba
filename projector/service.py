"""The projection use cases, shared by Celery tasks and the ``projector`` CLI.

Each method re-reads the current state from PostgreSQL and writes version-guarded snippets,
so calling it twice, late or out of order is harmless.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable, Sequence

import redis
from psycopg_pool import ConnectionPool

from projector.keys import CRUMB_KINDS, PRODUCT_KINDS, KeyScheme, Kind
from projector.readmodel import featured_skus, home_state, load_categories, load_products, skus_in_categories
from projector.render import Renderer
from projector.store import SnippetWriter
from snipshop.config import Settings


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Projector:
    def __init__(self, settings: Settings, pool: ConnectionPool, client: redis.Redis) -> None:
        self.settings = settings
        self.pool = pool
        self.keys = KeyScheme(settings.key_prefix)
        self.renderer = Renderer(settings.locales, settings.currencies, settings.low_stock_threshold)
        self.writer = SnippetWriter(client, self.keys, settings.snippet_ttl_seconds)

    def products(self, skus: Sequence[str], kinds: Iterable[Kind] = PRODUCT_KINDS,
                 generations: Sequence[int] | None = None) -> int:
        """Re-project ``kinds`` of the given products; return the number of keys written."""
        kinds = tuple(kinds)
        with self.pool.connection() as conn:
            views = load_products(conn, skus)
            categories = load_categories(conn) if Kind.CRUMB in kinds else {}
        now = utcnow()
        snippets = [s for sku in skus if sku in views
                    for s in self.renderer.product(views[sku], categories, now, kinds)]
        return self.writer.write(snippets, generations)

    def frames(self, generations: Sequence[int] | None = None) -> int:
        with self.pool.connection() as conn:
            categories = load_categories(conn)
        return self.writer.write(self.renderer.frames(categories), generations)

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
        """A category changed: the navigation and the breadcrumbs below it."""
        written = self.frames()
        with self.pool.connection() as conn:
            skus = skus_in_categories(conn, keys)
        for start in range(0, len(skus), batch):
            written += self.products(skus[start:start + batch], CRUMB_KINDS)
        return written
