"""Category listings, search results and search suggestions: one search query for the SKUs and
the facet counts, then one fetch of the tiles (web/edge/listing.py builds the page)."""

from __future__ import annotations

import threading

import redis
from flask import Blueprint, Response, current_app, g, jsonify, request
from markupsafe import escape

from search.query import Query, Result, parse
from vocab.i18n import AttributeLabels, messages
from vocab.keys import CATEGORY_KEY_RE, FIELD, Kind
from vocab.repair_entries import NAVIGATION_THING
from web.edge import listing, pages
from web.edge.edge_state import current
from web.edge.page_responses import frame_for, html, not_found, repairing
from web.edge.repair_requests import shared_misses, tile_misses
from web.edge.result_cache import query_key

blueprint = Blueprint("listings", __name__)

SUGGEST_LIMIT = 8


class SearchUnavailable(Exception):
    """The search engine did not answer (web/edge/error_pages.py answers 503)."""


def searching(call, *args):
    """``call(*args)`` on the search engine; any failure but the snippet store's is a
    :class:`SearchUnavailable` (a 503, never a 500)."""
    try:
        return call(*args)
    except redis.RedisError:
        raise
    except Exception as exc:  # noqa: BLE001 - any engine failure is a 503, never a 500
        current_app.logger.warning("search failed: %s", exc)
        raise SearchUnavailable() from exc


def listing_page(header_kind: Kind | None, ident: str | None, query: Query, title: str | None = None) -> Response:
    edge = current()
    keys = edge.keys
    result = searching(edge.searching()[1].query, query)
    gen = edge.live()
    head = [keys.snippet(gen, Kind.FRAME, g.ctx), keys.labels(gen, g.ctx)]
    if header_kind is not None:
        assert ident is not None, "a listing with a header names what it heads"  # as both routes do
        head.append(keys.snippet(gen, header_kind, g.ctx, ident))
    raw = edge.reader.fetch(head + keys.tiles(gen, g.ctx, list(result.skus)))
    header_missing = header_kind is not None and raw[2] is None
    whole = not edge.ask_repair(
        shared_misses(raw[0], labels=raw[1])
        + ([NAVIGATION_THING] if header_missing else [])
        + tile_misses(raw[len(head) :], list(result.skus))
    )
    frame = frame_for(raw[0])
    t = messages(g.ctx.locale)
    if header_kind is not None:
        header_body = pages.body_of(raw[2])
        if header_missing and result.skus:  # the category has products: its header is being restored
            return repairing()
        if not header_body:
            return not_found(frame, store=whole)
        escaped_title, _, header = header_body.partition(FIELD)
    else:
        escaped_title = str(escape(title or ""))
        header = f'<h1 class="search-title">{escaped_title}</h1>'
    slot = (gen, g.ctx, header_kind, ident, title, query.past_window, query_key(query))
    body = ASSEMBLED.get(slot, result, raw) if whole else None
    if body is None:
        stored_labels = pages.labels_of(raw[1])
        tiles = listing.tiles(raw[len(head) :], list(result.skus), stored_labels)
        labels = AttributeLabels(g.ctx.locale, stored_labels)
        body = listing.listing_body(header, query, result, tiles, query.params(), t, labels)
        if whole:
            ASSEMBLED.keep(slot, result, raw, body)
    return html(frame.wrap(escaped_title, body), store=whole)


class Assembled:
    """Listing bodies kept per process while what they were built from is unchanged.

    A body is a pure function of the query, the context, the search result and the snippets
    fetched (header, labels, tiles, prices, badges). The result cache (web/edge/result_cache.py)
    hands out the very same result object until a change is announced, and the near cache
    (web/edge/nearcache.py) the very same value objects until their keys are invalidated; so a body
    is reused only when the result and every fetched value are *identical* (``is``) to those it
    was built from. Without the near cache or the result cache (or while either is not
    listening) every fetch gives new objects and nothing is reused. Bounded to :data:`MAX_BODIES`
    (the oldest go first)."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: dict[tuple, tuple[Result, list, str]] = {}
        self._lock = threading.Lock()

    def get(self, slot: tuple, result: Result, raw: list) -> str | None:
        entry = self._entries.get(slot)
        if entry is None or entry[0] is not result or len(entry[1]) != len(raw):
            return None
        if any(a is not b for a, b in zip(entry[1], raw, strict=True)):
            return None
        return entry[2]

    def keep(self, slot: tuple, result: Result, raw: list, body: str) -> None:
        with self._lock:
            self._entries.pop(slot, None)
            self._entries[slot] = (result, raw, body)
            while len(self._entries) > self.max_entries:
                del self._entries[next(iter(self._entries))]


MAX_BODIES = 512
ASSEMBLED = Assembled(MAX_BODIES)


def shopper_query(category: str | None = None) -> Query:
    known = searching(current().searching()[1].facet_names)
    return parse(
        request.args.to_dict(flat=False),
        locale=g.ctx.locale,
        currency=g.ctx.currency,
        facet_names=known,
        category=category,
    )


@blueprint.get("/c/<category_key>")
def category(category_key: str):
    if not CATEGORY_KEY_RE.fullmatch(category_key):
        return not_found()
    return listing_page(Kind.CATEGORY, category_key, shopper_query(category_key))


@blueprint.get("/search")
def search_page():
    query = shopper_query()
    title = messages(g.ctx.locale)["search_results"].format(q=query.text)
    return listing_page(None, None, query, title)


@blueprint.get("/suggest")
def suggest():
    text = (request.args.get("q") or "").strip()[:100]
    found = searching(current().searching()[0].suggest, text, g.ctx.locale, SUGGEST_LIMIT) if text else []
    response = jsonify([{"sku": s.sku, "name": s.name, "url": f"/p/{s.sku}"} for s in found])
    response.headers["Cache-Control"] = "public, max-age=60"
    response.headers["Vary"] = "Cookie"  # the locale may come from a cookie
    return response
