"""Requests of both web apps, by route and status, and how long they took (Prometheus).

:class:`RequestMetrics` is the ``observe`` hook of :class:`web.revision.Traced`, so it sees every
response, those the edge's page cache answers in front of Flask included, without a middleware
of its own. Labels are bounded: the route is the rule that answered (``/p/<sku>``, never the
raw path; ``unmatched`` for a 404 or 405 no route took), the generation is the snippet generation
the page was served from (``none`` on the admin app). Every label set's children are made once
per process and kept, and counts go through a :class:`~snipshop.metrics.Tally`: a response costs
a dictionary lookup and two additions in memory, not a write to the metric files.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response
from prometheus_client import Counter, Histogram

from snipshop import metrics
from web.revision import CACHED_ROUTE

#: Where the edge's answers fall: its page cache answers in well under a millisecond.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: The scrape's own route, which is not counted (a scrape must not change what it reads).
METRICS_ROUTE = "/metrics"

REQUESTS = Counter(
    "snipshop_http_requests",
    "HTTP responses by role, route rule, status, snippet generation and what answered "
    "(page_cache: the edge's page cache in front of Flask; app: Flask)",
    ["role", metrics.REVISION, "route", "status", "generation", "served_by"],
)
LATENCY = Histogram(
    "snipshop_http_request_duration_seconds",
    "Time to the response's first byte, by role, route rule and snippet generation",
    ["role", metrics.REVISION, "route", "generation"],
    buckets=LATENCY_BUCKETS,
)


class RequestMetrics:
    """Counts one web role's responses (``role``: ``edge`` or ``admin``) at ``revision``."""

    def __init__(self, role: str, revision: str, tally: metrics.Tally | None = None) -> None:
        self.role = role
        self.revision = revision
        self.tally = tally if tally is not None else metrics.Tally()
        self._children: dict[tuple, tuple[Any, Any]] = {}

    def __call__(self, environ: dict[str, Any], status: str, route: str, generation: int | None, seconds: float):
        if route == METRICS_ROUTE:
            return
        served_by = "page_cache" if CACHED_ROUTE in environ else "app"
        key = (route, status, generation, served_by)
        children = self._children.get(key)
        if children is None:
            gen = "none" if generation is None else str(generation)
            children = self._children[key] = (
                REQUESTS.labels(self.role, self.revision, route, status[:3], gen, served_by),
                LATENCY.labels(self.role, self.revision, route, gen),
            )
        self.tally.record(children[0], children[1], seconds)


def metrics_view() -> Response:
    """``GET /metrics``: the Prometheus text of every process of this server."""
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})


def init_app(app: Flask) -> None:
    """Add ``GET /metrics`` to ``app``."""
    app.add_url_rule(METRICS_ROUTE, "metrics", metrics_view, methods=["GET"])
