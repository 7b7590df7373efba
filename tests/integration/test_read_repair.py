"""Read-repair on real services: the edge notes what it misses, a real worker and scheduler put it back.

The edge (in-process Flask) reads a real Redis; the ``projector.repair`` task runs in a real
Celery worker, fired every second by a real beat process.
"""

import subprocess
import sys
from dataclasses import replace
from decimal import Decimal

import pytest
import redis

from catalog import commands
from catalog.models import CategoryIn, ProductIn
from catalog.relay import settle
from projector.rebuild import rebuild
from projector.service import Projector
from search.factory import make_search
from snipshop.redis_tools import unlink_matching
from tests.processes import REPO, start_scheduler, wait_until
from tests.redis_support import store_client
from vocab.keys import Context, KeyScheme, Kind
from web.edge.app import create_app

pytestmark = pytest.mark.integration
EN_EUR = Context("en_US", "EUR")
FRESH_PREFIX = "fresh"  # the reference rebuild's key prefix


def seed(conn):
    commands.put_categories(conn, [("gear", CategoryIn(name={"en_US": "Gear", "de_DE": "Ausrüstung"}))])
    commands.put_products(
        conn,
        [
            (sku, ProductIn(name={"en_US": name}, brand="Luma", categories=["gear"]))
            for sku, name in (("B1", "Bag"), ("B2", "Bottle"), ("B3", "Belt"))
        ],
    )
    commands.put_prices(
        conn, [("B1", "EUR", Decimal("12.50")), ("B2", "EUR", Decimal("3.00")), ("B3", "EUR", Decimal("7.00"))]
    )
    commands.set_stock(conn, [("B1", 50), ("B2", 2), ("B3", 0)])


@pytest.fixture
def shop(settings, pool):
    """A projected catalog (generation 1) and Redis client, key scheme and edge test client."""
    with pool.connection() as conn:
        seed(conn)
    client = store_client(settings)
    rebuild(Projector(settings, pool, client, make_search(settings, client)), progress=False)
    with pool.connection() as conn:  # projected: the relay sweep must not re-project behind the repair's back
        settle(conn)
    return client, KeyScheme(settings.key_prefix), create_app(settings).test_client()


def pending(client, keys) -> set[str]:
    return {m.decode() for m in client.smembers(keys.repair_pending)}


def whole(response) -> bool:
    return response.status_code == 200 and "no-store" not in response.headers.get("Cache-Control", "")


def test_a_missing_price_degrades_the_page_once_asks_once_and_comes_back(shop, worker, service_env, tmp_path):
    client, keys, edge = shop
    key = keys.snippet(1, Kind.PRICE, EN_EUR, "B1")
    original = client.get(key)
    client.delete(key)

    page = edge.get("/p/B1")
    assert page.status_code == 200
    assert "Price currently unavailable" in page.text and "Bag" in page.text and "In stock" in page.text
    assert page.headers["Cache-Control"] == "no-store" and "ETag" not in page.headers
    assert '"offers"' not in page.text  # no made-up price in the JSON-LD
    for _ in range(30):
        assert edge.get("/p/B1").status_code == 200
    assert pending(client, keys) == {"product:B1"}  # thirty misses, one request
    assert 0 < client.ttl(keys.repair_seen("product", "B1")) <= 10

    scheduler = start_scheduler(service_env, tmp_path)
    try:
        wait_until(lambda: client.get(key), timeout=15, what="repaired price snippet")
        assert client.get(key) == original
        page = wait_until(lambda: (p := edge.get("/p/B1")) and whole(p) and p, timeout=5, what="whole page")
        assert pending(client, keys) == set()
    finally:
        scheduler.stop()
    assert "€12.50" in page.text and "unavailable" not in page.text
    assert page.headers["Cache-Control"].startswith("public") and '"offers"' in page.text


def test_a_missing_detail_is_503_with_retry_after_until_repaired(shop, worker, service_env, tmp_path):
    client, keys, edge = shop
    for locale in ("en_US", "de_DE"):
        client.delete(keys.snippet(1, Kind.DETAIL, Context(locale, "EUR"), "B2"))
    page = edge.get("/p/B2")
    assert page.status_code == 503 and page.headers["Retry-After"] == "2"
    assert "public" not in page.headers["Cache-Control"]
    assert edge.get("/p/B2?locale=de_DE").status_code == 503
    assert edge.get("/p/B2?locale=en_US").status_code == 503  # (the choice of locale is remembered)
    assert pending(client, keys) == {"product:B2"}
    # A SKU with nothing stored at all is most likely unknown: a 404, not cached, asked about once.
    unknown = edge.get("/p/NO-SUCH-SKU")
    assert unknown.status_code == 404 and unknown.headers["Cache-Control"] == "no-store"

    scheduler = start_scheduler(service_env, tmp_path)
    try:
        page = wait_until(lambda: (p := edge.get("/p/B2")) and whole(p) and p, timeout=15, what="repaired page")
    finally:
        scheduler.stop()
    assert "Bottle" in page.text and "€3.00" in page.text
    assert edge.get("/p/NO-SUCH-SKU").status_code == 404


