"""Projection processes die with SIGKILL mid-way: a worker during a burst of writes, the
``projector rebuild`` command, a worker during the scheduled refresh. Afterwards the live store
equals a fresh projection of the database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal

import pytest
import requests

from catalog import commands
from projector import celery_app as names
from projector import refresh as refresh_ledger
from projector.rebuild import rebuild
from tests import store_dump
from tests.conftest import REPO
from tests.faults.conftest import Rig, age_unacked, full_log, kill_hard, product_in, running_children, seed
from tests.processes import poll, wait_until
from tools.processes import Process
from vocab.keys import Context, KeyScheme, Kind

pytestmark = pytest.mark.faults
EN = Context("en_US", "EUR")
#: The broker's visibility timeout (projector.celery_app) plus a second.
PAST_VISIBILITY = 301


def _lost_jobs(*workers) -> int:
    return sum(full_log(w).count("Task handler raised error: WorkerLostError") for w in workers)


def test_a_worker_killed_mid_projection(rig):
    """SIGKILL the pool processes while they project a burst: their tasks are rejected and run again."""
    skus = seed(rig, 400)
    rebuild(rig.projector(), progress=False)
    w1 = rig.start_worker("w1")
    with rig.pool.connection() as conn:  # a burst: text in batches (slow tasks), then a price and a stock write each
        for start in range(0, len(skus), 40):
            commands.put_products(
                conn, [(skus[i], product_in(i, name=f"Renamed {i}")) for i in range(start, start + 40)]
            )
        for i, sku in enumerate(skus):
            commands.put_prices(conn, [(sku, "EUR", Decimal(f"{200 + i}.50"))])
        for i, sku in enumerate(skus):
            commands.set_stock(conn, [(sku, 0 if i % 2 else 100)])
    sent = rig.dispatch_each()  # one task per write, as the admin API's fast path sends them
    kills = rounds = 0
    pending = []
    while _lost_jobs(w1) < 2 and rounds < 8:  # kill the pool processes until two were caught mid-task
        rounds += 1
        if not poll(lambda: _busy(rig, w1), timeout=10, interval=0.005):
            break  # nothing left to interrupt
        pending.append(rig.queued())
        kills += len(rig.kill_pool_children(w1))
        wait_lost(w1, _lost_jobs(w1) + 1)
    interrupted = _lost_jobs(w1)
    assert interrupted, "no task was running when the pool processes were killed\n" + w1.log()
    assert pending and pending[0] > 0, f"the burst was projected before the first kill: {pending}"
    rig.wait_drained(timeout=90)
    differing = rig.differences()
    print(
        f"\nFIGURE worker-kill-mid-projection: {sent} tasks for {len(skus) * 3} writes; {kills} pool processes "
        f"SIGKILLed in {rounds} rounds ({pending} messages pending at the kills), {interrupted} tasks "
        f"interrupted mid-run and delivered again; "
        f"differing keys = {len(differing)}"
    )
    assert differing == [], store_dump.describe(differing)


def _busy(rig: Rig, worker: Process) -> bool:
    """A pool process of ``worker`` is on a CPU while the worker holds messages: running one of them."""
    return bool(running_children(worker.proc.pid)) and rig.queued() > 0


def wait_lost(worker: Process, at_least: int = 1, timeout: float = 1.0) -> bool:
    """Whether the worker reports ``at_least`` tasks lost within ``timeout`` (a kill may catch none)."""
    return bool(poll(lambda: _lost_jobs(worker) >= at_least, timeout))


def test_a_rebuild_killed_midway_leaves_the_live_generation_serving(rig):
    skus = seed(rig, 800)
    rebuild(rig.projector(), progress=False)
    keys = KeyScheme(rig.settings.key_prefix)
    client = rig.client
    live = int(client.get(keys.live))
    rig.start_worker()
    edge = rig.start_http("edge")
    pages_before = {sku: requests.get(f"{edge}/p/{sku}", timeout=10).text for sku in (skus[0], skus[-1])}

    proc = subprocess.Popen(
        [sys.executable, "-m", "entrypoints.projector_cli", "rebuild", "--batch", "25", "--quiet"],
        env=rig.env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        building = int(wait_until(lambda: client.get(keys.building), timeout=20, what="the rebuild to start"))
        with rig.pool.connection() as conn:  # editors keep working while it runs
            for i, sku in enumerate(skus[:40]):
                commands.put_prices(conn, [(sku, "USD", Decimal(f"{300 + i}.00"))])
        rig.dispatch()
        wait_until(
            lambda: client.exists(keys.snippet(building, Kind.DETAIL, EN, skus[len(skus) // 4])),
            timeout=30,
            interval=0.01,
            what="the rebuild a quarter through",
        )
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not client.exists(keys.snippet(building, Kind.DETAIL, EN, skus[-1])), "the rebuild had finished"
    assert int(client.get(keys.live)) == live and rig.dump().search_generation == live
    half_built = sum(1 for _ in client.scan_iter(match=keys.generation_pattern(building), count=1000))
    stale_pointer = client.get(keys.building) is not None

    with rig.pool.connection() as conn:  # more writes after the crash
        commands.put_products(conn, [(skus[1], product_in(1, name="After the crash"))])
        commands.set_stock(conn, [(skus[2], 0)])
    rig.dispatch()
    rig.wait_drained()
    for sku, before in pages_before.items():
        assert requests.get(f"{edge}/p/{sku}", timeout=10).text == before  # the live generation serves
    assert "After the crash" in requests.get(f"{edge}/p/{skus[1]}", timeout=10).text
    differing_live = rig.differences()

    done = subprocess.run(
        [sys.executable, "-m", "entrypoints.projector_cli", "rebuild", "--quiet"],
        env=rig.env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    left = sum(1 for _ in client.scan_iter(match=keys.generation_pattern(building), count=1000))
    differing_next = rig.differences()
    print(
        f"\nFIGURE rebuild-kill: `projector rebuild` SIGKILLed with generation {building} half built "
        f"({half_built} keys); live generation {live} kept serving; stale `building` pointer left: "
        f"{stale_pointer}; differing keys = {len(differing_live)}; after the next rebuild "
        f"(generation {int(client.get(keys.live))}): {left} keys of the half-built generation left, "
        f"differing keys = {len(differing_next)}"
    )
    assert differing_live == [], store_dump.describe(differing_live)
    assert differing_next == [], store_dump.describe(differing_next)
    assert client.get(keys.building) is None and int(client.get(keys.live)) > building
    # Whether the next rebuild also deletes the half-built generation: see the test below.


def test_the_next_rebuild_collects_a_half_built_generation(rig):
    """A rebuild SIGKILLs itself after projecting the products (before the switch), then a rebuild runs."""
    seed(rig, 30)
    rebuild(rig.projector(), progress=False)
    keys = KeyScheme(rig.settings.key_prefix)
    client = rig.client
    dies = (
        "import os, signal\n"
        "from projector.service import Projector\n"
        "Projector.navigation = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)\n"
        "from entrypoints.projector_cli import main\n"
        "main(['rebuild', '--quiet'])\n"
    )
    killed = subprocess.run([sys.executable, "-c", dies], env=rig.env, cwd=REPO, capture_output=True, timeout=60)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    half_built = int(client.get(keys.building))
    assert client.exists(keys.snippet(half_built, Kind.DETAIL, EN, "F-0000"))
    done = subprocess.run(
        [sys.executable, "-m", "entrypoints.projector_cli", "rebuild", "--quiet"],
        env=rig.env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    left = [k.decode() for k in client.scan_iter(match=keys.generation_pattern(half_built), count=1000)]
    index_left = [k for k in left if ":idx:" in k and client.ttl(k) == -1]
    print(
        f"\nFIGURE half-built-generation: after the next rebuild {len(left)} keys of the killed rebuild's "
        f"generation {half_built} left ({len(index_left)} search-index keys without a TTL); still listed in "
        f"{keys.generations}: {client.sismember(keys.generations, half_built)}"
    )
    assert left == [] and not client.sismember(keys.generations, half_built)


def test_a_worker_killed_during_the_refresh(rig):
    skus = seed(rig, 1000)
    rebuild(rig.projector(), progress=False)
    drift = _drift_prices(rig)
    assert drift >= len(skus) * 4
    w1 = rig.start_worker("w1")
    rig.celery.send_task(names.REFRESH)
    wait_until(
        lambda: rig.held_by_workers(names.PROJECT_PRODUCTS) and running_children(w1.proc.pid),
        timeout=20,
        interval=0.005,
        what="a pool process running the refresh's fanned-out batches",
    )
    kill_hard(w1)
    partial = len(rig.differences())
    assert partial, "the refresh had finished before the kill"
    unstarted = rig.refresh_pending()  # sent, no task started: one may be in the dead worker's socket
    held = age_unacked(rig, PAST_VISIBILITY)
    rig.start_worker("w2")
    rig.start_scheduler()  # its relay sweep sends again a batch the dead worker took out of the queue unrecorded
    rig.wait_drained(timeout=90)
    differing = rig.differences()
    print(
        f"\nFIGURE worker-kill-refresh: worker SIGKILLed during the refresh of {len(skus)} products "
        f"({drift} keys stale before, {partial} still stale at the kill, {held} messages held by the dead "
        f"worker, redelivered after the visibility timeout, fast-forwarded; {unstarted} batches listed and not "
        f"started, for the relay sweep); differing keys = {len(differing)}"
    )
    assert differing == [], store_dump.describe(differing)


def test_a_refresh_batch_a_dying_worker_took_with_it_is_sent_again(rig):
    """A worker dies with a refresh batch in its socket (see the test below): the broker forgets the
    message and no outbox row stands for it; the refresh's ledger does, and the relay sweep sends
    the batch again."""
    skus = seed(rig, 2 * refresh_ledger.REFRESH_BATCH)
    rebuild(rig.projector(), progress=False)
    _drift_prices(rig)
    w1 = rig.start_worker("w1", concurrency=1)
    _freeze_in_brpop(rig, w1)
    p = rig.projector()
    with rig.pool.connection() as conn:  # the refresh task's fan-out
        sent = refresh_ledger.fan_out(conn, p.writer.client, p.keys, names.refresh_sender(rig.celery))
    assert sent == 2
    wait_until(lambda: rig.queued() == 1, timeout=5, what="the frozen worker's BRPOP taking the first batch")
    kill_hard(w1)
    killed_at = time.monotonic()
    assert rig.broker.hlen("unacked") == 0 and rig.refresh_pending() == 2  # the broker forgot the first batch
    healed = _healed_since(rig, killed_at, timeout=60)
    differing = rig.differences()
    print(
        f"\nFIGURE worker-kill-refresh-batch: a refresh of {len(skus)} products in {sent} batches, the worker "
        f"SIGKILLed with the first in its socket (0 in unacked); sent again by the relay sweep from the "
        f"refresh's ledger, all projected {healed:.1f}s after the kill "
        f"(OUTBOX_REDELIVER_SECONDS={rig.settings.outbox_redeliver_seconds:g}); differing keys = {len(differing)}"
    )
    assert differing == [], store_dump.describe(differing)


def _healed_since(rig: Rig, killed_at: float, timeout: float) -> float:
    """Start another worker and the scheduler, whose relay sweep sends again what the broker
    forgot; the seconds from ``killed_at`` until nothing is left to project."""
    rig.start_worker("w2")
    rig.start_scheduler()
    rig.wait_drained(timeout=timeout)
    return time.monotonic() - killed_at


def _drift_prices(rig: Rig) -> int:
    """Change every price behind the projector's back (only a refresh repairs it); the keys it staled."""
    with rig.pool.connection() as conn:
        conn.execute("UPDATE prices SET amount = amount + 1")
        conn.execute("UPDATE products SET price_version = nextval('source_version')")
    return len(rig.differences())


