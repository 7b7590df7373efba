"""Queues per topic (docs/queues.md) on real processes: a worker per queue group, the scheduler
(relay sweep, offer timers), PostgreSQL and Redis.

A burst of stock movements (a movement for every product at once, then 1,000 a second) fills the
stock queue; price changes written meanwhile through the normal write path (commit, then the
relay's fast path) must be visible in Redis while the stock queue still holds its backlog (they
overtook it: they never waited in it) and about as fast as when the shop is idle. Speed itself
is measured by ``python -m bench.visibility``; the bound here is only generous enough never to
fail on a loaded machine.
"""

from __future__ import annotations

import statistics
import threading
import time
from decimal import Decimal

import pytest
import redis

from catalog import commands
from catalog.models import CategoryIn, ProductIn
from catalog.relay import dispatch_quietly, settle
from projector.broker import queue_depths
from projector.celery_app import celery_sender, make_celery
from projector.rebuild import rebuild
from projector.service import Projector
from search.factory import make_search
from tests.processes import Process, poll, start_queue_workers, start_scheduler, start_worker, wait_until
from vocab.keys import Context, KeyScheme, Kind
from vocab.topics import Queue

pytestmark = pytest.mark.e2e
EN_EUR = Context("en_US", "EUR")
BURST_SKUS = [f"B-{i:04d}" for i in range(2000)]
PRICE_SKUS = [f"P-{i:02d}" for i in range(12)]
BURST_RATE = 1000  # movements per second
BURST_TICK = 0.02  # seconds: one transaction of BURST_RATE * BURST_TICK movements per tick
BURST_LIMIT = 60.0  # seconds: the burst ends when the test is done, at the latest after this
PRICE_CHANGES = 5
#: A price change must be visible within this many times the idle time plus this many seconds.
GENEROUS_FACTOR, GENEROUS_SECONDS = 4.0, 1.5


def seed(pool) -> None:
    with pool.connection() as conn:
        commands.put_categories(conn, [("gear", CategoryIn(name={"en_US": "Gear"}))])
        items = [(sku, ProductIn(name={"en_US": sku}, categories=["gear"])) for sku in BURST_SKUS + PRICE_SKUS]
        commands.put_products(conn, items)
        commands.put_prices(conn, [(sku, "EUR", Decimal("20.00")) for sku in BURST_SKUS + PRICE_SKUS])
        # Level 1: each movement toggles a product between sold out and low stock, so every one
        # changes what the shop shows (badge, search filter) and costs the stock worker real work.
        commands.set_stock(conn, [(sku, 1) for sku in BURST_SKUS] + [(sku, 50) for sku in PRICE_SKUS])


def project_all(settings, pool) -> KeyScheme:
    client = redis.Redis.from_url(settings.redis_url)
    rebuild(Projector(settings, pool, client, make_search(settings, client)), progress=False)
    with pool.connection() as conn:
        settle(conn)  # the rebuild projected what the seed's outbox rows name
    return KeyScheme(settings.key_prefix)


#: One tick of the burst: the movements as catalog.commands.apply_movement records them (the
#: movement, the level, the source version, an outbox row each), in one statement, so that the
#: test's own writing keeps up with BURST_RATE on a busy machine.
TICK = """
WITH m AS (SELECT * FROM unnest(%(ids)s::text[], %(skus)s::text[], %(deltas)s::int[]) AS m(movement_id, sku, delta)),
     logged AS (INSERT INTO stock_movements (movement_id, sku, delta, reason)
                SELECT movement_id, sku, delta, 'burst' FROM m),
     levels AS (UPDATE stock s SET quantity = s.quantity + m.delta, updated_at = now() FROM m WHERE s.sku = m.sku),
     n AS (SELECT nextval('source_version') AS n),
     v AS (UPDATE variants SET stock_version = (SELECT n FROM n), updated_at = now()
           WHERE sku IN (SELECT sku FROM m) RETURNING product),
     p AS (UPDATE products SET stock_version = (SELECT n FROM n) WHERE sku IN (SELECT product FROM v))
INSERT INTO outbox (topic, keys) SELECT 'stock', ARRAY[sku] FROM m
"""


