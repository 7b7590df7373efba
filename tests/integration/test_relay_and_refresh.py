"""The relay sweep re-sends what writers did not dispatch; the refresh keeps snippets alive."""

import subprocess
import sys
from decimal import Decimal

import pytest

from catalog import commands
from catalog.models import CategoryIn, ProductIn
from catalog.relay import MAX_SENDS, dispatch, prune, settle
from projector import celery_app as names
from projector import refresh as refresh_ledger
from projector.celery_app import celery_sender, make_celery
from projector.rebuild import rebuild
from projector.service import Projector
from tests.processes import REPO, start_scheduler, wait_until
from tests.redis_support import store_client
from vocab.keys import Context, KeyScheme, Kind
from vocab.topics import Topic

pytestmark = pytest.mark.integration
EN_EUR = Context("en_US", "EUR")


def test_the_scheduled_sweep_projects_undispatched_writes(settings, pool, worker, service_env, tmp_path):
    with pool.connection() as conn:
        commands.put_categories(conn, [("gear", CategoryIn(name={"en_US": "Gear"}))])
        commands.put_products(conn, [("S1", ProductIn(name={"en_US": "Swept"}, categories=["gear"]))])
        commands.put_prices(conn, [("S1", "EUR", Decimal("3.00"))])
    client = store_client(settings)
    key = KeyScheme().snippet(1, Kind.PRICE, EN_EUR, "S1")
    assert client.get(key) is None  # nothing was dispatched by the writer
    scheduler = start_scheduler(service_env, tmp_path)
    try:
        wait_until(lambda: client.get(key), timeout=20, what="swept price snippet")
    finally:
        scheduler.stop()
    with pool.connection() as conn:
        assert conn.execute("SELECT count(*) FROM outbox WHERE dispatched_at IS NULL").fetchone() == (0,)


def test_refresh_renews_the_ttl_of_live_snippets(settings, pool, worker):
    with pool.connection() as conn:
        commands.put_categories(conn, [("gear", CategoryIn(name={"en_US": "Gear"}))])
        commands.put_products(conn, [("R1", ProductIn(name={"en_US": "Refreshed"}, categories=["gear"]))])
    client = store_client(settings)
    rebuild(Projector(settings, pool, client), progress=False)
    keys = KeyScheme()
    aging = [keys.snippet(1, Kind.DETAIL, EN_EUR, "R1"), keys.snippet(1, Kind.FRAME, EN_EUR)]
    for key in aging:
        client.expire(key, 30)
    make_celery(settings).send_task(names.REFRESH)
    wait_until(lambda: all(client.ttl(k) > 3600 for k in aging), timeout=20, what="renewed TTLs")
    assert client.zcard(keys.refresh_pending) == 0  # its batch's task took the batch off the ledger


def test_the_refresh_ledger_lists_batches_until_a_task_starts_them(settings, pool):
    """projector.refresh against real PostgreSQL and Redis, without a worker: what the sweep sends again."""
    with pool.connection() as conn:
        commands.put_categories(conn, [("gear", CategoryIn(name={"en_US": "Gear"}))])
        batch = ProductIn(name={"en_US": "Batch"}, categories=["gear"])
        commands.put_products(conn, [(f"B{n:04d}", batch) for n in range(refresh_ledger.REFRESH_BATCH + 1)])
    client = store_client(settings)
    keys = KeyScheme()
    client.zadd(keys.refresh_pending, {'["LEFT-BY-THE-LAST-REFRESH"]': 1.0})
    sent: list[list[str]] = []
    with pool.connection() as conn:
        assert refresh_ledger.fan_out(conn, client, keys, sent.append) == 2
    first, second = sent
    assert len(first) == refresh_ledger.REFRESH_BATCH and second == [f"B{refresh_ledger.REFRESH_BATCH:04d}"]
    assert client.zcard(keys.refresh_pending) == 2  # the last refresh's leftover is gone: this one covers it
    assert refresh_ledger.overdue(client, keys, older_than=60) == []  # just sent: maybe still queued
    refresh_ledger.started(client, keys, first)
    assert refresh_ledger.overdue(client, keys, older_than=0) == [second]
    assert refresh_ledger.overdue(client, keys, older_than=1) == []  # sent again just now: timed anew
    refresh_ledger.started(client, keys, second)
    assert client.zcard(keys.refresh_pending) == 0


