"""The classical baseline (bench/classical): pages rendered per request from PostgreSQL."""

from __future__ import annotations

import html
import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bench.classical.app import create_app
from catalog import commands
from catalog.models import CategoryIn, OfferIn, ProductIn
from tests.redis_support import store_client

pytestmark = pytest.mark.integration

COLORS = ["Red", "Blue", "Green", "Black"]
SIZES = ["S", "M", "L"]
BRANDS = ["Luma", "Aurora", "Öko Line", ""]
TILE = re.compile(r'<li class="tile" data-sku="([^"]+)">')
FACET = re.compile(r'data-facet="([^"]+)" data-value="([^"]+)" data-count="(\d+)"')


@pytest.fixture
def catalog(pool):
    """A small tree (gear > bags, tents; other) and 70 generated products; returns what was written."""
    rng = random.Random(7)
    products = {}
    with pool.connection() as conn:
        commands.put_categories(
            conn,
            [
                ("gear", CategoryIn(name={"en_US": "Gear", "de_DE": "Ausrüstung"}, position=1)),
                ("other", CategoryIn(name={"en_US": "Other", "de_DE": "Anderes"}, position=2)),
            ],
        )
        commands.put_categories(
            conn,
            [
                ("gear-bags", CategoryIn(parent="gear", name={"en_US": "Bags", "de_DE": "Taschen"})),
                ("gear-tents", CategoryIn(parent="gear", name={"en_US": "Tents", "de_DE": "Zelte"}, position=1)),
            ],
        )
        items, prices, stock = [], [], []
        for i in range(70):
            sku = f"T{i:03d}"
            p = {
                "brand": rng.choice(BRANDS),
                "category": rng.choice(["gear-bags", "gear-tents", "other"]),
                "color": rng.sample(COLORS, rng.choice([1, 1, 2])),
                "size": rng.sample(SIZES, rng.choice([1, 2])),
                "active": i % 23 != 5,
                "price": Decimal(10 + i) + Decimal("0.50"),
                "quantity": rng.choice([0, 3, 40]),
            }
            products[sku] = p
            items.append(
                (
                    sku,
                    ProductIn(
                        name={"en_US": f"Trail item {i}", "de_DE": f"Wanderartikel {i}"},
                        description={
                            "en_US": f"<p>A sturdy {'waterproof ' if i % 10 == 0 else ''}companion, number {i}.</p>"
                        },
                        brand=p["brand"],
                        categories=[p["category"]],
                        active=p["active"],
                        attributes={"color": p["color"], "size": p["size"]},
                        images=[
                            {"src": f"/t/t{i:03d}.jpg", "width": 400, "height": 500},
                            {"src": f"https://cdn.example.com/t{i:03d}-back.jpg", "width": 800, "height": 1000},
                        ][: i % 3],
                    ),
                )
            )
            prices += [(sku, "EUR", p["price"]), (sku, "USD", p["price"] * 2)]
            stock.append((sku, p["quantity"]))
        commands.put_products(conn, items)
        commands.put_prices(conn, prices)
        commands.set_stock(conn, stock)
        now = datetime.now(UTC)
        offer = OfferIn(
            amount="5.00",
            starts_at=(now - timedelta(hours=1)).isoformat(),
            ends_at=(now + timedelta(hours=1)).isoformat(),
        )
        commands.put_offers(conn, [("T001", "EUR", offer)])
        commands.delete_product(conn, "T002")
    products["T002"]["active"] = False
    return products


@pytest.fixture
def client(settings, catalog):
    app = create_app(settings.database_url, "en_US", "EUR", locales=settings.locales, currencies=settings.currencies)
    yield app.test_client(use_cookies=False)
    app.extensions["classical_pool"].close()


def test_product_page_shows_the_database_state(client, catalog, pool):
    page = client.get("/p/T000")
    assert page.status_code == 200
    text = page.text
    assert '<h1 class="product-name">Trail item 0</h1>' in text
    assert '<span class="amount">€10.50</span>' in text
    badge = {0: "sold_out", 3: "low_stock", 40: "in_stock"}[catalog["T000"]["quantity"]]
    assert f'data-availability="{badge}"' in text
    assert '<nav class="categories"' in text and 'href="/c/gear-bags"' in text  # the frame's tree
    assert '"@type":"Product"' in text and '"sku":"T000"' in text  # JSON-LD

    # every request reads the database: a change shows at once
    with pool.connection() as conn:
        commands.put_prices(conn, [("T000", "EUR", Decimal("99.99"))])
        commands.set_stock(conn, [("T000", 0)])
    text = client.get("/p/T000").text
    assert "€99.99" in text and 'data-availability="sold_out"' in text

    offer = client.get("/p/T001").text
    assert 'class="price price--offer"' in offer and "€5.00" in offer and "€11.50" in offer
    assert "$23.00" in client.get("/p/T001?currency=USD").text  # no offer in USD
    assert "Wanderartikel 1" in client.get("/p/T001?locale=de_DE").text


