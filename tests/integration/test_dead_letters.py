"""Dead letters on real services: a real worker process, the real ``projector`` CLI.

A projection task that fails with a non-transient error is not retried: it lands in the
dead-letter list once, ``projector status`` shows it and ``projector replay`` sends it again.
"""

import subprocess
import sys
from decimal import Decimal

import psycopg
import pytest
import redis

from catalog import commands
from catalog.models import CategoryIn, ProductIn
from projector import celery_app as names
from projector.broker import queue_depths
from projector.celery_app import make_celery
from projector.deadletters import DeadLetters
from tests.processes import REPO, wait_until
from tests.redis_support import store_client
from vocab.keys import Context, KeyScheme, Kind

pytestmark = pytest.mark.integration
EN_EUR = Context("en_US", "EUR")


def cli(env, *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "entrypoints.projector_cli", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.fixture
def letters(settings) -> DeadLetters:
    return DeadLetters(store_client(settings), KeyScheme(settings.key_prefix))


@pytest.fixture
def broker(settings) -> redis.Redis:
    return redis.Redis.from_url(settings.broker_url)


def idle(broker: redis.Redis) -> bool:
    """No task waits in the broker or is held by the worker (tasks acknowledge late: a running
    one, and a retry waiting for its countdown, is held until it ends)."""
    waiting = sum(queue_depths(broker).values())
    return waiting == 0 and broker.hlen("unacked") == 0


def settle(letters: DeadLetters, broker: redis.Redis, count: int) -> list[dict]:
    """Wait for ``count`` entries and for the worker to have nothing left (no retry pending, no
    task running that could add one); then there must be exactly ``count`` (no duplicates)."""
    wait_until(lambda: letters.count() >= count, timeout=20, what=f"{count} dead letters")
    wait_until(lambda: idle(broker), timeout=20, interval=0.02, what="the worker done with every task")
    entries = letters.entries()
    assert len(entries) == count, entries
    return entries


def test_a_poison_task_is_dead_lettered_once_shown_and_replayed(settings, worker, service_env, letters, broker):
    app = make_celery(settings)
    app.send_task(names.PROJECT_PRODUCTS, args=[123], kwargs={"sent_at": 1.0})  # not a list: TypeError

    [entry] = settle(letters, broker, 1)
    assert entry["task"] == names.PROJECT_PRODUCTS and entry["args"] == [123] and entry["kwargs"] == {"sent_at": 1.0}
    assert entry["error"].startswith("TypeError") and entry["retries"] == 0 and entry["task_id"]
    assert entry["failed_at"]
    assert "Retry in" not in worker.log()  # a bug is not retried twelve times

    status = cli(service_env, "status")
    assert "dead letters             1" in status
    assert "newest dead letter" in status and names.PROJECT_PRODUCTS in status and "TypeError" in status
    listed = cli(service_env, "dead-letters")
    assert "1 dead letters" in listed and "[0]" in listed and "args=[123]" in listed

    out = cli(service_env, "replay", "--index", "0")
    assert "1 replayed" in out
    # Sent again with the same arguments; it fails again and lands here again, once, as a new task.
    [again] = settle(letters, broker, 1)
    assert again["args"] == [123] and again["task_id"] != entry["task_id"]

    with pytest.raises(subprocess.CalledProcessError):
        cli(service_env, "replay")  # neither --all nor --index
    with pytest.raises(subprocess.CalledProcessError):
        cli(service_env, "replay", "--index", "5")
    assert letters.count() == 1


def test_replay_succeeds_once_the_cause_is_fixed(settings, pool, worker, service_env, letters, broker):
    with pool.connection() as conn:
        commands.put_categories(conn, [("gear", CategoryIn(name={"en_US": "Gear"}))])
        commands.put_products(
            conn, [(s, ProductIn(name={"en_US": f"Bag {s}"}, categories=["gear"])) for s in ("D1", "D2")]
        )
        commands.put_prices(conn, [("D1", "EUR", Decimal("4.00")), ("D2", "EUR", Decimal("5.00"))])
    client = store_client(settings)
    keys = KeyScheme(settings.key_prefix)
    app = make_celery(settings)

    # A bad deploy: the schema the projector reads is not there (a ProgrammingError, not transient).
    with psycopg.connect(settings.database_url, autocommit=True) as admin:
        admin.execute("ALTER TABLE product_texts RENAME TO product_texts_away")
        try:
            app.send_task(names.PROJECT_PRODUCTS, args=[["D1"]])
            app.send_task(names.PROJECT_PRICES, args=[["D2"]])
            entries = settle(letters, broker, 2)
        finally:
            admin.execute("ALTER TABLE product_texts_away RENAME TO product_texts")
    assert {e["task"] for e in entries} == {names.PROJECT_PRODUCTS, names.PROJECT_PRICES}
    assert all("UndefinedTable" in e["error"] and e["retries"] == 0 for e in entries)
    assert client.get(keys.snippet(1, Kind.PRICE, EN_EUR, "D1")) is None

    out = cli(service_env, "replay", "--all")
    assert "2 replayed" in out and letters.count() == 0
    wait_until(lambda: client.get(keys.snippet(1, Kind.PRICE, EN_EUR, "D1")), timeout=20, what="replayed D1")
    wait_until(lambda: client.get(keys.snippet(1, Kind.PRICE, EN_EUR, "D2")), timeout=20, what="replayed D2")
    wait_until(lambda: idle(broker), timeout=20, interval=0.02, what="the replayed tasks acknowledged")
    assert letters.count() == 0
    assert "dead letters             0" in cli(service_env, "status")