def _blocked_in_brpop(rig) -> bool:
    return any(c.get("cmd") == "brpop" and "b" in c.get("flags", "") for c in rig.broker.client_list())


def _freeze_in_brpop(rig: Rig, worker: Process) -> None:
    """SIGSTOP ``worker`` while its BRPOP is outstanding: the next message sent to its queues lands
    in its socket, taken off the queue and recorded nowhere (kombu's Redis transport records it
    under ``unacked`` only once the worker reads it)."""
    for _ in range(20):
        wait_until(lambda: _blocked_in_brpop(rig), timeout=10, what="the worker waiting in BRPOP")
        os.kill(worker.proc.pid, signal.SIGSTOP)
        if _blocked_in_brpop(rig):  # its BRPOP (1 s timeout) is still outstanding
            return
        os.kill(worker.proc.pid, signal.SIGCONT)
    raise AssertionError("the worker's BRPOP always ended before it was frozen")


def test_a_worker_killed_with_a_message_in_its_socket_loses_nothing(rig):
    """The whole worker dies after Redis answered its BRPOP and before it read the answer.

    Kombu's Redis transport takes a message with BRPOP and records it under ``unacked`` only
    when it reads the reply, so the broker forgets the message. SIGSTOP freezes the worker with a
    BRPOP outstanding, so the message lands in its socket deterministically; SIGKILL then ends
    it. The outbox row stays unacknowledged (no task stamped it projected), and the scheduler's
    relay sweep sends it again once it is older than OUTBOX_REDELIVER_SECONDS.
    """
    skus = seed(rig, 5)
    rebuild(rig.projector(), progress=False)
    w1 = rig.start_worker("w1", concurrency=1)
    _freeze_in_brpop(rig, w1)
    with rig.pool.connection() as conn:
        commands.put_prices(conn, [(skus[0], "EUR", Decimal("77.00"))])
    assert rig.dispatch() == 1 and rig.undispatched() == 0
    wait_until(lambda: rig.queued() == 0, timeout=5, what="the frozen worker's BRPOP taking the message")
    kill_hard(w1)
    killed_at = time.monotonic()
    held = rig.broker.hlen("unacked")
    assert rig.unprojected() == 1
    healed = _healed_since(rig, killed_at, timeout=30)
    differing = rig.differences()
    print(
        f"\nFIGURE worker-kill-brpop: 1 write accepted and dispatched, worker SIGKILLed with the message in its "
        f"socket ({held} in unacked); re-sent by the relay sweep and projected {healed:.1f}s after the kill "
        f"(OUTBOX_REDELIVER_SECONDS={rig.settings.outbox_redeliver_seconds:g}); differing keys = {len(differing)}"
    )
    assert differing == [], store_dump.describe(differing)
