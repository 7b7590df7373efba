"""Configuration, read from the environment once per process and passed down.

Nothing else in the code base reads ``os.environ`` for settings: a role's entry point calls
:func:`load` and hands the resulting :class:`Settings` to what it builds.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass

from vocab.images import image_base
from vocab.topics import QUEUES, parse_queues


def _list(value: str) -> tuple[str, ...]:
    items = tuple(v.strip() for v in value.split(",") if v.strip())
    if not items:
        raise ValueError("expected a comma-separated list with at least one item")
    return items


def _hosts(value: str) -> tuple[tuple[str, int], ...]:
    """``host:port,host:port`` (Redis Sentinel's addresses); empty: none."""
    if not value.strip():
        return ()
    hosts = []
    for item in _list(value):
        host, sep, port = item.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"expected host:port, not {item!r}")
        hosts.append((host, int(port)))
    return tuple(hosts)


def _flag(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected 1/0, true/false, yes/no or on/off, not {value!r}")


def _nodes(value: str) -> str | None:
    """ELASTICSEARCH_URL: None when unset or blank, else its URLs joined by commas."""
    if not value.strip():
        return None
    return ",".join(_list(value))


REPLICAS_RE = re.compile(r"^(\d+|\d+-(\d+|all))$")


def _replicas(value: str) -> str:
    value = value.strip()
    if not REPLICAS_RE.match(value):
        raise ValueError(f"ELASTICSEARCH_REPLICAS: expected a number or a range such as 0-1 or 0-all, not {value!r}")
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str = "postgresql:///snipshop"
    redis_url: str = "redis://127.0.0.1:6379/0"
    #: The snippet store is a Redis Cluster: ``redis_url`` names any node (its database must be 0,
    #: the only one a cluster has) and the client finds the others (snipshop/redis_clients.py).
    redis_cluster: bool = False
    broker_url: str = "redis://127.0.0.1:6379/1"
    #: The Elasticsearch cluster: one node's URL, or several separated by commas (every node the
    #: client may use; it spreads requests over them and retries a failed one on another).
    elasticsearch_url: str | None = None
    #: Replicas of each search index generation: ``0-1`` (the default) lets Elasticsearch keep
    #: none on a single node and one on two or more (so one node's loss loses nothing); another
    #: ``MIN-MAX`` range or ``0-all`` is handed to ``auto_expand_replicas`` likewise, and a plain
    #: number is a fixed ``number_of_replicas``. Read when a generation's index is created.
    elasticsearch_replicas: str = "0-1"
    locales: tuple[str, ...] = ("en_US",)
    currencies: tuple[str, ...] = ("EUR",)
    #: Prefix of every Redis key the shop writes (see vocab.keys).
    key_prefix: str = "ss"
    #: Redis Sentinel (docs/resilience.md): the sentinels' addresses; given, every client of the
    #: snippet store's primary asks them which server is the primary of ``redis_sentinel_service``
    #: (REDIS_URL then names only the database and the credentials) and follows a failover.
    redis_sentinels: tuple[tuple[str, int], ...] = ()
    redis_sentinel_service: str = "snipshop"
    #: Where the edge reads snippets and hears invalidations: a replica of the snippet store on the
    #: edge's host. None: the snippet store itself. The edge's few writes go to the primary.
    redis_read_url: str | None = None
    #: Replicas a projected change must reach (Redis WAIT) before its outbox rows are acknowledged;
    #: 0: no wait (no replicas).
    redis_wait_replicas: int = 0
    #: Lifetime of base snippets: how long the shop survives a dead database.
    snippet_ttl_seconds: int = 3 * 24 * 3600
    #: How often the scheduler re-projects live snippets to keep them from expiring.
    refresh_interval_seconds: int = 6 * 3600
    #: How often the relay sweeps the outbox for rows not yet dispatched (and stock rows, which
    #: it batches).
    relay_interval_seconds: float = 0.25
    #: How long after its dispatch an outbox row that no task acknowledged is sent again (once the
    #: queue of its topic has drained): the broker lost it, or a worker died holding it.
    outbox_redeliver_seconds: float = 30.0
    #: How long projected outbox rows are kept (an audit trail of writes) before the hourly prune.
    outbox_keep_days: float = 7.0
    #: Stock at or below this level (and above zero) shows as "low stock".
    low_stock_threshold: int = 5
    #: How long the edge trusts its cached copy of the live generation pointer.
    pointer_cache_seconds: float = 1.0
    #: Memory per edge process for snippets kept near (web/edge/nearcache.py); 0 turns it off.
    edge_cache_mb: int = 64
    #: Longest time the edge keeps a snippet without hearing of a change (a safety bound: changes
    #: made through the projector are announced at once).
    edge_cache_seconds: float = 60.0
    #: Memory per edge process for whole anonymous product and home pages, kept while their
    #: near-cached snippets are unchanged (web/edge/pagecache.py); 0 (or no near cache) turns it off.
    edge_page_cache_mb: int = 32
    #: How long an edge process reuses a search result (listing membership and facet counts;
    #: tiles are always current); 0 turns it off.
    search_cache_seconds: float = 60.0
    #: Largest admin request body, in bytes.
    max_body_bytes: int = 1024 * 1024
    #: Largest feed file upload to the back office (its own route: streamed to a temporary file).
    feed_max_bytes: int = 256 * 1024 * 1024
    #: Number of products the home page features.
    featured_count: int = 8
    #: Where product images are served (a static web server): image references are relative to it.
    #: An http(s) URL (its origin is allowed in the edge's Content-Security-Policy) or a path on
    #: the shop's own host; kept without a trailing slash (vocab/images.py).
    image_base_url: str = "/media"
    #: How long a replaced generation is kept for a rollback (``projector switch``).
    generation_grace_seconds: int = 3600
    #: Where a process keeps local state it needs across restarts (the scheduler's beat schedule);
    #: relative paths are relative to the working directory.
    state_dir: str = ".state"
    #: The code's revision (the image's git commit, baked in at build time): ``X-Revision`` and logs.
    revision: str = "unknown"
    #: This process's instance name in logs (a container's name); default: the host name.
    instance: str = ""
    #: Prometheus metrics (snipshop/metrics.py): ``/metrics`` on the edge and admin app, an HTTP
    #: endpoint of their own for the worker and the scheduler; False turns all of it off.
    metrics_enabled: bool = True
    #: Where the servers' worker processes keep their metric files (prometheus-client's
    #: multiprocess mode): each run makes a fresh directory of its own below it. None: the
    #: system's temporary directory.
    metrics_dir: str | None = None
    #: Address and ports of the worker's and the scheduler's metrics endpoints; port 0: none.
    metrics_host: str = "127.0.0.1"
    worker_metrics_port: int = 9101
    scheduler_metrics_port: int = 9102
    #: The shop's public base URL, for the back office's links to shop pages (e.g.
    #: https://shop.example.com); empty: links are relative to the admin app's host.
    shop_url: str = ""
    #: The IANA time zone the back office shows and reads offer times in (stored in UTC).
    shop_timezone: str = "Europe/Berlin"
    #: Templates that take precedence over the packaged ones (projector/templates): a template
    #: change tried as a canary (docs/canary.md). None: the packaged ones only.
    templates_dir: str | None = None
    #: Canary comparison (docs/canary.md): the window it reads, the requests each side needs before
    #: any verdict, how often the scheduler checks, and the increases (canary minus live, as a
    #: share of requests) of 5xx and degraded pages past which it aborts the canary.
    canary_window_minutes: int = 10
    canary_min_requests: int = 100
    canary_check_seconds: float = 30.0
    canary_max_error_increase: float = 0.01
    canary_max_degraded_increase: float = 0.01
    #: The queues ``snipshop worker`` serves (vocab.topics.Queue; docs/queues.md): all of them by
    #: default, so one worker runs the whole shop; ``snipshop worker --queues`` overrides it.
    worker_queues: tuple[str, ...] = tuple(q.value for q in QUEUES)

    @property
    def elasticsearch_nodes(self) -> tuple[str, ...]:
        """The node URLs of ``elasticsearch_url`` (empty when it is unset)."""
        return _list(self.elasticsearch_url) if self.elasticsearch_url else ()

    @property
    def default_locale(self) -> str:
        return self.locales[0]

    @property
    def default_currency(self) -> str:
        return self.currencies[0]


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from ``environ`` (default: the process environment)."""
    env = os.environ if environ is None else environ
    defaults = Settings()
    settings = Settings(
        database_url=env.get("DATABASE_URL", defaults.database_url),
        redis_url=env.get("REDIS_URL", defaults.redis_url),
        redis_cluster=_flag(env.get("REDIS_CLUSTER", "0")),
        broker_url=env.get("CELERY_BROKER_URL", defaults.broker_url),
        elasticsearch_url=_nodes(env.get("ELASTICSEARCH_URL", "")),
        elasticsearch_replicas=_replicas(env.get("ELASTICSEARCH_REPLICAS") or defaults.elasticsearch_replicas),
        locales=_list(env.get("SHOP_LOCALES", ",".join(defaults.locales))),
        currencies=tuple(c.upper() for c in _list(env.get("SHOP_CURRENCIES", ",".join(defaults.currencies)))),
        key_prefix=env.get("SHOP_KEY_PREFIX", defaults.key_prefix),
        redis_sentinels=_hosts(env.get("REDIS_SENTINELS", "")),
        redis_sentinel_service=env.get("REDIS_SENTINEL_SERVICE") or defaults.redis_sentinel_service,
        redis_read_url=env.get("REDIS_READ_URL") or None,
        redis_wait_replicas=int(env.get("REDIS_WAIT_REPLICAS", defaults.redis_wait_replicas)),
        snippet_ttl_seconds=int(env.get("SNIPPET_TTL_SECONDS", defaults.snippet_ttl_seconds)),
        refresh_interval_seconds=int(env.get("REFRESH_INTERVAL_SECONDS", defaults.refresh_interval_seconds)),
        relay_interval_seconds=float(env.get("RELAY_INTERVAL_SECONDS", defaults.relay_interval_seconds)),
        outbox_redeliver_seconds=float(env.get("OUTBOX_REDELIVER_SECONDS", defaults.outbox_redeliver_seconds)),
        outbox_keep_days=float(env.get("OUTBOX_KEEP_DAYS", defaults.outbox_keep_days)),
        low_stock_threshold=int(env.get("LOW_STOCK_THRESHOLD", defaults.low_stock_threshold)),
        pointer_cache_seconds=float(env.get("POINTER_CACHE_SECONDS", defaults.pointer_cache_seconds)),
        edge_cache_mb=int(env.get("EDGE_CACHE_MB", defaults.edge_cache_mb)),
        edge_page_cache_mb=int(env.get("EDGE_PAGE_CACHE_MB", defaults.edge_page_cache_mb)),
        edge_cache_seconds=float(env.get("EDGE_CACHE_SECONDS", defaults.edge_cache_seconds)),
        search_cache_seconds=float(env.get("SEARCH_CACHE_SECONDS", defaults.search_cache_seconds)),
        max_body_bytes=int(env.get("ADMIN_MAX_BODY_BYTES", defaults.max_body_bytes)),
        feed_max_bytes=int(env.get("BACKOFFICE_FEED_MAX_BYTES", defaults.feed_max_bytes)),
        featured_count=int(env.get("FEATURED_COUNT", defaults.featured_count)),
        image_base_url=image_base(env.get("IMAGE_BASE_URL", defaults.image_base_url)),
        generation_grace_seconds=int(env.get("GENERATION_GRACE_SECONDS", defaults.generation_grace_seconds)),
        state_dir=env.get("SNIPSHOP_STATE_DIR") or defaults.state_dir,
        revision=env.get("SNIPSHOP_REVISION") or defaults.revision,
        instance=env.get("SNIPSHOP_INSTANCE") or socket.gethostname(),
        metrics_enabled=_flag(env.get("METRICS_ENABLED", "1")),
        metrics_dir=env.get("METRICS_DIR") or None,
        metrics_host=env.get("METRICS_HOST") or defaults.metrics_host,
        worker_metrics_port=int(env.get("WORKER_METRICS_PORT", defaults.worker_metrics_port)),
        scheduler_metrics_port=int(env.get("SCHEDULER_METRICS_PORT", defaults.scheduler_metrics_port)),
        shop_url=env.get("SHOP_URL", defaults.shop_url).rstrip("/"),
        shop_timezone=env.get("SHOP_TIMEZONE") or defaults.shop_timezone,
        templates_dir=env.get("SNIPPET_TEMPLATES_DIR") or None,
        canary_window_minutes=int(env.get("CANARY_WINDOW_MINUTES", defaults.canary_window_minutes)),
        canary_min_requests=int(env.get("CANARY_MIN_REQUESTS", defaults.canary_min_requests)),
        canary_check_seconds=float(env.get("CANARY_CHECK_SECONDS", defaults.canary_check_seconds)),
        canary_max_error_increase=float(env.get("CANARY_MAX_ERROR_INCREASE", defaults.canary_max_error_increase)),
        canary_max_degraded_increase=float(
            env.get("CANARY_MAX_DEGRADED_INCREASE", defaults.canary_max_degraded_increase)
        ),
        worker_queues=tuple(q.value for q in parse_queues(env.get("WORKER_QUEUES", "all"))),
    )
    _check_cluster(settings)
    return settings


def _check_cluster(settings: Settings) -> None:
    """A Redis Cluster has replicas and failover of its own: the one-server settings for them do
    not apply to it."""
    if settings.redis_cluster and (settings.redis_sentinels or settings.redis_read_url or settings.redis_wait_replicas):
        raise ValueError("REDIS_CLUSTER=1 does not go with REDIS_SENTINELS, REDIS_READ_URL or REDIS_WAIT_REPLICAS")
