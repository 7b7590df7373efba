"""The classical baseline: the shop's pages rendered per request from PostgreSQL (issue #6).

Flask and Jinja2, a psycopg_pool connection pool, compiled templates, and the queries of
:mod:`bench.classical.queries`, but no snippets, no Redis and no search engine: every request
reads what it shows from PostgreSQL and renders it. It serves the edge's URL paths and query
parameters (``/p/<sku>``, ``/c/<key>?color=Red&size=M&sort=price_asc&page=2``,
``/search?q=...``, ``/``), so one load generator can drive both, and it renders with the
product's own templates (:class:`projector.render.Renderer`) and assembles pages with the edge's
own page code (:mod:`web.edge.pages`, :mod:`web.edge.listing`), so the HTML is the edge's.

Nothing is cached beyond the compiled templates and the pool. Not part of the product.

    DATABASE_URL=postgresql://... python -m bench.serve_app classical --port 8100 --workers 2

(served like the edge, on granian: each worker builds the app and opens its own pool).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from flask import Flask, Response, g, jsonify, request
from markupsafe import Markup, escape
from psycopg_pool import ConnectionPool

from bench.classical import queries
from bench.classical.queries import CategoryRow, ProductRow
from projector.readmodel import CategoryView, Offer, ProductView, VariantView
from projector.render import Renderer, shown
from search.documents import BRAND
from search.query import MAX_FACET_VALUES, Facet, FacetValue, Query, Result, parse
from vocab.i18n import AttributeLabels, messages
from vocab.keys import CATEGORY_KEY_RE, FIELD, SKU_RE, SLOT, Context, join_value
from web.edge import listing, pages, personalize
from web.edge.context import remember_choices, resolve
from web.edge.product import OPTION

HTML = "text/html; charset=utf-8"
RANDOM_PAGE_COST = 1.1
ANONYMOUS_MAX_AGE = 5  # as the edge: seconds a shared cache may keep an anonymous page
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STATIC = str(Path(__file__).resolve().parents[2] / "web" / "edge" / "static")


class Pages:
    """Rows in, HTML out: the product's templates (compiled once) fed with one request's rows."""

    def __init__(self, locales: Sequence[str], currencies: Sequence[str], low_stock_threshold: int) -> None:
        self.renderer = Renderer(locales, currencies, low_stock_threshold)

    # --- views the product's renderer takes ------------------------------------------------

    @staticmethod
    def categories(rows: dict[str, CategoryRow]) -> dict[str, CategoryView]:
        return {k: CategoryView(c.key, c.parent, c.position, 0, c.names) for k, c in rows.items()}

    @staticmethod
    def view(p: ProductRow, ctx: Context, now: datetime) -> ProductView:
        def money(price: Decimal | None, offer: Decimal | None) -> tuple[dict[str, Decimal], list[Offer]]:
            prices = {} if price is None else {ctx.currency: price}
            offers = [] if offer is None else [Offer(ctx.currency, offer, now, now + timedelta(days=1))]
            return prices, offers

        prices, offers = money(p.price, p.offer)
        variants = [
            VariantView(v.sku, i, v.active, 0, 0, dict(v.options), *money(v.price, v.offer), quantity=v.quantity)
            for i, v in enumerate(p.variants)
        ]
        return ProductView(
            p.sku,
            p.brand,
            True,
            False,
            EPOCH,
            0,
            0,
            0,
            names=p.names,
            descriptions=p.descriptions,
            categories=p.categories,
            attributes=p.attributes,
            images=p.images,
            prices=prices,
            offers=offers,
            quantity=p.quantity,
            variants=variants,
        )

    def labels(self, stored: dict[str, dict[str, str]], locale: str) -> dict[str, str]:
        """The attribute labels a page in ``locale`` shows: the edge's labels snippet, rendered now."""
        [snippet] = [s for s in self.renderer.labels(0, stored) if s.ctx.locale == locale]
        return json.loads(snippet.body)

    # --- page parts ----------------------------------------------------------------------------

    def frame(self, categories: dict[str, CategoryView], locale: str) -> pages.Frame:
        head, middle, tail = self.renderer.frame_body(categories, locale).split(SLOT, 2)
        return pages.Frame(head, middle, tail)

    def category_header(self, categories: dict[str, CategoryView], key: str, locale: str) -> tuple[str, str]:
        """(escaped title, breadcrumb and heading) of a category page."""
        r = self.renderer
        chain = [categories[key]]
        while chain[0].parent in categories and len(chain) < 20:
            chain.insert(0, categories[chain[0].parent])
        trail = [{"key": c.key, "name": r._text(c.names, locale)} for c in chain[:-1]]
        name = r._text(chain[-1].names, locale)
        return str(Markup.escape(name)), r._render("category", trail=trail, name=name, t=messages(locale))

    def product_page(
        self,
        frame: pages.Frame,
        p: ProductRow,
        categories: dict[str, CategoryView],
        labels: dict[str, str],
        ctx: Context,
        now: datetime,
        selected: str | None = None,
    ) -> str:
        """The edge's product page; for a product with variants, with the variant ``selected``, if any."""
        r, view = self.renderer, self.view(p, ctx, now)
        detail = r.detail(view, ctx.locale).body
        crumb = r.crumb(view, ctx.locale, categories).body
        price, offer = r.price_box(view, ctx, now, offer=False).body, r.offer_box(view, ctx, now).body
        avail, ld = r.availability(view, ctx.locale).body, r.ld(view, ctx.locale).body
        if not view.has_variants:
            return pages.product_page(frame, detail, crumb, price, offer, avail, ld, labels)
        parts: dict[str, pages.Parts] = {
            v.sku: (
                r.variant_price_box(view, v, ctx, now, offer=False).body,
                r.variant_offer_box(view, v, ctx, now).body,
                r.variant_availability(view, v, ctx.locale).body,
            )
            for v in shown(view)
        }
        picker = pages.picker_of(join_value(0, r.picker(view, ctx.locale).body).encode())
        return pages.product_group_page(
            frame.with_canonical(f"/p/{p.sku}"), detail, crumb, price, offer, avail, ld, labels, picker, parts, selected
        )

    def picker(self, p: ProductRow, ctx: Context, now: datetime) -> pages.Picker | None:
        view = self.view(p, ctx, now)
        if not view.has_variants:
            return None
        return pages.picker_of(join_value(0, self.renderer.picker(view, ctx.locale).body).encode())

    def tiles(self, products: Sequence[ProductRow], ctx: Context, now: datetime, labels: dict[str, str]) -> list[str]:
        """The edge's tiles: a product with variants shows its options (their labels from ``labels``)."""
        out = []
        for p in products:
            r, view = self.renderer, self.view(p, ctx, now)
            money = (r.offer_box(view, ctx, now).body or r.price_box(view, ctx, now, offer=False).body).partition(
                FIELD
            )[0]
            badge = r.availability(view, ctx.locale).body.partition(FIELD)[0]
            tile = pages.fill_labels(r.tile(view, ctx.locale).body, labels)
            out.append(f'<li class="tile" data-sku="{escape(p.sku)}">{tile}{money}{badge}</li>')
        return out


