"""Search documents from product views: pure, like the renderers."""

from __future__ import annotations

import html
from datetime import datetime

import nh3

from projector.readmodel import CategoryView, ProductView
from projector.render import Renderer, availability_state
from search.documents import SearchDocument


def category_paths(keys: list[str], categories: dict[str, CategoryView]) -> tuple[str, ...]:
    """The product's categories and all their ancestors, in a stable order."""
    seen: dict[str, None] = {}
    key: str | None  # walks up to the root, whose parent is None
    for key in keys:
        while key is not None and key in categories and key not in seen:
            seen[key] = None
            key = categories[key].parent
    return tuple(seen)


def plain_text(description: str) -> str:
    return html.unescape(nh3.clean(description, tags=set())).strip()


def search_document(
    p: ProductView, categories: dict[str, CategoryView], now: datetime, renderer: Renderer
) -> SearchDocument:
    prices = {}
    for currency in renderer.currencies:
        offer = renderer.live_offer(p, currency, now)
        amount = offer.amount if offer else p.prices.get(currency)
        if amount is not None:
            prices[currency] = amount
    return SearchDocument(
        sku=p.sku,
        version=max(p.version, p.price_version, p.stock_version),
        visible=p.visible,
        created_at=int(p.created_at.timestamp()),
        brand=p.brand,
        category_paths=category_paths(p.categories, categories),
        attributes={name: tuple(values) for name, values in p.attributes.items()},
        names=dict(p.names),
        descriptions={locale: plain_text(text) for locale, text in p.descriptions.items()},
        prices=prices,
        availability=availability_state(p.quantity, renderer.low_stock_threshold),
    )
