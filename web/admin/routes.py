"""The admin API's one route table: the Flask routes and the OpenAPI document are both built from it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel

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
from web.admin import handlers as h
from web.admin.inputs import Rows
from web.admin.responses import (
    AttributeOut,
    AttributeWritten,
    CategoryOut,
    CategoryWritten,
    MovementResult,
    MovementsResult,
    PriceWritten,
    ProductOut,
    ProductWritten,
    StockWritten,
    VariantList,
    VariantOut,
    VariantWritten,
)

API_ROOT = "/admin/api/v1"
_PARAM = re.compile(r"{(\w+)}")


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # below API_ROOT, in OpenAPI form: /products/{sku}
    name: str  # Flask endpoint and OpenAPI operationId
    handler: h.Handler
    summary: str
    role: str | None = None  # the role a token needs ("admin" may do anything); None: any valid token
    body: type[BaseModel] | None = None  # JSON request body, validated before the handler runs
    result: type[BaseModel] | None = None  # None: a free-form JSON object
    success: Mapping[int, str] = field(default_factory=lambda: {200: "done"})
    errors: Mapping[int, str] = field(default_factory=dict)  # beyond those every route of its kind has
    public: bool = False  # no token and no database
    # High-rate writes (stock) leave their outbox row to the relay's sweep, which sends one task
    # per topic for many rows; everything else is dispatched right after its commit.
    swept: bool = False
    # A batch route: its body holds rows (a 413 past their limit; a bad row's errors name it).
    rows: Rows | None = None

    @property
    def params(self) -> list[str]:
        return _PARAM.findall(self.path)

    @property
    def rule(self) -> str:
        """The Flask URL rule: /admin/api/v1/products/<sku>."""
        return API_ROOT + _PARAM.sub(r"<\1>", self.path)


NO_PRODUCT = {404: "unknown product"}
#: A price, offer or stock write names a variant: a simple product's SKU, or a variant's.
NO_VARIANT = {
    404: "unknown product or variant",
    422: "the SKU names a product sold in variants (the detail lists them)",
}
NO_VARIANT_OF_PRODUCT = {404: "unknown product, or no such variant of it"}
OWN_SKU = "the variant SKU is the product's own (a variant needs a SKU of its own)"

ROUTES: tuple[Route, ...] = (
    Route("GET", "/openapi.json", "getOpenApi", h.get_openapi, "This OpenAPI document", public=True),
    Route(
        "PUT",
        "/categories/{key}",
        "putCategory",
        h.put_category,
        "Create or replace a category",
        role="editor",
        body=CategoryIn,
        result=CategoryWritten,
        errors={422: "unknown parent, or the parent would make a cycle"},
    ),
    Route(
        "GET",
        "/categories/{key}",
        "getCategory",
        h.get_category,
        "Read a category back",
        result=CategoryOut,
        errors={404: "unknown category"},
    ),
    Route(
        "PUT",
        "/products/{sku}",
        "putProduct",
        h.put_product,
        "Create or replace a product",
        role="editor",
        body=ProductIn,
        result=ProductWritten,
        errors={422: "unknown category"},
    ),
    Route(
        "GET",
        "/products/{sku}",
        "getProduct",
        h.get_product,
        "Read a product back with its prices, offers and stock",
        result=ProductOut,
        errors=NO_PRODUCT,
    ),
    Route(
        "DELETE",
        "/products/{sku}",
        "deleteProduct",
        h.delete_product,
        "Withdraw a product from the shop",
        role="editor",
        result=ProductWritten,
        errors=NO_PRODUCT,
    ),
    Route(
        "PUT",
        "/products/{sku}/variants/{variant_sku}",
        "putVariant",
        h.put_variant,
        "Create or replace a variant of a product (the first replaces the product's default variant, with its "
        "prices, offers and stock)",
        role="editor",
        body=VariantIn,
        result=VariantWritten,
        errors={
            **NO_PRODUCT,
            409: "the variant SKU is a product's SKU or another product's variant's",
            422: f"{OWN_SKU}, or another variant of the product has the same options",
        },
    ),
    Route(
        "GET",
        "/products/{sku}/variants",
        "listVariants",
        h.list_variants,
        "List a product's variants in position order, with their options, prices, offers and stock",
        result=VariantList,
        errors=NO_PRODUCT,
    ),
    Route(
        "GET",
        "/products/{sku}/variants/{variant_sku}",
        "getVariant",
        h.get_variant,
        "Read a variant back with its options, prices, offers and stock",
        result=VariantOut,
        errors=NO_VARIANT_OF_PRODUCT,
    ),
    Route(
        "DELETE",
        "/products/{sku}/variants/{variant_sku}",
        "deleteVariant",
        h.delete_variant,
        "Remove a variant with its prices, offers and stock (a product left without variants gets its default "
        "variant back)",
        role="editor",
        result=VariantWritten,
        errors={**NO_VARIANT_OF_PRODUCT, 422: OWN_SKU},
    ),
    Route(
        "PUT",
        "/attributes/{code}",
        "putAttribute",
        h.put_attribute,
        "Set the labels of an attribute code, by locale (they replace its labels)",
        role="editor",
        body=AttributeIn,
        result=AttributeWritten,
    ),
    Route(
        "GET",
        "/attributes/{code}",
        "getAttribute",
        h.get_attribute,
        "Read an attribute's labels back, with the label each locale shows",
        result=AttributeOut,
        errors={404: "no labels stored and no product uses the code"},
    ),
    Route(
        "PUT",
        "/prices/{sku}/{currency}",
        "putPrice",
        h.put_price,
        "Set a regular price",
        role="pricing",
        body=PriceIn,
        result=PriceWritten,
        errors=NO_VARIANT,
    ),
    Route(
        "PUT",
        "/offers/{sku}/{currency}",
        "putOffer",
        h.put_offer,
        "Add or replace a special offer (keyed by its start)",
        role="pricing",
        body=OfferIn,
        result=PriceWritten,
        errors=NO_VARIANT,
    ),
    Route(
        "DELETE",
        "/offers/{sku}/{currency}",
        "deleteOffers",
        h.delete_offers,
        "Remove every offer of a variant (a simple product) in one currency",
        role="pricing",
        result=PriceWritten,
        errors={**NO_VARIANT, 404: "unknown product or variant, or no offer in this currency"},
    ),
    Route(
        "PUT",
        "/stock/{sku}",
        "putStock",
        h.put_stock,
        "Set the absolute stock level",
        role="stock",
        body=StockIn,
        result=StockWritten,
        errors=NO_VARIANT,
        swept=True,
    ),
    Route(
        "POST",
        "/stock/{sku}/movements",
        "postMovement",
        h.post_movement,
        "Apply a stock movement once per movement_id",
        role="stock",
        body=MovementIn,
        result=MovementResult,
        success={201: "applied", 200: "this movement_id was applied before; nothing changed"},
        errors={**NO_VARIANT, 409: "the stock would go negative, or the movement_id was used for another change"},
        swept=True,
    ),
    Route(
        "POST",
        "/stock/movements",
        "postMovements",
        h.post_movements,
        f"Apply up to {MAX_BULK_MOVEMENTS:,} stock movements of any SKUs at once, in order, all or nothing; each "
        "movement_id is applied once",
        role="stock",
        body=MovementsIn,
        result=MovementsResult,
        success={
            201: "applied (movements whose movement_id was applied before are listed in `replayed`)",
            200: "every movement_id was applied before; nothing changed",
        },
        errors={
            409: "nothing was applied: a movement would take a level below 0, or a movement_id was used for another "
            "change; `errors` lists each such row (`row`, `field`, `msg`)",
            413: f"more than {MAX_BULK_MOVEMENTS:,} movements (split the batch)",
            422: "nothing was applied: `errors` lists every bad row (`row`, `field`, `msg`): a field out of its "
            "rules, an unknown SKU, a product sold in variants (the message lists them), a level past the largest, "
            "a movement_id used twice in the batch for different changes",
        },
        swept=True,
        rows=h.MOVEMENT_ROWS,
    ),
)