def test_status_reports_generations_and_backlog(settings, pool, service_env):
    with pool.connection() as conn:
        commands.put_categories(conn, [("gear", CategoryIn(name={"en_US": "Gear"}))])
    client = store_client(settings)
    rebuild(Projector(settings, pool, client), progress=False)
    client.zadd(KeyScheme().refresh_pending, {'["R1"]': 1.0})
    out = subprocess.run(
        [sys.executable, "-m", "entrypoints.projector_cli", "status"],
        env=service_env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "live generation          1" in out
    assert "outbox backlog           1" in out
    assert "refresh batches queued   1" in out


def test_tasks_acknowledge_their_outbox_rows_and_the_sweep_resends_lost_ones(settings, pool, worker):
    with pool.connection() as conn:
        commands.put_categories(conn, [("gear", CategoryIn(name={"en_US": "Gear"}))])
        commands.put_products(conn, [("L1", ProductIn(name={"en_US": "Lost"}, categories=["gear"]))])
        settle(conn)
        commands.put_prices(conn, [("L1", "EUR", Decimal("4.00"))])
        lost: list[str] = []
        assert dispatch(conn, lambda topic, keys, ids: lost.append(topic)) == 1  # the broker took it, then lost it
        assert lost == [Topic.PRICE]
        send = celery_sender(make_celery(settings))
        assert dispatch(conn, send, redeliver_after=60) == 0  # not overdue yet: it may still be queued
        assert dispatch(conn, send, redeliver_after=0) == 1
        acknowledged = (
            "SELECT count(*) FROM outbox WHERE projected_at IS NOT NULL AND keys = '{L1}' AND topic = 'price'"
        )
        wait_until(lambda: conn.execute(acknowledged).fetchone()[0] == 1, timeout=20, what="the task's acknowledgement")
        assert dispatch(conn, send, redeliver_after=0) == 0  # acknowledged rows are never sent again
    client = store_client(settings)
    assert b'"price":"4.00"' in client.get(KeyScheme().snippet(1, Kind.PRICE, EN_EUR, "L1"))


def test_the_sweep_resends_only_the_topics_it_is_given(pool):
    """The sweep passes the topics whose queue has drained: lost price rows are sent again while
    a stock backlog still waits in its own queue (docs/queues.md)."""
    with pool.connection() as conn:
        commands.put_categories(conn, [("gear", CategoryIn(name={"en_US": "Gear"}))])
        commands.put_products(conn, [("R1", ProductIn(name={"en_US": "Resent"}, categories=["gear"]))])
        settle(conn)
        commands.put_prices(conn, [("R1", "EUR", Decimal("4.00"))])
        commands.set_stock(conn, [("R1", 3)])
        assert dispatch(conn, lambda topic, keys, ids: None) == 2  # both lost by the broker
        sent: list[Topic] = []
        assert dispatch(conn, lambda topic, keys, ids: sent.append(topic), redeliver_after=0, redeliver_topics=[]) == 0
        assert dispatch(conn, lambda t, k, i: sent.append(t), redeliver_after=0, redeliver_topics=[Topic.PRICE]) == 1
        assert sent == [Topic.PRICE]
        assert dispatch(conn, lambda topic, keys, ids: sent.append(topic), redeliver_after=0) == 2  # every topic
        assert sorted(sent) == sorted([Topic.PRICE, Topic.PRICE, Topic.STOCK])


def test_a_row_whose_task_never_acknowledges_is_sent_at_most_max_sends_times(pool):
    with pool.connection() as conn:
        commands.put_categories(conn, [("gear", CategoryIn(name={"en_US": "Gear"}))])
        sends: list[list[int]] = []
        while dispatch(conn, lambda task, keys, ids: sends.append(ids), redeliver_after=0):
            assert len(sends) <= MAX_SENDS
        assert len(sends) == MAX_SENDS


def test_prune_deletes_only_rows_projected_long_ago(pool):
    with pool.connection() as conn:
        commands.put_categories(conn, [(f"k{i}", CategoryIn(name={"en_US": "K"})) for i in range(3)])
        commands.put_categories(conn, [("k0", CategoryIn(name={"en_US": "K0"}))])
        ids = [r[0] for r in conn.execute("SELECT id FROM outbox ORDER BY id")]
        conn.execute(
            "UPDATE outbox SET dispatched_at = now(), projected_at = now() - interval '8 days' WHERE id = %s", (ids[0],)
        )
        conn.execute("UPDATE outbox SET dispatched_at = now() - interval '9 days' WHERE id = %s", (ids[1],))
        assert prune(conn, keep_days=7) == 1
        assert [r[0] for r in conn.execute("SELECT id FROM outbox ORDER BY id")] == ids[1:]
