"""Listings stay current with the edge's search result cache on, on both search adapters.

A second edge runs beside the shop's (whose results are never reused: SEARCH_CACHE_SECONDS=0),
with results kept for up to 60 s unless the projector announces a change
(projector/listing_changes.py, web/edge/listing_epochs.py). After each change, once the
uncached edge shows it, every worker of the cached edge must show it too within
:data:`BOUND` seconds (Elasticsearch's refresh window and the announcement's delivery), far
below the 60 s a result would otherwise live: a listing kept past the change fails here. The
requests carry no cookies, so the cached edge answers them from its whole listing responses
(web/edge/listing_bodies.py) once kept: those are checked too.
"""

from __future__ import annotations

import time

import pytest
import redis
import requests

from tests.e2e.test_listings import api, skus
from tests.processes import poll, start_http, wait_until

pytestmark = pytest.mark.e2e
BOUND = 4.0
READS = 8  # requests per check: both workers of the cached edge answer some
PRODUCTS = {  # sku: (name, color, EUR price, stock, category)
    "F-1": ("Alpine Bag", "Red", "30.00", 10, "f-bags"),
    "F-2": ("Harbor Bag", "Blue", "20.00", 40, "f-bags"),
    "F-3": ("Meadow Bag", "Red", "50.00", 10, "f-bags"),
    "F-4": ("Canyon Bag", "Green", "40.00", 10, "f-bags"),
    "F-5": ("Summit Boots", "Black", "90.00", 10, "f-boots"),
}


def product(sku: str, name: str, color: str, category: str) -> dict:
    return {
        "name": {"en_US": name},
        "brand": "Fresh",
        "categories": [category],
        "attributes": {"color": [color]},
        "description": {"en_US": f"<p>{name}</p>"},
    }


@pytest.fixture(scope="module")
def cached_edge(shop, tmp_path_factory):
    env = {**shop.env, "SEARCH_CACHE_SECONDS": "60"}
    proc, url = start_http("edge", env, tmp_path_factory.mktemp("cached-edge"))
    yield url
    proc.stop()


@pytest.fixture(scope="module")
def fresh_catalog(shop, cached_edge):
    api(shop, "PUT", "/categories/f-gear", {"parent": None, "name": {"en_US": "Fresh gear"}})
    api(shop, "PUT", "/categories/f-bags", {"parent": "f-gear", "name": {"en_US": "Fresh bags"}})
    api(shop, "PUT", "/categories/f-boots", {"parent": None, "name": {"en_US": "Fresh boots"}})
    for sku, (name, color, price, stock, category) in PRODUCTS.items():
        api(shop, "PUT", f"/products/{sku}", product(sku, name, color, category))
        api(shop, "PUT", f"/prices/{sku}/EUR", {"amount": price})
        api(shop, "PUT", f"/stock/{sku}", {"quantity": stock})
    wait_until(
        lambda: listed(shop.edge, "/c/f-gear", sort="price_asc") == ["F-2", "F-1", "F-4", "F-3"],
        timeout=90,  # a loaded machine: Elasticsearch retries under load
        what="the projected listing",
    )
    return PRODUCTS


def listed(base: str, path: str, **params) -> list[str] | None:
    r = requests.get(base + path, params=params, timeout=10)
    return skus(r.text) if r.status_code == 200 else None


def kept(cached: str, path: str, expected: list[str], **params) -> None:
    """Let the cached edge keep the listing (after Elasticsearch's window), showing ``expected``."""
    time.sleep(2.5)
    for _ in range(READS):
        assert listed(cached, path, **params) == expected


def current_within_bound(shop, cached: str, path: str, expected: list[str], **params) -> None:
    wait_until(lambda: listed(shop.edge, path, **params) == expected, timeout=60, what=f"{path} {params} changed")
    seen: list = []

    def all_current() -> bool:
        seen[:] = [listed(cached, path, **params) for _ in range(READS)]
        return all(s == expected for s in seen)

    assert poll(all_current, BOUND), f"the cached edge still lists {seen} for {path} {params}, not {expected}"


