"""What each admin route does, once its caller is authorized and its inputs are valid.

A handler gets a :class:`Call` and returns an :class:`Outcome`. Write handlers run one
command from :mod:`catalog.commands`; each command commits its own transaction, and the view
dispatches the outcome's outbox row afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from pydantic import BaseModel

from catalog import commands, movements
from catalog.errors import NotFound, RowsRejected
from catalog.models import (
    MAX_BULK_MOVEMENTS,
    AttributeIn,
    CategoryIn,
    MovementIn,
    MovementsIn,
    OfferIn,
    PriceIn,
    ProductIn,
    StockIn,
    VariantIn,
)
from projector.readmodel import (
    Offer,
    ProductView,
    VariantView,
    attribute_in_use,
    load_attribute_labels,
    load_categories,
    load_products,
)
from vocab.i18n import attribute_label
from web.admin import admin_state
from web.admin.inputs import Rows, row_error
from web.admin.problems import Problem
from web.admin.responses import (
    AttributeOut,
    AttributeWritten,
    CategoryOut,
    CategoryWritten,
    ImageOut,
    MovementResult,
    MovementsResult,
    OfferOut,
    PriceWritten,
    ProductOut,
    ProductWritten,
    StockWritten,
    VariantList,
    VariantOut,
    VariantWritten,
)

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Call:
    conn: psycopg.Connection | None  # None for public routes, which never touch the database
    params: Mapping[str, str]
    body: BaseModel | None

    @property
    def db(self) -> psycopg.Connection:
        assert self.conn is not None, "route is public but needs the database"
        return self.conn

    def body_as(self, model: type[M]) -> M:
        assert isinstance(self.body, model), f"route declares no {model.__name__} body"
        return self.body


@dataclass(frozen=True)
class Outcome:
    payload: BaseModel | dict[str, Any]
    status: int = 200
    outbox_id: int | None = None  # dispatched after the response's write committed


Handler = Callable[[Call], Outcome]


def put_category(call: Call) -> Outcome:
    key = call.params["key"]
    oid = commands.put_categories(call.db, [(key, call.body_as(CategoryIn))])
    return Outcome(CategoryWritten(key=key, outbox_id=oid), outbox_id=oid)


def put_product(call: Call) -> Outcome:
    sku = call.params["sku"]
    oid = commands.put_products(call.db, [(sku, call.body_as(ProductIn))])
    return Outcome(ProductWritten(sku=sku, outbox_id=oid), outbox_id=oid)


def delete_product(call: Call) -> Outcome:
    sku = call.params["sku"]
    oid = commands.delete_product(call.db, sku)
    return Outcome(ProductWritten(sku=sku, outbox_id=oid), outbox_id=oid)


def put_price(call: Call) -> Outcome:
    sku, currency = call.params["sku"], call.params["currency"]
    oid = commands.put_prices(call.db, [(sku, currency, call.body_as(PriceIn).amount)])
    return Outcome(PriceWritten(sku=sku, currency=currency, outbox_id=oid), outbox_id=oid)


def put_offer(call: Call) -> Outcome:
    sku, currency = call.params["sku"], call.params["currency"]
    oid = commands.put_offers(call.db, [(sku, currency, call.body_as(OfferIn))])
    return Outcome(PriceWritten(sku=sku, currency=currency, outbox_id=oid), outbox_id=oid)


def delete_offers(call: Call) -> Outcome:
    sku, currency = call.params["sku"], call.params["currency"]
    oid = commands.delete_offers(call.db, sku, currency)
    return Outcome(PriceWritten(sku=sku, currency=currency, outbox_id=oid), outbox_id=oid)


def put_stock(call: Call) -> Outcome:
    sku, quantity = call.params["sku"], call.body_as(StockIn).quantity
    oid = commands.set_stock(call.db, [(sku, quantity)])
    return Outcome(StockWritten(sku=sku, quantity=quantity, outbox_id=oid), outbox_id=oid)


def post_movement(call: Call) -> Outcome:
    """201 when the movement was applied now, 200 when its movement_id had been applied before."""
    sku, move = call.params["sku"], call.body_as(MovementIn)
    quantity, oid = commands.apply_movement(call.db, sku, move.movement_id, move.delta, move.reason)
    applied = oid is not None
    result = MovementResult(sku=sku, quantity=quantity, applied=applied, outbox_id=oid)
    return Outcome(result, status=201 if applied else 200, outbox_id=oid)


#: The rows of ``POST /stock/movements``.
MOVEMENT_ROWS = Rows("movements", MAX_BULK_MOVEMENTS)


def post_movements(call: Call) -> Outcome:
    """A batch of movements, all or nothing: 201 when any was applied now, 200 when every one had
    been applied before. A batch with bad rows is a 409 (only conflicts with the current state) or
    a 422, listing every bad row."""
    rows = [movements.Movement(m.sku, m.movement_id, m.delta, m.reason) for m in call.body_as(MovementsIn).movements]
    try:
        done = movements.apply_movements(call.db, rows)
    except RowsRejected as rejected:
        errors = [row_error(MOVEMENT_ROWS, e.row, e.field, e.message) for e in rejected.errors]
        raise Problem(409 if rejected.conflict else 422, str(rejected), errors=errors) from None
    result = MovementsResult(applied=done.applied, replayed=done.replayed, levels=done.levels, outbox_id=done.outbox_id)
    return Outcome(result, status=201 if done.applied else 200, outbox_id=done.outbox_id)


def _product(call: Call) -> ProductView:
    sku = call.params["sku"]
    view = load_products(call.db, [sku]).get(sku)
    if view is None or view.deleted:
        raise NotFound(f"unknown product: {sku}")
    return view


def _prices(prices: Mapping[str, Any]) -> dict[str, str]:
    return {currency: str(amount) for currency, amount in sorted(prices.items())}


def _offers(offers: list[Offer]) -> list[OfferOut]:
    return [
        OfferOut(currency=o.currency, amount=str(o.amount), starts_at=o.starts_at, ends_at=o.ends_at)
        for o in sorted(offers, key=lambda o: (o.currency, o.starts_at))
    ]


def _variant_out(product: str, v: VariantView) -> VariantOut:
    return VariantOut(
        sku=v.sku,
        product=product,
        position=v.position,
        active=v.active,
        options=v.options,
        prices=_prices(v.prices),
        offers=_offers(v.offers),
        quantity=v.quantity,
        price_version=v.price_version,
        stock_version=v.stock_version,
    )


def get_product(call: Call) -> Outcome:
    view = _product(call)
    return Outcome(
        ProductOut(
            sku=view.sku,
            name=view.names,
            description=view.descriptions,
            brand=view.brand,
            categories=view.categories,
            attributes=view.attributes,
            active=view.active,
            images=[ImageOut(src=i.src, width=i.width, height=i.height) for i in view.images],
            prices=_prices(view.prices),
            offers=_offers(view.offers),
            quantity=view.quantity,
            version=view.version,
            price_version=view.price_version,
            stock_version=view.stock_version,
            variants=[_variant_out(view.sku, v) for v in view.variants],
        )
    )


def put_variant(call: Call) -> Outcome:
    product, sku = call.params["sku"], call.params["variant_sku"]
    oid = commands.put_variants(call.db, [(product, sku, call.body_as(VariantIn))])
    return Outcome(VariantWritten(product=product, sku=sku, outbox_id=oid), outbox_id=oid)


def delete_variant(call: Call) -> Outcome:
    product, sku = call.params["sku"], call.params["variant_sku"]
    oid = commands.delete_variant(call.db, product, sku)
    return Outcome(VariantWritten(product=product, sku=sku, outbox_id=oid), outbox_id=oid)


def list_variants(call: Call) -> Outcome:
    view = _product(call)
    return Outcome(VariantList(product=view.sku, variants=[_variant_out(view.sku, v) for v in view.variants]))


def get_variant(call: Call) -> Outcome:
    view, sku = _product(call), call.params["variant_sku"]
    found = next((v for v in view.variants if v.sku == sku), None)
    if found is None:
        raise NotFound(f"unknown variant {sku} of product {view.sku}")
    return Outcome(_variant_out(view.sku, found))


def get_category(call: Call) -> Outcome:
    key = call.params["key"]
    tree = load_categories(call.db)
    if key not in tree:
        raise NotFound(f"unknown category: {key}")
    cat = tree[key]
    children = [c.key for c in tree.values() if c.parent == key]  # the tree comes in display order
    return Outcome(
        CategoryOut(
            key=key, parent=cat.parent, name=cat.names, position=cat.position, children=children, version=cat.version
        )
    )


def put_attribute(call: Call) -> Outcome:
    code = call.params["code"].lower()  # checked as an attribute code: its canonical form
    oid = commands.put_attribute_labels(call.db, [(code, call.body_as(AttributeIn))])
    return Outcome(AttributeWritten(code=code, outbox_id=oid), outbox_id=oid)


def get_attribute(call: Call) -> Outcome:
    code = call.params["code"].lower()
    labelled = load_attribute_labels(call.db, [code])
    if code not in labelled and not attribute_in_use(call.db, code):
        raise NotFound(f"unknown attribute: {code} (no labels and no product uses it)")
    version, stored = labelled.get(code, (None, {}))
    locales = admin_state.current().settings.locales
    return Outcome(
        AttributeOut(
            code=code,
            label=stored,
            version=version,
            shown={locale: attribute_label(code, locale, stored, locales) for locale in locales},
        )
    )


def get_openapi(call: Call) -> Outcome:
    return Outcome(admin_state.current().openapi)
