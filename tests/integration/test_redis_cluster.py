"""The snippet store on a real 3-primary Redis Cluster (REDIS_CLUSTER=1; docs/keys.md, "Redis
Cluster"): page fetches split per slot, deletion on every primary, scripts in pipelines that need
no loading, the generation switch without MULTI, and what a product page and an index share."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
import redis
from redis.crc import key_slot

from projector.render import Snippet
from projector.store import SnippetWriter, delete_generation, switch_live
from snipshop import redis_clients
from snipshop.config import Settings
from snipshop.redis_tools import slot_groups
from tools.localservices import RedisCluster, free_cluster_ports
from vocab.keys import SHOP_WIDE, CanaryRecord, Context, KeyScheme, Kind

pytestmark = pytest.mark.integration
CTX = Context("en_US", "EUR")
KEYS = KeyScheme("cl")


@pytest.fixture(scope="module")
def cluster_url(redis_cluster_url):
    """The session's cluster (TEST_REDIS_CLUSTER=1), else one of this module's own."""
    if redis_cluster_url is not None:
        yield redis_cluster_url
        return
    base = Path(tempfile.mkdtemp(prefix="snipshop-cluster-"))
    cluster = RedisCluster(free_cluster_ports(3), base).start()
    yield cluster.url
    cluster.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def client(cluster_url):
    settings = replace(Settings(), redis_url=f"{cluster_url}/0", redis_cluster=True, key_prefix=KEYS.prefix)
    c = redis_clients.snippet_store(settings)
    c.flushdb()
    yield c
    c.close()


def per_primary(client) -> list[int]:
    return [client.get_redis_connection(node).dbsize() for node in client.get_primaries()]


def test_a_product_page_is_two_slots_fetched_in_one_call_in_the_order_asked(client):
    writer = SnippetWriter(client, KEYS, 600)
    skus = [f"P{i}" for i in range(40)]
    snippets = [
        Snippet(kind, CTX, sku, 1, f"{kind.value} of {sku}") for sku in skus for kind in (Kind.DETAIL, Kind.AVAIL)
    ]
    snippets += [Snippet(Kind.FRAME, CTX, SHOP_WIDE, 1, "frame"), Snippet(Kind.LABELS, CTX, SHOP_WIDE, 1, "{}")]
    assert writer.write(snippets, [1]) == len(snippets)
    assert all(per_primary(client))  # the products are spread over every primary

    page = KEYS.product_page(1, CTX, "P7")
    assert len(slot_groups(client, page)) == 2  # the product's tag and the shop-wide {_}
    values = client.mget(page)
    assert values[0] == b"1\nframe" and values[1] == b"1\ndetail of P7" and values[-1] == b"1\n{}"
    assert values[5] == b"1\navail of P7" and values[4] is None  # no offer
    tiles = KEYS.tiles(1, CTX, skus)  # a listing's tiles: many slots, one call, in order
    assert client.mget(tiles)[3::4] == [f"1\navail of {sku}".encode() for sku in skus]


def test_a_generation_is_deleted_from_every_primary(client):
    writer = SnippetWriter(client, KEYS, 600)
    writer.write([Snippet(Kind.DETAIL, CTX, f"D{i}", 1, "x") for i in range(300)], [1, 2])
    before = per_primary(client)
    assert all(before) and sum(before) == 600
    assert delete_generation(client, KEYS, 1) == 300
    assert sum(per_primary(client)) == 300
    assert client.mget([KEYS.snippet(2, Kind.DETAIL, CTX, f"D{i}") for i in range(300)]).count(None) == 0


def test_scripts_in_pipelines_need_no_loading(client):
    writer = SnippetWriter(client, KEYS, 600)
    client.script_flush()  # every primary forgets its scripts (as after a restart)
    assert writer.write([Snippet(Kind.DETAIL, CTX, f"S{i}", 1, "x") for i in range(50)], [1]) == 50
    assert writer.write([Snippet(Kind.DETAIL, CTX, "S1", 0, "older")], [1]) == 0  # still guarded


def test_the_switch_moves_the_pointers_without_a_transaction(client):
    client.set(KEYS.building, 4)
    client.set(KEYS.building_templates, "/tmp/t")
    client.set(KEYS.canary, CanaryRecord(4, 3, 10, 0.0, None).encode())
    switch_live(client, KEYS, 4, ending_canary=True)
    assert client.mget(KEYS.live, KEYS.building, KEYS.building_templates, KEYS.canary) == [b"4", None, None, None]


def test_one_generation_of_the_index_is_one_slot_and_a_product_is_one_slot():
    gen = 7
    index = [
        KEYS.search_visible(gen),
        KEYS.search_doc(gen, "ANY-SKU"),
        KEYS.search_facet_bitmap(gen, "color", "Red"),
        KEYS.search_term(gen, "en_US", True, "shoe"),
        KEYS.search_temp(gen, "abc", 3),
        KEYS.search_ids(gen),
    ]
    assert len({key_slot(k.encode()) for k in index}) == 1
    assert key_slot(KEYS.search_visible(gen).encode()) != key_slot(KEYS.search_visible(gen + 1).encode())
    product = [*KEYS.product_page(1, CTX, "MJ01")[1:7], *KEYS.variant_parts(2, CTX, "MJ01", ["MJ01-S", "MJ01-M"])]
    assert len({key_slot(k.encode()) for k in product}) == 1


def test_a_cluster_that_cannot_be_reached_is_a_connection_error():
    from tools.localservices import free_port

    settings = replace(Settings(), redis_url=f"redis://127.0.0.1:{free_port()}/0", redis_cluster=True)
    with pytest.raises(redis.ConnectionError):
        redis_clients.snippet_store(settings, timeout=0.5)
