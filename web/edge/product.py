"""The product page: one MGET of its snippets; degraded, a 404 or a 503 when some are missing."""

from __future__ import annotations

from flask import Blueprint, g

from vocab.keys import SKU_RE
from web.edge import pages
from web.edge.edge_state import current
from web.edge.page_responses import frame_for, html, not_found, repairing
from web.edge.repair_requests import degraded_parts, product_page_misses, unknown_product

blueprint = Blueprint("product", __name__)


@blueprint.get("/p/<sku>")
def product(sku: str):
    if not SKU_RE.fullmatch(sku):
        return not_found()
    edge = current()
    gen = edge.live()
    raw = edge.fetch(gen, edge.keys.product_page(gen, g.ctx, sku))
    whole = not edge.ask_repair(product_page_misses(sku, raw))
    frame = frame_for(raw[0])
    detail, crumb, price, offer, avail, ld = (pages.body_of(r) for r in raw[1:7])
    if detail is None:  # nothing stored at all: most likely no such product; else being restored
        return not_found(frame, store=False) if unknown_product(raw) else repairing()
    if not detail:
        return not_found(frame)
    if not whole:
        crumb, price, avail = degraded_parts(g.ctx.locale, crumb, price, offer, avail)
    labels = pages.labels_of(raw[7])
    return html(pages.product_page(frame, detail, crumb, price, offer, avail, ld, labels), store=whole)
