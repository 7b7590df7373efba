"""A whole shop in real processes: its own PostgreSQL (so tests may stop it), Redis, a Celery
worker and scheduler, the edge (granian) and the admin app (gunicorn)."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import redis

from catalog.schema import upgrade
from catalog.tokens import create_token
from tests.processes import Process, start_http, start_queue_workers, start_scheduler
from tests.redis_support import CLUSTER
from tools.localservices import Postgres, free_port


@dataclass
class Shop:
    pg: Postgres
    database_url: str
    redis_url: str
    edge: str
    admin: str
    tokens: dict[str, str]
    processes: list[Process]
    search: str
    es_url: str | None = None
    key_prefix: str | None = None
    #: The port IMAGE_BASE_URL names (http://127.0.0.1:PORT); a test that fetches images starts a
    #: static web server there (tools/staticserver.py).
    image_port: int = 0
    #: The environment its processes were started with (another front end on the same services).
    env: dict[str, str] = field(default_factory=dict)

    def auth(self, role: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture(scope="module", params=["embedded"] if CLUSTER else ["embedded", "elasticsearch"])
def shop(request, redis_base_url, redis_cluster_url, tmp_path_factory):
    """The whole shop, once with the embedded search and once with Elasticsearch (with
    TEST_REDIS_CLUSTER=1: its snippets and embedded index on the session's Redis Cluster, under a
    key prefix of its own; Elasticsearch is left to the single-server run)."""
    es_url = request.getfixturevalue("es_url") if request.param == "elasticsearch" else None
    base = Path(tempfile.mkdtemp(prefix="snipshop-e2e-pg-"))
    base.chmod(0o755)
    pg = Postgres(base / "data", free_port()).start()
    db_url = pg.create_database("shop")
    upgrade(db_url)
    with psycopg.connect(db_url) as conn:
        tokens = {role: create_token(conn, role, f"e2e-{role}") for role in ("admin", "editor", "pricing", "stock")}
    # Redis databases 2 and 3 keep this module apart from the function-scoped fixtures (0 and 1).
    for n in (2, 3):
        redis.Redis.from_url(f"{redis_base_url}/{n}").flushdb()
    env = dict(
        __import__("os").environ,
        DATABASE_URL=db_url,
        REDIS_URL=f"{redis_base_url}/2",
        CELERY_BROKER_URL=f"{redis_base_url}/3",
        SHOP_LOCALES="en_US,de_DE",
        SHOP_CURRENCIES="EUR,USD",
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
        # The shop's edge asks the search engine for every listing: the pages it is compared
        # with (PHP, the classical baseline) do. tests/e2e/test_listing_freshness.py runs a second
        # edge with the search result cache on and checks that its listings stay as current.
        SEARCH_CACHE_SECONDS="0",
        # A revision of its own, so a front end that does not send it (X-Revision) is told apart.
        SNIPSHOP_REVISION=f"e2e-{uuid.uuid4().hex[:12]}",
    )
    env.pop("ELASTICSEARCH_URL", None)
    if es_url:
        # A prefix of its own per shop: Elasticsearch indexes outlive the module.
        env.update(ELASTICSEARCH_URL=es_url, SHOP_KEY_PREFIX=f"e2e{uuid.uuid4().hex[:8]}")
    if redis_cluster_url is not None:  # one database only: a prefix of its own there too
        env.update(REDIS_URL=f"{redis_cluster_url}/0", REDIS_CLUSTER="1", SHOP_KEY_PREFIX=f"e2e{uuid.uuid4().hex[:8]}")
    image_port = free_port()
    env["IMAGE_BASE_URL"] = f"http://127.0.0.1:{image_port}"
    logs = tmp_path_factory.mktemp("e2e-logs")
    procs = [*start_queue_workers(env, logs), start_scheduler(env, logs)]
    edge_proc, edge = start_http("edge", env, logs)
    admin_proc, admin = start_http("admin", env, logs)
    procs += [edge_proc, admin_proc]
    yield Shop(
        pg,
        db_url,
        env["REDIS_URL"],
        edge,
        admin,
        tokens,
        procs,
        request.param,
        es_url,
        env.get("SHOP_KEY_PREFIX"),
        image_port,
        env,
    )
    for p in procs:
        p.stop()
    pg.stop("immediate")
    shutil.rmtree(base, ignore_errors=True)
