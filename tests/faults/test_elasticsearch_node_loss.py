"""An Elasticsearch node dies (SIGKILL) while shoppers browse listings and the projector indexes:
every listing request is answered correctly, no document is lost, and indexing goes on.

The shop runs on a 3-node cluster of its own (tools/elasticsearch.py: each node a process group of
its own, so one can be killed while the others serve); ``ELASTICSEARCH_URL`` lists all three nodes.
Its index generation has one replica (``ELASTICSEARCH_REPLICAS``, default ``0-1``), so every
document lives on two nodes. While the edge answers listing and search pages in a loop (the
search result cache off, so each one asks Elasticsearch) and the admin API takes product and price
writes (each one projected and indexed by a Celery worker), the node holding the live index's
primary shard is SIGKILLed. Then:

- every page answered is a 200 with the same products and facets as before the loss, or a
  documented degraded page (a 200 marked ``no-store``, docs/resilience.md); no 5xx, no error;
- every write acknowledged before, during and after the loss is in the index: the index equals a
  fresh projection of PostgreSQL (tests/store_dump.py), document by document;
- writes after the loss are indexed (the shop keeps indexing on two nodes).
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from elasticsearch import Elasticsearch

from catalog import commands
from catalog.models import CategoryIn, ProductIn
from projector.rebuild import rebuild
from search.elastic import ElasticIndex
from tests import store_dump
from tests.faults.conftest import FRESH_DB, seed
from tests.processes import wait_until
from tools.elasticsearch import ElasticsearchCluster, free_base_port

pytestmark = [pytest.mark.faults, pytest.mark.elasticsearch, pytest.mark.es_cluster]
API = "/admin/api/v1"
PRODUCTS = 60
READERS = 2
BEFORE, DURING, AFTER = 5.0, 10.0, 5.0  # seconds of load around the loss
PATHS = ["/c/gear", "/c/bags", "/c/gear?page=2", "/c/tops?brand=Zed", "/search?q=bag", "/search?q=tasche&locale=de_DE"]
LISTING = re.compile(r'<div class="listing">.*</section></div>', re.S)
TILE = re.compile(r'class="tile-link" href="/p/([^"]+)"')


@pytest.fixture(scope="module")
def cluster():
    # Not under pytest's tmp dir: that is private to root, and Elasticsearch runs as "nobody".
    base = Path(tempfile.mkdtemp(prefix="snipshop-es-loss-"))
    base.chmod(0o755)
    c = ElasticsearchCluster(base, free_base_port(3), nodes=3, heap_mb=512)
    c.start(timeout=240)
    yield c
    c.stop()
    shutil.rmtree(base, ignore_errors=True)


class Load:
    """Shoppers reading listings and an editor writing, in threads, until stopped; every answer counted."""

    def __init__(self, edge: str, admin: str, headers: dict[str, dict[str, str]], skus: list[str], expected: dict):
        self.edge, self.admin, self.headers, self.skus, self.expected = edge, admin, headers, skus, expected
        self.stop = threading.Event()
        self.phase = "before"
        self.answers: Counter[tuple[str, str]] = Counter()  # (phase, outcome)
        self.wrong: list[str] = []
        self.writes: Counter[tuple[str, str]] = Counter()
        self.created: list[str] = []
        self.threads = [threading.Thread(target=self._read, args=(n,), daemon=True) for n in range(READERS)]
        self.threads.append(threading.Thread(target=self._write, daemon=True))

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(30)

    def _read(self, n: int) -> None:
        session = requests.Session()
        i = n
        while not self.stop.is_set():
            path = PATHS[i % len(PATHS)]
            i += 1
            phase = self.phase
            try:
                session.cookies.clear()  # a choice remembered (the German search's locale) would change the next page
                r = session.get(self.edge + path, timeout=15)
            except requests.RequestException as e:
                self._wrong(phase, f"{path}: {e}")
                continue
            if r.status_code == 200 and "no-store" in r.headers.get("Cache-Control", ""):
                self.answers[phase, "degraded"] += 1
            elif r.status_code == 200 and listing_of(r.text) == self.expected[path]:
                self.answers[phase, "correct"] += 1
            else:
                self._wrong(phase, f"{path}: {r.status_code} {r.text[:300]!r}")

    def _wrong(self, phase: str, what: str) -> None:
        self.answers[phase, "wrong"] += 1
        self.wrong.append(f"{phase}: {what}")

    def _write(self) -> None:
        session = requests.Session()
        k = 0
        while not self.stop.is_set():
            phase = self.phase
            if k % 2 == 0:  # a new product, in a category no page of PATHS lists
                sku = f"N-{k:05d}"
                body = new_product(k).model_dump()
                r = session.put(f"{self.admin}{API}/products/{sku}", json=body, headers=self.headers["editor"])
                if r.status_code in (200, 201):
                    self.created.append(sku)
            else:  # a price no page of PATHS shows (they show EUR), re-indexed all the same
                sku = self.skus[k % len(self.skus)]
                r = session.put(
                    f"{self.admin}{API}/prices/{sku}/USD",
                    json={"amount": f"{100 + k % 900}.{k % 100:02d}"},
                    headers=self.headers["pricing"],
                )
            self.writes[phase, "acknowledged" if r.status_code in (200, 201) else f"HTTP {r.status_code}"] += 1
            k += 1
            time.sleep(0.02)


def listing_of(body: str) -> str | None:
    """What a listing page says: its filters and facet counts, the number of results and the
    products in order (web/edge/listing.py), without the page around it."""
    found = LISTING.search(body)
    return found.group(0) if found else None


def new_product(k: int) -> ProductIn:
    return ProductIn(
        name={"en_US": f"Lantern {k}", "de_DE": f"Laterne {k}"},
        description={"en_US": f"<p>Lantern number {k}.</p>"},
        brand="Glow",
        categories=["lamps"],
        attributes={"color": "Yellow"},
    )


@pytest.mark.timeout(480)  # the cluster's start is part of it: about 30 s idle, 70 s on a busy machine
def test_a_node_killed_while_listing_and_indexing(rig, cluster):
    prefix = f"loss{uuid.uuid4().hex[:8]}"
    es_url = ",".join(cluster.node_urls)
    rig.settings = replace(rig.settings, elasticsearch_url=es_url, key_prefix=prefix, search_cache_seconds=0)
    rig.env.update(ELASTICSEARCH_URL=es_url, SHOP_KEY_PREFIX=prefix, SEARCH_CACHE_SECONDS="0")
    es = Elasticsearch(cluster.node_urls, request_timeout=30, max_retries=3, retry_on_timeout=True)

    skus = seed(rig, PRODUCTS)
    with rig.pool.connection() as conn:  # the new products' category, with one product from the start
        commands.put_categories(conn, [("lamps", CategoryIn(parent=None, name={"en_US": "Lamps"}, position=9))])
        commands.put_products(conn, [("N-start", new_product(-1))])
        commands.put_prices(conn, [("N-start", "EUR", Decimal("9.99"))])
    projector = rig.projector()
    rebuild(projector, progress=False)
    index = projector.search.index_name(projector.search.live_generation())
    health = es.cluster.health(index=index, wait_for_status="green", timeout="60s")
    copies = es.cat.shards(index=index, format="json")
    assert health["status"] == "green" and len(copies) == 2, copies  # one primary, one replica
    assert len({s["node"] for s in copies}) == 2, copies

    rig.start_worker()
    rig.start_scheduler()
    edge = rig.start_http("edge")
    admin = rig.start_http("admin")
    headers = {"editor": rig.token("editor"), "pricing": rig.token("pricing")}
    expected = {}
    for path in PATHS:
        r = requests.get(edge + path, timeout=10)
        assert r.status_code == 200, (path, r.status_code, r.text[:500])
        expected[path] = listing_of(r.text)
        assert expected[path] and TILE.search(expected[path]), f"{path} lists no product:\n{r.text[:3000]}"

    # The victim: the node holding the live index's primary shard, so that a replica must be
    # promoted while writes arrive (when it is also the elected master, its loss adds an
    # election; the FIGURE line says which it was).
    primary = next(s["node"] for s in copies if s["prirep"] == "p")
    victim = next(n for n in (1, 2, 3) if cluster.node_name(n) == primary)
    was_master = es.cat.master(format="json")[0]["node"] == primary
    survivors = Elasticsearch(
        [cluster.node_url(n) for n in (1, 2, 3) if n != victim], request_timeout=30, max_retries=3
    )

    with Load(edge, admin, headers, skus, expected) as load:
        time.sleep(BEFORE)
        load.phase = "during"
        killed_at = time.monotonic()
        cluster.kill_node(victim)
        wait_until(lambda: survivors.cluster.health()["number_of_nodes"] == 2, timeout=60, what="the loss noticed")
        noticed = time.monotonic() - killed_at
        promoted = survivors.cluster.health(index=index, wait_for_status="yellow", timeout="60s")
        assert promoted["active_primary_shards"] == 1, promoted
        time.sleep(max(0.0, DURING - (time.monotonic() - killed_at)))
        load.phase = "after"
        created_after = len(load.created)
        time.sleep(AFTER)
    created_late = load.created[created_after:]

    rig.wait_drained(timeout=90)
    live = ElasticIndex(survivors, prefix, rig.settings.locales, rig.settings.currencies)
    fresh_index = ElasticIndex(survivors, f"fresh{prefix}", rig.settings.locales, rig.settings.currencies)
    actual = store_dump.dump(rig.client, rig.settings, search=live)
    fresh = store_dump.fresh_projection(rig.settings, f"{rig.redis_base_url}/{FRESH_DB}", search=fresh_index)
    differing = store_dump.diff(actual, fresh)
    phases = ("before", "during", "after")
    answers = {
        outcome: "/".join(str(load.answers[phase, outcome]) for phase in phases)
        for outcome in ("correct", "degraded", "wrong")
    }
    writes = dict(sorted(load.writes.items()))
    print(
        f"\nFIGURE es-node-loss: node {victim} ({'the elected master, ' if was_master else ''}holding the primary) "
        f"SIGKILLed, noticed in {noticed:.1f}s; listing and search pages before/during/after the loss: {answers}; "
        f"writes {writes}; "
        f"{len(actual.documents)} documents indexed, {len(created_late)} products created after the loss; "
        f"differing keys = {len(differing)}"
    )
    es.close()
    survivors.close()
    assert not load.wrong, "\n".join(load.wrong[:20])
    assert all(load.answers[phase, "correct"] >= 3 for phase in phases), answers  # pages served throughout
    assert set(writes) <= {(p, "acknowledged") for p in phases}, writes
    assert created_late, "no product was created after the loss"
    assert set(load.created) <= set(actual.documents), sorted(set(load.created) - set(actual.documents))
    assert len(actual.documents) == PRODUCTS + 1 + len(load.created)
    assert differing == [], store_dump.describe(differing)
