"""The metric helpers on their own: the in-memory tally, request and edge counting, the timed
search engine, the worker's counters, the multiprocess directory and the switch."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid

import pytest
from flask import Flask
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest

from projector.pipeline_metrics import PipelineMetrics
from snipshop.config import load
from snipshop.metrics import Tally
from tests.processes import REPO
from web.edge.edge_metrics import EdgeMetrics, TimedSearch, adapter_name
from web.request_metrics import LATENCY_BUCKETS, RequestMetrics
from web.revision import CACHED_ROUTE, Traced


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def revision() -> str:
    """A revision label of the test's own, so that counts of other tests do not mix in."""
    return uuid.uuid4().hex[:8]


def test_a_tally_flushed_reads_as_if_every_value_had_been_observed():
    direct, tallied = CollectorRegistry(), CollectorRegistry()
    values = [0.0001, 0.0005, 0.0007, 0.003, 0.003, 0.2, 4.0, 99.0]
    metrics = {}
    for registry in (direct, tallied):
        metrics[registry] = (
            Counter("c", "c", ["x"], registry=registry).labels("a"),
            Histogram("h", "h", ["x"], buckets=LATENCY_BUCKETS, registry=registry).labels("a"),
        )
    counter, histogram = metrics[direct]
    for v in values:
        counter.inc()
        histogram.observe(v)
    tally = Tally(flush_seconds=3600)
    counter, histogram = metrics[tallied]
    for v in values[:4]:
        tally.record(counter, histogram, v)
    for v in values[4:]:
        tally.count(counter)
        tally.observe(histogram, v)
    assert samples(tallied) != samples(direct)  # nothing before the flush
    tally.flush()
    assert samples(tallied) == samples(direct)
    tally.flush()  # nothing twice
    assert samples(tallied) == samples(direct)


def samples(registry: CollectorRegistry) -> list[str]:
    """The exposition's sample lines, but the creation times."""
    return [line for line in generate_latest(registry).decode().splitlines() if "_created" not in line]


def test_a_tally_flushes_by_itself():
    registry = CollectorRegistry()
    counter = Counter("c", "c", registry=registry)
    tally = Tally(flush_seconds=0.01)
    tally.count(counter, 3)
    from tests.processes import wait_until

    wait_until(lambda: registry.get_sample_value("c_total") == 3, timeout=5, what="the flush")


def _app(observe) -> Flask:
    app = Flask(__name__)
    app.add_url_rule("/p/<sku>", "product", lambda sku: f"product {sku}")
    app.add_url_rule("/metrics", "metrics", lambda: "scrape")
    app.wsgi_app = Traced(app.wsgi_app, "r1", lambda _environ: 7, observe)  # type: ignore[method-assign]
    return app


def test_requests_are_counted_by_route_rule_status_and_generation():
    rev = revision()
    counts = RequestMetrics("edge", rev, Tally(flush_seconds=3600))
    client = _app(counts).test_client()
    for sku in ("A-1", "B-2", "C-3"):
        assert client.get(f"/p/{sku}").status_code == 200
    assert client.get("/nowhere/at/all").status_code == 404
    assert client.get("/metrics").status_code == 200  # a scrape is not counted
    counts.tally.flush()
    labels = {"role": "edge", "revision": rev, "generation": "7", "served_by": "app"}
    assert value("snipshop_http_requests_total", route="/p/<sku>", status="200", **labels) == 3
    assert value("snipshop_http_requests_total", route="unmatched", status="404", **labels) == 1
    assert value("snipshop_http_requests_total", route="/metrics", status="200", **labels) == 0
    latency = {"role": "edge", "revision": rev, "route": "/p/<sku>", "generation": "7"}
    assert value("snipshop_http_request_duration_seconds_count", **latency) == 3
    assert 0 < value("snipshop_http_request_duration_seconds_sum", **latency) < 3


def test_a_page_answered_from_the_page_cache_names_its_route():
    rev = revision()
    counts = RequestMetrics("edge", rev, Tally(flush_seconds=3600))
    counts({CACHED_ROUTE: "/p/<sku>"}, "200 OK", "/p/<sku>", None, 0.0001)
    counts.tally.flush()
    assert (
        value(
            "snipshop_http_requests_total",
            role="edge",
            revision=rev,
            route="/p/<sku>",
            status="200",
            generation="none",
            served_by="page_cache",
        )
        == 1
    )


def test_snippets_and_the_near_cache_are_counted_per_generation():
    rev = revision()
    counts = EdgeMetrics(rev, Tally(flush_seconds=3600))
    counts.snippets(4, [b"a", None, b"b", None, None])
    counts.snippets(5, [b"a"])
    counts.near_cache(3, 2)
    counts.near_cache(0, 4)
    counts.repair_asked()
    counts.degraded("/p/<sku>", 4)
    counts.tally.flush()
    assert value("snipshop_edge_snippets_total", revision=rev, generation="4", result="hit") == 2
    assert value("snipshop_edge_snippets_total", revision=rev, generation="4", result="miss") == 3
    assert value("snipshop_edge_snippets_total", revision=rev, generation="5", result="hit") == 1
    assert value("snipshop_edge_near_cache_total", revision=rev, result="hit") == 3
    assert value("snipshop_edge_near_cache_total", revision=rev, result="miss") == 6
    assert value("snipshop_edge_repair_requests_total", revision=rev) == 1
    assert value("snipshop_edge_degraded_pages_total", revision=rev, route="/p/<sku>", generation="4") == 1


