"""The projection use cases, shared by Celery tasks and the ``projector`` CLI.

Each method re-reads the current state from PostgreSQL and writes version-guarded snippets,
so calling it twice, late or out of order is harmless.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from psycopg_pool import ConnectionPool

from projector.listing_changes import ListingAnnouncer
from projector.readmodel import (
    ProductView,
    VariantView,
    home_state,
    load_attribute_labels,
    load_categories,
    load_products,
    skus_in_categories,
    stock_levels,
    variant_products,
)
from projector.render import Renderer, Snippet, price_version, stock_version
from projector.search_documents import search_document
from projector.store import SnippetWriter
from search.port import SearchIndex
from snipshop.config import Settings
from vocab.keys import (
    CRUMB_KINDS,
    FIELD,
    PRICE_KINDS,
    PRODUCT_KINDS,
    TIMER_FIRING,
    VARIANT_KINDS,
    Context,
    KeyScheme,
    Kind,
    split_value,
)

# Atomically claim the offer timers that are due (score <= now): each due SKU, and each claim whose
# lease ran out (its run failed or died), becomes a claim FIRING..SKU held until ARGV[3]. The run
# removes its claims once the prices are projected (vocab.keys.KeyScheme.timers).
CLAIM_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local skus = {}
for _, member in ipairs(due) do
  local sku = member
  if string.sub(member, 1, #ARGV[4]) == ARGV[4] then
    sku = string.sub(member, #ARGV[4] + 1)  -- a claim that ran out: claimed anew below
  else
    redis.call('ZREM', KEYS[1], member)
  end
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4] .. sku)
  skus[#skus + 1] = sku
end
return skus
"""
#: How long a claimed offer timer waits for its run before another run fires it again.
TIMER_LEASE_SECONDS = 10.0


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
    pickers: bool = False  # the VARIANTS kind was rendered: variants no longer shown are retired


