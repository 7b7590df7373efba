"""The admin app under hostile load, on real PostgreSQL and a small real pool behind a threaded HTTP server.

Bad tokens never take a database connection (refused by their form, or remembered as unknown
after one lookup); token lookups that hang hold at most half the pool, so requests with a good
token keep working; a request that gets no connection is a quick 503 with Retry-After.
"""

from __future__ import annotations

import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import psycopg
import pytest
import requests
from werkzeug.serving import WSGIRequestHandler, make_server

from catalog.db import make_pool
from catalog.tokens import create_token
from tests.integration.admin_support import API
from tests.processes import wait_until
from web.admin.admin_state import EXTENSION
from web.admin.app import create_app
from web.admin.auth import TokenCache

pytestmark = pytest.mark.integration

FLOOD_THREADS = 12
UNKNOWN = "sst_" + "u" * 43  # well-formed, in no database
BAD_HEADERS = [
    {},
    {"Authorization": "Basic c3RvY2s6c3RvY2s="},
    {"Authorization": "Bearer sst_not-a-token"},
    {"Authorization": "Bearer " + "x" * 47},
    {"Authorization": "Bearer sst_" + "!" * 43},
    {"Authorization": f"Bearer {UNKNOWN}"},
]


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # thousands of requests: no access log
        pass


@pytest.fixture
def small_pool(settings):
    p = make_pool(settings.database_url, min_size=2, max_size=2, name="admin-small")
    p.open(wait=True)
    yield p
    p.close()


@pytest.fixture
def admin(settings, small_pool):
    """(app, base URL) of the admin app on the 2-connection pool, served by a threaded HTTP server."""
    app = create_app(settings, pool=small_pool, send=lambda *args: None, wait_seconds=1.0)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}{API}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def good(pool) -> dict[str, str]:
    with pool.connection() as conn:
        return {"Authorization": f"Bearer {create_token(conn, 'admin', 'good')}"}


def _flood(base: str, headers_for, stop: threading.Event, seen: list[tuple[int, float]]) -> None:
    with requests.Session() as session:
        n = 0
        while not stop.is_set() and n < 2000:
            headers = headers_for(n)
            started = time.monotonic()
            if n % 2:
                r = session.put(f"{base}/stock/B1", json={"quantity": 1}, headers=headers, timeout=10)
            else:
                r = session.get(f"{base}/products/B1", headers=headers, timeout=10)
            seen.append((r.status_code, time.monotonic() - started))
            if r.status_code == 503:
                assert int(r.headers["Retry-After"]) > 0
            n += 1


def _good_calls(base: str, good: dict[str, str], count: int, pause: float = 0.0) -> list[tuple[int, float]]:
    results = []
    with requests.Session() as session:
        for n in range(count):
            time.sleep(pause)  # pacing: the calls spread over a stretch of time, nothing is waited for
            started = time.monotonic()
            if n % 2:
                r = session.put(f"{base}/stock/B1", json={"quantity": n}, headers=good, timeout=10)
            else:
                r = session.get(f"{base}/products/B1", headers=good, timeout=10)
            results.append((r.status_code, time.monotonic() - started))
    return results


def _run_flood(base, headers_for, during):
    """Hammer ``base`` from FLOOD_THREADS threads while ``during()`` runs; the flood's (status, seconds)."""
    stop, seen = threading.Event(), []
    with ThreadPoolExecutor(FLOOD_THREADS) as executor:
        futures = [executor.submit(_flood, base, headers_for, stop, seen) for _ in range(FLOOD_THREADS)]
        try:
            result = during()
        finally:
            stop.set()
        for f in futures:
            f.result()
    return result, seen


def test_bad_tokens_take_no_connection_while_good_ones_work(admin, small_pool, good, seeded):
    app, base = admin
    # Nothing expires during the test, however slow the machine: every lookup counted below is a first one.
    app.extensions[EXTENSION].tokens = TokenCache(seconds=60, unknown_seconds=60)
    small_pool.pop_stats()
    # The flood runs for a second and a half: how long the load lasts, not a wait for anything.
    _, flood = _run_flood(base, lambda n: BAD_HEADERS[n % len(BAD_HEADERS)], lambda: time.sleep(1.5))
    stats = small_pool.pop_stats()
    assert len(flood) > 100 and {status for status, _ in flood} == {401}
    # The one well-formed unknown token was looked up once and then remembered; nothing else asked.
    assert stats.get("requests_num", 0) <= 1, stats
    assert stats.get("connections_num", 0) == 0, stats

    results, flood = _run_flood(base, lambda n: BAD_HEADERS[n % len(BAD_HEADERS)], lambda: _good_calls(base, good, 40))
    assert [status for status, _ in results] == [200] * 40
    assert {status for status, _ in flood} == {401}
    assert small_pool.pop_stats().get("requests_num", 0) <= 41  # one per good call, and its token's lookup


def test_hanging_token_lookups_hold_at_most_half_the_pool(admin, small_pool, good, seeded, settings):
    app, base = admin
    app.extensions[EXTENSION].tokens = TokenCache(seconds=60)  # the good token stays known for the whole test
    assert requests.get(f"{base}/products/B1", headers=good, timeout=10).status_code == 200

    # Every token lookup now blocks on the table lock: each unknown token holds its connection.
    with (
        psycopg.connect(settings.database_url) as locker,
        psycopg.connect(settings.database_url, autocommit=True) as watcher,
    ):
        locker.execute("LOCK TABLE api_tokens IN ACCESS EXCLUSIVE MODE")

        def hanging_lookups() -> int:
            row = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
                ("%api_tokens%",),
            ).fetchone()
            assert row is not None
            return int(row[0])

        def during():
            try:
                # The flood has taken every lookup slot (half the pool): its lookups wait on the lock.
                wait_until(lambda: hanging_lookups() >= 1, timeout=10, interval=0.01, what="a hanging token lookup")
                assert hanging_lookups() <= 1  # never more than half the pool
                return _good_calls(base, good, 20, pause=0.1)  # over 2 s: lookups wait out their 1 s
            finally:
                locker.rollback()  # the hanging lookups finish (before the flood is waited for)

        results, flood = _run_flood(
            base, lambda n: {"Authorization": f"Bearer sst_{secrets.token_urlsafe(32)}"}, during
        )
    assert [status for status, _ in results] == [200] * 20, results
    assert max(seconds for _, seconds in results) < 2.0  # never waiting on the hanging lookups
    statuses = {status for status, _ in flood}
    assert statuses <= {401, 503} and 503 in statuses, statuses


def test_no_free_connection_is_a_quick_503_with_retry_after(admin, small_pool, good, seeded):
    app, base = admin
    assert requests.get(f"{base}/products/B1", headers=good, timeout=10).status_code == 200  # token now known
    other = {"Authorization": f"Bearer sst_{secrets.token_urlsafe(32)}"}
    with ExitStack() as held:
        for _ in range(2):
            held.enter_context(small_pool.connection())
        for headers in (good, other):  # the command's connection, and a lookup's
            started = time.monotonic()
            r = requests.put(f"{base}/stock/B1", json={"quantity": 2}, headers=headers, timeout=10)
            assert r.status_code == 503 and r.headers["Content-Type"] == "application/problem+json"
            assert int(r.headers["Retry-After"]) > 0 and r.headers["Cache-Control"] == "no-store"
            assert time.monotonic() - started < 2.5
    assert requests.put(f"{base}/stock/B1", json={"quantity": 2}, headers=good, timeout=10).status_code == 200
