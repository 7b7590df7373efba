"""Products with variants end to end over HTTP: admin API → PostgreSQL → outbox → Celery → Redis and
the search engine → edge (docs/variants.md), once with each search adapter."""

from __future__ import annotations

import json

import pytest
import requests

from tests.processes import poll, wait_until
from tests.redis_support import store_client_of
from vocab.keys import FIELD, Context, KeyScheme, Kind, split_value

pytestmark = pytest.mark.e2e
API = "/admin/api/v1"
EN = Context("en_US", "EUR")
#: (variant SKU, size, colour, price, stock)
VARIANTS = (
    ("V-PARKA-S", "S", "Black", "89.00", 4),
    ("V-PARKA-M", "M", "Black", "99.00", 2),
    ("V-PARKA-L", "L", "Olive", "99.00", 30),
)


def call(shop, method, path, body, role="admin"):
    r = requests.request(method, shop.admin + API + path, json=body, headers=shop.auth(role), timeout=10)
    assert r.status_code in (200, 201), (path, r.status_code, r.text)
    return r


def page(shop, path, **kw):
    return requests.get(shop.edge + path, timeout=10, allow_redirects=False, **kw)


def json_ld(html: str) -> dict:
    return json.loads(html.split('<script type="application/ld+json">')[1].split("</script>")[0])


def buy_box(html: str) -> str:
    return html.split('<aside class="buy">')[1].split('<form class="picker"')[0]


@pytest.fixture(scope="module")
def parka(shop):
    """Parka V-PARKA in three variants, created through the admin API, in category "coats"."""
    call(shop, "PUT", "/categories/coats", {"parent": None, "name": {"en_US": "Coats"}, "position": 5})
    call(
        shop,
        "PUT",
        "/products/V-PARKA",
        {"name": {"en_US": "Parka"}, "brand": "Luma", "categories": ["coats"], "attributes": {"material": "Down"}},
        "editor",
    )
    for sku, size, color, price, quantity in VARIANTS:
        call(shop, "PUT", f"/products/V-PARKA/variants/{sku}", {"options": {"size": size, "color": color}}, "editor")
        call(shop, "PUT", f"/prices/{sku}/EUR", {"amount": price}, "pricing")
        call(shop, "PUT", f"/stock/{sku}", {"quantity": quantity}, "stock")
    expected = {"V-PARKA-S": "low_stock", "V-PARKA-M": "low_stock", "V-PARKA-L": "in_stock"}
    # every variant's own badge, not only the aggregate: the tests below read each of them
    wait_until(
        lambda: (
            all(
                f'data-availability="{state}"' in (snippet(shop, Kind.AVAIL, "V-PARKA", sku) or (0, ""))[1]
                for sku, state in expected.items()
            )
            and "€99.00" in page(shop, "/p/V-PARKA").text
            and 'data-availability="low_stock"' in page(shop, "/p/V-PARKA").text
        ),
        timeout=20,
        what="the parka's variants' prices and stock in Redis",
    )

    # ... and at the edge, variant by variant: each variant's own projection (its stock, its price)
    # may land before the catalog change that lists it on the product, and each edge worker drops
    # what it kept once the invalidation reaches it, a moment after the write on a loaded machine
    # (at the latest after EDGE_CACHE_SECONDS, 60 s, the bound on anything a worker keeps)
    seen: dict[str, str] = {}

    def shows(sku: str, state: str) -> bool:
        r = page(shop, f"/p/{sku}")  # a 404 until the product's detail lists the variant
        box = buy_box(r.text) if r.status_code == 200 else ""
        seen[sku] = f"{r.status_code} {r.headers.get('X-Generation')} {box[-120:]}"
        return r.status_code == 200 and f'data-availability="{state}"' in box

    def detail_lists() -> str:
        return (snippet(shop, Kind.DETAIL, "V-PARKA") or (0, ""))[1].rsplit(FIELD, 1)[-1]

    if not poll(lambda: all(shows(sku, state) for sku, state in expected.items() for _ in range(4)), timeout=90):
        raise AssertionError(f"the variants' pages at the edge: {seen}; the detail in Redis lists {detail_lists()}")
    return "V-PARKA"


def snippet(shop, kind, product, variant=None):
    client = store_client_of(shop.env)
    keys = KeyScheme(shop.key_prefix or "ss")
    gen = int(client.get(keys.live))
    key = keys.variant_snippet(gen, kind, EN, product, variant) if variant else keys.snippet(gen, kind, EN, product)
    return split_value(client.get(key))


