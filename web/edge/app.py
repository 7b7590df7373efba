"""The edge: shopper pages from snippets, one Redis round trip each. Never touches PostgreSQL."""
from __future__ import annotations

import redis
from markupsafe import escape
from flask import Flask, Response, g, jsonify, request

from search.factory import make_search
from search.port import SearchIndex
from search.query import MAX_QUERY_STRING, Query, parse
from snipshop.config import Settings
from vocab.i18n import messages
from vocab.keys import CATEGORY_KEY_RE, FIELD, SKU_RE, Context, KeyScheme, Kind
from web.edge import listing, pages, personalize, repair
from web.edge.context import remember_choices, resolve
from web.edge.nearcache import NearCache
from web.edge.pagecache import PageCache, ServeCached, mark
from web.edge.results import CachedResults
from web.edge.snippets import SnippetReader

HTML = "text/html; charset=utf-8"
ANONYMOUS_MAX_AGE = 5  # seconds a shared cache may keep an anonymous page
PUBLIC = f"public, max-age={ANONYMOUS_MAX_AGE}"
RETRY_AFTER = "5"
RETRY_AFTER_REPAIR = "2"  # a read-repair runs every second
#: On every shopper response. Pages load only their own stylesheet and inline JSON-LD data
#: blocks (not scripts), so the policy allows nothing else; no site may frame the shop.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; "
                               "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
}


SUGGEST_LIMIT = 8


class SearchUnavailable(Exception):
    """The search engine did not answer."""


