"""The broker stops in the middle of 1,000 admin writes and comes back on the same port.

The broker runs on a redis-server of its own. Writes keep getting 2xx while it is down (the
outbox keeps them); the relay sweep sends them when it is back. Every accepted write must end
up projected: each write sets the price of its own product, so each one is checked on its own
(the price snippet's version equals the database's price_version).
"""

from __future__ import annotations

import threading
import time

import pytest
import redis
import requests

from tests.faults.conftest import age_unacked, price_versions, seed, with_broker
from tests.faults.test_worker_kill import PAST_VISIBILITY
from tests.processes import poll, wait_until
from tools.localservices import Redis, free_port
from vocab.keys import Context, KeyScheme, Kind, split_value

pytestmark = pytest.mark.faults
API = "/admin/api/v1"
WRITES = 1000
CLIENTS = 8
DOWN_AFTER = 300  # accepted writes before the broker stops
DOWN_FOR = 4.0  # seconds
EN_EUR = Context("en_US", "EUR")


class Writer:
    """CLIENTS threads putting one new price per product, in order, recording each answer."""

    def __init__(self, admin: str, headers: dict[str, str], skus: list[str]) -> None:
        self.admin, self.headers = admin, headers
        self.todo = list(enumerate(skus))
        self.lock = threading.Lock()
        self.answers: dict[str, tuple[int, float, str]] = {}  # sku -> (status, finished at, amount)
        self.broker_down = False
        self.during_outage = 0
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(CLIENTS)]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def join(self, timeout: float) -> None:
        for t in self.threads:
            t.join(timeout)

    @property
    def accepted(self) -> int:
        return sum(1 for status, _, _ in list(self.answers.values()) if 200 <= status < 300)

    def _run(self) -> None:
        session = requests.Session()
        while True:
            with self.lock:
                if not self.todo:
                    return
                i, sku = self.todo.pop(0)
            amount = f"{500 + i}.{i % 100:02d}"
            try:
                r = session.put(
                    f"{self.admin}{API}/prices/{sku}/EUR", json={"amount": amount}, headers=self.headers, timeout=30
                )
                status = r.status_code
            except requests.RequestException:
                status = 0
            with self.lock:
                self.answers[sku] = (status, time.monotonic(), amount)
                if self.broker_down and 200 <= status < 300:
                    self.during_outage += 1


@pytest.mark.parametrize(
    "save",
    [
        pytest.param(True, id="restart"),
        pytest.param(False, id="crash"),
    ],
)
def test_writes_accepted_while_the_broker_is_down_are_all_projected(rig, tmp_path, save):
    """``restart``: SHUTDOWN SAVE, the broker comes back with its queue; ``crash``: SHUTDOWN NOSAVE."""
    port = free_port()
    broker = Redis(port, tmp_path / "broker").start()
    try:
        with_broker(rig, f"{broker.url}/0")
        skus = seed(rig, WRITES, dispatched=True)
        worker = rig.start_worker()
        rig.start_scheduler()
        admin = rig.start_http("admin")
        writer = Writer(admin, rig.token("pricing"), skus)
        started = time.monotonic()
        writer.start()
        wait_until(
            lambda: writer.accepted >= DOWN_AFTER or not any(t.is_alive() for t in writer.threads),
            timeout=120,
            interval=0.01,
            what=f"{DOWN_AFTER} accepted writes",
        )
        queued_at_stop = rig.queued()
        redis.Redis(port=port).shutdown(save=save, nosave=not save)
        broker.process.wait(10)
        writer.broker_down = True
        time.sleep(DOWN_FOR)  # the outage itself (writes go on meanwhile), not a wait for anything
        writer.broker_down = False
        broker = Redis(port, tmp_path / "broker").start()
        held_at_outage = rig.broker.hlen("unacked")  # what the worker had taken: back from the RDB file, if saved
        writer.join(120)
        assert not any(t.is_alive() for t in writer.threads)
        wrote_for = time.monotonic() - started
        accepted = {sku for sku, (status, _, _) in writer.answers.items() if 200 <= status < 300}
        # A stopping worker lingers; its whole log is searched (a traceback line alone can be 5,000 characters).
        survived = worker.alive() and "Unrecoverable error" not in worker.log(chars=10**9)
        assert survived, f"the worker did not survive the broker's restart:\n{worker.log()[-3000:]}"
        held = age_unacked(rig, PAST_VISIBILITY)
        if held:  # the worker dropped what it held at the outage; the broker gives it to a worker that starts
            rig.start_worker("w2")
        rig.wait_drained(timeout=60)

        keys = KeyScheme(rig.settings.key_prefix)
        versions = price_versions(rig)

        def projected() -> set[str]:
            """The products whose price snippet is the one of their accepted write."""
            stored = rig.client.mget([keys.snippet(1, Kind.PRICE, EN_EUR, sku) for sku in skus])
            done: set[str] = set()
            for sku, raw in zip(skus, stored, strict=True):
                value = split_value(raw)
                amount = writer.answers.get(sku, (0, 0, None))[2]
                if value is not None and value[0] == versions[sku] and f'"price":"{amount}"' in value[1]:
                    done.add(sku)
            return done

        # The last sweep's tasks may still be on their way: wait for every accepted write to show
        # (bounded), and report what never did.
        poll(lambda: accepted <= projected(), timeout=30, interval=0.1)
        lost = accepted - projected()
        statuses = sorted({status for status, _, _ in writer.answers.values()})
        print(
            f"\nFIGURE broker-outage: {WRITES} writes in {wrote_for:.1f}s, broker down {DOWN_FOR:.0f}s after "
            f"{DOWN_AFTER} ({queued_at_stop} messages in the broker at the stop, "
            f"SHUTDOWN {'SAVE' if save else 'NOSAVE'}); "
            f"{held_at_outage} messages held by the worker at the outage, redelivered after the visibility "
            f"timeout (fast-forwarded); "
            f"{len(accepted)} accepted ({writer.during_outage} while it was down), "
            f"{len(accepted) - len(lost)} projected, {len(lost)} lost; statuses {statuses}"
        )
        assert len(accepted) == WRITES and writer.during_outage > 0
        assert not lost, f"accepted but never projected: {sorted(lost)[:20]}"
    finally:
        rig.stop_all()
        broker.stop()
