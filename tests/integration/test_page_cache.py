"""The edge's page cache against real Redis and the real projector: whole anonymous pages are
answered from memory exactly while the snippets they were assembled from are unchanged."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
import redis

from catalog import commands
from projector.render import Snippet
from projector.service import Projector
from tests.integration.test_projection import seed
from tests.processes import wait_until
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
    projector = Projector(settings, pool, redis.Redis.from_url(settings.redis_url))
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


def test_a_cookie_or_a_query_never_gets_the_anonymous_page(shop):
    _, client, pages = shop
    get(client, "/p/B1")
    hits = pages.stats()["hits"]
    client.set_cookie("customer_name", "<Ada>")
    personal = client.get("/p/B1")  # the first personal request of this page: assembled
    assert "&lt;Ada&gt;" in personal.text and personal.headers["Cache-Control"] == "private, no-cache"
    assert "ETag" not in personal.headers
    client.delete_cookie("customer_name")
    client.set_cookie("currency", "USD")
    assert "€12.50" not in client.get("/p/B1").text
    client.delete_cookie("currency")
    dollars = client.get("/p/B1?currency=USD")
    assert dollars.status_code == 200 and "€12.50" not in dollars.text
    assert pages.stats()["hits"] == hits


SHOPPERS = (
    "customer_name=Ada; cart_count=2",
    'customer_name="<script>alert(1)</script>Bob"; cart_count=7',  # quoted: the whole hostile value
    "cart_count=3",
    "customer_name=Cy; currency=USD",
    "customer_name=Dee; locale=de_DE; cart_count=<b>9</b>",
    "customer_name=Ada; cart_count=2; bucket=7",
)


def as_shopper(client, cookie: str, path: str = "/p/B1"):
    response = client.get(path, headers={"Cookie": cookie})
    headers = [(k, v) for k, v in response.headers.items() if k != "X-Request-Id"]  # new for every request
    return response.status_code, headers, response.text


def test_a_personal_page_is_kept_as_a_template_and_is_each_shoppers_own(shop, settings):
    """Every shopper gets, from the kept template, the very response the edge assembles without
    a page cache: their own escaped values, nobody else's, in their own context."""
    _, _, pages = shop
    cached = create_app(settings).test_client(use_cookies=False)
    assembling = create_app(replace(settings, edge_page_cache_mb=0)).test_client(use_cookies=False)
    cache = cached.application.extensions[EXTENSION].page_cache
    as_shopper(cached, SHOPPERS[0])
    wait_until(lambda: cache.near.listening, timeout=5, what="the invalidation subscription")
    for cookie in SHOPPERS:  # keep each context's template
        as_shopper(cached, cookie)
    hits = cache.stats()["hits"]
    for cookie in SHOPPERS:
        expected = as_shopper(assembling, cookie)
        assert as_shopper(cached, cookie) == expected, cookie
        assert ("Cache-Control", "private, no-cache") in expected[1] and "ETag" not in dict(expected[1])
    assert cache.stats()["hits"] == hits + len(SHOPPERS)
    pages_of = {cookie: as_shopper(cached, cookie)[2] for cookie in SHOPPERS}
    assert '<p class="greeting">Hello, Ada</p>' in pages_of[SHOPPERS[0]]
    hostile = pages_of[SHOPPERS[1]]
    assert "Hello, &lt;script&gt;alert(1)&lt;/script&gt;Bob</p>" in hostile and "<script>alert" not in hostile
    assert '<span class="cart-count">3</span>' in pages_of[SHOPPERS[2]]
    dollars = pages_of[SHOPPERS[3]]
    assert '<span class="current-currency">USD</span>' in dollars and "€12.50" not in dollars
    assert '<span class="cart-count">0</span>' in pages_of[SHOPPERS[4]] and 'lang="de' in pages_of[SHOPPERS[4]]
    for cookie, text in pages_of.items():  # no shopper sees another's name
        others = [name for name in ("Ada", "Bob", "Cy", "Dee") if name not in cookie]
        assert not any(name in text.split('<p class="greeting">')[1].split("</p>")[0] for name in others), cookie
    for page in cache._pages.values():  # the kept templates hold no shopper's value
        kept = page.body + (b"".join(page.template.literals) if page.template is not None else b"")
        assert not any(name in kept for name in (b"Ada", b"Bob", b"Cy", b"Dee", b"alert"))


def test_a_projected_change_shows_at_once_on_personal_pages(shop, pool):
    projector, anonymous, pages = shop
    client = anonymous.application.test_client(use_cookies=False)  # the Cookie header as given
    for _ in range(2):
        assert "€12.50" in as_shopper(client, SHOPPERS[0])[2]
    assert any(slot[2] for slot in pages._pages), "a personal template is kept"
    with pool.connection() as conn:
        commands.put_prices(conn, [("B1", "EUR", Decimal("8.00"))])
    projector.products(["B1"])
    wait_until(lambda: "€8.00" in as_shopper(client, SHOPPERS[0])[2], timeout=5, interval=0.001, what="the new price")
    for cookie in SHOPPERS[:3]:
        text = as_shopper(client, cookie)[2]
        assert "€8.00" in text and "€12.50" not in text, cookie


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
    store = redis.Redis.from_url(settings.redis_url)
    wait_until(lambda: not store.exists(key), timeout=OFFER_SECONDS + 10, interval=0.01, what="the offer's key to end")
    assert "ONLY TODAY" not in client.get("/p/B1").text


def test_a_degraded_page_is_not_kept(shop, settings):
    _, client, pages = shop
    keys = KeyScheme(settings.key_prefix)
    redis.Redis.from_url(settings.redis_url).delete(keys.snippet(1, Kind.CRUMB, EN_EUR, "B1"))
    pages._pages.clear()
    status, cache_control, _, _ = get(client, "/p/B1")
    assert cache_control == "no-store"
    assert get(client, "/p/B1")[1] == "no-store" and pages.stats()["pages"] == 0
    personal = client.application.test_client(use_cookies=False)
    for _ in range(2):  # nor a degraded personal page
        assert ("Cache-Control", "no-store") in as_shopper(personal, SHOPPERS[0])[1]
    assert pages.stats()["pages"] == 0


def test_a_generation_switch_retires_every_kept_page(shop, settings):
    _, client, pages = shop
    get(client, "/p/B1")
    assert get(client, "/p/B1")[0] == 200 and pages.stats()["pages"] >= 1
    redis.Redis.from_url(settings.redis_url).set(KeyScheme(settings.key_prefix).live, 2)  # an empty generation
    assert get(client, "/p/B1")[0] != 200
