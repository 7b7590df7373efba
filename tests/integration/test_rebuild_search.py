"""Rebuild fills a fresh search generation beside the live one and switches it with the snippets."""

import time
import uuid
from dataclasses import replace
from decimal import Decimal

import pytest

from catalog import commands
from catalog.models import CategoryIn, ProductIn
from projector.rebuild import rebuild
from projector.service import Projector
from search.factory import make_search
from search.query import Query
from tests.redis_support import store_client

pytestmark = pytest.mark.integration


def make_projector(settings, pool, es_url: str | None = None) -> Projector:
    if es_url is not None:
        settings = replace(settings, elasticsearch_url=es_url, key_prefix=f"rb{uuid.uuid4().hex[:8]}")
    client = store_client(settings)
    return Projector(settings, pool, client, make_search(settings, client))


@pytest.fixture(params=["embedded", "elasticsearch"])
def projector(request, settings, pool):
    return make_projector(
        settings, pool, request.getfixturevalue("es_url") if request.param == "elasticsearch" else None
    )


def seed(pool):
    with pool.connection() as conn:
        commands.put_categories(
            conn,
            [("gear", CategoryIn(name={"en_US": "Gear"})), ("bags", CategoryIn(parent="gear", name={"en_US": "Bags"}))],
        )
        commands.put_products(
            conn,
            [(f"P{i}", ProductIn(name={"en_US": f"Bag {i}"}, brand="Luma", categories=["bags"])) for i in range(3)],
        )
        commands.put_prices(conn, [(f"P{i}", "EUR", Decimal(10 + i)) for i in range(3)])


def holds_documents(projector, gen: int) -> bool:
    """Whether generation ``gen`` of the index still has documents (switches back afterwards)."""
    live = projector.search.live_generation()
    try:
        projector.search.switch(gen)
        return listing(projector).total > 0
    except Exception:  # noqa: BLE001 - Elasticsearch refuses an alias to a deleted index
        return False
    finally:
        projector.search.switch(live)


def listing(projector, **kw):
    projector.search.refresh()
    return projector.search.query(Query("en_US", "EUR", category="gear", sort="price_asc", **kw))


def test_rebuild_switches_the_search_generation_too(projector, pool):
    seed(pool)
    first = rebuild(projector, progress=False)
    assert projector.search.live_generation() == first.generation
    assert listing(projector).skus == ("P0", "P1", "P2")
    second = rebuild(projector, progress=False)
    assert projector.search.live_generation() == second.generation
    third = rebuild(projector, progress=False)
    assert projector.search.live_generation() == third.generation and listing(projector).total == 3
    # The generation before the live one is kept for a rollback; older ones are dropped.
    assert holds_documents(projector, second.generation)
    assert not holds_documents(projector, first.generation)


def test_live_changes_reach_the_index(projector, pool):
    seed(pool)
    rebuild(projector, progress=False)
    with pool.connection() as conn:
        commands.put_prices(conn, [("P2", "EUR", Decimal("1.00"))])
        commands.delete_product(conn, "P0")
    projector.products(["P0", "P2"])
    assert listing(projector).skus == ("P2", "P1")


def test_a_failed_rebuild_drops_its_half_built_index(projector, pool, monkeypatch):
    seed(pool)
    live = rebuild(projector, progress=False).generation

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(projector, "home", boom)
    with pytest.raises(RuntimeError):
        rebuild(projector, progress=False)
    assert projector.search.live_generation() == live
    assert listing(projector).total == 3
    assert not holds_documents(projector, live + 1)


def test_a_rebuilt_elasticsearch_generation_goes_live_in_one_segment(settings, pool, es_url, monkeypatch):
    """Bulk indexing leaves many segments and a listing pays per segment: the rebuild merges the
    new generation before the switch. Each batch is refreshed here, so it makes a segment."""
    projector = make_projector(settings, pool, es_url)
    seed(pool)
    with pool.connection() as conn:
        commands.put_products(
            conn, [(f"Q{i}", ProductIn(name={"en_US": f"Bag {i}"}, categories=["bags"])) for i in range(5)]
        )
    search = projector.search
    write = search.index

    def index_and_refresh(documents, generations):
        write(documents, generations)
        search.refresh()

    monkeypatch.setattr(search, "index", index_and_refresh)
    rebuild(projector, progress=False, batch=2)
    live = search.index_name(search.live_generation())
    shards = search.client.indices.segments(index=live)["indices"][live]["shards"]["0"]
    assert [copy["num_search_segments"] for copy in shards] == [1]
    assert listing(projector).total == 8


def test_a_rebuild_fills_its_elasticsearch_generation_without_refreshes_then_serves_with_defaults(
    settings, pool, es_url, monkeypatch
):
    """While a rebuild fills a generation, Elasticsearch neither refreshes it every second nor syncs
    its translog on every bulk request; before it goes live it gets the defaults back, so writes
    after the switch become visible by themselves."""
    projector = make_projector(settings, pool, es_url)
    seed(pool)
    search = projector.search
    write = search.index
    seen: list[dict] = []

    def index_and_look(documents, generations):
        write(documents, generations)
        for gen in generations:
            name = search.index_name(gen)
            seen.append(search.client.indices.get_settings(index=name)[name]["settings"]["index"])

    monkeypatch.setattr(search, "index", index_and_look)
    summary = rebuild(projector, progress=False, batch=2)
    building = [s for s in seen if s["provided_name"] == search.index_name(summary.generation)]
    assert building and all(s.get("refresh_interval") == "-1" for s in building)
    assert all(s["translog"]["durability"] == "async" for s in building)
    live = search.index_name(search.live_generation())
    after = search.client.indices.get_settings(index=live, include_defaults=True)[live]
    index = {**after["defaults"]["index"], **after["settings"]["index"]}
    assert index["refresh_interval"] == "1s" and index["translog"]["durability"] == "REQUEST"
    monkeypatch.setattr(search, "index", write)
    with pool.connection() as conn:
        commands.put_products(conn, [("LATE", ProductIn(name={"en_US": "Late bag"}, categories=["bags"]))])
    projector.products(["LATE"])
    query = Query("en_US", "EUR", category="gear", sort="price_asc")  # asked without refresh()
    deadline = time.monotonic() + 10
    while search.query(query).total != 4 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert search.query(query).total == 4
