"""Products with variants from PostgreSQL to the edge (docs/variants.md, "Projection" and "Edge"):
the real projector writes the aggregate, picker, pointer and each variant's own snippets into a real
Redis; the edge (in-process Flask) assembles the pages from them; the classical baseline renders
the same bytes from PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from catalog import commands
from catalog.models import CategoryIn, OfferIn, ProductIn, VariantIn
from projector.read_repair import drain
from projector.rebuild import rebuild
from projector.service import Projector
from search.factory import make_search
from tests.processes import wait_until
from tests.redis_support import store_client
from vocab.keys import Context, KeyScheme, Kind, split_value
from web.edge.app import create_app
from web.edge.edge_state import EXTENSION

pytestmark = pytest.mark.integration
EN = Context("en_US", "EUR")
SIZES = (("J1-S", "S", "Black", "34.00", 0), ("J1-M", "M", "Black", "39.00", 3), ("J1-L", "L", "Blue", "39.00", 20))


def seed(conn):
    """Jacket J1 in three variants (sold out, low, in stock; €34 and €39) and the simple bag B1."""
    commands.put_categories(conn, [("gear", CategoryIn(name={"en_US": "Gear"}))])
    commands.put_products(
        conn,
        [
            ("J1", ProductIn(name={"en_US": "Jacket", "de_DE": "Jacke"}, brand="Luma", categories=["gear"])),
            ("B1", ProductIn(name={"en_US": "Bag"}, brand="Luma", categories=["gear"])),
        ],
    )
    commands.put_variants(
        conn, [("J1", sku, VariantIn(options={"size": size, "color": color})) for sku, size, color, _, _ in SIZES]
    )
    commands.put_prices(conn, [(sku, "EUR", Decimal(price)) for sku, _, _, price, _ in SIZES])
    commands.put_prices(conn, [("B1", "EUR", Decimal("12.50"))])
    commands.set_stock(conn, [(sku, quantity) for sku, _, _, _, quantity in SIZES] + [("B1", 5)])


@pytest.fixture
def shop(settings, pool):
    """The catalog rebuilt into generation 1: (projector, Redis client, key scheme, edge client).

    The edge reads Redis on every request: these tests check what the projection wrote, right after
    it wrote it. An edge with its near cache sees a change once the invalidation has reached it, a
    few milliseconds later (test_a_warm_variant_page_... and tests/integration/test_page_cache.py
    wait for that)."""
    with pool.connection() as conn:
        seed(conn)
    settings = replace(settings, pointer_cache_seconds=0)
    client = store_client(settings)
    projector = Projector(settings, pool, client, make_search(settings, client))
    rebuild(projector, progress=False)
    edge = create_app(replace(settings, edge_cache_mb=0)).test_client()
    return projector, client, KeyScheme(settings.key_prefix), edge


def live(client, keys) -> int:
    return int(client.get(keys.live))


def stored(client, keys, kind, sku, variant=None, ctx=EN):
    gen = live(client, keys)
    key = keys.variant_snippet(gen, kind, ctx, sku, variant) if variant else keys.snippet(gen, kind, ctx, sku)
    return split_value(client.get(key))


def json_ld(html: str) -> dict:
    return json.loads(html.split('<script type="application/ld+json">')[1].split("</script>")[0])


def buy_box(html: str) -> str:
    return html.split('<aside class="buy">')[1].split('<form class="picker"')[0]


def test_a_product_with_variants_has_its_page_picker_and_product_group(shop):
    _, client, keys, edge = shop
    page = edge.get("/p/J1")
    assert page.status_code == 200 and page.headers["Cache-Control"].startswith("public")
    html = page.text
    assert '<link rel="canonical" href="/p/J1">' in html
    box = buy_box(html)
    assert '<span class="from">from</span> <span class="amount">€34.00</span>' in box
    assert 'data-availability="in_stock"' in box  # J1-L is in stock
    assert '<form class="picker" action="/p/J1" method="get">' in html
    assert '<input type="radio" name="opt.size" value="M">' in html and "checked" not in html
    for sku, _, _, price, _ in SIZES:
        entry = html.split(f'<li class="variant" data-variant="{sku}">')[1].split("</li>")[0]
        assert f"€{price}" in entry
    assert 'data-variant="J1-S"' in html and "Sold out" in html.split('data-variant="J1-S"')[1].split("</li>")[0]
    ld = json_ld(html)
    assert ld["@type"] == "ProductGroup" and ld["productGroupID"] == "J1"
    assert ld["variesBy"] == ["https://schema.org/size", "https://schema.org/color"]
    offers = {v["sku"]: (v["size"], v["offers"]["price"], v["offers"]["availability"]) for v in ld["hasVariant"]}
    assert offers == {
        "J1-S": ("S", "34.00", "https://schema.org/OutOfStock"),
        "J1-M": ("M", "39.00", "https://schema.org/LimitedAvailability"),
        "J1-L": ("L", "39.00", "https://schema.org/InStock"),
    }
    # the pointers, one per visible variant and locale; the simple bag has neither picker nor pointer
    assert stored(client, keys, Kind.VARIANT, "J1-M") == (stored(client, keys, Kind.DETAIL, "J1")[0], "J1")
    assert stored(client, keys, Kind.VARIANTS, "B1") is None and stored(client, keys, Kind.VARIANT, "B1") is None
    simple = edge.get("/p/B1").text
    assert "picker" not in simple and "canonical" not in simple and json_ld(simple)["@type"] == "Product"


def test_a_variant_url_selects_the_variant_with_a_canonical_link(shop):
    _, _, _, edge = shop
    page = edge.get("/p/J1-M")
    assert page.status_code == 200
    html = page.text
    assert '<link rel="canonical" href="/p/J1">' in html
    box = buy_box(html)
    assert "€39.00" in box and "from" not in box and 'data-availability="low_stock"' in box
    assert '<input type="radio" name="opt.size" value="M" checked>' in html
    assert '<input type="radio" name="opt.color" value="Black" checked>' in html
    assert '<li class="variant" data-variant="J1-M" aria-current="true">' in html
    assert edge.get("/p/J1-M?locale=de_DE").text.count("Jacke") >= 1
    # the picker's form (no JavaScript) lands on the chosen variant's page
    chosen = edge.get("/p/J1?opt.size=L&opt.color=Blue")
    assert chosen.status_code == 303 and chosen.headers["Location"].endswith("/p/J1-L")
    assert chosen.headers["Cache-Control"] == "no-store"
    assert edge.get("/p/J1?opt.size=XXL").status_code == 200  # nothing matches: the product's page
    assert edge.get("/p/NOPE").status_code == 404 and edge.get("/p/J1-XL").status_code == 404


def test_a_stock_movement_rewrites_only_the_badges_whose_state_changed(shop, pool):
    projector, client, keys, edge = shop
    aggregate = stored(client, keys, Kind.AVAIL, "J1")
    small = stored(client, keys, Kind.AVAIL, "J1", "J1-S")
    medium = stored(client, keys, Kind.AVAIL, "J1", "J1-M")
    with pool.connection() as conn:
        commands.apply_movement(conn, "J1-L", "m1", -1, "sale")  # 19: still in stock
    assert projector.stock(["J1-L"]) == 0
    with pool.connection() as conn:
        commands.apply_movement(conn, "J1-M", "m2", -3, "sale")  # sold out; J1-L still in stock
    assert projector.stock(["J1-M"]) == 2  # its badge, in two locales
    now_medium = stored(client, keys, Kind.AVAIL, "J1", "J1-M")
    assert now_medium[0] > medium[0] and "sold_out" in now_medium[1]
    assert stored(client, keys, Kind.AVAIL, "J1") == aggregate  # the product is still in stock
    assert stored(client, keys, Kind.AVAIL, "J1", "J1-S") == small
    with pool.connection() as conn:
        commands.apply_movement(conn, "J1-L", "m3", -19, "sale")  # the last variant sells out
    assert projector.stock(["J1-L"]) == 4  # its badge and the product's, in two locales
    assert "sold_out" in stored(client, keys, Kind.AVAIL, "J1")[1]
    assert stored(client, keys, Kind.AVAIL, "J1")[0] > aggregate[0]
    ld = json_ld(edge.get("/p/J1").text)
    assert {v["offers"]["availability"] for v in ld["hasVariant"]} == {"https://schema.org/OutOfStock"}
    assert 'data-availability="sold_out"' in buy_box(edge.get("/p/J1").text)


def test_a_variant_price_change_rewrites_that_variant_and_the_aggregate(shop, pool):
    projector, client, keys, edge = shop
    before = edge.get("/p/J1")
    small = stored(client, keys, Kind.PRICE, "J1", "J1-S")
    large = stored(client, keys, Kind.PRICE, "J1", "J1-L")
    with pool.connection() as conn:
        commands.put_prices(conn, [("J1-M", "EUR", Decimal("29.00"))])
    projector.prices(["J1-M"])
    assert "€29.00" in stored(client, keys, Kind.PRICE, "J1", "J1-M")[1]
    assert stored(client, keys, Kind.PRICE, "J1", "J1-S") == small  # untouched
    assert stored(client, keys, Kind.PRICE, "J1", "J1-L") == large
    assert "€29.00" in stored(client, keys, Kind.PRICE, "J1")[1]  # the cheapest now
    after = edge.get("/p/J1")
    assert after.headers["ETag"] != before.headers["ETag"]
    assert "€29.00" in buy_box(after.text)
    assert edge.get("/p/J1", headers={"If-None-Match": before.headers["ETag"]}).status_code == 200
    assert edge.get("/p/J1", headers={"If-None-Match": after.headers["ETag"]}).status_code == 304


def test_an_offer_on_a_variant_starts_on_its_timer(settings, shop, pool):
    projector, client, keys, edge = shop
    clock = Clock(datetime.now(UTC))
    projector.clock = clock
    start = clock.now + timedelta(hours=1)
    with pool.connection() as conn:
        commands.put_offers(
            conn,
            [
                (
                    "J1-L",
                    "EUR",
                    OfferIn(
                        amount="25.00", starts_at=start.isoformat(), ends_at=(start + timedelta(hours=1)).isoformat()
                    ),
                )
            ],
        )
    projector.prices(["J1-L"])
    assert client.zscore(keys.timers, "J1") == pytest.approx(start.timestamp())
    assert projector.fire_timers() == 0
    clock.now = start + timedelta(seconds=1)
    assert projector.fire_timers() == 1
    offer = stored(client, keys, Kind.OFFER, "J1", "J1-L")[1]
    assert "€25.00" in offer and '<s class="regular">€39.00</s>' in offer
    box = buy_box(edge.get("/p/J1").text)
    assert "price--offer" in box and "€25.00" in box  # the cheapest price paid now is the offer
    assert "€25.00" in buy_box(edge.get("/p/J1-L").text) and "€25.00" not in buy_box(edge.get("/p/J1-M").text)


def test_an_offer_on_a_variant_ends_by_ttl_with_nothing_running(settings, shop, pool):
    """The offer's snippets (the variant's and the aggregate's) die in Redis when it ends: no worker,
    no timer and no projection runs after it was projected, and the pages show the regular prices."""
    projector, client, keys, edge = shop
    now = datetime.now(UTC)
    with pool.connection() as conn:
        offer = OfferIn(
            amount="25.00",
            starts_at=(now - timedelta(hours=1)).isoformat(),
            ends_at=(now + timedelta(seconds=3)).isoformat(),
        )
        commands.put_offers(conn, [("J1-L", "EUR", offer)])
    projector.prices(["J1-L"])
    gen = live(client, keys)
    variant_key = keys.variant_snippet(gen, Kind.OFFER, EN, "J1", "J1-L")
    aggregate_key = keys.snippet(gen, Kind.OFFER, EN, "J1")
    assert "€25.00" in stored(client, keys, Kind.OFFER, "J1", "J1-L")[1]
    assert "€25.00" in buy_box(edge.get("/p/J1-L").text) and "€25.00" in buy_box(edge.get("/p/J1").text)
    assert 0 < client.pttl(variant_key) <= 4000 and 0 < client.pttl(aggregate_key) <= 4000
    wait_until(
        lambda: not client.exists(variant_key, aggregate_key), timeout=15, interval=0.05, what="the offer's keys to end"
    )
    assert "€25.00" not in buy_box(edge.get("/p/J1-L").text) and "€39.00" in buy_box(edge.get("/p/J1-L").text)
    assert "€25.00" not in edge.get("/p/J1").text and "€25.00" not in edge.get("/c/gear").text


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_variants_no_longer_for_sale_leave_the_pages(shop, pool):
    projector, client, keys, edge = shop
    with pool.connection() as conn:
        commands.put_variants(conn, [("J1", "J1-L", VariantIn(options={"size": "L", "color": "Blue"}, active=False))])
        commands.delete_variant(conn, "J1", "J1-S")
    projector.products(["J1"])
    assert edge.get("/p/J1-L").status_code == 404 and edge.get("/p/J1-S").status_code == 404
    html = edge.get("/p/J1").text
    assert 'data-variant="J1-M"' in html and "J1-L" not in html and "J1-S" not in html
    assert [v["sku"] for v in json_ld(html)["hasVariant"]] == ["J1-M"]
    for sku in ("J1-L", "J1-S"):  # tombstones: the pointer and the variant's own snippets
        assert stored(client, keys, Kind.VARIANT, sku)[1] == ""
        assert (
            stored(client, keys, Kind.PRICE, "J1", sku)[1] == ""
            and stored(client, keys, Kind.AVAIL, "J1", sku)[1] == ""
        )
    # without its last explicit variant the product is simple again: no picker left behind
    with pool.connection() as conn:
        commands.delete_variant(conn, "J1", "J1-L")
        commands.delete_variant(conn, "J1", "J1-M")
    projector.products(["J1"])
    assert stored(client, keys, Kind.VARIANTS, "J1")[1] == "" and stored(client, keys, Kind.VARIANT, "J1-M")[1] == ""
    page = edge.get("/p/J1")
    assert page.status_code == 200 and "picker" not in page.text and json_ld(page.text)["@type"] == "Product"
    assert edge.get("/p/J1-M").status_code == 404
    # deleted altogether: every snippet of it a tombstone
    with pool.connection() as conn:
        commands.put_variants(conn, [("J1", "J1-X", VariantIn(options={"size": "X"}))])
    projector.products(["J1"])
    assert edge.get("/p/J1-X").status_code == 200
    with pool.connection() as conn:
        commands.delete_product(conn, "J1")
    projector.products(["J1"])
    assert edge.get("/p/J1").status_code == 404 and edge.get("/p/J1-X").status_code == 404
    assert stored(client, keys, Kind.AVAIL, "J1", "J1-X")[1] == ""


def test_missing_variant_snippets_degrade_the_page_and_are_repaired(shop):
    projector, client, keys, edge = shop  # snippets are deleted by hand here, which nobody announces
    gen = live(client, keys)
    client.delete(keys.variant_snippet(gen, Kind.PRICE, EN, "J1", "J1-M"))
    page = edge.get("/p/J1")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    entry = page.text.split('data-variant="J1-M"')[1].split("</li>")[0]
    assert "Price currently unavailable" in entry
    assert "offers" not in [v for v in json_ld(page.text)["hasVariant"] if v["sku"] == "J1-M"][0]
    assert {m.decode() for m in client.smembers(keys.repair_pending)} == {"product:J1"}
    drain(projector)
    assert edge.get("/p/J1").headers["Cache-Control"].startswith("public")
    # a lost pointer: the variant's page is a 404 nobody keeps, and the repair brings it back
    client.delete(keys.snippet(gen, Kind.VARIANT, EN, "J1-L"))
    lost = edge.get("/p/J1-L")
    assert lost.status_code == 404 and lost.headers["Cache-Control"] == "no-store"
    assert {m.decode() for m in client.smembers(keys.repair_pending)} == {"product:J1-L"}
    drain(projector)
    assert edge.get("/p/J1-L").status_code == 200
    # a lost picker: the page shows the product without it, degraded
    client.delete(keys.snippet(gen, Kind.VARIANTS, EN, "J1"))
    degraded = edge.get("/p/J1")
    assert degraded.status_code == 200 and degraded.headers["Cache-Control"] == "no-store"
    assert "picker" not in degraded.text and json_ld(degraded.text)["@type"] == "ProductGroup"


def test_a_warm_variant_page_is_served_from_memory_and_a_price_change_replaces_it(settings, shop, pool):
    projector, _, _, _ = shop
    app = create_app(replace(settings, pointer_cache_seconds=0))
    pages = app.extensions[EXTENSION].page_cache
    edge = app.test_client()
    edge.get("/p/J1")
    wait_until(lambda: pages.near.listening, timeout=5, what="the invalidation subscription")
    first = edge.get("/p/J1-M")
    assert edge.get("/p/J1-M").data == first.data
    hits = pages.stats()["hits"]
    assert edge.get("/p/J1-M").headers["ETag"] == first.headers["ETag"] and pages.stats()["hits"] == hits + 1
    with pool.connection() as conn:
        commands.put_prices(conn, [("J1-M", "EUR", Decimal("31.00"))])
    projector.prices(["J1-M"])
    wait_until(lambda: "€31.00" in edge.get("/p/J1-M").text, timeout=5, what="the new price")
    assert edge.get("/p/J1-M").headers["ETag"] != first.headers["ETag"]


PAGES = ("/p/J1", "/p/J1-M", "/p/J1-S?locale=de_DE", "/p/B1", "/", "/p/J1-XL")
#: Variant-level filters: one variant must pass them all (J1-S is the only black S, and sold out).
LISTINGS = (
    "/c/gear",
    "/c/gear?size=M",
    "/c/gear?size=S&color=Blue",
    "/c/gear?size=S&in_stock=1",
    "/c/gear?size=L&in_stock=1&color=Blue&color=Black",
    "/c/gear?price=35-40&sort=price_asc",
    "/c/gear?price=10-36&color=Blue",
    "/c/gear?sort=price_desc",
    "/c/gear?brand=Luma&size=S",
)


def test_the_classical_baseline_renders_the_same_pages(settings, shop, pool):
    from bench.classical.app import create_app as classical

    app = classical(settings.database_url, "en_US", "EUR", locales=settings.locales, currencies=settings.currencies)
    try:
        theirs = app.test_client(use_cookies=False)
        edge = create_app(settings).test_client(use_cookies=False)
        for path in (*PAGES, *LISTINGS):
            ours, them = edge.get(path), theirs.get(path)
            assert ours.status_code == them.status_code, path
            assert ours.text == them.text, path
        chosen = theirs.get("/p/J1?opt.size=L")
        assert chosen.status_code == 303 and chosen.headers["Location"].endswith("/p/J1-L")
    finally:
        app.extensions["classical_pool"].close()
