"""The projection use cases, shared by Celery tasks and the ``projector`` CLI.

Each method re-reads the current state from PostgreSQL and writes version-guarded snippets,
so calling it twice, late or out of order is harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from psycopg_pool import ConnectionPool

from projector.readmodel import (
    ProductView,
    home_state,
    load_attribute_labels,
    load_categories,
    load_products,
    skus_in_categories,
    stock_levels,
)
from projector.render import Renderer
from projector.search_documents import search_document
from projector.store import SnippetWriter
from search.port import SearchIndex
from snipshop.config import Settings
from vocab.keys import CRUMB_KINDS, PRICE_KINDS, PRODUCT_KINDS, Context, KeyScheme, Kind, split_value

# Atomically take the members of a sorted set that are due (score <= now).
POP_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
return due
"""


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Loaded:
    products: list[ProductView]
    categories: dict


@dataclass
class Rendered:
    products: list[ProductView]
    snippets: list
    documents: list
    now: datetime
    prices: bool  # price kinds were rendered: offer timers follow


class Projector:
    def __init__(
        self,
        settings: Settings,
        pool: ConnectionPool,
        client: redis.Redis,
        search: SearchIndex | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.pool = pool
        self.keys = KeyScheme(settings.key_prefix)
        self.renderer = Renderer(settings.locales, settings.currencies, settings.low_stock_threshold)
        self.writer = SnippetWriter(client, self.keys, settings.snippet_ttl_seconds)
        self.search = search
        self._search_generations: set[int] = set()
        self._search_live_known = False
        self._pop_due = client.register_script(POP_DUE)

    def products(
        self, skus: Sequence[str], kinds: Iterable[Kind] = PRODUCT_KINDS, generations: Sequence[int] | None = None
    ) -> int:
        """Re-project ``kinds`` of the given products and their search documents.

        Returns the number of snippet keys written. The three steps (:meth:`load`, :meth:`render`,
        :meth:`store`) are separate so that a rebuild can overlap one batch's reading and writing
        with another's rendering.
        """
        gens = list(generations) if generations is not None else self.writer.target_generations()
        return self.store(self.render(self.load(skus), tuple(kinds)), gens)

    def load(self, skus: Sequence[str], categories: dict | None = None) -> Loaded:
        """Read the products (and the category tree, unless given) from PostgreSQL."""
        with self.pool.connection() as conn:
            views = load_products(conn, skus)
            categories = categories if categories is not None else load_categories(conn)
        return Loaded([views[sku] for sku in skus if sku in views], categories)

    def render(self, loaded: Loaded, kinds: tuple[Kind, ...]) -> Rendered:
        """Snippets and search documents: pure CPU, no I/O."""
        now = self.clock()
        found, categories = loaded.products, loaded.categories
        snippets = [s for p in found for s in self.renderer.product(p, categories, now, kinds)]
        documents = (
            [search_document(p, categories, now, self.renderer) for p in found] if self.search is not None else []
        )
        return Rendered(found, snippets, documents, now, Kind.PRICE in kinds)

    def store(self, rendered: Rendered, gens: Sequence[int]) -> int:
        """Write the snippets (version-guarded), the offer timers and the search documents."""
        written = self.writer.write(rendered.snippets, gens)
        if rendered.prices:
            self._set_offer_timers(rendered.products, rendered.now)
        if self.search is not None and rendered.documents:
            self._prepare_search(gens)
            self.search.index(rendered.documents, gens)
        return written

    def stock(self, skus: Sequence[str], max_rounds: int = 5) -> int:
        """A stock level changed: re-project only products whose availability state changed.

        One cheap read of the levels, one MGET of the stored badges; the full projection (badge
        and search document) runs for the few products that crossed a threshold.

        Skipping on "the stored badge already says so" is only safe if whoever wrote a badge checks
        afterwards that it still holds: a task that read the old state and writes it late (with a
        newer version than the stored badge) would otherwise overwrite the state a task that
        skipped had seen as current. So after writing, the written products are compared again,
        and written again while they differ (bounded; every further change has its own task).
        """
        gens = self.writer.target_generations()
        written = 0
        for _ in range(max_rounds):
            skus = self._stale_badges(skus, gens)
            if not skus:
                break
            written += self.products(skus, (Kind.AVAIL,), gens)
        return written

    def _stale_badges(self, skus: Sequence[str], gens: Sequence[int]) -> list[str]:
        """The products whose stored badge (default context) differs from their stock now."""
        with self.pool.connection() as conn:
            levels = stock_levels(conn, skus)
        ctx = Context(self.settings.default_locale, self.settings.default_currency)
        stored = self.writer.client.mget([self.keys.snippet(gens[0], Kind.AVAIL, ctx, sku) for sku in levels])
        stale = []
        for (sku, (quantity, visible)), raw in zip(levels.items(), stored, strict=True):
            current = split_value(raw)
            probe = ProductView(sku, "", visible, False, self.clock(), 0, 0, 0, quantity=quantity)
            if current is None or current[1] != self.renderer.availability(probe, ctx.locale).body:
                stale.append(sku)
        return stale

    def _set_offer_timers(self, products: list[ProductView], now: datetime) -> None:
        """Remember when each product's price changes by itself: an offer starting or ending."""
        due = {}
        for p in products:
            times = [o.starts_at if o.starts_at > now else o.ends_at for o in p.offers if o.ends_at > now]
            if times:
                due[p.sku] = min(times).timestamp()
        if due:
            self.writer.client.zadd(self.keys.timers, due, lt=True)

    def fire_timers(self, limit: int = 500) -> int:
        """Re-project the prices of products whose offer starts or ends now; return how many."""
        skus = [s.decode() for s in self._pop_due(keys=[self.keys.timers], args=[self.clock().timestamp(), limit])]
        if skus:
            self.products(skus, PRICE_KINDS)
        return len(skus)

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
        """The shop-wide snippets of every page: the page frames (with the category tree), the
        category page headers and the attribute labels (so a shop projected only by its tasks
        has labels as soon as it has frames)."""
        with self.pool.connection() as conn:
            categories = load_categories(conn)
        snippets = self.renderer.frames(categories) + self.renderer.category_headers(categories)
        return self.writer.write(snippets, generations) + self.labels(generations)

    def labels(self, generations: Sequence[int] | None = None) -> int:
        """The attribute labels snippet of each locale: nothing else shows a label's text."""
        with self.pool.connection() as conn:
            stored = load_attribute_labels(conn)
        version = max((v for v, _ in stored.values()), default=0)
        snippets = self.renderer.labels(version, {code: texts for code, (_, texts) in stored.items()})
        return self.writer.write(snippets, generations)

    def home(self, generations: Sequence[int] | None = None) -> int:
        with self.pool.connection() as conn:
            version, featured = home_state(conn, self.settings.featured_count)
        return self.writer.write(self.renderer.home(version, featured), generations)

    def categories(self, keys: Sequence[str], batch: int = 500) -> int:
        """A category changed: the navigation, and the breadcrumbs and documents below it."""
        written = self.navigation()
        with self.pool.connection() as conn:
            skus = skus_in_categories(conn, keys)
        for start in range(0, len(skus), batch):
            written += self.products(skus[start : start + batch], CRUMB_KINDS)
        return written
