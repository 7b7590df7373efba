"""The product page: one MGET of its snippets; degraded, a 404 or a 503 when some are missing.

A product with variants (docs/variants.md) takes a second MGET: its picker and its visible
variants' own price, offer and badge, named by its DETAIL. ``/p/<variant SKU>`` finds its product
through the VARIANT pointer (fetched only when nothing is stored under the SKU itself) and shows
the product's page with that variant selected. Every fetch goes through the near cache.
"""

from __future__ import annotations

from flask import Blueprint, Response, g, request

from vocab.keys import SKU_RE, Kind
from web.edge import pages
from web.edge.context import remember_choices
from web.edge.edge_state import Edge, current
from web.edge.page_responses import frame_for, html, not_found, repairing
from web.edge.repair_requests import (
    degraded_parts,
    product_page_misses,
    shared_misses,
    unknown_product,
    variant_misses,
)

blueprint = Blueprint("product", __name__)

#: Query parameters of the picker's form: ``opt.<option name>=<value>``.
OPTION = "opt."


@blueprint.get("/p/<sku>")
def product(sku: str):
    if not SKU_RE.fullmatch(sku):
        return not_found()
    edge = current()
    gen = edge.live()
    wanted = edge.keys.product_page(gen, g.ctx, sku)
    raw = edge.reader.fetch(wanted)
    if unknown_product(raw):  # nothing stored under the SKU: a variant's, or no such product
        key = edge.keys.snippet(gen, Kind.VARIANT, g.ctx, sku)
        pointer = edge.reader.fetch([key])
        owner = pages.body_of(pointer[0])
        if owner == "":  # a variant no longer for sale
            edge.ask_repair(shared_misses(raw[0], labels=raw[7]))
            return not_found(frame_for(raw[0]))
        if owner and SKU_RE.fullmatch(owner):
            edge.mark(gen, [key], pointer)  # the page does not depend on the empty first fetch
            return page(edge, gen, owner, edge.fetch(gen, edge.keys.product_page(gen, g.ctx, owner)), sku)
    edge.mark(gen, wanted, raw)
    return page(edge, gen, sku, raw)


def page(edge: Edge, gen: int, sku: str, raw: list[bytes | None], selected: str | None = None) -> Response:
    """The page of product ``sku`` from its first fetch (``raw``), with variant ``selected``, if any."""
    whole = not edge.ask_repair(product_page_misses(sku, raw))
    frame = frame_for(raw[0])
    detail, crumb, price, offer, avail, ld = (pages.body_of(r) for r in raw[1:7])
    if detail is None:  # nothing stored at all: most likely no such product; else being restored
        return not_found(frame, store=False) if unknown_product(raw) else repairing()
    if not detail:
        return not_found(frame)
    labels = pages.labels_of(raw[7])
    listed = pages.variant_skus(detail)
    if listed is None:  # a simple product
        if selected is not None:  # a stale pointer: the product is no longer sold in variants
            return not_found(frame)
        if not whole:
            crumb, price, avail = degraded_parts(g.ctx.locale, crumb, price, offer, avail)
        return html(pages.product_page(frame, detail, crumb, price, offer, avail, ld, labels), store=whole)
    if selected is not None and selected not in listed:
        return not_found(frame)
    more = edge.fetch(
        gen,
        [edge.keys.snippet(gen, Kind.VARIANTS, g.ctx, sku), *edge.keys.variant_parts(gen, g.ctx, sku, listed)],
    )
    picker = pages.picker_of(more[0])
    chosen = _chosen_options()
    if chosen and picker is not None:
        target = picker.choose(chosen)
        if target is not None:
            return _to_variant(target)
    whole = not edge.ask_repair(variant_misses(sku, more)) and whole
    parts = pages.variant_parts(listed, more[1:])
    if not whole:
        crumb, price, avail = degraded_parts(g.ctx.locale, crumb, price, offer, avail)
        for variant, (v_price, v_offer, v_avail) in parts.items():
            _, v_price, v_avail = degraded_parts(g.ctx.locale, None, v_price, v_offer, v_avail)
            parts[variant] = (v_price, v_offer, v_avail)
    body = pages.product_group_page(
        frame.with_canonical(f"/p/{sku}"), detail, crumb, price, offer, avail, ld, labels, picker, parts, selected
    )
    return html(body, store=whole)


def _chosen_options() -> dict[str, str]:
    """The option values the picker's form sent (``opt.size=M``), if any."""
    if not request.environ.get("QUERY_STRING"):
        return {}
    return {name[len(OPTION) :]: value for name, value in request.args.items() if name.startswith(OPTION) and value}


def _to_variant(sku: str) -> Response:
    """The picker's form chose a variant: its page (303, nobody keeps the answer)."""
    response = Response(status=303, headers={"Location": f"/p/{sku}", "Cache-Control": "no-store"})
    remember_choices(response, g.remember)
    return response