def test_a_price_change_reorders_a_kept_listing(shop, cached_edge, fresh_catalog):
    kept(cached_edge, "/c/f-gear", ["F-2", "F-1", "F-4", "F-3"], sort="price_asc")
    kept(cached_edge, "/c/f-gear", ["F-2"], price="0-25", sort="price_asc")
    api(shop, "PUT", "/prices/F-3/EUR", {"amount": "5.00"})
    current_within_bound(shop, cached_edge, "/c/f-gear", ["F-3", "F-2", "F-1", "F-4"], sort="price_asc")
    current_within_bound(shop, cached_edge, "/c/f-gear", ["F-3", "F-2"], price="0-25", sort="price_asc")


def test_a_product_selling_out_leaves_a_kept_in_stock_listing(shop, cached_edge, fresh_catalog):
    before = listed(shop.edge, "/c/f-bags", in_stock="1", sort="name")
    assert before is not None and "F-1" in before
    kept(cached_edge, "/c/f-bags", before, in_stock="1", sort="name")
    api(shop, "PUT", "/stock/F-1", {"quantity": 0})
    after = [s for s in before if s != "F-1"]
    current_within_bound(shop, cached_edge, "/c/f-bags", after, in_stock="1", sort="name")
    api(shop, "PUT", "/stock/F-1", {"quantity": 10})
    current_within_bound(shop, cached_edge, "/c/f-bags", before, in_stock="1", sort="name")


def test_a_stock_movement_that_keeps_a_product_available_announces_nothing(shop, fresh_catalog):
    client = redis.Redis.from_url(shop.redis_url)
    prefix = shop.key_prefix or "ss"
    pubsub = client.pubsub()
    pubsub.subscribe(f"{prefix}:listings:changed")
    assert pubsub.get_message(timeout=5)["type"] == "subscribe"
    api(shop, "PUT", "/stock/F-2", {"quantity": 2})  # in stock to low stock: a new badge, same listings

    wait_until(lambda: "Only a few left" in requests.get(shop.edge + "/p/F-2", timeout=10).text, timeout=30)
    assert pubsub.get_message(timeout=1) is None
    api(shop, "PUT", "/stock/F-2", {"quantity": 0})  # sold out: listings with in_stock=1 change
    message = pubsub.get_message(timeout=30)
    assert message is not None and message["type"] == "message"
    api(shop, "PUT", "/stock/F-2", {"quantity": 40})
    pubsub.close()


def test_a_catalog_change_reaches_kept_search_and_facets(shop, cached_edge, fresh_catalog):
    kept(cached_edge, "/search", [], q="zebra")
    kept(cached_edge, "/c/f-gear", ["F-1", "F-3"], color="Red", sort="name")
    api(shop, "PUT", "/products/F-4", product("F-4", "Zebra Bag", "Red", "f-bags"))
    current_within_bound(shop, cached_edge, "/search", ["F-4"], q="zebra")
    current_within_bound(shop, cached_edge, "/c/f-gear", ["F-1", "F-3", "F-4"], color="Red", sort="name")


def test_a_category_change_reaches_a_kept_listing(shop, cached_edge, fresh_catalog):
    before = listed(shop.edge, "/c/f-gear", sort="name")
    assert before is not None and "F-5" not in before
    kept(cached_edge, "/c/f-gear", before, sort="name")
    api(shop, "PUT", "/categories/f-boots", {"parent": "f-gear", "name": {"en_US": "Fresh boots"}})
    after = wait_until(lambda: (found := listed(shop.edge, "/c/f-gear", sort="name")) and "F-5" in found and found)
    assert sorted(after) == sorted([*before, "F-5"])
    current_within_bound(shop, cached_edge, "/c/f-gear", after, sort="name")
