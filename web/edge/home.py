"""The home page: the shop's heading and its featured products (and the attribute labels their
tiles may show), in one round trip."""

from __future__ import annotations

from flask import Blueprint, g

from vocab.i18n import messages
from vocab.keys import FIELD
from web.edge import listing, pages
from web.edge.edge_state import current
from web.edge.page_responses import frame_for, html
from web.edge.repair_requests import shared_misses, tile_misses

blueprint = Blueprint("home", __name__)


@blueprint.get("/")
def home():
    edge = current()
    keys = edge.keys
    gen = edge.live()
    guess = edge.featured.skus()
    head = [*keys.home_page(gen, g.ctx), keys.labels(gen, g.ctx)]  # the labels: options of products with variants
    raw = edge.fetch(gen, head + keys.tiles(gen, g.ctx, guess))
    heading, _, listed = (pages.body_of(raw[1]) or "").partition(FIELD)
    current_skus = listed.split(",") if listed else []
    tile_raw = raw[len(head) :]
    if current_skus != guess:  # the featured products changed: fetch their tiles, guess them next time
        edge.featured.update(current_skus)
        tile_raw = edge.fetch(gen, keys.tiles(gen, g.ctx, current_skus))
    tiles = "".join(listing.tiles(tile_raw, current_skus, pages.labels_of(raw[2])))
    title = messages(g.ctx.locale)["home"]
    whole = not edge.ask_repair(shared_misses(raw[0], raw[1], raw[2]) + tile_misses(tile_raw, current_skus))
    frame = frame_for(raw[0])
    return html(
        frame.wrap(title, f'<section class="featured">{heading}<ul class="tiles">{tiles}</ul></section>'), store=whole
    )
