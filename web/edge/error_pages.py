"""The edge's own answers: liveness, and the error pages (404, 405, 414, 503) in the shopper's
language; a page never answers 500 for a missing snippet, an unreachable store or search engine."""

from __future__ import annotations

import redis
from flask import Blueprint, Flask, Response, g, jsonify, request

from search.query import MAX_QUERY_STRING
from vocab.i18n import messages
from web.edge import pages
from web.edge.edge_state import current
from web.edge.listing_pages import SearchUnavailable
from web.edge.page_responses import RETRY_AFTER_REPAIR, html, not_found, shopper_locale, too_long, unavailable
from web.edge.repair_requests import for_missing

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz():
    """Liveness: answers without touching Redis, the search engine or PostgreSQL."""
    return jsonify(status="ok")


def refuse_long_query() -> Response | None:
    """414 for a query string longer than the edge reads, before anything parses it."""
    if len(request.environ.get("QUERY_STRING", "")) > MAX_QUERY_STRING:
        return too_long()
    return None


def search_down(_error) -> Response:
    return unavailable("unavailable_search")


def unknown_route(_error) -> Response:
    try:
        return not_found()
    except pages.MissingSnippet as error:  # raised in an error handler it would be a 500
        return missing(error)
    except redis.RedisError as error:
        return store_down(error)


def wrong_method(_error) -> Response:
    locale = shopper_locale()
    t = messages(locale)
    return html(pages.bare_page(t["method_not_allowed"], t["method_not_allowed_text"], locale), 405)


def missing(error: pages.MissingSnippet) -> Response:
    if not g.get("repair_asked"):
        current().ask_repair(for_missing(str(error)))
    return unavailable("unavailable_preparing", RETRY_AFTER_REPAIR)


def store_down(_error) -> Response:
    return unavailable("unavailable_store")


def init_app(app: Flask) -> None:
    """The liveness route, the 414 check (before anything reads the query) and the error pages."""
    app.register_blueprint(blueprint)
    app.before_request(refuse_long_query)
    app.register_error_handler(SearchUnavailable, search_down)
    app.register_error_handler(404, unknown_route)
    app.register_error_handler(405, wrong_method)
    app.register_error_handler(pages.MissingSnippet, missing)
    app.register_error_handler(redis.RedisError, store_down)