def facets(query: Query, counts: dict[tuple[str, str], int]) -> tuple[Facet, ...]:
    """The facet lists of the search contract from the counts: brand first, then attributes by name;
    the selected values always, the others by count (at most MAX_FACET_VALUES in all)."""
    names = [BRAND] + sorted(({name for name, _ in counts} | set(query.filters)) - {BRAND})
    order = lambda vc: (-vc[1], vc[0])  # noqa: E731
    out = []
    for name in names:
        selected = query.filters.get(name, ())
        chosen = [(v, counts.get((name, v), 0)) for v in selected]
        others = sorted(((v, c) for (n, v), c in counts.items() if n == name and v not in selected), key=order)
        listed = sorted(chosen + others[: max(MAX_FACET_VALUES - len(chosen), 0)], key=order)
        if listed:
            out.append(Facet(name, tuple(FacetValue(v, c, v in selected) for v, c in listed)))
    return tuple(out)


def create_app(
    database_url: str,
    locale: str = "en_US",
    currency: str = "EUR",
    *,
    locales: Sequence[str] | None = None,
    currencies: Sequence[str] | None = None,
    low_stock_threshold: int | None = None,
    featured_count: int | None = None,
    pool_size: int = 2,
    create_indexes: bool = True,
) -> Flask:
    """The classical shop on ``database_url``; ``locale``/``currency`` are the defaults a shopper
    gets. The locales and currencies a shopper may switch to default to the shop's configuration
    (``SHOP_LOCALES``/``SHOP_CURRENCIES``, as the edge reads them), the defaults first.
    """
    from snipshop.config import load

    settings = load()
    locales = tuple(dict.fromkeys([locale, *(locales or settings.locales)]))
    currencies = tuple(dict.fromkeys([currency, *(currencies or settings.currencies)]))
    threshold = settings.low_stock_threshold if low_stock_threshold is None else low_stock_threshold
    featured = settings.featured_count if featured_count is None else featured_count

    app = Flask(__name__, static_folder=STATIC, static_url_path="/static")
    # A server worker serves one request at a time (granian, one thread): a small pool, no check
    # on checkout.
    # The catalog is in memory: random reads cost little more than sequential ones (the usual
    # setting for SSDs and cached databases), for these sessions only. No JIT: a listing's plan
    # costs past jit_above_cost, and compiling it took longer than running it (about 130 ms of
    # 400 at 50,000 products), on every request.
    pool = ConnectionPool(
        database_url,
        min_size=1,
        max_size=pool_size,
        open=False,
        name="classical",
        kwargs={"autocommit": True, "options": f"-c random_page_cost={RANDOM_PAGE_COST} -c jit=off"},
        timeout=5,
    )
    pool.open(wait=True)
    app.extensions["classical_pool"] = pool
    if create_indexes:
        with pool.connection() as conn:
            queries.ensure_indexes(conn, locales)
    render = Pages(locales, currencies, threshold)

    def html(body: str, status: int = 200) -> Response:
        """As the edge's: personalization filled in, cache headers for anonymous pages."""
        values = personalize.values_from(request.cookies, g.ctx.currency, settings.image_base_url)
        response = Response(personalize.fill(body, values), status=status, content_type=HTML)
        remember_choices(response, g.remember)
        response.vary.add("Cookie")
        if personalize.is_personal(values) or g.remember or status != 200:
            response.cache_control.private = True
            response.cache_control.no_cache = True
        else:
            response.cache_control.public = True
            response.cache_control.max_age = ANONYMOUS_MAX_AGE
            response.add_etag()
            response.make_conditional(request)
        return response

    def categories(conn) -> tuple[dict[str, CategoryRow], dict[str, CategoryView]]:
        rows = queries.load_categories(conn)
        return rows, render.categories(rows)

    def not_found(frame: pages.Frame) -> Response:
        t = messages(g.ctx.locale)  # the edge's 404, word for word
        return html(pages.message_page(frame, t["not_found"], t["not_found_text"], t["back_home"]), 404)

    @app.before_request
    def context() -> None:
        g.ctx, g.remember = resolve(request, locales, currencies)

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.get("/")
    def home():
        ctx, now = g.ctx, datetime.now(UTC)
        with pool.connection() as conn:
            _, cats = categories(conn)
            products = queries.load_featured(conn, ctx.currency, featured)
            labels = render.labels(queries.load_labels(conn), ctx.locale)
        t = messages(ctx.locale)
        heading = render.renderer._render("home", t=t)
        tiles = "".join(render.tiles(products, ctx, now, labels))
        body = f'<section class="featured">{heading}<ul class="tiles">{tiles}</ul></section>'
        return html(render.frame(cats, ctx.locale).wrap(t["home"], body))

    @app.get("/p/<sku>")
    def product(sku: str):
        """A product's page, or its variant's (``/p/<variant SKU>``: the variant selected)."""
        ctx, now = g.ctx, datetime.now(UTC)
        selected = None
        with pool.connection() as conn:
            _, cats = categories(conn)
            p = queries.load_product(conn, sku, ctx.currency) if SKU_RE.fullmatch(sku) else None
            if p is None and SKU_RE.fullmatch(sku):
                owner = queries.variant_owner(conn, sku)
                if owner is not None:
                    p, selected = queries.load_product(conn, owner, ctx.currency), sku
            labels = queries.load_labels(conn) if p is not None else {}
        frame = render.frame(cats, ctx.locale)
        if p is None:
            return not_found(frame)
        chosen = {k[len(OPTION) :]: v for k, v in request.args.items() if k.startswith(OPTION) and v}
        picker = render.picker(p, ctx, now) if chosen else None
        target = picker.choose(chosen) if picker is not None else None
        if target is not None:  # the picker's form: the chosen variant's page, as the edge answers
            response = Response(status=303, headers={"Location": f"/p/{target}", "Cache-Control": "no-store"})
            remember_choices(response, g.remember)
            return response
        labelled = render.labels(labels, ctx.locale)
        return html(render.product_page(frame, p, cats, labelled, ctx, now, selected))

    def listing_page(category: str | None, search: bool = False) -> Response:
        """A category listing, or the search page; the shopper's query is read in the same
        connection (the facet names decide which parameters filter)."""
        ctx, now = g.ctx, datetime.now(UTC)
        with pool.connection() as conn:
            query = parse(
                request.args.to_dict(flat=False),
                locale=ctx.locale,
                currency=ctx.currency,
                facet_names=queries.facet_names(conn),
                category=category,
            )
            rows, cats = categories(conn)
            if category is not None and category not in rows:
                return not_found(render.frame(cats, ctx.locale))
            found = queries.load_listing(conn, query, None if category is None else queries.subtree(rows, category))
            labels = AttributeLabels(ctx.locale, render.labels(queries.load_labels(conn), ctx.locale))
        frame = render.frame(cats, ctx.locale)
        t = messages(ctx.locale)
        if category is not None:
            escaped_title, header = render.category_header(cats, category, ctx.locale)
        else:
            escaped_title = str(escape(t["search_results"].format(q=query.text) if search else ""))
            header = f'<h1 class="search-title">{escaped_title}</h1>'
        result = Result(tuple(p.sku for p in found.tiles), found.total, facets(query, found.counts))
        tiles = render.tiles(found.tiles, ctx, now, dict(labels.stored))
        return html(
            frame.wrap(escaped_title, listing.listing_body(header, query, result, tiles, query.params(), t, labels))
        )

    @app.get("/c/<category_key>")
    def category(category_key: str):
        if not CATEGORY_KEY_RE.fullmatch(category_key):
            with pool.connection() as conn:
                _, cats = categories(conn)
            return not_found(render.frame(cats, g.ctx.locale))
        return listing_page(category_key)

    @app.get("/search")
    def search_page():
        return listing_page(None, search=True)

    @app.errorhandler(404)
    def unknown_route(_error):
        with pool.connection() as conn:
            _, cats = categories(conn)
        return not_found(render.frame(cats, g.ctx.locale))

    @app.errorhandler(405)
    def wrong_method(_error):
        t = messages(g.ctx.locale)
        return html(pages.bare_page(t["method_not_allowed"], t["method_not_allowed_text"], g.ctx.locale), 405)

    return app
