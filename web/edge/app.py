"""The edge: shopper pages from snippets, one Redis round trip each. Never touches PostgreSQL.

One module per concern, each a blueprint or an ``init_app``: the shopper's context
(web/edge/context.py), the home page (home.py), the product page (product.py), listings, search
and suggestions (listing_pages.py), liveness and the error pages (error_pages.py), readiness
(readiness.py). Every response carries its revision, request id and generation (web/revision.py).
They share one
:class:`~web.edge.edge_state.Edge` (reader, search result cache, read-repair requests, page cache,
settings), built here and kept in ``app.extensions``.
"""

from __future__ import annotations

import redis
from flask import Flask

from search.port import SearchIndex
from snipshop import redis_clients
from snipshop.config import Settings
from snipshop.logs import AccessLog
from snipshop.metrics import Tally
from web import request_metrics
from web.edge import context, error_pages, home, listing_pages, product, readiness
from web.edge.canary_counts import CanaryStats
from web.edge.edge_state import EXTENSION, Edge
from web.edge.listing_bodies import ServeListings
from web.edge.page_responses import PRIVATE, PUBLIC, add_security_headers
from web.edge.pagecache import ServeCached
from web.edge.shopper_buckets import AssignGeneration
from web.request_metrics import RequestMetrics
from web.revision import Observe, Traced


def create_app(
    settings: Settings,
    *,
    client: redis.Redis | None = None,
    search: SearchIndex | None = None,
    reads: redis.Redis | None = None,
) -> Flask:
    """Build the edge on ``client`` (the snippet Redis) and ``search``; ``reads``, if given (a
    replica on the edge's host), serves the snippet reads and the invalidations, while the edge's
    writes (read-repair requests, canary counts) go to ``client``.

    ``snipshop serve edge`` passes all three (entrypoints.bootstrap.edge_app). Omitted, they are
    made from ``settings`` as the bootstrap makes them, for tests and one-off use.
    """
    if client is None:
        client = redis_clients.snippet_store(settings)
        if reads is None:
            reads = redis_clients.snippet_reads(settings)
    if search is None:
        from search.factory import make_search

        search = make_search(settings, client)
    app = Flask(__name__, static_folder="static", static_url_path="/static")
    tally = Tally() if settings.metrics_enabled else None  # one flushing thread for all the edge counts
    edge = app.extensions[EXTENSION] = Edge.build(settings, client, search, tally, reads)
    if edge.page_cache is not None:
        # Flask's documented way to wrap the app in middleware; its annotations call wsgi_app a plain method.
        shopper = context.PersonalShopper(settings.locales, settings.currencies)
        app.wsgi_app = ServeCached(  # type: ignore[method-assign]
            app.wsgi_app, edge.page_cache, PUBLIC, PRIVATE, shopper
        )
    if edge.listing_responses is not None:  # anonymous listings, whole (web/edge/listing_bodies.py)
        app.wsgi_app = ServeListings(app.wsgi_app, edge.listing_responses, PUBLIC)  # type: ignore[method-assign]
    error_pages.init_app(app)  # first: a too long query string is refused before the context reads it
    context.init_app(app, settings.locales, settings.currencies, settings.image_base_url)
    app.after_request(add_security_headers)
    for concern in (home, product, listing_pages, readiness):
        app.register_blueprint(concern.blueprint)
    # Outside the page cache: the generation (a canary's, for some shoppers) is chosen before it is asked.
    app.wsgi_app = AssignGeneration(app.wsgi_app, edge.reader.pointers)  # type: ignore[method-assign]
    stats = CanaryStats(client, edge.keys, lambda: edge.reader.canary)
    observers: list[Observe] = [stats.observe]
    if settings.metrics_enabled:
        request_metrics.init_app(app)
        observers.append(RequestMetrics("edge", settings.revision, tally))
    # Outermost: the headers, the request id and the request metrics cover pages answered from the
    # page cache too.
    app.wsgi_app = Traced(  # type: ignore[method-assign]
        app.wsgi_app,
        settings.revision,
        lambda _environ: edge.reader.last_seen,
        _each(observers),
        AccessLog(settings.revision, settings.instance),
    )
    return app


def _each(observers: list[Observe]) -> Observe:
    """One observer telling each of ``observers`` (the canary's counts first, then the metrics)."""
    if len(observers) == 1:
        return observers[0]

    def observe(*args) -> None:
        for observer in observers:
            observer(*args)

    return observe
