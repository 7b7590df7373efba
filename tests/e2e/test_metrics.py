"""Metrics of every role, read from their real ``/metrics`` endpoints after a known sequence.

The shop runs in real processes (edge on granian and admin app on gunicorn with two workers each,
so their counters are summed from several processes; a prefork Celery worker; beat), each
metrics endpoint on a port of its own. Counters are compared as differences across the
sequence, so what the fixtures did first does not count.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from catalog.tokens import create_token
from projector import celery_app as names
from projector.celery_app import make_celery
from snipshop.metrics import FLUSH_SECONDS
from tests.processes import Process, start_http, start_scheduler, start_worker, wait_until
from tests.redis_support import store_client
from tools.localservices import free_port
from vocab.keys import PRODUCT_PAGE_KINDS, Context, KeyScheme, Kind
from vocab.topics import Queue

pytestmark = pytest.mark.e2e
API = "/admin/api/v1"
REVISION = "metrics-e2e"
SKUS = ("M-1", "M-2", "M-3")


class Scrape:
    """One scrape of a ``/metrics`` endpoint: samples by name and labels. The web roles count in
    memory and write their metric files every FLUSH_SECONDS (snipshop.metrics.Tally): a scrape of
    one waits that long first, so that every worker's counts are in."""

    def __init__(self, url: str) -> None:
        if not url.endswith("/metrics"):
            time.sleep(FLUSH_SECONDS * 1.5)
            url += "/metrics"
        r = requests.get(url, timeout=10)
        assert r.status_code == 200, r.text
        self.samples: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
        for family in text_string_to_metric_families(r.text):
            for s in family.samples:
                self.samples[s.name].append((s.labels, s.value))

    def value(self, name: str, **labels: str) -> float:
        """The sum of ``name``'s samples whose labels include ``labels``."""
        return sum(v for found, v in self.samples.get(name, []) if labels.items() <= found.items())

    def labels(self, name: str) -> list[dict[str, str]]:
        return [found for found, _ in self.samples.get(name, [])]


