"""One full rebuild at a time: a Redis lock held for the whole rebuild, renewed while it runs,
expiring when its holder dies."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from decimal import Decimal
from itertools import pairwise

import pytest

from catalog import commands
from catalog.models import CategoryIn, ProductIn
from projector.rebuild import RebuildLockLost, RebuildRunning, rebuild
from projector.rebuildlock import Holder
from projector.service import Projector
from search.factory import make_search
from tests.processes import REPO, wait_until
from tests.redis_support import store_client
from vocab.keys import Context, KeyScheme, Kind

pytestmark = pytest.mark.integration
EN = Context("en_US", "EUR")
SKUS = [f"L-{i:03d}" for i in range(30)]
HERE = f"{socket.gethostname()}/{os.getpid()}"


def make(settings, pool) -> Projector:
    client = store_client(settings)
    return Projector(settings, pool, client, make_search(settings, client))


def seed(pool) -> None:
    with pool.connection() as conn:
        commands.put_categories(conn, [("gear", CategoryIn(name={"en_US": "Gear"}))])
        commands.put_products(
            conn, [(sku, ProductIn(name={"en_US": f"Lock {sku}"}, categories=["gear"])) for sku in SKUS]
        )
        for sku in SKUS:
            commands.put_prices(conn, [(sku, "EUR", Decimal("9.50"))])


def state(p: Projector) -> dict:
    """Everything a second rebuild must not change."""
    client, keys = p.writer.client, p.keys
    return {
        "live": client.get(keys.live),
        "building": client.get(keys.building),
        "genseq": client.get(keys.genseq),
        "generations": client.smembers(keys.generations),
        "lock": client.get(keys.rebuild_lock),
    }


def renewers() -> list[threading.Thread]:
    """The running rebuild locks' renewing threads (one ends when its rebuild releases the lock or
    when it finds the lock no longer its own)."""
    return [t for t in threading.enumerate() if t.name == "rebuild-lock"]


def generation_keys(p: Projector, gen: int) -> set[str]:
    return {k.decode() for k in p.writer.client.scan_iter(match=p.keys.generation_pattern(gen), count=1000)}


class Paused:
    """Runs a rebuild in a thread that stops before loading its second batch until released."""

    def __init__(self, p: Projector, fail: bool = False, **kwargs) -> None:
        self.reached, self.go = threading.Event(), threading.Event()
        self.result = self.error = None
        load, calls = p.load, []

        def load_pausing(chunk, categories):
            calls.append(chunk)
            if len(calls) == 2:
                self.reached.set()
                assert self.go.wait(60)
                if fail:
                    raise RuntimeError("the database went away")
            return load(chunk, categories)

        p.load = load_pausing
        self.thread = threading.Thread(target=self._run, args=(p, kwargs), daemon=True)

    def _run(self, p, kwargs):
        try:
            self.result = rebuild(p, progress=False, batch=10, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self.error = exc

    def __enter__(self):
        self.thread.start()
        assert self.reached.wait(30), "the rebuild did not reach its second batch"
        return self

    def __exit__(self, *exc):
        self.go.set()
        self.thread.join(60)
        assert not self.thread.is_alive()


def test_a_second_rebuild_refuses_at_once_and_the_first_goes_live_complete(settings, pool, service_env):
    seed(pool)
    first, second = make(settings, pool), make(settings, pool)
    keys = first.keys
    old = rebuild(make(settings, pool), progress=False).generation
    with Paused(first) as running:
        building = int(first.writer.client.get(keys.building))
        before = state(first)
        started = time.monotonic()
        with pytest.raises(RebuildRunning) as refused:
            rebuild(second, progress=False)
        assert time.monotonic() - started < 2  # at once, not after waiting for the lock
        message = str(refused.value)
        assert message.startswith("a rebuild is already running (started at ")
        assert f"by host/pid {HERE})" in message and "wait for it or" in message
        assert state(first) == before  # nothing changed: the building pointer is still the first one's

        cli = subprocess.run(
            [sys.executable, "-m", "entrypoints.projector_cli", "rebuild", "--quiet"],
            env=service_env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert cli.returncode == 1, cli.stdout + cli.stderr
        assert "a rebuild is already running (started at " in cli.stderr and f"by host/pid {HERE})" in cli.stderr
        assert state(first) == before

        status = subprocess.run(
            [sys.executable, "-m", "entrypoints.projector_cli", "status"],
            env=service_env,
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert f"building generation      {building}" in status
        assert "rebuild running          yes (started at " in status and f"by host/pid {HERE}" in status

    assert running.error is None, running.error
    assert running.result.generation == building and running.result.products == len(SKUS)
    client = first.writer.client
    assert int(client.get(keys.live)) == building and client.get(keys.building) is None
    assert client.get(keys.rebuild_lock) is None  # released
    assert len(generation_keys(first, building)) == len(generation_keys(first, old))  # as complete as a plain one
    assert all(client.exists(keys.snippet(building, Kind.DETAIL, EN, sku)) for sku in SKUS)
    status = subprocess.run(
        [sys.executable, "-m", "entrypoints.projector_cli", "status"],
        env=service_env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "rebuild running          no" in status


def test_the_lock_is_renewed_while_a_rebuild_outlasts_its_ttl(settings, pool):
    seed(pool)
    first = make(settings, pool)
    client, lock = first.writer.client, first.keys.rebuild_lock
    with Paused(first, lock_ttl=1.0) as running:
        # Not a wait for something: the rebuild must outlast its TTL (two and a half of them, real
        # time in Redis); meanwhile the lock never lapses and keeps being renewed.
        held = time.monotonic()
        ttls = [client.pttl(lock)]
        while time.monotonic() - held < 2.5:
            time.sleep(0.05)
            ttls.append(client.pttl(lock))
        assert all(0 < ttl <= 1000 for ttl in ttls), ttls
        renewals = sum(1 for before, after in pairwise(ttls) if after > before)
        assert renewals >= 2, ttls  # every third of the TTL
        with pytest.raises(RebuildRunning):
            rebuild(make(settings, pool), progress=False)
    assert running.error is None, running.error
    assert int(first.writer.client.get(first.keys.live)) == running.result.generation


def test_a_failed_rebuild_releases_the_lock_and_deletes_its_generation(settings, pool):
    seed(pool)
    p = make(settings, pool)
    live = rebuild(make(settings, pool), progress=False).generation
    with Paused(p, fail=True) as running:
        building = int(p.writer.client.get(p.keys.building))
        assert json.loads(p.writer.client.get(p.keys.rebuild_lock))["pid"] == os.getpid()  # held while it runs
    assert isinstance(running.error, RuntimeError)
    client, keys = p.writer.client, p.keys
    assert client.get(keys.rebuild_lock) is None and client.get(keys.building) is None
    assert int(client.get(keys.live)) == live
    assert not generation_keys(p, building) and not client.sismember(keys.generations, building)
    assert rebuild(make(settings, pool), progress=False).generation > building  # nothing blocks the next one


def test_a_rebuild_that_lost_its_lock_does_not_switch(settings, pool):
    seed(pool)
    p = make(settings, pool)
    live = rebuild(make(settings, pool), progress=False).generation
    with Paused(p, lock_ttl=0.6) as running:
        building = int(p.writer.client.get(p.keys.building))
        p.writer.client.delete(p.keys.rebuild_lock)  # as if the rebuild had stalled past the TTL
        [renewer] = renewers()  # this rebuild's
        renewer.join(5)
        assert not renewer.is_alive(), "the renewer did not find out that the lock was lost"
    assert isinstance(running.error, RebuildLockLost), running.error
    assert int(p.writer.client.get(p.keys.live)) == live
    assert not generation_keys(p, building)


def test_an_expired_lock_of_a_dead_runner_does_not_block(settings, pool):
    seed(pool)
    p = make(settings, pool)
    client, keys = p.writer.client, KeyScheme(settings.key_prefix)
    dead = Holder("lost-machine", 4242, "pid:[1]", time.time() - 300, "x")
    client.set(keys.rebuild_lock, dead.encode(), px=1500)  # its last renewal, 1.5 s before expiry
    with pytest.raises(RebuildRunning, match=r"by host/pid lost-machine/4242\); wait for it or"):
        rebuild(p, progress=False)
    assert client.get(keys.live) is None and client.get(keys.genseq) is None
    wait_until(lambda: client.get(keys.rebuild_lock) is None, timeout=5, what="the lock to expire")
    gen = rebuild(p, progress=False).generation
    assert int(client.get(keys.live)) == gen and client.get(keys.rebuild_lock) is None


def test_a_dead_runner_on_this_machine_is_not_waited_for(settings, pool):
    seed(pool)
    p = make(settings, pool)
    client, keys = p.writer.client, KeyScheme(settings.key_prefix)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # a live process, nothing waits
    try:
        client.set(keys.rebuild_lock, replace(Holder.me(), pid=alive.pid).encode(), px=60_000)
        with pytest.raises(RebuildRunning, match=f"by host/pid {socket.gethostname()}/{alive.pid}"):
            rebuild(p, progress=False)
    finally:
        alive.kill()
        alive.wait()
    # The same process, now gone (killed, reaped), while its lock would still live for a minute.
    assert json.loads(client.get(keys.rebuild_lock))["pid"] == alive.pid and client.pttl(keys.rebuild_lock) > 50_000
    gen = rebuild(p, progress=False).generation
    assert int(client.get(keys.live)) == gen and client.get(keys.rebuild_lock) is None
