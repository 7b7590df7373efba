"""Search documents of products with variants (projector/search_documents.py; docs/variants.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from projector.readmodel import Offer, ProductView, VariantView
from projector.render import Renderer
from projector.search_documents import search_document
from search.documents import VariantDocument

R = Renderer(("en_US",), ("EUR", "USD"), low_stock_threshold=5)
NOW = datetime(2026, 4, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)


def product(variants: list[VariantView], **kw) -> ProductView:
    fields: dict = {
        "sku": "J1",
        "brand": "Acme",
        "active": True,
        "deleted": False,
        "created_at": NOW - 10 * HOUR,
        "version": 7,
        "price_version": 8,
        "stock_version": 9,
        "names": {"en_US": "Jacket"},
        "attributes": {"color": ["Grey"], "material": ["Wool"]},
        "variants": variants,
    }
    fields.update(kw)
    return ProductView(**fields)


def variant(sku: str, options: dict[str, str], eur: str | None, quantity: int, **kw) -> VariantView:
    fields: dict = {"price_version": 1, "stock_version": 1, "position": 0, "active": True}
    fields.update(kw)
    prices = {"EUR": Decimal(eur)} if eur is not None else {}
    return VariantView(sku=sku, options=options, prices=prices, quantity=quantity, **fields)


def test_a_simple_product_is_its_own_single_variant():
    p = product(
        [variant("J1", {}, "10", 3)],
        prices={"EUR": Decimal("10")},
        offers=[
            Offer("EUR", Decimal("8"), NOW - HOUR, NOW + HOUR),
            Offer("USD", Decimal("5"), NOW + HOUR, NOW + 2 * HOUR),
        ],
        quantity=3,
    )
    d = search_document(p, {}, NOW, R)
    assert d.variants == ()
    assert d.prices == {"EUR": Decimal("8")}  # the live offer; the USD one has not started
    assert d.availability == "low_stock" and d.version == 9
    assert d.sellables() == (VariantDocument("J1", {}, {"EUR": Decimal("8")}, "low_stock"),)


def test_visible_variants_with_prices_as_paid_now_and_the_aggregates():
    p = product(
        [
            variant(
                "J1-BS",
                {"color": "Blue", "size": "S"},
                "50",
                0,
                offers=[
                    Offer("EUR", Decimal("30"), NOW - HOUR, NOW + HOUR),
                    Offer("EUR", Decimal("35"), NOW, NOW + HOUR),
                ],
                price_version=20,
            ),
            variant("J1-M", {"size": "M"}, "40", 4, stock_version=21),
            variant("J1-L", {"size": "L"}, "10", 50, active=False, price_version=22),
            variant("J1-XL", {"size": "XL"}, None, 0),
        ]
    )
    d = search_document(p, {}, NOW, R)
    assert [v.sku for v in d.variants] == ["J1-BS", "J1-M", "J1-XL"]  # the inactive L is not sold
    assert d.variants[0] == VariantDocument("J1-BS", {"color": "Blue", "size": "S"}, {"EUR": Decimal("30")}, "sold_out")
    assert d.variants[1] == VariantDocument("J1-M", {"size": "M"}, {"EUR": Decimal("40")}, "low_stock")
    assert d.variants[2].prices == {}
    # the product: each currency's cheapest visible variant, in stock if any variant is
    assert d.prices == {"EUR": Decimal("30")} and d.availability == "low_stock"
    assert d.values(d.variants[1]) == {"color": ("Grey",), "material": ("Wool",), "size": ("M",)}
    assert d.version == 22  # the newest of the product and every variant


def test_the_aggregate_availability():
    def state(*quantities: int) -> str:
        variants = [variant(f"J1-{i}", {"size": str(i)}, "10", n) for i, n in enumerate(quantities)]
        return search_document(product(variants), {}, NOW, R).availability

    assert state(0, 3, 40) == "in_stock"
    assert state(0, 3) == "low_stock"
    assert state(0, 0) == "sold_out"