def create_app(settings: Settings, *, client: redis.Redis | None = None, search: SearchIndex | None = None) -> Flask:
    app = Flask(__name__, static_folder="static", static_url_path="/static")
    client = client or redis.Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
    keys = KeyScheme(settings.key_prefix)
    cache = (NearCache(settings.redis_url, keys.invalidations, settings.edge_cache_mb * 2**20,
                       settings.edge_cache_seconds) if settings.edge_cache_mb > 0 else None)
    reader = SnippetReader(client, keys, settings.pointer_cache_seconds, cache)
    search = search or make_search(settings, client)
    results = CachedResults(search, settings.search_cache_seconds)
    repairs = repair.RepairRequests(client, keys)
    keeping_pages = cache is not None and settings.edge_page_cache_mb > 0
    if keeping_pages:
        page_cache = PageCache(cache, reader.live_generation, settings.edge_page_cache_mb * 2**20)
        app.wsgi_app = ServeCached(app.wsgi_app, page_cache, PUBLIC)

    def fetch(gen: int, wanted: list[str]) -> list[bytes | None]:
        """A fetch for a page assembled from snippets alone: its response may be kept whole."""
        raw = reader.fetch(wanted)
        if keeping_pages:
            mark(request.environ, gen, wanted, raw)
        return raw

    def ask_repair(things: list[repair.Thing]) -> bool:
        """Note what this page missed (one script call, only if anything is missing)."""
        if things:
            repairs.request(things)
            g.repair_asked = True
        return bool(things)

    def html(body: str, status: int = 200, *, store: bool = True) -> Response:
        """The response for a page whose frame came from :func:`frame_for` (already filled)."""
        values = g.values
        response = Response(personalize.fill(body, values), status=status, content_type=HTML)
        remember_choices(response, g.remember)
        headers = response.headers
        headers["Vary"] = "Cookie"
        if not store:  # degraded or unsure: nobody may keep it (docs/resilience.md)
            headers["Cache-Control"] = "no-store"
        elif personalize.is_personal(values) or g.remember or status != 200:
            headers["Cache-Control"] = "private, no-cache"
        else:
            headers["Cache-Control"] = PUBLIC
            response.add_etag()
            if "HTTP_IF_NONE_MATCH" in request.environ:
                response.make_conditional(request)
        return response

    def frame_for(raw: bytes | None) -> pages.Frame:
        """The page frame, its personalization variables filled for this shopper."""
        return personalize.frame(pages.frame_of(raw), g.values)

    def shopper_locale() -> str:
        """The shopper's locale once the context is known; before, the remembered one (cookie)."""
        ctx = g.get("ctx")
        if ctx is not None:
            return ctx.locale
        cookie = request.cookies.get("locale") if "HTTP_COOKIE" in request.environ else None
        return cookie if cookie in settings.locales else settings.locales[0]

    def unavailable(reason: str, retry_after: str = RETRY_AFTER) -> Response:
        """503 in the shopper's language; ``reason`` names the message (vocab.i18n)."""
        locale = shopper_locale()
        t = messages(locale)
        response = html(pages.bare_page(t["unavailable"], t[reason], locale), 503)
        response.headers["Retry-After"] = retry_after
        return response

    def repairing() -> Response:
        return unavailable("unavailable_restoring", RETRY_AFTER_REPAIR)

    def live() -> int:
        gen = reader.live_generation()
        if gen is None:
            raise pages.MissingSnippet("live generation")
        return gen

    def not_found(frame: pages.Frame | None = None, *, store: bool = True) -> Response:
        if frame is None:
            frame = frame_for(reader.fetch([keys.snippet(live(), Kind.FRAME, g.ctx)])[0])
        t = messages(g.ctx.locale)
        return html(pages.message_page(frame, t["not_found"], t["not_found_text"], t["back_home"]), 404, store=store)

    @app.before_request
    def context() -> Response | None:
        if len(request.environ.get("QUERY_STRING", "")) > MAX_QUERY_STRING:
            return too_long()
        ctx, remember = resolve(request, settings.locales, settings.currencies)
        g.ctx: Context = ctx
        g.remember = remember
        g.values = personalize.values_from(request.cookies if "HTTP_COOKIE" in request.environ else {}, ctx.currency)
        return None

    def too_long() -> Response:
        """414 without reading the parameters (nor the context they would choose)."""
        locale = shopper_locale()  # from the cookie: the parameters are not read
        t = messages(locale)
        body = pages.bare_page(t["too_long"], t["too_long_text"].format(limit=MAX_QUERY_STRING), locale)
        return Response(body, status=414, content_type=HTML, headers={"Cache-Control": "no-store"})

    @app.after_request
    def security(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    # The featured SKUs as last seen in the home snippet: fetching their tiles in the same MGET
    # keeps the home page at one round trip; a second one happens only when the list changed.
    featured: list[str] = []

    @app.get("/")
    def home():
        gen = live()
        guess = list(featured)
        raw = fetch(gen, keys.home_page(gen, g.ctx) + keys.tiles(gen, g.ctx, guess))
        heading, _, listed = (pages.body_of(raw[1]) or "").partition(FIELD)
        current = listed.split(",") if listed else []
        tile_raw = raw[2:]
        if current != guess:
            featured[:] = current
            tile_raw = fetch(gen, keys.tiles(gen, g.ctx, current))
        tiles = "".join(listing.tiles(tile_raw, current))
        title = messages(g.ctx.locale)["home"]
        whole = not ask_repair(repair.shared_misses(raw[0], raw[1]) + repair.tile_misses(tile_raw, current))
        frame = frame_for(raw[0])
        return html(frame.wrap(title, f'<section class="featured">{heading}<ul class="tiles">{tiles}</ul></section>'),
                    store=whole)

    @app.get("/p/<sku>")
    def product(sku: str):
        if not SKU_RE.fullmatch(sku):
            return not_found()
        gen = live()
        raw = fetch(gen, keys.product_page(gen, g.ctx, sku))
        whole = not ask_repair(repair.product_page_misses(sku, raw))
        frame = frame_for(raw[0])
        detail, crumb, price, offer, avail, ld = (pages.body_of(r) for r in raw[1:])
        if detail is None:  # nothing stored at all: most likely no such product; else being restored
            return not_found(frame, store=False) if repair.unknown_product(raw) else repairing()
        if not detail:
            return not_found(frame)
        if not whole:
            crumb, price, avail = repair.degraded_parts(g.ctx.locale, crumb, price, offer, avail)
        return html(pages.product_page(frame, detail, crumb, price, offer, avail, ld), store=whole)

    def searching(call, *args):
        try:
            return call(*args)
        except redis.RedisError:
            raise
        except Exception as exc:  # noqa: BLE001 - any engine failure is a 503, never a 500
            app.logger.warning("search failed: %s", exc)
            raise SearchUnavailable() from exc

    def listing_page(header_kind: Kind | None, ident: str | None, query: Query, title: str | None = None) -> Response:
        result = searching(results.query, query)
        gen = live()
        head = [keys.snippet(gen, Kind.FRAME, g.ctx)]
        if header_kind is not None:
            head.append(keys.snippet(gen, header_kind, g.ctx, ident))
        raw = reader.fetch(head + keys.tiles(gen, g.ctx, list(result.skus)))
        header_missing = header_kind is not None and raw[1] is None
        whole = not ask_repair(repair.shared_misses(raw[0]) + ([repair.NAVIGATION_THING] if header_missing else [])
                               + repair.tile_misses(raw[len(head):], list(result.skus)))
        frame = frame_for(raw[0])
        t = messages(g.ctx.locale)
        if header_kind is not None:
            header_body = pages.body_of(raw[1])
            if header_missing and result.skus:  # the category has products: its header is being restored
                return repairing()
            if not header_body:
                return not_found(frame, store=whole)
            escaped_title, _, header = header_body.partition(FIELD)
        else:
            escaped_title = str(escape(title or ""))
            header = f'<h1 class="search-title">{escaped_title}</h1>'
        tiles = listing.tiles(raw[len(head):], list(result.skus))
        body = listing.listing_body(header, query, result, tiles, query.params(), t)
        return html(frame.wrap(escaped_title, body), store=whole)

    def shopper_query(category: str | None = None) -> Query:
        known = searching(results.facet_names)
        return parse(request.args.to_dict(flat=False), locale=g.ctx.locale, currency=g.ctx.currency,
                     facet_names=known, category=category)

    @app.get("/c/<category_key>")
    def category(category_key: str):
        if not CATEGORY_KEY_RE.fullmatch(category_key):
            return not_found()
        return listing_page(Kind.CATEGORY, category_key, shopper_query(category_key))

    @app.get("/search")
    def search_page():
        query = shopper_query()
        title = messages(g.ctx.locale)["search_results"].format(q=query.text)
        return listing_page(None, None, query, title)

    @app.get("/suggest")
    def suggest():
        text = (request.args.get("q") or "").strip()[:100]
        found = searching(search.suggest, text, g.ctx.locale, SUGGEST_LIMIT) if text else []
        response = jsonify([{"sku": s.sku, "name": s.name, "url": f"/p/{s.sku}"} for s in found])
        response.headers["Cache-Control"] = "public, max-age=60"
        response.headers["Vary"] = "Cookie"  # the locale may come from a cookie
        return response

    @app.errorhandler(SearchUnavailable)
    def search_down(_error):
        return unavailable("unavailable_search")

    @app.errorhandler(404)
    def unknown_route(_error):
        try:
            return not_found()
        except pages.MissingSnippet as error:  # raised in an error handler it would be a 500
            return missing(error)
        except redis.RedisError as error:
            return store_down(error)

    @app.errorhandler(405)
    def wrong_method(_error):
        locale = shopper_locale()
        t = messages(locale)
        return html(pages.bare_page(t["method_not_allowed"], t["method_not_allowed_text"], locale), 405)

    @app.errorhandler(pages.MissingSnippet)
    def missing(error):
        if not g.get("repair_asked"):
            ask_repair(repair.for_missing(str(error)))
        return unavailable("unavailable_preparing", RETRY_AFTER_REPAIR)

    @app.errorhandler(redis.RedisError)
    def store_down(_error):
        return unavailable("unavailable_store")

    return app