def test_the_listing_shows_the_product_once_from_its_cheapest_variant(shop, parka):
    def listed():
        html = page(shop, "/c/coats").text
        return html if html.count('data-sku="V-PARKA"') == 1 else None

    html = wait_until(listed, timeout=20, what="the parka in its category")
    tile = html.split('data-sku="V-PARKA"')[1].split("</li>")[0]
    assert '<span class="from">from</span> <span class="amount">€89.00</span>' in tile
    assert "Size: S, M, L" in tile and "Color: Black, Olive" in tile
    for sku, *_ in VARIANTS:
        assert f'data-sku="{sku}"' not in html
    # a variant-level filter: only the olive L is olive, and it is in stock
    assert 'data-sku="V-PARKA"' in page(shop, "/c/coats?color=Olive&size=L&in_stock=1").text
    assert 'data-sku="V-PARKA"' not in page(shop, "/c/coats?color=Olive&size=S").text


def test_the_product_page_has_the_picker_and_a_product_group(shop, parka):
    html = page(shop, "/p/V-PARKA").text
    assert '<form class="picker" action="/p/V-PARKA" method="get">' in html
    assert '<input type="radio" name="opt.color" value="Olive">' in html
    assert '<link rel="canonical" href="/p/V-PARKA">' in html
    ld = json_ld(html)
    assert ld["@type"] == "ProductGroup" and ld["productGroupID"] == "V-PARKA"
    assert {v["sku"]: (v["size"], v["color"], v["offers"]["price"]) for v in ld["hasVariant"]} == {
        sku: (size, color, price) for sku, size, color, price, _ in VARIANTS
    }
    assert all(v["offers"]["priceCurrency"] == "EUR" for v in ld["hasVariant"])


def test_a_variant_url_selects_the_variant(shop, parka):
    r = page(shop, "/p/V-PARKA-L")
    assert r.status_code == 200
    assert '<link rel="canonical" href="/p/V-PARKA">' in r.text
    assert '<input type="radio" name="opt.size" value="L" checked>' in r.text
    assert '<li class="variant" data-variant="V-PARKA-L" aria-current="true">' in r.text
    box = buy_box(r.text)
    assert "€99.00" in box and "from" not in box and 'data-availability="in_stock"' in box
    chosen = page(shop, "/p/V-PARKA?opt.size=M&opt.color=Black")
    assert chosen.status_code == 303 and chosen.headers["Location"].endswith("/p/V-PARKA-M")
    assert page(shop, "/p/V-PARKA-XXL").status_code == 404


def test_stock_movements_rerender_only_the_badges_whose_state_changes(shop, parka):
    aggregate = snippet(shop, Kind.AVAIL, parka)
    small = snippet(shop, Kind.AVAIL, parka, "V-PARKA-S")
    large = snippet(shop, Kind.AVAIL, parka, "V-PARKA-L")
    call(shop, "POST", "/stock/V-PARKA-M/movements", {"movement_id": "vp-1", "delta": -2, "reason": "sale"}, "stock")
    wait_until(lambda: "sold_out" in snippet(shop, Kind.AVAIL, parka, "V-PARKA-M")[1], timeout=15, what="M sold out")
    assert snippet(shop, Kind.AVAIL, parka) == aggregate  # still in stock: the aggregate stays as it was
    assert snippet(shop, Kind.AVAIL, parka, "V-PARKA-S") == small
    assert snippet(shop, Kind.AVAIL, parka, "V-PARKA-L") == large
    entry = page(shop, "/p/V-PARKA").text.split('data-variant="V-PARKA-M"')[1].split("</li>")[0]
    assert 'data-availability="sold_out"' in entry
    # selling out the rest flips the product
    for i, (sku, *_, quantity) in enumerate((VARIANTS[0], VARIANTS[2])):
        call(shop, "POST", f"/stock/{sku}/movements", {"movement_id": f"vp-{i + 2}", "delta": -quantity}, "stock")
    wait_until(lambda: "sold_out" in snippet(shop, Kind.AVAIL, parka)[1], timeout=15, what="the parka sold out")
    assert snippet(shop, Kind.AVAIL, parka)[0] > aggregate[0]
    wait_until(
        lambda: 'data-availability="sold_out"' in buy_box(page(shop, "/p/V-PARKA").text),
        timeout=10,
        what="the page's badge",
    )
    ld = json_ld(page(shop, "/p/V-PARKA").text)
    assert {v["offers"]["availability"] for v in ld["hasVariant"]} == {"https://schema.org/OutOfStock"}
