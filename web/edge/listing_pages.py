"""Category listings, search results and search suggestions: one search query for the SKUs and
the facet counts, then one fetch of the tiles (web/edge/listing.py builds the page)."""

from __future__ import annotations

import redis
from flask import Blueprint, Response, current_app, g, jsonify, request
from markupsafe import escape

from search.query import Query, parse
from vocab.i18n import AttributeLabels, messages
from vocab.keys import CATEGORY_KEY_RE, FIELD, Kind
from vocab.repair_entries import NAVIGATION_THING
from web.edge import listing, pages
from web.edge.edge_state import current
from web.edge.listing_bodies import note
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
    slot = (gen, g.ctx, header_kind, ident, title, query.past_window, query_key(query))
    bodies = edge.listing_bodies
    kept = bodies.get(slot, result) if bodies is not None else None
    if kept is not None:  # web/edge/listing_bodies.py: built from this very result and these snippets
        note(request.environ, gen, edge.searching()[1].kept_in(query, result), kept)
        return html(frame_for(kept.frame).wrap(kept.title, kept.html))
    head = [keys.snippet(gen, Kind.FRAME, g.ctx), keys.labels(gen, g.ctx)]
    if header_kind is not None:
        assert ident is not None, "a listing with a header names what it heads"  # as both routes do
        head.append(keys.snippet(gen, header_kind, g.ctx, ident))
    wanted = head + keys.tiles(gen, g.ctx, list(result.skus))
    raw = edge.reader.fetch(wanted)
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
    stored_labels = pages.labels_of(raw[1])
    tiles = listing.tiles(raw[len(head) :], list(result.skus), stored_labels)
    labels = AttributeLabels(g.ctx.locale, stored_labels)
    body = listing.listing_body(header, query, result, tiles, query.params(), t, labels)
    if whole and bodies is not None:
        made = bodies.keep(slot, result, wanted, raw, escaped_title, body)
        note(request.environ, gen, edge.searching()[1].kept_in(query, result), made)
    return html(frame.wrap(escaped_title, body), store=whole)


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
