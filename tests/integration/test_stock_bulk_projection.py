"""A bulk stock request through the whole pipeline on real processes: the admin app writes the
batch and its one outbox row, the real scheduler's relay sweep hands it on, a real Celery worker
projects it, and every moved SKU's availability badge in Redis says its new state (simple products
and the variants of a product sold in variants, with the product's aggregate badge)."""

from __future__ import annotations

import pytest
import redis

from catalog import commands
from catalog.models import CategoryIn, ProductIn, VariantIn
from projector.rebuild import rebuild
from projector.service import Projector
from search.factory import make_search
from tests.integration.admin_support import API
from tests.processes import start_scheduler, wait_until
from vocab.keys import Context, KeyScheme, Kind, split_value

pytestmark = pytest.mark.integration
EN = Context("en_US", "EUR")
SIMPLE = [f"S{i:02d}" for i in range(40)]


@pytest.fixture
def scheduler(service_env, tmp_path):
    process = start_scheduler(service_env, tmp_path)
    yield process
    process.stop()


def badge(client: redis.Redis, keys: KeyScheme, product: str, variant: str | None = None) -> str | None:
    live = client.get(keys.live)
    if live is None:
        return None
    gen = int(live)
    key = (
        keys.snippet(gen, Kind.AVAIL, EN, product)
        if variant is None
        else keys.variant_snippet(gen, Kind.AVAIL, EN, product, variant)
    )
    value = split_value(client.get(key))
    return None if value is None else value[1]


def state(body: str | None) -> str | None:
    return next((s for s in ("sold_out", "low_stock", "in_stock") if body and s in body), None)


def test_a_bulk_request_reaches_the_badges_in_redis_through_a_real_worker(
    settings, pool, client, tokens, worker, scheduler
):
    with pool.connection() as conn:
        commands.put_categories(conn, [("gear", CategoryIn(name={"en_US": "Gear"}))])
        commands.put_products(
            conn, [(sku, ProductIn(name={"en_US": f"Bag {sku}"}, categories=["gear"])) for sku in [*SIMPLE, "J1"]]
        )
        commands.put_variants(conn, [("J1", sku, VariantIn(options={"size": sku[-1]})) for sku in ("J1-M", "J1-L")])
        commands.set_stock(conn, [(sku, 20) for sku in SIMPLE] + [("J1-M", 1), ("J1-L", 0)])
    store = redis.Redis.from_url(settings.redis_url)
    rebuild(Projector(settings, pool, store, make_search(settings, store)), progress=False)
    keys = KeyScheme(settings.key_prefix)
    assert {state(badge(store, keys, sku)) for sku in SIMPLE} == {"in_stock"}
    assert state(badge(store, keys, "J1")) == "low_stock"

    # Sales of 20 (sold out) on even SKUs, 16 (low stock) on odd ones, in two movements each; the
    # variant J1-M sells its last one and J1-L receives 30: the product stays in stock through J1-L.
    movements = [
        {"sku": sku, "movement_id": f"bulk-{sku}-{n}", "delta": -10 if i % 2 == 0 else -8, "reason": "sale"}
        for n in range(2)
        for i, sku in enumerate(SIMPLE)
    ]
    movements += [
        {"sku": "J1-M", "movement_id": "bulk-J1-M", "delta": -1},
        {"sku": "J1-L", "movement_id": "bulk-J1-L", "delta": 30},
    ]
    response = client.post(f"{API}/stock/movements", json={"movements": movements}, headers=tokens["stock"])
    assert response.status_code == 201, response.get_json()
    outbox_id = response.get_json()["outbox_id"]

    expected = {sku: "sold_out" if i % 2 == 0 else "low_stock" for i, sku in enumerate(SIMPLE)}

    def projected() -> bool:
        return {sku: state(badge(store, keys, sku)) for sku in SIMPLE} == expected and (
            state(badge(store, keys, "J1", "J1-M")),
            state(badge(store, keys, "J1", "J1-L")),
            state(badge(store, keys, "J1")),
        ) == ("sold_out", "in_stock", "in_stock")

    wait_until(projected, timeout=60, what="the batch's badges in Redis")
    with pool.connection() as conn:
        row = conn.execute("SELECT keys, projected_at IS NOT NULL FROM outbox WHERE id = %s", (outbox_id,)).fetchone()
    assert row is not None and sorted(row[0]) == sorted([*SIMPLE, "J1-L", "J1-M"])
    wait_until(lambda: _projected(pool, outbox_id), timeout=30, what="the outbox row acknowledged")


def _projected(pool, outbox_id: int) -> bool:
    with pool.connection() as conn:
        row = conn.execute("SELECT projected_at IS NOT NULL FROM outbox WHERE id = %s", (outbox_id,)).fetchone()
    return bool(row and row[0])