class EmbeddedIndex:
    """Named like the embedded adapter; fails its query when told to."""

    fail = False

    def query(self, q):
        if self.fail:
            raise ConnectionError("down")
        return ["A-1"]

    def facet_names(self):
        return frozenset({"color"})

    def suggest(self, text, locale, limit=8):
        return []

    def live_generation(self):
        return 3


def test_the_timed_search_engine_counts_time_and_failures_per_adapter():
    rev = revision()
    engine = EmbeddedIndex()
    timed = EdgeMetrics(rev, Tally(flush_seconds=3600)).timed(engine)  # type: ignore[arg-type]
    assert isinstance(timed, TimedSearch) and adapter_name(engine) == "embedded"
    assert timed.query("q") == ["A-1"] and timed.facet_names() == {"color"} and timed.suggest("x", "en_US") == []
    assert timed.live_generation() == 3  # anything else goes to the engine itself
    engine.fail = True
    with pytest.raises(ConnectionError):
        timed.query("q")
    labels = {"revision": rev, "adapter": "embedded"}
    assert value("snipshop_search_duration_seconds_count", operation="query", **labels) == 2
    assert value("snipshop_search_duration_seconds_count", operation="suggest", **labels) == 1
    assert value("snipshop_search_errors_total", operation="query", **labels) == 1
    assert value("snipshop_search_errors_total", operation="facet_names", **labels) == 0


def test_the_worker_counts_changes_lag_repairs_and_dead_letters():
    rev = revision()
    counts = PipelineMetrics(rev)
    counts.projected("price", 3, 0.2)
    counts.projected("price", 0, None)  # a refresh: no outbox rows, no lag
    counts.repaired(0)  # nothing was pending
    counts.repaired(12)
    counts.dead_letter("projector.project_products")
    assert value("snipshop_projected_changes_total", revision=rev, topic="price") == 3
    assert value("snipshop_projection_tasks_total", revision=rev, topic="price") == 2
    assert value("snipshop_projection_lag_seconds_count", revision=rev, topic="price") == 1
    assert value("snipshop_projection_lag_seconds_bucket", revision=rev, topic="price", le="0.1") == 0
    assert value("snipshop_projection_lag_seconds_bucket", revision=rev, topic="price", le="0.25") == 1
    assert value("snipshop_read_repairs_total", revision=rev) == 1
    assert value("snipshop_read_repair_snippets_total", revision=rev) == 12
    assert value("snipshop_dead_letters_total", revision=rev, task="projector.project_products") == 1


def test_the_switch_and_the_ports_come_from_the_environment():
    assert load({}).metrics_enabled and load({"METRICS_ENABLED": "on"}).metrics_enabled
    assert not load({"METRICS_ENABLED": "0"}).metrics_enabled
    assert not load({"METRICS_ENABLED": "false"}).metrics_enabled
    with pytest.raises(ValueError, match="METRICS_ENABLED|expected"):
        load({"METRICS_ENABLED": "maybe"})
    s = load({"WORKER_METRICS_PORT": "9201", "SCHEDULER_METRICS_PORT": "0", "METRICS_DIR": "/x"})
    assert (s.worker_metrics_port, s.scheduler_metrics_port, s.metrics_dir) == (9201, 0, "/x")
    assert (load({}).worker_metrics_port, load({}).scheduler_metrics_port) == (9101, 9102)


def test_a_server_run_sums_its_worker_processes_in_a_fresh_directory(tmp_path):
    """In a process of its own (prepare changes the process): two forked workers count, the
    parent's exposition sums them; an abandoned run's directory is removed, the run's own at exit."""
    abandoned = tmp_path / "edge-999999999"
    abandoned.mkdir()
    script = textwrap.dedent(
        f"""
        import os
        from snipshop import metrics
        from snipshop.config import load
        run = metrics.prepare(load({{"METRICS_DIR": {str(tmp_path)!r}}}), "edge")
        assert run.name == f"edge-{{os.getpid()}}" and os.environ[metrics.MULTIPROC_ENV] == str(run)
        from prometheus_client import Counter
        served = Counter("served", "served", ["worker"])
        for n in range(2):
            pid = os.fork()
            if pid == 0:
                served.labels("any").inc(n + 1)
                os._exit(0)
            os.waitpid(pid, 0)
        text = metrics.exposition()[0].decode()
        print([line for line in text.splitlines() if line.startswith("served_total")])
        print(sorted(p.name for p in run.parent.iterdir()))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    samples, dirs = done.stdout.splitlines()
    assert samples == "['served_total{worker=\"any\"} 3.0']"
    assert "edge-999999999" not in dirs and dirs.startswith("['edge-")
    assert list(tmp_path.iterdir()) == []  # the run's directory went with it
