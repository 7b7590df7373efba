"""The scheduler's pipeline gauges read from real stores, and the rebuild's progress they show."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest
import redis
from prometheus_client import CollectorRegistry

from catalog import commands
from catalog.models import CategoryIn, ProductIn
from projector.pipeline_metrics import PipelineCollector
from projector.rebuild import rebuild
from projector.service import Projector
from search.factory import make_search
from tests.redis_support import store_client
from tools.localservices import free_port
from vocab.keys import KeyScheme
from vocab.topics import Queue

pytestmark = pytest.mark.integration
SKUS = [f"PM-{i:02d}" for i in range(12)]


def seed(pool) -> None:
    with pool.connection() as conn:
        commands.put_categories(conn, [("gear", CategoryIn(name={"en_US": "Gear"}))])
        commands.put_products(conn, [(sku, ProductIn(name={"en_US": sku}, categories=["gear"])) for sku in SKUS])
        commands.put_prices(conn, [(SKUS[0], "EUR", Decimal("9.50"))])


def gauges(collector: PipelineCollector) -> dict[str, float]:
    registry = CollectorRegistry()
    registry.register(collector)
    return {
        s.name + "".join(f"[{s.labels[label]}]" for label in ("source", "queue") if label in s.labels): s.value
        for family in registry.collect()
        for s in family.samples
    }


def collector(settings, broker_url: str | None = None) -> PipelineCollector:
    return PipelineCollector(
        "r1",
        store_client(settings),
        redis.Redis.from_url(broker_url or settings.broker_url, socket_timeout=1, socket_connect_timeout=1),
        KeyScheme(settings.key_prefix),
        lambda: psycopg.connect(settings.database_url, connect_timeout=3),
    )


def test_the_gauges_read_the_outbox_the_queue_and_the_stores(settings, pool):
    seed(pool)  # outbox rows nobody dispatched: no relay runs here
    with pool.connection() as conn:
        rows = conn.execute("SELECT count(*) FROM outbox WHERE dispatched_at IS NULL").fetchone()[0]
    broker = redis.Redis.from_url(settings.broker_url)
    broker.rpush(Queue.STOCK, "a", "b", "c")
    broker.rpush(Queue.PRICES, "d")
    store_client(settings).zadd(KeyScheme(settings.key_prefix).refresh_pending, {'["A"]': 1.0, '["B"]': 2.0})
    got = gauges(collector(settings))
    assert got["snipshop_outbox_backlog"] == rows > 0
    assert got["snipshop_outbox_oldest_age_seconds"] >= 0
    assert got["snipshop_outbox_unacknowledged"] == 0
    assert [got[f"snipshop_queue_depth[{q}]"] for q in Queue] == [3, 1, 0, 0, 0]  # stock, prices, catalog...
    assert got["snipshop_live_generation"] == 0 and got["snipshop_rebuild_running"] == 0
    assert got["snipshop_dead_letters_stored"] == 0 and got["snipshop_offers_pending"] == 0
    assert got["snipshop_refresh_batches_queued"] == 2
    assert [got[f"snipshop_pipeline_source_up[{s}]"] for s in ("snippet_redis", "broker", "database")] == [1, 1, 1]


def test_a_store_that_does_not_answer_leaves_its_gauges_out(settings):
    got = gauges(collector(settings, broker_url=f"redis://127.0.0.1:{free_port()}/0"))
    assert got["snipshop_pipeline_source_up[broker]"] == 0
    assert not [name for name in got if name.startswith("snipshop_queue_depth")]
    assert got["snipshop_pipeline_source_up[database]"] == 1 and "snipshop_outbox_backlog" in got


def test_a_full_rebuild_shows_its_progress_while_it_runs(settings, pool):
    seed(pool)
    client = store_client(settings)
    p = Projector(settings, pool, client, make_search(settings, client))
    seen: list[dict[str, float]] = []
    store = p.store

    def watched_store(rendered, gens):  # each batch's write starts after the batch before was noted
        seen.append(gauges(collector(settings)))
        return store(rendered, gens)

    p.store = watched_store  # type: ignore[method-assign]
    rebuild(p, progress=False, batch=1)
    assert all(g["snipshop_rebuild_running"] == 1 for g in seen)
    done = [g["snipshop_rebuild_products_done"] for g in seen]
    assert done == sorted(done) and done[-1] >= len(SKUS) - 1
    assert {g["snipshop_rebuild_products_total"] for g in seen[1:]} == {len(SKUS)}
    after = gauges(collector(settings))
    assert after["snipshop_rebuild_running"] == 0 and after["snipshop_rebuild_products_done"] == 0
    assert not client.exists(KeyScheme(settings.key_prefix).rebuild_progress)
    assert after["snipshop_live_generation"] == int(client.get(p.keys.live))
