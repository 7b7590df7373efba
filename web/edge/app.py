"""The edge: shopper pages from snippets, one Redis round trip each. Never touches PostgreSQL."""
from __future__ import annotations

import redis
from flask import Flask, Response, g, jsonify, request

from projector.keys import SKU_RE, Context, KeyScheme, Kind
from projector.store import SnippetReader
from snipshop.config import Settings
from web.edge import pages
from web.edge.context import remember_choices, resolve

HTML = "text/html; charset=utf-8"
RETRY_AFTER = "5"


def create_app(settings: Settings, *, client: redis.Redis | None = None) -> Flask:
    app = Flask(__name__, static_folder="static", static_url_path="/static")
    client = client or redis.Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
    keys = KeyScheme(settings.key_prefix)
    reader = SnippetReader(client, keys, settings.pointer_cache_seconds)

    def html(body: str, status: int = 200) -> Response:
        response = Response(body, status=status, content_type=HTML)
        remember_choices(response, g.remember)
        return response

    def unavailable(message: str) -> Response:
        response = html(pages.bare_page("Temporarily unavailable", message), 503)
        response.headers["Retry-After"] = RETRY_AFTER
        return response

    def live() -> int:
        gen = reader.live_generation()
        if gen is None:
            raise pages.MissingSnippet("live generation")
        return gen

    def not_found(frame: pages.Frame | None = None) -> Response:
        if frame is None:
            frame = pages.frame_of(reader.fetch([keys.snippet(live(), Kind.FRAME, g.ctx)])[0])
        return html(pages.message_page(frame, "Not found", "We could not find that page."), 404)

    @app.before_request
    def context() -> None:
        ctx, remember = resolve(request, settings.locales, settings.currencies)
        g.ctx: Context = ctx
        g.remember = remember

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.get("/")
    def home():
        gen = live()
        frame_raw, home_raw = reader.fetch(keys.home_page(gen, g.ctx))
        frame = pages.frame_of(frame_raw)
        return html(frame.wrap("Home", pages.body_of(home_raw) or ""))

    @app.get("/p/<sku>")
    def product(sku: str):
        if not SKU_RE.match(sku):
            return not_found()
        raw = reader.fetch(keys.product_page(live(), g.ctx, sku))
        frame = pages.frame_of(raw[0])
        detail, crumb, price, offer, avail, ld = (pages.body_of(r) for r in raw[1:])
        if not detail:
            return not_found(frame)
        return html(pages.product_page(frame, detail, crumb, price, offer, avail, ld))

    @app.errorhandler(404)
    def unknown_route(_error):
        return not_found()

    @app.errorhandler(405)
    def wrong_method(_error):
        return html(pages.bare_page("Method not allowed", "This address only answers GET."), 405)

    @app.errorhandler(pages.MissingSnippet)
    def missing(_error):
        return unavailable("The shop is being prepared. Please try again in a moment.")

    @app.errorhandler(redis.RedisError)
    def store_down(_error):
        return unavailable("The shop cannot reach its page store. Please try again in a moment.")

    return app