@pytest.fixture
def shop(settings, service_env, tmp_path):
    ports = {"WORKER_METRICS_PORT": free_port(), "SCHEDULER_METRICS_PORT": free_port()}
    env = dict(
        service_env, SNIPSHOP_REVISION=REVISION, SEARCH_CACHE_SECONDS="0", **{k: str(v) for k, v in ports.items()}
    )
    with psycopg.connect(settings.database_url) as conn:
        token = create_token(conn, "admin", "metrics")
    procs: list[Process] = [start_worker(env, tmp_path), start_scheduler(env, tmp_path)]
    edge_proc, edge = start_http("edge", env, tmp_path)
    admin_proc, admin = start_http("admin", env, tmp_path)
    procs += [edge_proc, admin_proc]
    urls = {
        "edge": edge,
        "admin": admin,
        "worker": f"http://127.0.0.1:{ports['WORKER_METRICS_PORT']}/metrics",
        "scheduler": f"http://127.0.0.1:{ports['SCHEDULER_METRICS_PORT']}/metrics",
        "token": token,
    }
    wait_until(lambda: _answers(urls["scheduler"]), timeout=30, what="the scheduler's metrics endpoint")
    yield urls
    for p in procs:
        p.stop()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def test_counters_read_what_happened(shop, settings):
    auth = {"Authorization": f"Bearer {shop['token']}"}
    client = store_client(settings)
    keys = KeyScheme(settings.key_prefix)

    def put(path: str, body: dict) -> requests.Response:
        return requests.put(shop["admin"] + API + path, json=body, headers=auth, timeout=10)

    edge0, admin0, worker0 = (
        Scrape(shop["edge"]),
        Scrape(shop["admin"]),
        Scrape(shop["worker"]),
    )

    # Writes: 1 category, 3 products, 3 prices, 3 stock levels (10 outbox rows), 2 refused ones.
    assert put("/categories/bags", {"parent": None, "name": {"en_US": "Bags"}, "position": 1}).status_code == 200
    for sku in SKUS:
        body = {"name": {"en_US": f"Bag {sku}"}, "brand": "Luma", "categories": ["bags"], "active": True}
        assert put(f"/products/{sku}", body).status_code == 200
        assert put(f"/prices/{sku}/EUR", {"amount": "10.00"}).status_code == 200
        assert put(f"/stock/{sku}", {"quantity": 40}).status_code == 200
    assert put("/prices/M-1/EUR", {"amount": "ten"}).status_code == 422
    assert requests.put(shop["admin"] + API + "/stock/M-1", json={"quantity": 1}, timeout=10).status_code == 401

    wait_until(
        lambda: (
            Scrape(shop["worker"]).value("snipshop_projected_changes_total")
            - worker0.value("snipshop_projected_changes_total")
            >= 10
        ),
        timeout=30,
        what="ten changes projected",
    )
    worker = Scrape(shop["worker"])
    for topic, changes in (("product", 3), ("price", 3), ("stock", 3), ("category", 1)):
        got = worker.value("snipshop_projected_changes_total", topic=topic) - worker0.value(
            "snipshop_projected_changes_total", topic=topic
        )
        assert got == changes, topic
        assert worker.value("snipshop_projection_lag_seconds_count", topic=topic) >= 1, topic

    admin = Scrape(shop["admin"])

    def admin_delta(**labels: str) -> float:
        return admin.value("snipshop_http_requests_total", role="admin", **labels) - admin0.value(
            "snipshop_http_requests_total", role="admin", **labels
        )

    assert admin_delta(route=f"{API}/products/<sku>", status="200") == 3
    assert admin_delta(route=f"{API}/prices/<sku>/<currency>", status="200") == 3
    assert admin_delta(route=f"{API}/prices/<sku>/<currency>", status="422") == 1
    assert admin_delta(route=f"{API}/stock/<sku>", status="401") == 1
    assert admin_delta() == 12

    # Shopper requests. The edge has not seen these products yet: the page of M-3 misses its
    # price, deleted behind the projector's back, and is served degraded.
    gen = int(client.get(keys.live))
    ctx = Context("en_US", "EUR")
    client.delete(keys.snippet(gen, Kind.PRICE, ctx, "M-3"))
    stored = client.exists(*keys.product_page(gen, ctx, "M-3"))
    wanted = len(PRODUCT_PAGE_KINDS)

    before = Scrape(shop["edge"])
    r = requests.get(shop["edge"] + "/p/M-3", timeout=10)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    after = Scrape(shop["edge"])

    def change(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    assert change("snipshop_edge_snippets_total", result="hit", generation=str(gen)) == stored
    assert change("snipshop_edge_snippets_total", result="miss", generation=str(gen)) == wanted - stored == 1
    assert change("snipshop_edge_near_cache_total") == wanted  # hits and misses: every key asked once
    assert change("snipshop_edge_degraded_pages_total", route="/p/<sku>", generation=str(gen)) == 1
    assert change("snipshop_edge_repair_requests_total") == 1
    wait_until(
        lambda: (
            Scrape(shop["worker"]).value("snipshop_read_repairs_total") - worker0.value("snipshop_read_repairs_total")
            == 1
        ),
        timeout=15,
        what="the read-repair",
    )

    # The first requests start each edge worker's near cache listening (a page is kept whole only
    # from near-cached values); then each worker assembles M-1 at most once more and keeps it.
    for _ in range(6):
        assert requests.get(shop["edge"] + "/p/M-1", timeout=10).status_code == 200
    time.sleep(1)
    for _ in range(20):
        assert requests.get(shop["edge"] + "/p/M-1", timeout=10).status_code == 200
    assert requests.get(shop["edge"] + "/p/NOPE-1", timeout=10).status_code == 404
    assert requests.get(shop["edge"] + "/no/such/page", timeout=10).status_code == 404
    assert requests.get(shop["edge"] + "/c/bags", timeout=10).status_code == 200
    edge = Scrape(shop["edge"])

    def edge_delta(name: str = "snipshop_http_requests_total", **labels: str) -> float:
        return edge.value(name, **labels) - edge0.value(name, **labels)

    assert edge_delta(route="/p/<sku>", status="200") == 27
    assert edge_delta(route="/p/<sku>", status="404") == 1
    assert edge_delta(route="unmatched", status="404") == 1
    assert edge_delta(route="/c/<category_key>", status="200") == 1
    assert edge_delta() == 30
    assert edge_delta(route="/p/<sku>", status="200", served_by="page_cache") >= 16
    assert edge_delta(route="/p/<sku>", status="200", served_by="app") <= 11
    assert edge_delta(route="/p/<sku>", generation=str(gen)) == 28
    assert edge_delta("snipshop_http_request_duration_seconds_count", route="/p/<sku>") == 28
    assert edge_delta("snipshop_search_duration_seconds_count", adapter="embedded", operation="query") == 1
    assert edge_delta("snipshop_search_errors_total") == 0

    # A poison task becomes a dead letter; an offer to come waits as a timer.
    make_celery(settings).send_task(names.PROJECT_PRODUCTS, args=[123], kwargs={"sent_at": 1.0})
    start = datetime.now(UTC) + timedelta(hours=1)
    offer = {"amount": "8.00", "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat()}
    assert put("/offers/M-2/EUR", offer).status_code == 200
    wait_until(
        lambda: Scrape(shop["worker"]).value("snipshop_dead_letters_total", task=names.PROJECT_PRODUCTS) == 1,
        timeout=15,
        what="the dead letter",
    )

    def settled() -> Scrape | None:
        s = Scrape(shop["scheduler"])
        done = s.value("snipshop_outbox_backlog") == 0 and s.value("snipshop_outbox_unacknowledged") == 0
        return s if done and s.value("snipshop_offers_pending") > 0 else None

    scheduler = wait_until(settled, timeout=15, what="the outbox drained and the offer's timer set")
    assert scheduler.value("snipshop_dead_letters_stored") == 1
    assert scheduler.value("snipshop_offers_pending") == client.zcard(keys.timers)
    assert scheduler.value("snipshop_live_generation") == gen
    # The scheduler's own periodic tasks (relay sweep, offer timers, read-repair) pass through
    # the queues several times a second: one may be caught waiting at any scrape.
    wait_until(
        lambda: Scrape(shop["scheduler"]).value("snipshop_queue_depth") == 0, timeout=15, what="every queue empty"
    )
    assert sorted(s["queue"] for s in scheduler.labels("snipshop_queue_depth")) == sorted(q.value for q in Queue)
    assert scheduler.value("snipshop_rebuild_running") == 0
    assert {s["source"]: s for s in scheduler.labels("snipshop_pipeline_source_up")}.keys() == {
        "snippet_redis",
        "broker",
        "database",
    }
    assert scheduler.value("snipshop_pipeline_source_up") == 3

    # Every sample of the shop's own metrics names the revision.
    for scrape in (edge, admin, worker, scheduler):
        for name, samples in scrape.samples.items():
            if name.startswith("snipshop_"):
                assert all(labels.get("revision") == REVISION for labels, _ in samples), name


def test_metrics_can_be_turned_off(settings, service_env, tmp_path):
    port = free_port()
    env = dict(service_env, METRICS_ENABLED="0", WORKER_METRICS_PORT=str(port))
    worker = start_worker(env, tmp_path)
    edge_proc, edge = start_http("edge", env, tmp_path)
    try:
        r = requests.get(edge + "/metrics", timeout=10)
        assert r.status_code in (404, 503) and "snipshop_" not in r.text  # no such route (503: no snippets yet)
        assert not _answers(f"http://127.0.0.1:{port}/metrics")
    finally:
        edge_proc.stop()
        worker.stop()
