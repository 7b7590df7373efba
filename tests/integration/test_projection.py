"""Projection on real services: outbox → relay → real Celery worker process → Redis → edge."""

from decimal import Decimal

import pytest

from catalog import commands
from catalog.models import CategoryIn, ProductIn
from catalog.relay import dispatch
from projector.celery_app import celery_sender, make_celery
from projector.rebuild import rebuild
from projector.service import Projector
from tests.processes import wait_until
from tests.redis_support import store_client
from vocab.keys import Context, KeyScheme, Kind, split_value
from web.edge.app import create_app

pytestmark = pytest.mark.integration
EN_EUR = Context("en_US", "EUR")


def seed(conn, sku="B1", name="Bag", price="12.50"):
    commands.put_categories(conn, [("gear", CategoryIn(name={"en_US": "Gear", "de_DE": "Ausrüstung"}))])
    commands.put_products(conn, [(sku, ProductIn(name={"en_US": name}, brand="Luma", categories=["gear"]))])
    commands.put_prices(conn, [(sku, "EUR", Decimal(price))])
    commands.set_stock(conn, [(sku, 50)])


def snippet(settings, kind, sku, ctx=EN_EUR):
    client = store_client(settings)
    keys = KeyScheme(settings.key_prefix)
    live = client.get(keys.live)
    if live is None:
        return None
    return split_value(client.get(keys.snippet(int(live), kind, ctx, sku)))


def test_outbox_rows_reach_redis_through_a_real_worker(settings, pool, worker):
    with pool.connection() as conn:
        seed(conn)
        sent = dispatch(conn, celery_sender(make_celery(settings)))
        assert sent == 4
        assert conn.execute("SELECT count(*) FROM outbox WHERE dispatched_at IS NULL").fetchone() == (0,)
    price = wait_until(lambda: snippet(settings, Kind.PRICE, "B1"), what="price snippet")
    assert "€12.50" in price[1]
    wait_until(lambda: snippet(settings, Kind.FRAME, "_"), what="frame")

    with pool.connection() as conn:
        commands.put_prices(conn, [("B1", "EUR", Decimal("9.00"))])
        dispatch(conn, celery_sender(make_celery(settings)))
    wait_until(lambda: "€9.00" in (snippet(settings, Kind.PRICE, "B1") or (0, ""))[1], what="new price")

    client = create_app(settings).test_client()
    page = client.get("/p/B1")
    assert page.status_code == 200
    assert "€9.00" in page.text and "Bag" in page.text


def test_an_older_version_never_overwrites_a_newer_one(settings, pool):
    with pool.connection() as conn:
        seed(conn)
    projector = Projector(settings, pool, store_client(settings))
    projector.products(["B1"])
    current = snippet(settings, Kind.PRICE, "B1")
    stale = [
        s
        for s in projector.renderer.product(
            _view(pool, "B1", price_version=current[0] - 1, price=Decimal("1.00")), {}, _now(), [Kind.PRICE]
        )
        if s.ctx == EN_EUR
    ]
    assert projector.writer.write(stale) == 0
    assert snippet(settings, Kind.PRICE, "B1") == current
    # The same version is written again (a refresh), renewing the TTL.
    assert projector.products(["B1"], [Kind.PRICE]) > 0
    client = store_client(settings)
    key = KeyScheme().snippet(1, Kind.PRICE, EN_EUR, "B1")
    assert 0 < client.ttl(key) <= settings.snippet_ttl_seconds


def _now():
    from projector.service import utcnow

    return utcnow()


def _view(pool, sku, **changes):
    from projector.readmodel import load_products

    with pool.connection() as conn:
        view = load_products(conn, [sku])[sku]
    if "price" in changes:
        view.prices["EUR"] = changes.pop("price")
    for k, v in changes.items():
        setattr(view, k, v)
    return view


def test_rebuild_switches_generation_and_keeps_one_for_rollback(settings, pool):
    with pool.connection() as conn:
        seed(conn)
        seed(conn, "B2", "Second bag", "5.00")
    client = store_client(settings)
    keys = KeyScheme(settings.key_prefix)
    projector = Projector(settings, pool, client)
    first = rebuild(projector, progress=False)
    second = rebuild(projector, progress=False)
    third = rebuild(projector, progress=False)
    assert (first.generation, second.generation, third.generation) == (1, 2, 3)
    assert third.products == 2 and third.snippets > 0
    assert client.get(keys.live) == b"3" and client.get(keys.building) is None
    assert sorted(int(g) for g in client.smembers(keys.generations)) == [2, 3]
    assert not list(client.scan_iter(match=keys.generation_pattern(1)))
    page = create_app(settings).test_client().get("/p/B2")
    assert page.status_code == 200 and "Second bag" in page.text


def test_a_failed_rebuild_deletes_its_half_built_generation(settings, pool, monkeypatch):
    with pool.connection() as conn:
        seed(conn)
    client = store_client(settings)
    keys = KeyScheme(settings.key_prefix)
    projector = Projector(settings, pool, client)
    rebuild(projector, progress=False)

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(projector, "home", boom)
    with pytest.raises(RuntimeError):
        rebuild(projector, progress=False)
    assert client.get(keys.live) == b"1" and client.get(keys.building) is None
    assert not list(client.scan_iter(match=keys.generation_pattern(2)))


def test_deleted_product_becomes_404_and_comes_back(settings, pool):
    with pool.connection() as conn:
        seed(conn)
    projector = Projector(settings, pool, store_client(settings))
    rebuild(projector, progress=False)
    edge = create_app(settings).test_client()
    assert edge.get("/p/B1").status_code == 200
    with pool.connection() as conn:
        commands.delete_product(conn, "B1")
    projector.products(["B1"])  # the edge's near cache drops the old snippets on the invalidation
    wait_until(lambda: edge.get("/p/B1").status_code == 404, timeout=5, interval=0.005, what="the 404")
    with pool.connection() as conn:
        commands.put_products(conn, [("B1", ProductIn(name={"en_US": "Bag again"}, categories=["gear"]))])
    projector.products(["B1"])  # the tombstones the 404 was built from are dropped the same way
    page = wait_until(
        lambda: (p := edge.get("/p/B1")).status_code == 200 and p, timeout=5, interval=0.005, what="the product back"
    )
    assert "Bag again" in page.text and "€12.50" in page.text