def listed_variants(raw: bytes | str | None) -> list[str]:
    """The variant SKUs a stored VARIANTS snippet shows (none when it is missing or a tombstone)."""
    value = split_value(raw)
    if not value or not value[1]:
        return []
    return [sku for sku, _ in json.loads(value[1].partition(FIELD)[2])["variants"]]


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
        self.renderer = Renderer(
            settings.locales, settings.currencies, settings.low_stock_threshold, settings.templates_dir
        )
        self.writer = SnippetWriter(client, self.keys, settings.snippet_ttl_seconds)
        self._trial_renderers: dict[str | None, Renderer] = {}
        self.search = search
        #: Tells the edges when listings may have changed (projector/listing_changes.py).
        self.listings = ListingAnnouncer(client, self.keys)
        self._search_generations: set[int] = set()
        self._search_live_known = False
        self._claim_due = client.register_script(CLAIM_DUE)

    def products(
        self,
        skus: Sequence[str],
        kinds: Iterable[Kind] = PRODUCT_KINDS,
        generations: Sequence[int] | None = None,
        variants: Collection[str] | None = None,
    ) -> int:
        """Re-project ``kinds`` of the given products (product SKUs) and their search documents;
        ``variants`` limits the variants' own snippets to those variant SKUs (None: all).

        Returns the number of snippet keys written. The three steps (:meth:`load`, :meth:`render`,
        :meth:`store`) are separate so that a rebuild can overlap one batch's reading and writing
        with another's rendering.
        """
        gens = list(generations) if generations is not None else self.writer.target_generations()
        loaded = self.load(skus)
        return sum(
            self.store(self.render(loaded, tuple(kinds), variants, renderer), group)
            for renderer, group in self._renderers_for(gens)
        )

    def _renderers_for(self, gens: list[int]) -> list[tuple[Renderer, list[int]]]:
        """The generations to write, grouped by the renderer each is rendered with: a canary built
        with templates of its own (docs/canary.md) gets them, while it is built and while it runs."""
        groups: dict[str | None, list[int]] = {}
        for gen in gens:
            groups.setdefault(self.writer.templates.get(gen, self.settings.templates_dir), []).append(gen)
        return [(self._renderer(templates), group) for templates, group in groups.items()]

    def _renderer(self, templates: str | None) -> Renderer:
        if templates == self.settings.templates_dir:
            return self.renderer
        trial = self._trial_renderers.get(templates)
        if trial is None:
            trial = self._trial_renderers[templates] = Renderer(
                self.settings.locales, self.settings.currencies, self.settings.low_stock_threshold, templates
            )
        return trial

    def product_skus(self, skus: Sequence[str]) -> list[str]:
        """The products that ``skus`` (variant or product SKUs) belong to; SKUs naming nothing are dropped."""
        with self.pool.connection() as conn:
            owners = variant_products(conn, skus)
        return sorted(set(owners.values()))

    def prices(self, skus: Sequence[str]) -> int:
        """Prices or offers of ``skus`` (variant SKUs; a simple product's is its own) changed: their
        products' price boxes (the aggregate of a product with variants) and the named variants' own."""
        with self.pool.connection() as conn:
            owners = variant_products(conn, skus)
        whole = sorted({product for sku, product in owners.items() if sku == product})
        some = sorted({product for sku, product in owners.items() if sku != product} - set(whole))
        named = {sku for sku, product in owners.items() if sku != product}
        gens = self.writer.target_generations()
        written = self.products(whole, PRICE_KINDS, gens) if whole else 0
        return written + (self.products(some, PRICE_KINDS, gens, named) if some else 0)

    def load(self, skus: Sequence[str], categories: dict | None = None) -> Loaded:
        """Read the products (and the category tree, unless given) from PostgreSQL."""
        with self.pool.connection() as conn:
            views = load_products(conn, skus)
            categories = categories if categories is not None else load_categories(conn)
        return Loaded([views[sku] for sku in skus if sku in views], categories)

    def render(
        self,
        loaded: Loaded,
        kinds: tuple[Kind, ...],
        variants: Collection[str] | None = None,
        renderer: Renderer | None = None,
    ) -> Rendered:
        """Snippets and search documents: pure CPU, no I/O."""
        renderer = renderer or self.renderer
        now = self.clock()
        found, categories = loaded.products, loaded.categories
        snippets = [s for p in found for s in renderer.product(p, categories, now, kinds, variants)]
        documents = self._documents(found, categories, now, renderer)
        return Rendered(found, snippets, documents, now, Kind.PRICE in kinds, Kind.VARIANTS in kinds)

    def _documents(self, products: list[ProductView], categories: dict, now: datetime, renderer: Renderer) -> list:
        if self.search is None:
            return []
        return [search_document(p, categories, now, renderer) for p in products]

    def store(self, rendered: Rendered, gens: Sequence[int]) -> int:
        """Write the snippets (version-guarded), the offer timers and the search documents."""
        retired = self._retired_variants(rendered.products, gens) if rendered.pickers and rendered.products else {}
        written = self.writer.write(rendered.snippets, gens)
        written += sum(self.writer.write(snippets, [gen]) for gen, snippets in retired.items() if snippets)
        if rendered.prices:
            self._set_offer_timers(rendered.products, rendered.now)
        if self.search is not None and rendered.documents:
            self._prepare_search(gens)
            self.search.index(rendered.documents, gens)
            self.listings.indexed(rendered.documents, gens)
        return written

    def _retired_variants(self, products: list[ProductView], gens: Sequence[int]) -> dict[int, list[Snippet]]:
        """Per generation, tombstones for the variants a product's stored picker shows that it no
        longer has (removed, or the product became simple): their own snippets, their pointers where
        they still point to the product, and the picker of a product that became simple. Reads one
        stored picker per product and generation, before the new ones are written; the renderer,
        which sees only the current variants, cannot know them."""
        client, keys = self.writer.client, self.keys
        out: dict[int, list[Snippet]] = {}
        first = Context(self.settings.default_locale, self.settings.default_currency)
        for gen in gens:
            stored = client.mget([keys.snippet(gen, Kind.VARIANTS, first, p.sku) for p in products])
            retired: list[Snippet] = []
            pointers: list[tuple[ProductView, str]] = []
            for p, raw in zip(products, stored, strict=True):
                have = {v.sku for v in p.variants}
                gone = [sku for sku in listed_variants(raw) if sku not in have]
                value = split_value(raw)
                if value and value[1] and not p.has_variants:
                    retired += [
                        Snippet(Kind.VARIANTS, Context(locale, self.settings.currencies[0]), p.sku, p.version, "")
                        for locale in self.settings.locales
                    ]
                for sku in gone:
                    standin = VariantView(sku, 0, False, price_version(p), stock_version(p))
                    retired += self.renderer.variant_tombstones(p, standin, VARIANT_KINDS, self.settings.locales)
                    pointers.append((p, sku))
            out[gen] = retired + self._retired_pointers(gen, pointers)
        return out

    def _retired_pointers(self, gen: int, pointers: list[tuple[ProductView, str]]) -> list[Snippet]:
        """Tombstones for the pointers of gone variants that still point to their old product, at the
        stored version: a pointer the variant's new product wrote since (newer) is left alone."""
        if not pointers:
            return []
        ctxs = [Context(locale, self.settings.currencies[0]) for locale in self.settings.locales]
        stored = self.writer.client.mget(
            [self.keys.snippet(gen, Kind.VARIANT, ctx, sku) for _, sku in pointers for ctx in ctxs]
        )
        out = []
        for i, ((p, sku), ctx) in enumerate((pair, ctx) for pair in pointers for ctx in ctxs):
            value = split_value(stored[i])
            if value is not None and value[1] == p.sku:
                out.append(Snippet(Kind.VARIANT, ctx, sku, value[0], ""))
        return out

    def stock(self, skus: Sequence[str], max_rounds: int = 5) -> int:
        """Stock levels of ``skus`` (variant SKUs; a simple product's is its own) changed: re-project
        only the badges whose availability state changed.

        One cheap read of the levels, one MGET of the stored badges; the full projection (badge
        and search document) runs for the few products that crossed a threshold. For a product with
        variants the views are read whole (every variant's level decides the aggregate badge), and
        only the badges that differ are written: a variant's own, and the product's aggregate only
        when its state changed.

        Skipping on "the stored badge already says so" is only safe if whoever wrote a badge checks
        afterwards that it still holds: a task that read the old state and writes it late (with a
        newer version than the stored badge) would otherwise overwrite the state a task that
        skipped had seen as current. So after writing, the written products are compared again,
        and written again while they differ (bounded; every further change has its own task).
        """
        gens = self.writer.target_generations()
        written = 0
        pending = list(skus)
        for _ in range(max_rounds):
            simple, grouped, owners = self._stale_badges(pending, gens)
            if not simple and not grouped.snippets:
                break
            # The next round compares only what this one wrote (a batch of hundreds of SKUs usually
            # writes a few).
            touched = {p.sku for p in grouped.products}
            pending = [*simple, *(sku for sku in pending if owners.get(sku, sku) != sku and owners[sku] in touched)]
            if simple:
                written += self.products(simple, (Kind.AVAIL,), gens)
            if grouped.snippets and len(self._renderers_for(gens)) > 1:
                # A canary with templates of its own: every generation's badges by its renderer.
                written += self.products([p.sku for p in grouped.products], (Kind.AVAIL,), gens)
            elif grouped.snippets:
                written += self.store(grouped, gens)
        return written

    def _stale_badges(self, skus: Sequence[str], gens: Sequence[int]) -> tuple[list[str], Rendered, dict[str, str]]:
        """The simple products whose stored badge (default context) differs from their stock now, the
        badges of products with variants that differ (rendered, ready to store), and the product of
        each SKU."""
        with self.pool.connection() as conn:
            owners = variant_products(conn, skus)
            levels = stock_levels(conn, skus)
            simple = {sku: levels[sku] for sku in skus if owners.get(sku) == sku and sku in levels}
            grouped = sorted({owners[sku] for sku in skus if sku in owners and sku not in simple})
            views = load_products(conn, grouped) if grouped else {}
            categories = load_categories(conn) if views else {}  # for their search documents
        ctx = Context(self.settings.default_locale, self.settings.default_currency)
        stored = self.writer.client.mget([self.keys.snippet(gens[0], Kind.AVAIL, ctx, sku) for sku in simple])
        stale = []
        for (sku, (quantity, visible)), raw in zip(simple.items(), stored, strict=True):
            current = split_value(raw)
            probe = ProductView(sku, "", visible, False, self.clock(), 0, 0, 0, quantity=quantity)
            if current is None or current[1] != self.renderer.availability(probe, ctx.locale).body:
                stale.append(sku)
        products = [views[sku] for sku in grouped if sku in views]
        return stale, self._stale_variant_badges(products, categories, gens[0], ctx), owners

    def _stale_variant_badges(self, products: list[ProductView], categories: dict, gen: int, ctx: Context) -> Rendered:
        """Of visible products with variants: the badges (every locale) whose default-context body
        differs from the stored one, the aggregate's and each variant's own."""
        now = self.clock()
        products = [p for p in products if p.visible and p.has_variants]  # the product topic tombstones the rest
        rendered = [self.renderer.product(p, categories, now, (Kind.AVAIL,)) for p in products]
        probes = [[s for s in out if s.ctx.locale == ctx.locale] for out in rendered]
        stored = self.writer.client.mget([self.writer.key(gen, s) for probe in probes for s in probe])
        found = iter(stored)
        snippets: list[Snippet] = []
        touched: list[ProductView] = []
        for p, out, probe in zip(products, rendered, probes, strict=True):
            stale = set()
            for s in probe:
                current = split_value(next(found))
                if current is None or current[1] != s.body:
                    stale.add(s.variant)
            if stale:
                snippets += [s for s in out if s.variant in stale]
                touched.append(p)
        return Rendered(touched, snippets, self._documents(touched, categories, now, self.renderer), now, False)

    def _set_offer_timers(self, products: list[ProductView], now: datetime) -> None:
        """Remember when each product's price changes by itself: an offer of it or of one of its
        variants starting or ending (the timer re-projects the product's price kinds, variants included)."""
        due = {}
        for p in products:
            offers = [*p.offers, *(o for v in p.variants for o in v.offers)]
            times = [o.starts_at if o.starts_at > now else o.ends_at for o in offers if o.ends_at > now]
            if times:
                due[p.sku] = min(times).timestamp()
        if due:
            self.writer.client.zadd(self.keys.timers, due, lt=True)

    def fire_timers(self, limit: int = 500, lease: float = TIMER_LEASE_SECONDS) -> int:
        """Re-project the prices of products whose offer starts or ends now; return how many.

        The due timers are claimed for ``lease`` seconds, not taken: a run that fails (the
        database away) or dies before the prices are written leaves its claims, and a run after
        the lease fires them again. The offer starts late, but it starts."""
        now = self.clock().timestamp()
        timers = self.keys.timers
        claimed = self._claim_due(keys=[timers], args=[now, limit, now + lease, TIMER_FIRING])
        skus = sorted({s.decode() for s in claimed})  # a SKU due again while its claim ran out: once
        if skus:
            self.products(skus, PRICE_KINDS)
            self.writer.client.zrem(timers, *(TIMER_FIRING + sku for sku in skus))
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
                self.listings.switched()
            self._search_live_known = True

    def navigation(self, generations: Sequence[int] | None = None) -> int:
        """The shop-wide snippets of every page: the page frames (with the category tree), the
        category page headers and the attribute labels (so a shop projected only by its tasks
        has labels as soon as it has frames)."""
        with self.pool.connection() as conn:
            categories = load_categories(conn)
        gens = list(generations) if generations is not None else self.writer.target_generations()
        written = sum(
            self.writer.write(
                renderer.usable(renderer.frames(categories) + renderer.category_headers(categories)), group
            )
            for renderer, group in self._renderers_for(gens)
        )
        return written + self.labels(gens)

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
        gens = list(generations) if generations is not None else self.writer.target_generations()
        return sum(
            self.writer.write(renderer.usable(renderer.home(version, featured)), group)
            for renderer, group in self._renderers_for(gens)
        )

    def categories(self, keys: Sequence[str], batch: int = 500) -> int:
        """A category changed: the navigation, and the breadcrumbs and documents below it."""
        written = self.navigation()
        with self.pool.connection() as conn:
            skus = skus_in_categories(conn, keys)
        for start in range(0, len(skus), batch):
            written += self.products(skus[start : start + batch], CRUMB_KINDS)
        return written
