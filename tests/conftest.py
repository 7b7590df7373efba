"""Fixtures for real services: a throwaway PostgreSQL, Redis and Elasticsearch per test session.

The services are started here (tools.localservices, tools.elasticsearch) unless
TEST_DATABASE_URL / TEST_REDIS_URL / ELASTICSEARCH_URL point at running ones. A service that cannot
start is an error, never a skip.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
import redis

from snipshop.config import Settings, load
from tests.redis_support import CLUSTER, flush
from tools.localservices import Postgres, Redis, RedisCluster, free_cluster_ports, free_port

#: Shared fixtures: the admin app with its tokens and sent messages; both search adapters loaded.
pytest_plugins = ["tests.integration.admin_support", "tests.integration.search_fixtures"]

REPO = Path(__file__).resolve().parent.parent
TABLES = (
    "outbox",
    "api_tokens",
    "stock_movements",
    "stock",
    "offers",
    "prices",
    "variant_options",
    "variants",
    "product_images",
    "product_attributes",
    "product_categories",
    "product_texts",
    "products",
    "category_names",
    "categories",
    "attribute_labels",
    "attributes",
)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    if os.environ.get("TEST_DATABASE_URL"):
        yield None
        return
    # Not under pytest's tmp dir: that is private to root, and the server runs as "postgres".
    base = Path(tempfile.mkdtemp(prefix="snipshop-pg-"))
    base.chmod(0o755)
    server = Postgres(base / "data", free_port()).start()
    yield server
    server.stop("immediate")
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def migrated_db(pg_server) -> str:
    from catalog.schema import upgrade

    url = os.environ.get("TEST_DATABASE_URL") or pg_server.create_database("snipshop_test")
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    if os.environ.get("TEST_REDIS_URL"):
        yield None
        return
    server = Redis(free_port(), tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_base_url(redis_server) -> str:
    return os.environ.get("TEST_REDIS_URL") or redis_server.url


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory) -> Iterator[str | None]:
    """The URL of one node of the session's Redis Cluster, or None when the tests run on one Redis."""
    if not CLUSTER:
        yield None
        return
    cluster = RedisCluster(free_cluster_ports(3), tmp_path_factory.mktemp("redis-cluster")).start()
    yield cluster.url
    cluster.stop()


@pytest.fixture(scope="session")
def es_url():
    """One real Elasticsearch node for the whole session (tools.elasticsearch), or ELASTICSEARCH_URL."""
    if os.environ.get("ELASTICSEARCH_URL"):
        yield os.environ["ELASTICSEARCH_URL"]
        return
    from tools.elasticsearch import ElasticsearchCluster, free_base_port

    base = Path(tempfile.mkdtemp(prefix="snipshop-es-"))  # not pytest's tmp dir: ES runs as "nobody"
    base.chmod(0o755)
    cluster = ElasticsearchCluster(base, free_base_port(1), nodes=1)
    cluster.start(timeout=240)
    print(f"\nElasticsearch 1 node up in {cluster.startup_seconds:.1f}s")
    yield cluster.url
    cluster.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def db_url(migrated_db) -> str:
    """The test database, emptied."""
    with psycopg.connect(migrated_db, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    return migrated_db


@pytest.fixture
def settings(db_url, redis_base_url, redis_cluster_url) -> Settings:
    """Settings pointing at the emptied test services; Redis databases 0 (snippets) and 1 (broker)
    flushed; with TEST_REDIS_CLUSTER=1 the snippets are in the (flushed) cluster instead."""
    for n in (0, 1):
        redis.Redis.from_url(f"{redis_base_url}/{n}").flushdb()
    base = load({})
    settings = replace(
        base,
        database_url=db_url,
        redis_url=f"{redis_cluster_url or redis_base_url}/0",
        redis_cluster=redis_cluster_url is not None,
        broker_url=f"{redis_base_url}/1",
        locales=("en_US", "de_DE"),
        currencies=("EUR", "USD"),
    )
    if settings.redis_cluster:
        flush(settings)
    return settings


@pytest.fixture
def service_env(settings) -> dict[str, str]:
    """The environment a real process (worker, edge, admin) gets to reach the test services."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=settings.database_url,
        REDIS_URL=settings.redis_url,
        REDIS_CLUSTER="1" if settings.redis_cluster else "0",
        CELERY_BROKER_URL=settings.broker_url,
        SHOP_LOCALES=",".join(settings.locales),
        SHOP_CURRENCIES=",".join(settings.currencies),
        PYTHONPATH=str(REPO),
    )
    env.pop("ELASTICSEARCH_URL", None)
    return env


@pytest.fixture
def pool(settings):
    from catalog.db import make_pool

    p = make_pool(settings.database_url, max_size=4)
    p.open(wait=True)
    yield p
    p.close()


@pytest.fixture
def conn(pool):
    with pool.connection() as c:
        yield c


@pytest.fixture
def worker(service_env, tmp_path):
    """A real Celery worker process on the test services."""
    from tests.processes import start_worker

    w = start_worker(service_env, tmp_path)
    yield w
    w.stop()