class Burst(threading.Thread):
    """A movement for every product at once, then stock movements at BURST_RATE a second, paced
    per tick; the relay sweep (the scheduler) batches their outbox rows into stock tasks, as it
    does the admin API's movements."""

    def __init__(self, pool) -> None:
        super().__init__(daemon=True)
        self.pool = pool
        self.stopping = threading.Event()
        self.written = 0
        self.seconds = 0.0
        self.error: BaseException | None = None

    def run(self) -> None:
        per_tick = int(BURST_RATE * BURST_TICK)
        levels = dict.fromkeys(BURST_SKUS, 1)
        try:
            with self.pool.connection() as conn:

                def write(skus: list[str]) -> None:
                    deltas = [-1 if levels[sku] else 1 for sku in skus]
                    ids = [f"burst-{self.written + i}" for i in range(len(skus))]
                    with conn.transaction():
                        conn.execute(TICK, {"ids": ids, "skus": skus, "deltas": deltas})
                    for sku, delta in zip(skus, deltas, strict=True):
                        levels[sku] += delta
                    self.written += len(skus)

                # It opens with a stock-take, a movement for every product at once, so that the
                # stock queue holds a backlog however fast this machine's stock worker is.
                write(BURST_SKUS)
                started = time.monotonic()
                while not self.stopping.is_set() and time.monotonic() - started < BURST_LIMIT:
                    paced = self.written - len(BURST_SKUS)
                    if (wait := started + (paced // per_tick) * BURST_TICK - time.monotonic()) > 0:
                        time.sleep(wait)
                    write([BURST_SKUS[(self.written + i) % len(BURST_SKUS)] for i in range(per_tick)])
                self.seconds = time.monotonic() - started
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc

    def stop(self) -> None:
        self.stopping.set()
        self.join(30)

    @property
    def rate(self) -> float:
        """Movements a second after the opening stock-take."""
        return (self.written - len(BURST_SKUS)) / self.seconds if self.seconds else 0.0


def change_price(pool, send, sku: str, amount: Decimal) -> None:
    """As the admin API writes a price: the command commits, then the relay's fast path sends it."""
    with pool.connection() as conn:
        outbox_id = commands.put_prices(conn, [(sku, "EUR", amount)])
        dispatch_quietly(conn, send, [outbox_id])


def price_shown(client: redis.Redis, keys: KeyScheme, sku: str, amount: Decimal) -> bool:
    live = int(client.get(keys.live) or 0)
    value = client.get(keys.snippet(live, Kind.PRICE, EN_EUR, sku))
    return value is not None and str(amount).encode() in value


def timed_change(pool, send, client, broker, keys, sku: str, amount: Decimal) -> tuple[float, int]:
    """Seconds from the write to the new price in Redis, and the stock queue's depth just then."""
    started = time.monotonic()
    change_price(pool, send, sku, amount)
    wait_until(lambda: price_shown(client, keys, sku, amount), timeout=60, interval=0.005, what=f"{sku} at {amount}")
    seconds = time.monotonic() - started
    return seconds, queue_depths(broker, [Queue.STOCK])[Queue.STOCK]


def test_a_price_change_overtakes_a_burst_of_stock_movements(settings, pool, service_env, tmp_path):
    seed(pool)
    keys = project_all(settings, pool)
    client, broker = redis.Redis.from_url(settings.redis_url), redis.Redis.from_url(settings.broker_url)
    app = make_celery(settings)
    send = celery_sender(app)
    procs: list[Process] = [*start_queue_workers(service_env, tmp_path), start_scheduler(service_env, tmp_path)]
    burst = Burst(pool)
    try:
        amounts = iter(Decimal(f"{21 + n}.{n:02d}") for n in range(100))
        timed_change(pool, send, client, broker, keys, PRICE_SKUS[-1], next(amounts))  # warms the worker
        idle = [
            timed_change(pool, send, client, broker, keys, sku, next(amounts))[0] for sku in PRICE_SKUS[:PRICE_CHANGES]
        ]
        burst.start()
        backlog = poll(lambda: queue_depths(broker, [Queue.STOCK])[Queue.STOCK] >= 3, timeout=30, interval=0.05)
        assert backlog, f"the burst built no backlog in the stock queue ({burst.written} movements written)"
        during = [
            timed_change(pool, send, client, broker, keys, sku, next(amounts))
            for sku in PRICE_SKUS[PRICE_CHANGES : 2 * PRICE_CHANGES]
        ]
        burst.stop()
        assert burst.error is None, burst.error
        print(
            f"\nburst: {burst.written} movements at {burst.rate:.0f}/s; price change to visible idle "
            f"{[round(s * 1000) for s in idle]} ms, during the burst {[round(s * 1000) for s, _ in during]} ms "
            f"with the stock queue at {[depth for _, depth in during]} tasks"
        )
        # Structural: every price change was visible while stock work still waited in its queue.
        assert all(depth > 0 for _, depth in during), during
        bound = GENEROUS_FACTOR * statistics.median(idle) + GENEROUS_SECONDS
        assert statistics.median(s for s, _ in during) <= bound, (idle, during)
        assert max(s for s, _ in during) <= 2 * bound, (idle, during)
        assert burst.rate >= BURST_RATE * 0.5, f"the burst reached only {burst.rate:.0f} movements/s"
    finally:
        burst.stop()
        for p in procs:
            p.stop()
        app.close()


def test_a_worker_for_stock_only_leaves_price_tasks_waiting(settings, pool, service_env, tmp_path):
    seed(pool)
    keys = project_all(settings, pool)
    client, broker = redis.Redis.from_url(settings.redis_url), redis.Redis.from_url(settings.broker_url)
    app = make_celery(settings)
    send = celery_sender(app)
    stock_only = start_worker(service_env, tmp_path, "stock", concurrency=1, queues=["stock"])
    procs: list[Process] = [stock_only]
    try:
        change_price(pool, send, PRICE_SKUS[0], Decimal("31.00"))
        with pool.connection() as conn:  # stock work it does serve, sent the way the relay sends it
            outbox_id = commands.set_stock(conn, [(BURST_SKUS[0], 0)])
            dispatch_quietly(conn, send, [outbox_id])
        avail = keys.snippet(int(client.get(keys.live) or 0), Kind.AVAIL, EN_EUR, BURST_SKUS[0])
        wait_until(lambda: b"sold_out" in (client.get(avail) or b""), timeout=30, what="the stock change projected")
        assert queue_depths(broker, [Queue.STOCK])[Queue.STOCK] == 0
        time.sleep(1.0)  # the stock worker polls its queue; the price task stays where it is
        assert queue_depths(broker, [Queue.PRICES])[Queue.PRICES] == 1
        assert not price_shown(client, keys, PRICE_SKUS[0], Decimal("31.00"))
        procs.append(start_worker(service_env, tmp_path, "prices", concurrency=1, queues=["prices"]))
        wait_until(lambda: price_shown(client, keys, PRICE_SKUS[0], Decimal("31.00")), timeout=30, what="the price")
        assert queue_depths(broker, [Queue.PRICES])[Queue.PRICES] == 0
    finally:
        for p in procs:
            p.stop()
        app.close()
