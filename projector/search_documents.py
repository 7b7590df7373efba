"""Search documents from product views: pure, like the renderers."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import nh3

from projector.readmodel import CategoryView, Offer, ProductView
from projector.render import Renderer, availability_state
from search.documents import SearchDocument, VariantDocument


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


def paid_now(
    prices: dict[str, Decimal], offers: Sequence[Offer], currencies: Sequence[str], now: datetime
) -> dict[str, Decimal]:
    """Currency to the price a shopper pays now: the cheapest live offer's amount, else the regular
    price (the rule of :meth:`Renderer.live_offer`); currencies without either are left out."""
    out = {}
    for currency in currencies:
        live = [o for o in offers if o.currency == currency and o.starts_at <= now < o.ends_at]
        offer = min(live, key=lambda o: (o.amount, o.ends_at), default=None)
        amount = offer.amount if offer else prices.get(currency)
        if amount is not None:
            out[currency] = amount
    return out


def aggregate_availability(states: Sequence[str]) -> str:
    """In stock if any variant is, low stock if the best is low, sold out if all are."""
    return next((s for s in ("in_stock", "low_stock") if s in states), "sold_out")


def search_document(
    p: ProductView, categories: dict[str, CategoryView], now: datetime, renderer: Renderer
) -> SearchDocument:
    variants: tuple[VariantDocument, ...] = ()
    if p.has_variants:
        variants = tuple(
            VariantDocument(
                sku=v.sku,
                options=dict(v.options),
                prices=paid_now(v.prices, v.offers, renderer.currencies, now),
                availability=availability_state(v.quantity, renderer.low_stock_threshold),
            )
            for v in p.variants
            if v.active
        )
        prices: dict[str, Decimal] = {}
        for v in variants:
            for currency, amount in v.prices.items():
                prices[currency] = min(amount, prices.get(currency, amount))
        availability = aggregate_availability([v.availability for v in variants])
        versions = [p.version, p.price_version, p.stock_version]
        versions += [n for v in p.variants for n in (v.price_version, v.stock_version)]
        version = max(versions)
    else:
        prices = paid_now(p.prices, p.offers, renderer.currencies, now)
        availability = availability_state(p.quantity, renderer.low_stock_threshold)
        version = max(p.version, p.price_version, p.stock_version)
    return SearchDocument(
        sku=p.sku,
        version=version,
        visible=p.visible,
        created_at=int(p.created_at.timestamp()),
        brand=p.brand,
        category_paths=category_paths(p.categories, categories),
        attributes={name: tuple(values) for name, values in p.attributes.items()},
        names=dict(p.names),
        descriptions={locale: plain_text(text) for locale, text in p.descriptions.items()},
        prices=prices,
        availability=availability,
        variants=variants,
    )
