"""A full rebuild renders in worker processes beside its own (projector/rebuild_workers.py): the
same store as one process, every product exactly once, and no switch unless every part succeeded."""

from __future__ import annotations

import os
import signal
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import redis

from catalog import commands
from catalog.models import CategoryIn, OfferIn, ProductIn, VariantIn
from projector.readmodel import count_products
from projector.rebuild import RebuildWorkerFailed, rebuild
from projector.service import Projector
from search.factory import make_search
from tests import store_dump

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
BATCH = 4  # small batches: many to share between the processes


class FixedClock:
    """A clock every process reads alike (picklable: the workers get it)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class FailingInWorkers(FixedClock):
    """In a worker process: marks ``marker`` and fails (``kill``: dies of SIGKILL). In the
    rebuild's own process: waits until a worker has marked it, so the failure is certain to
    happen while the rebuild runs, whatever the machine's speed."""

    def __init__(self, now: datetime, parent: int, marker: Path, kill: bool = False) -> None:
        super().__init__(now)
        self.parent, self.marker, self.kill = parent, marker, kill

    def __call__(self) -> datetime:
        if os.getpid() == self.parent:
            deadline = time.monotonic() + 60
            while not self.marker.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            return self.now
        self.marker.touch()
        if self.kill:
            os.kill(os.getpid(), signal.SIGKILL)
        raise RuntimeError("a worker's part failed")


def seed(pool) -> int:
    """Simple products, products in variants, offers, stock, a hidden and a deleted product."""
    with pool.connection() as conn:
        commands.put_categories(
            conn,
            [("gear", CategoryIn(name={"en_US": "Gear"})), ("bags", CategoryIn(parent="gear", name={"en_US": "Bags"}))],
        )
        simple = [f"S{i:02d}" for i in range(30)]
        commands.put_products(
            conn,
            [
                (sku, ProductIn(name={"en_US": f"Bag {sku}"}, brand=f"B{i % 4}", categories=["bags"], active=i != 7))
                for i, sku in enumerate(simple)
            ],
        )
        commands.put_prices(conn, [(sku, "EUR", Decimal(10 + i)) for i, sku in enumerate(simple)])
        commands.set_stock(conn, [(sku, i % 5) for i, sku in enumerate(simple)])
        offer = OfferIn.model_validate(
            {"amount": "5.00", "starts_at": (NOW - timedelta(days=1)).isoformat(), "ends_at": "2030-01-01T00:00:00Z"}
        )
        commands.put_offers(conn, [(sku, "EUR", offer) for sku in simple[::6]])
        grouped = [f"V{i:02d}" for i in range(8)]
        commands.put_products(
            conn, [(sku, ProductIn(name={"en_US": f"Jacket {sku}"}, categories=["gear"])) for sku in grouped]
        )
        variants = [(p, f"{p}-{size}", VariantIn(options={"size": size})) for p in grouped for size in ("S", "M", "L")]
        commands.put_variants(conn, variants)
        commands.put_prices(conn, [(sku, "EUR", Decimal(30 + i)) for i, (_, sku, _) in enumerate(variants)])
        commands.set_stock(conn, [(sku, i % 3) for i, (_, sku, _) in enumerate(variants)])
        commands.delete_product(conn, "S03")
        return count_products(conn)


def make(settings, pool, clock, es_url: str | None) -> Projector:
    if es_url is not None:
        settings = replace(settings, elasticsearch_url=es_url, key_prefix=f"rw{uuid.uuid4().hex[:8]}")
    client = redis.Redis.from_url(settings.redis_url)
    return Projector(settings, pool, client, make_search(settings, client), clock=clock)


@pytest.fixture(params=["embedded", "elasticsearch"])
def es(request) -> str | None:
    return request.getfixturevalue("es_url") if request.param == "elasticsearch" else None


def snapshot(p: Projector) -> store_dump.Dump:
    return store_dump.dump(p.writer.client, p.settings, search=p.search if p.settings.elasticsearch_url else None)


def test_workers_project_every_product_once_and_the_same_store_as_one_process(settings, pool, es):
    products = seed(pool)
    p = make(settings, pool, FixedClock(NOW), es)
    one = rebuild(p, progress=False, batch=BATCH, jobs=1)
    alone = snapshot(p)
    three = rebuild(p, progress=False, batch=BATCH, jobs=3)
    shared = snapshot(p)
    assert (one.processes, three.processes) == (1, 3)
    # Each product counted once: a batch taken twice or never would change the sum.
    assert one.products == three.products == products
    assert three.snippets == one.snippets
    assert shared.generation == three.generation != alone.generation
    assert alone.documents and len(alone.snippets) > 10 * products
    assert store_dump.diff(shared, alone, state_only_lag=False) == []
    assert int(p.writer.client.get(p.keys.live)) == three.generation
    assert p.search.live_generation() == three.generation


@pytest.mark.parametrize("kill", [False, True], ids=["raises", "killed"])
def test_a_failing_worker_fails_the_rebuild_and_nothing_switches(settings, pool, es, tmp_path, kill):
    seed(pool)
    good = make(settings, pool, FixedClock(NOW), es)
    live = rebuild(good, progress=False, batch=BATCH, jobs=1).generation
    before = snapshot(good)
    p = make(good.settings, pool, FailingInWorkers(NOW, os.getpid(), tmp_path / "failed", kill), None)
    p.search = good.search
    client, keys = p.writer.client, p.keys
    with pytest.raises(RebuildWorkerFailed) as failed:
        rebuild(p, progress=False, batch=BATCH, jobs=2)
    assert ("exited with code -9" if kill else "a worker's part failed") in str(failed.value)
    building = live + 1
    assert int(client.get(keys.live)) == live and p.search.live_generation() == live
    assert client.get(keys.building) is None and client.get(keys.rebuild_lock) is None
    assert not client.sismember(keys.generations, building)
    assert not list(client.scan_iter(match=keys.generation_pattern(building), count=1000))
    if es is not None:  # the half-built Elasticsearch index went too
        assert not good.search.client.indices.exists(index=good.search.index_name(building))
    assert store_dump.diff(snapshot(good), before, state_only_lag=False) == []
    assert rebuild(good, progress=False, batch=BATCH).generation > building  # nothing is left blocking
