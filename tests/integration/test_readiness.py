"""``/readyz`` on real services: the edge is ready with a reachable snippet store naming a live
generation, the admin app with a database that answers; ``/healthz`` answers on both regardless."""

from __future__ import annotations

from dataclasses import replace

import pytest

from catalog.db import make_pool
from tests.redis_support import store_client
from tools.localservices import free_port
from vocab.keys import KeyScheme
from web.admin.app import create_app as create_admin
from web.edge.app import create_app as create_edge

pytestmark = pytest.mark.integration


def test_the_edge_is_ready_once_a_generation_is_live_and_says_which(settings):
    client = create_edge(settings).test_client()
    waiting = client.get("/readyz")
    assert waiting.status_code == 503 and "no live generation" in waiting.get_json()["reason"]
    assert client.get("/healthz").status_code == 200
    store_client(settings).set(KeyScheme(settings.key_prefix).live, 3)
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json() == {"status": "ready", "generation": 3}
    assert ready.headers["X-Generation"] == "3" and ready.headers["Cache-Control"] == "no-store"


def test_the_edge_with_its_store_unreachable_is_alive_but_not_ready(settings):
    client = create_edge(replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")).test_client()
    assert client.get("/healthz").status_code == 200
    down = client.get("/readyz")
    assert down.status_code == 503 and "unreachable" in down.get_json()["reason"]


def test_the_admin_app_is_ready_while_its_database_answers(client):
    assert client.get("/readyz").get_json() == {"status": "ready"}
    response = client.get("/healthz")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Revision"] == "unknown" and response.headers["X-Request-Id"]


def test_the_admin_app_without_its_database_is_alive_but_not_ready(settings):
    pool = make_pool(f"postgresql://postgres@127.0.0.1:{free_port()}/none", max_size=1)
    pool.open(wait=False)
    try:
        client = create_admin(settings, pool=pool, wait_seconds=0.5).test_client()
        assert client.get("/healthz").status_code == 200
        down = client.get("/readyz")
        assert down.status_code == 503 and "database" in down.get_json()["reason"]
    finally:
        pool.close()