@pytest.mark.parametrize("path", ["/p/NOPE", "/p/T002", "/p/T005", "/p/bad..sku%20", "/c/nope", "/c/BAD", "/nowhere"])
def test_unknown_deleted_or_inactive_is_404(client, path):
    page = client.get(path)
    assert page.status_code == 404
    assert "We could not find that page." in page.text


def _expected(catalog, subtree, filters):
    def values(p, facet):
        if facet == "brand":
            return {p["brand"]} if p["brand"] else set()
        return set(p[facet])

    def matches(p, skip=None):
        return all(values(p, f) & set(v) for f, v in filters.items() if f != skip)

    candidates = {sku: p for sku, p in catalog.items() if p["active"] and p["category"] in subtree}
    counts = {}
    for facet in ("brand", "color", "size"):
        c = Counter(v for p in candidates.values() if matches(p, facet) for v in values(p, facet))
        counts.update({(facet, v): n for v, n in c.items()})
    return sorted(sku for sku, p in candidates.items() if matches(p)), counts


def test_category_page_with_two_filters(client, catalog):
    url = "/c/gear?color=Red&color=Blue&size=M&per_page=96"
    page = client.get(url)
    assert page.status_code == 200
    skus, counts = _expected(catalog, {"gear-bags", "gear-tents"}, {"color": ["Red", "Blue"], "size": ["M"]})
    assert skus  # the data has matches
    shown = TILE.findall(page.text)
    assert sorted(shown) == skus
    assert f'data-total="{len(skus)}"' in page.text
    facets = {(f, html.unescape(v)): int(n) for f, v, n in FACET.findall(page.text)}
    assert facets == counts
    # disjunctive: the colour counts ignore the colour selection, so unselected colours show
    assert facets[("color", "Green")] > 0
    assert 'aria-current="true" data-facet="color" data-value="Red"' in page.text


def test_category_pages_sort_and_paginate(client, catalog):
    skus, _ = _expected(catalog, {"gear-bags", "gear-tents"}, {})
    first = client.get("/c/gear?sort=price_asc").text
    second = client.get("/c/gear?sort=price_asc&page=2").text
    by_price = sorted(skus, key=lambda s: (5 if s == "T001" else catalog[s]["price"], s))
    assert TILE.findall(first) == by_price[:24]
    assert TILE.findall(second) == by_price[24:48]
    assert '<nav class="pager">' in first and 'rel="next"' in first
    assert TILE.findall(client.get("/c/gear-bags?brand=%C3%96ko+Line&in_stock=1&price=10-40").text) == sorted(
        s
        for s in skus
        if catalog[s]["category"] == "gear-bags"
        and catalog[s]["brand"] == "Öko Line"
        and catalog[s]["quantity"] > 0
        and (5 if s == "T001" else catalog[s]["price"]) <= 40
    )


def test_search_uses_full_text_search(client, catalog, pool):
    page = client.get("/search?q=waterproof&per_page=96")
    assert page.status_code == 200
    expected = sorted(s for s, p in catalog.items() if p["active"] and int(s[1:]) % 10 == 0)
    assert sorted(TILE.findall(page.text)) == expected
    assert "Search results for “waterproof”" in page.text
    with pool.connection() as conn:
        indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'product_texts'")}
    assert {"classical_fts_en_us", "classical_fts_de_de"} <= indexes


# The same pages as the edge, byte for byte (bench/classical/README.md): with attribute labels and images.
SAME_PATHS = [
    "/p/T000",
    "/p/T003?locale=de_DE",
    "/p/T004",
    "/",
    "/c/gear?color=Red&size=M&per_page=96",
    "/c/gear-bags?color=Red&locale=de_DE&currency=USD",
    "/c/other?size=S&sort=price_asc",
]


def test_pages_are_the_edges_byte_for_byte_with_attribute_labels_and_images(settings, pool, client):

    from catalog.models import AttributeIn
    from projector.rebuild import rebuild
    from projector.service import Projector
    from search.factory import make_search
    from web.edge.app import create_app as create_edge

    with pool.connection() as conn:
        commands.put_attribute_labels(
            conn,
            [
                ("color", AttributeIn(label={"en_US": "Colour <&>", "de_DE": "Farbton"})),
                ("size", AttributeIn(label={"de_DE": "Konfektionsgröße"})),
            ],
        )
    store = store_client(settings)
    rebuild(Projector(settings, pool, store, make_search(settings, store)), progress=False)
    edge = create_edge(settings).test_client(use_cookies=False)
    for path in SAME_PATHS:
        ours, theirs = edge.get(path), client.get(path)
        assert ours.status_code == theirs.status_code == 200, path
        assert theirs.text == ours.text, path
    assert "Colour &lt;&amp;&gt;" in client.get("/p/T000").text
    assert "Farbton" in client.get("/c/gear-bags?color=Red&locale=de_DE&currency=USD").text
    assert "Konfektionsgröße" in client.get("/p/T003?locale=de_DE").text
    assert '<img class="tile-image" src="/media/t/t' in client.get("/c/gear?color=Red&size=M&per_page=96").text
    both = client.get("/p/T008")
    assert both.text == edge.get("/p/T008").text
    assert 'src="/media/t/t008.jpg"' in both.text and 'src="https://cdn.example.com/t008-back.jpg"' in both.text