def test_listings_leave_missing_tiles_out_and_ask_for_them(shop, worker, service_env, tmp_path):
    client, keys, edge = shop
    client.delete(keys.snippet(1, Kind.TILE, EN_EUR, "B3"), keys.snippet(1, Kind.AVAIL, EN_EUR, "B2"))
    listing = edge.get("/c/gear")
    assert listing.status_code == 200 and listing.headers["Cache-Control"] == "no-store"
    assert 'data-sku="B1"' in listing.text and 'data-sku="B3"' not in listing.text
    assert pending(client, keys) == {"product:B2", "product:B3"}
    home = edge.get("/")
    assert home.status_code == 200
    assert pending(client, keys) == {"product:B2", "product:B3"}  # rate-limited: not queued again

    scheduler = start_scheduler(service_env, tmp_path)
    try:
        listing = wait_until(lambda: (p := edge.get("/c/gear")) and whole(p) and p, timeout=15, what="whole listing")
    finally:
        scheduler.stop()
    assert all(f'data-sku="{s}"' in listing.text for s in ("B1", "B2", "B3"))


def _dump(client: redis.Redis, keys: KeyScheme) -> dict[str, bytes]:
    """Every snippet of the live generation by key with the prefix and generation masked, and its value."""
    gen = int(client.get(keys.live))
    prefix = f"{keys.prefix}:{gen}:"
    out = {}
    for key in client.scan_iter(match=keys.generation_pattern(gen), count=1000):
        name = key.decode()
        if ":idx:" in name or name == keys.listing_digests(gen):  # the search index's and listings' own keys
            continue
        out[f"G:{name[len(prefix) :]}"] = client.get(key)
    return out


def _index_keys(client: redis.Redis, keys: KeyScheme) -> set[str]:
    gen = int(client.get(keys.live))
    base = keys.search_index(gen)
    return {k.decode()[len(base) :] for k in client.scan_iter(match=keys.search_index_pattern(gen), count=1000)}


def test_flushed_redis_answers_503_repairs_what_is_asked_and_rebuild_restores_everything(
    shop, settings, pool, worker, service_env, tmp_path
):
    client, keys, edge = shop
    paths = ("/p/B1", "/", "/c/gear", "/search?q=bag", "/no/such/page", "/p/NO-SUCH-SKU")
    client.flushall()
    for path in paths:
        r = edge.get(path)
        assert r.status_code == 503 and r.headers["Retry-After"] == "2", (path, r.status_code)
    assert pending(client, keys) == {"navigation:_", "labels:_", "home:_"}

    scheduler = start_scheduler(service_env, tmp_path)
    try:
        # The navigation repair recreates generation 1 through the normal writer; product pages
        # then ask for their products, and come back as shoppers ask for them.
        wait_until(lambda: client.get(keys.live) == b"1", timeout=15, what="recreated live pointer")
        for sku, name in (("B1", "Bag"), ("B2", "Bottle")):
            page = wait_until(
                lambda sku=sku: (p := edge.get(f"/p/{sku}")) and whole(p) and p, timeout=15, what=f"repaired {sku}"
            )
            assert name in page.text
        home = wait_until(lambda: (p := edge.get("/")) and whole(p) and p, timeout=15, what="repaired home")
        assert 'data-sku="B1"' in home.text
        for path in paths:
            assert edge.get(path).status_code < 500, path
    finally:
        scheduler.stop()
    assert client.sismember(keys.generations, 1)  # listed, so the rebuild keeps it for rollback, then collects it

    subprocess.run(
        [sys.executable, "-m", "entrypoints.projector_cli", "rebuild", "--quiet"],
        env=service_env,
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    assert client.get(keys.live) == b"2"

    # The reference rebuild goes beside it, under a key prefix of its own (a Redis Cluster has
    # one database only).
    fresh_settings = replace(settings, key_prefix=FRESH_PREFIX)
    fresh, fresh_keys = store_client(fresh_settings), KeyScheme(FRESH_PREFIX)
    try:
        rebuild(Projector(fresh_settings, pool, fresh, make_search(fresh_settings, fresh)), progress=False)
        restored, reference = _dump(client, keys), _dump(fresh, fresh_keys)
        assert len(reference) > 30 and restored == reference
        assert _index_keys(client, keys) == _index_keys(fresh, fresh_keys)
    finally:
        unlink_matching(fresh, f"{FRESH_PREFIX}:*")
    page = edge.get("/p/B3")
    assert whole(page) and "Belt" in page.text
