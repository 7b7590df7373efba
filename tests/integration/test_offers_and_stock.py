"""Offers start on time and die by TTL; stock movements re-render only when the state changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from psycopg_pool import ConnectionPool, PoolTimeout

from catalog import commands
from catalog.models import CategoryIn, OfferIn, ProductIn
from projector.rebuild import rebuild
from projector.service import TIMER_LEASE_SECONDS, Projector
from search.factory import make_search
from tests.processes import start_scheduler, start_worker, wait_until
from tests.redis_support import store_client
from tools.localservices import free_port
from vocab.keys import Context, KeyScheme, Kind, split_value
from web.edge.app import create_app

pytestmark = pytest.mark.integration
EN_EUR = Context("en_US", "EUR")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def seed(pool, quantity=50):
    with pool.connection() as conn:
        commands.put_categories(conn, [("gear", CategoryIn(name={"en_US": "Gear"}))])
        commands.put_products(conn, [("O1", ProductIn(name={"en_US": "Offer bag"}, categories=["gear"]))])
        commands.put_prices(conn, [("O1", "EUR", Decimal("20.00"))])
        commands.set_stock(conn, [("O1", quantity)])


def offer(pool, amount, starts, ends):
    with pool.connection() as conn:
        commands.put_offers(
            conn,
            [
                (
                    "O1",
                    "EUR",
                    OfferIn.model_validate(
                        {"amount": amount, "starts_at": starts.isoformat(), "ends_at": ends.isoformat()}
                    ),
                )
            ],
        )


def projector(settings, pool, clock=None) -> Projector:
    client = store_client(settings)
    kwargs = {"clock": clock} if clock else {}
    return Projector(settings, pool, client, make_search(settings, client), **kwargs)


def test_offer_timers_follow_a_controllable_clock(settings, pool):
    seed(pool)
    start = datetime.now(UTC) + timedelta(hours=1)
    offer(pool, "15.00", start, start + timedelta(hours=2))
    offer(pool, "12.00", start + timedelta(minutes=30), start + timedelta(hours=1))  # overlaps: lowest wins
    clock = Clock(start - timedelta(minutes=1))
    p = projector(settings, pool, clock)
    rebuild(p, progress=False)
    edge = create_app(settings).test_client()
    assert "€20.00" in edge.get("/p/O1").text and "price--offer" not in edge.get("/p/O1").text
    assert p.fire_timers() == 0  # nothing due yet
    clock.now = start + timedelta(seconds=1)
    assert p.fire_timers() == 1
    page = edge.get("/p/O1").text
    assert "€15.00" in page and '<s class="regular">€20.00</s>' in page and '"price":"15.00"' in page
    clock.now = start + timedelta(minutes=31)
    assert p.fire_timers() == 1  # the edge's near cache drops the 15.00 offer on the invalidation
    wait_until(lambda: '"price":"12.00"' in edge.get("/p/O1").text, timeout=5, interval=0.005, what="the 12.00 offer")
    clock.now = start + timedelta(hours=1, seconds=1)  # the 12.00 offer ended; the 15.00 one is live
    assert p.fire_timers() == 1
    wait_until(lambda: '"price":"15.00"' in edge.get("/p/O1").text, timeout=5, interval=0.005, what="the 15.00 offer")


def test_an_offer_timer_whose_run_failed_fires_again_after_its_lease(settings, pool):
    """The timer's run claims it, then cannot reach PostgreSQL: the claim, not the timer, is what
    it leaves; a run after the lease fires it (before claims, the timer was gone: no offer)."""
    seed(pool)
    start = datetime.now(UTC) + timedelta(hours=1)
    offer(pool, "15.00", start, start + timedelta(hours=2))
    clock = Clock(start - timedelta(minutes=1))
    p = projector(settings, pool, clock)
    rebuild(p, progress=False)
    with ConnectionPool(f"postgresql://postgres@127.0.0.1:{free_port()}/none", min_size=1, timeout=1) as unreachable:
        cut_off = Projector(settings, unreachable, store_client(settings), clock=clock)
        clock.now = start + timedelta(seconds=1)
        with pytest.raises(PoolTimeout):
            cut_off.fire_timers()
    timers = store_client(settings).zrange(KeyScheme().timers, 0, -1, withscores=True)
    lease_ends = (clock.now + timedelta(seconds=TIMER_LEASE_SECONDS)).timestamp()
    assert timers == [(b"!O1", pytest.approx(lease_ends, abs=0.01))]
    assert p.fire_timers() == 0  # claimed: the run may still be going
    edge = create_app(settings).test_client()
    assert "price--offer" not in edge.get("/p/O1").text
    clock.now += timedelta(seconds=TIMER_LEASE_SECONDS + 1)
    assert p.fire_timers() == 1
    wait_until(lambda: "€15.00" in edge.get("/p/O1").text, timeout=5, interval=0.005, what="the offer on the page")
    timers = store_client(settings).zrange(KeyScheme().timers, 0, -1, withscores=True)
    assert timers == [(b"O1", (start + timedelta(hours=2)).timestamp())]  # its end is next; the claim is gone


def test_a_short_offer_dies_by_ttl_with_no_worker_running(settings, pool):
    seed(pool)
    now = datetime.now(UTC)
    offer(pool, "9.99", now - timedelta(seconds=5), now + timedelta(seconds=6))  # room for a busy machine
    rebuild(projector(settings, pool), progress=False)
    edge = create_app(settings).test_client()
    assert '"price":"9.99"' in edge.get("/p/O1").text
    key = KeyScheme().snippet(int(store_client(settings).get("ss:live")), Kind.OFFER, EN_EUR, "O1")
    assert 0 < store_client(settings).pttl(key) <= 6000
    wait_until(lambda: '"price":"20.00"' in edge.get("/p/O1").text, timeout=10, what="regular price after the offer")
    assert "price--offer" not in edge.get("/p/O1").text


def test_an_offer_starts_within_two_seconds_with_real_worker_and_scheduler(settings, pool, service_env, tmp_path):
    seed(pool)
    rebuild(projector(settings, pool), progress=False)
    worker = start_worker(service_env, tmp_path)
    scheduler = start_scheduler(service_env, tmp_path)
    try:
        # Beat past its start and into its rhythm: it has sent the offer timers' task twice.
        wait_until(
            lambda: scheduler.log_path.read_text(errors="replace").count("Sending due task offer-timers") >= 2,
            timeout=30,
            interval=0.02,
            what="beat sending the offer timers' task",
        )
        starts = datetime.now(UTC) + timedelta(seconds=4)
        offer(pool, "7.00", starts, starts + timedelta(minutes=5))
        projector(settings, pool).products(["O1"])  # as the price task would: sets the timer
        edge = create_app(settings).test_client()
        assert '"price":"20.00"' in edge.get("/p/O1").text
        wait_until(lambda: '"price":"7.00"' in edge.get("/p/O1").text, timeout=10, interval=0.02, what="offer price")
        delay = (datetime.now(UTC) - starts).total_seconds()
        print(f"\noffer start delay: {delay:.2f}s")
        assert delay <= 2.0
    finally:
        scheduler.stop()
        worker.stop()


def test_movements_rerender_only_when_the_availability_state_changes(settings, pool):
    seed(pool, quantity=50)
    p = projector(settings, pool)
    rebuild(p, progress=False)
    client = store_client(settings)
    key = KeyScheme().snippet(int(client.get("ss:live")), Kind.AVAIL, EN_EUR, "O1")
    before = split_value(client.get(key))
    with pool.connection() as conn:
        commands.apply_movement(conn, "O1", "m1", -10, "sale")  # 40: still in stock
    assert p.stock(["O1"]) == 0
    assert split_value(client.get(key)) == before
    with pool.connection() as conn:
        commands.apply_movement(conn, "O1", "m2", -37, "sale")  # 3: low stock
    assert p.stock(["O1"]) > 0
    assert "low_stock" in split_value(client.get(key))[1]
    with pool.connection() as conn:
        commands.apply_movement(conn, "O1", "m3", -3, "sale")  # 0: sold out
    p.stock(["O1"])
    page = create_app(settings).test_client().get("/p/O1").text
    assert "https://schema.org/OutOfStock" in page
