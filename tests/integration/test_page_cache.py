"""The edge's page cache against real Redis and the real projector: whole anonymous pages are
answered from memory exactly while the snippets they were assembled from are unchanged."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from catalog import commands
from projector.render import Snippet
from projector.service import Projector
from tests.integration.test_projection import seed
from tests.processes import wait_until
from tests.redis_support import store_client
from vocab.keys import Context, KeyScheme, Kind
from web.edge.app import create_app
from web.edge.edge_state import EXTENSION

pytestmark = pytest.mark.integration
EN_EUR = Context("en_US", "EUR")
OFFER_SECONDS = 3  # long enough for a busy CI machine to show the offer before it ends


@pytest.fixture
def shop(settings, pool):
    with pool.connection() as conn:
        seed(conn, sku="B1", name="Bag", price="12.50")
    settings = replace(settings, pointer_cache_seconds=0)
    projector = Projector(settings, pool, store_client(settings))
    projector.navigation()
    projector.products(["B1"])
    projector.home()
    app = create_app(settings)
    pages = app.extensions[EXTENSION].page_cache
    client = app.test_client()
    client.get("/p/B1")  # starts the near cache's listener
    wait_until(lambda: pages.near.listening, timeout=5, what="the invalidation subscription")
    return projector, client, pages


def get(client, path, **kwargs):
    response = client.get(path, **kwargs)
    headers = {k: v for k, v in response.headers.items() if k != "X-Request-Id"}  # new for every request
    return response.status_code, response.headers.get("Cache-Control"), response.text, headers


def test_an_anonymous_page_is_answered_whole_from_memory_byte_for_byte(shop):
    _, client, pages = shop
    first = get(client, "/p/B1")
    assert first[0] == 200 and first[1].startswith("public") and "€12.50" in first[2]
    hits = pages.stats()["hits"]
    again = get(client, "/p/B1")
    assert pages.stats()["hits"] == hits + 1
    assert again == first  # status, body and every header, the ETag included
    home = get(client, "/")
    assert get(client, "/") == home and pages.stats()["hits"] == hits + 2


def test_a_projected_change_replaces_the_page_at_once(shop, pool):
    projector, client, pages = shop
    get(client, "/p/B1")
    get(client, "/p/B1")
    assert pages.stats()["pages"] >= 1
    with pool.connection() as conn:
        commands.put_prices(conn, [("B1", "EUR", Decimal("9.00"))])
    projector.products(["B1"])  # the guarded write announces the changed keys
    wait_until(lambda: "€9.00" in client.get("/p/B1").text, timeout=5, interval=0.001, what="the new price")
    assert "€12.50" not in client.get("/p/B1").text


def test_requests_with_cookies_or_a_query_are_never_answered_from_it(shop):
    _, client, pages = shop
    get(client, "/p/B1")
    hits = pages.stats()["hits"]
    client.set_cookie("customer_name", "<Ada>")
    personal = client.get("/p/B1")
    assert "&lt;Ada&gt;" in personal.text and personal.headers["Cache-Control"] == "private, no-cache"
    client.delete_cookie("customer_name")
    dollars = client.get("/p/B1?currency=USD")
    assert dollars.status_code == 200 and "€12.50" not in dollars.text
    assert pages.stats()["hits"] == hits


def test_a_page_dies_with_its_special_offer(shop, settings):
    projector, client, pages = shop
    keys = KeyScheme(settings.key_prefix)
    key = keys.snippet(1, Kind.OFFER, EN_EUR, "B1")
    offer = Snippet(Kind.OFFER, EN_EUR, "B1", 10**9, '<p class="offer">ONLY TODAY 5.00</p>', ttl=OFFER_SECONDS)
    projector.writer.write([offer], [1])

    def answered_from_memory() -> bool:  # the write's own invalidation may retire the first page it is on
        hits = pages.stats()["hits"]
        return "ONLY TODAY" in client.get("/p/B1").text and pages.stats()["hits"] == hits + 1

    wait_until(answered_from_memory, timeout=OFFER_SECONDS - 0.5, interval=0.001, what="the offer's page kept")
    # The key ends by its TTL in Redis (nobody announces it); from then on the kept page must not be answered.
    store = store_client(settings)
    wait_until(lambda: not store.exists(key), timeout=OFFER_SECONDS + 10, interval=0.01, what="the offer's key to end")
    assert "ONLY TODAY" not in client.get("/p/B1").text


def test_a_degraded_page_is_not_kept(shop, settings):
    _, client, pages = shop
    keys = KeyScheme(settings.key_prefix)
    store_client(settings).delete(keys.snippet(1, Kind.CRUMB, EN_EUR, "B1"))
    pages._pages.clear()
    status, cache_control, _, _ = get(client, "/p/B1")
    assert cache_control == "no-store"
    assert get(client, "/p/B1")[1] == "no-store" and pages.stats()["pages"] == 0


def test_a_generation_switch_retires_every_kept_page(shop, settings):
    _, client, pages = shop
    get(client, "/p/B1")
    assert get(client, "/p/B1")[0] == 200 and pages.stats()["pages"] >= 1
    store_client(settings).set(KeyScheme(settings.key_prefix).live, 2)  # an empty generation
    assert get(client, "/p/B1")[0] != 200
