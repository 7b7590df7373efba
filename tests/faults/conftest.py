"""Fault tests: a shop in real processes on a PostgreSQL of its own (so a test can stop it).

Redis databases 4 (snippets), 5 (broker) and 6 (fresh projections to compare with) of the
session's Redis keep these tests apart from the others; a test that stops the broker runs one
on a redis-server of its own.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import redis

from catalog import commands
from catalog.models import CategoryIn, ProductIn
from catalog.relay import dispatch, settle
from catalog.schema import upgrade
from catalog.tokens import create_token
from projector.broker import queue_depths
from projector.celery_app import celery_sender, make_celery
from snipshop.config import Settings, load
from tests import store_dump
from tests.conftest import REPO, TABLES
from tests.processes import Process, start_http, start_scheduler, wait_until, worker_args
from tests.redis_support import store_client
from tools.localservices import Postgres, free_port
from vocab.keys import KeyScheme

#: Short, so that a lost task is sent again within the test's patience (production: 30 s).
REDELIVER_SECONDS = 2.0
SNIPPET_DB, BROKER_DB, FRESH_DB = 4, 5, 6


@pytest.fixture(scope="session")
def faults_pg():
    base = Path(tempfile.mkdtemp(prefix="snipshop-faults-pg-"))  # not pytest's tmp dir: the server runs as postgres
    base.chmod(0o755)
    server = Postgres(base / "data", free_port()).start()
    url = server.create_database("faults")
    upgrade(url)
    # The test cluster runs with synchronous_commit=off (tools.localservices, for speed): a commit
    # may then be acknowledged before it reaches the WAL, and an immediate stop loses it. The
    # database of these tests commits synchronously (the PostgreSQL default), so a write the
    # admin API acknowledged survives a stop; fsync stays off (the OS keeps what was written).
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER DATABASE faults SET synchronous_commit = on")
    yield server, url
    server.stop("immediate")
    shutil.rmtree(base, ignore_errors=True)


def pids_of_children(pid: int) -> list[int]:
    """Direct children of a process (the prefork pool of a Celery worker)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def running_children(pid: int) -> list[int]:
    """Direct children of a process that are on a CPU or waiting for one (state R): for a Celery
    worker, the pool processes running a task rather than waiting for one on their pipe."""
    out = []
    for child in pids_of_children(pid):
        try:
            state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state == "R":
            out.append(child)
    return out


@dataclass
class Rig:
    """The services and processes of one fault test, and what the tests do with them."""

    pg: Postgres
    settings: Settings
    env: dict[str, str]
    logs: Path
    redis_base_url: str
    processes: list[Process] = field(default_factory=list)
    _pool: object | None = None
    _celery: object | None = None

    # -- processes ------------------------------------------------------------------------------

    def start_worker(self, name: str = "worker", concurrency: int = 2) -> Process:
        return self.start_workers(1, concurrency, names=[name])[0]

    def start_workers(self, n: int, concurrency: int = 2, names: list[str] | None = None) -> list[Process]:
        """Start ``n`` workers at once, then wait for each to be ready (tests.processes.start_worker's command)."""

        names = names or [f"w{i}" for i in range(1, n + 1)]
        started = [Process(name, worker_args(name, concurrency), self.env, self.logs) for name in names]
        self.processes += started  # before waiting: a worker that never gets ready is still stopped
        for p in started:
            wait_until(lambda p=p: "ready." in p.log() or not p.alive(), timeout=60, what=f"{p.name} ready")
            assert p.alive(), p.log()
        return started

    def start_scheduler(self) -> Process:
        p = start_scheduler(self.env, self.logs)
        self.processes.append(p)
        return p

    def start_http(self, role: str) -> str:
        p, url = start_http(role, self.env, self.logs)
        self.processes.append(p)
        return url

    def kill_pool_children(self, worker: Process) -> list[int]:
        """SIGKILL the prefork children of a worker: the processes running its tasks."""
        pids = pids_of_children(worker.proc.pid)
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        return pids

    def stop_all(self) -> None:
        errors = []
        for p in reversed(self.processes):
            try:
                p.stop()
            except Exception as exc:  # noqa: BLE001 - stop the others anyway
                errors.append(exc)
                with contextlib.suppress(OSError):
                    os.killpg(p.proc.pid, signal.SIGKILL)
        self.processes.clear()
        if errors:
            raise errors[0]

    # -- clients --------------------------------------------------------------------------------

    @property
    def client(self) -> redis.Redis:
        return store_client(self.settings)

    @property
    def broker(self) -> redis.Redis:
        return redis.Redis.from_url(self.settings.broker_url, socket_timeout=2)

    @property
    def pool(self):
        if self._pool is None:
            from catalog.db import make_pool

            self._pool = make_pool(self.settings.database_url, max_size=4, name="faults-test")
            self._pool.open(wait=True)
        return self._pool

    @property
    def celery(self):
        if self._celery is None:
            self._celery = make_celery(self.settings)
        return self._celery

    def drop_pool(self) -> None:
        """Forget the test's pool (its connections die with a stopped database)."""
        if self._pool is not None:
            self._pool.close(timeout=1)
            self._pool = None

    def send(self, task: str, keys: list[str]) -> None:
        self.celery.send_task(task, args=[keys])

    def dispatch(self) -> int:
        """What the relay does: send every undispatched outbox row."""
        with self.pool.connection() as conn:
            return dispatch(conn, celery_sender(self.celery))

    def dispatch_each(self) -> int:
        """The writers' fast path: every undispatched outbox row sent on its own, one task each."""
        with self.pool.connection() as conn:
            ids = [r[0] for r in conn.execute("SELECT id FROM outbox WHERE dispatched_at IS NULL ORDER BY id")]
            send = celery_sender(self.celery)
            for outbox_id in ids:
                dispatch(conn, send, [outbox_id])
        return len(ids)

    def held_by_workers(self, task: str) -> int:
        """Messages of ``task`` delivered to a worker and not acknowledged yet."""
        return sum(1 for raw in self.broker.hvals("unacked") if task.encode() in raw)

    def token(self, role: str = "admin") -> dict[str, str]:
        with self.pool.connection() as conn:
            return {"Authorization": f"Bearer {create_token(conn, role, f'faults-{role}')}"}

    def projector(self, redis_url: str | None = None):
        from projector.service import Projector
        from search.factory import make_search

        settings = replace(self.settings, redis_url=redis_url or self.settings.redis_url)
        client = store_client(settings)
        return Projector(settings, self.pool, client, make_search(settings, client))

    # -- the store ------------------------------------------------------------------------------

    def dump(self) -> store_dump.Dump:
        return store_dump.dump(self.client, self.settings)

    def fresh(self) -> store_dump.Dump:
        return store_dump.fresh_projection(self.settings, f"{self.redis_base_url}/{FRESH_DB}")

    def differences(self) -> list[str]:
        """Keys in which the live store differs from a fresh projection of the database."""
        return store_dump.diff(self.dump(), self.fresh())

    def queued(self) -> int:
        """Messages in the broker: waiting in the queue or delivered and not yet acknowledged."""
        b = self.broker
        return sum(queue_depths(b).values()) + b.hlen("unacked")

    def refresh_pending(self) -> int:
        """Batches of the scheduled refresh that no task has started (projector.refresh)."""
        return self.client.zcard(KeyScheme(self.settings.key_prefix).refresh_pending)

    def undispatched(self) -> int:
        with self.pool.connection() as conn:
            return conn.execute("SELECT count(*) FROM outbox WHERE dispatched_at IS NULL").fetchone()[0]

    def unprojected(self) -> int:
        """Outbox rows no task has acknowledged yet (dispatched or not)."""
        with self.pool.connection() as conn:
            return conn.execute("SELECT count(*) FROM outbox WHERE projected_at IS NULL").fetchone()[0]

    def wait_drained(self, timeout: float = 60, quiet_for: float = 0.5, outbox: bool = True) -> None:
        """Until the broker holds no message (and no outbox row waits for its projection) for
        ``quiet_for`` seconds."""
        quiet_since = None

        def check() -> bool:
            nonlocal quiet_since
            idle = self.queued() == 0 and (not outbox or self.unprojected() == 0) and self.refresh_pending() == 0
            now = time.monotonic()
            if not idle:
                quiet_since = None
                return False
            quiet_since = quiet_since or now
            return now - quiet_since >= quiet_for

        try:
            wait_until(check, timeout=timeout, interval=0.05, what="an empty broker")
        except AssertionError as e:
            raise AssertionError(f"{e}: {self.backlog()}") from None

    def backlog(self) -> str:
        """What is left in the broker and the outbox, for a failure's message."""
        b = self.broker
        lists = {queue: depth for queue, depth in queue_depths(b).items() if depth}
        with self.pool.connection() as conn:
            rows = conn.execute("""SELECT topic, sends, dispatched_at IS NOT NULL, count(*) FROM outbox
                                   WHERE projected_at IS NULL GROUP BY 1, 2, 3 ORDER BY 1, 2""").fetchall()
        return (
            f"broker lists {lists}, unacked {b.hlen('unacked')}, refresh batches not started "
            f"{self.refresh_pending()}; unprojected (topic, sends, dispatched, n) {rows}"
        )

    def close(self) -> None:
        self.stop_all()
        if self._pool is not None:
            self._pool.close()


def reset(db_url: str, redis_base_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    for n in (SNIPPET_DB, BROKER_DB, FRESH_DB):
        redis.Redis.from_url(f"{redis_base_url}/{n}").flushdb()


@pytest.fixture
def rig(faults_pg, redis_base_url, tmp_path):
    pg, db_url = faults_pg
    pg.start()  # a test before may have stopped it
    reset(db_url, redis_base_url)
    settings = replace(
        load({}),
        database_url=db_url,
        redis_url=f"{redis_base_url}/{SNIPPET_DB}",
        broker_url=f"{redis_base_url}/{BROKER_DB}",
        locales=("en_US", "de_DE"),
        currencies=("EUR", "USD"),
        outbox_redeliver_seconds=REDELIVER_SECONDS,
    )
    env = dict(
        os.environ,
        DATABASE_URL=settings.database_url,
        REDIS_URL=settings.redis_url,
        CELERY_BROKER_URL=settings.broker_url,
        SHOP_LOCALES="en_US,de_DE",
        SHOP_CURRENCIES="EUR,USD",
        OUTBOX_REDELIVER_SECONDS=str(REDELIVER_SECONDS),
        PYTHONPATH=str(REPO),
    )
    env.pop("ELASTICSEARCH_URL", None)
    env.pop("SHOP_KEY_PREFIX", None)
    r = Rig(pg, settings, env, tmp_path, redis_base_url)
    yield r
    r.close()


def with_broker(r: Rig, broker_url: str) -> Rig:
    """The same rig with another broker (for a broker of its own that a test may stop)."""
    r.settings = replace(r.settings, broker_url=broker_url)
    r.env = dict(r.env, CELERY_BROKER_URL=broker_url)
    r._celery = None
    return r


# -- a small catalog ------------------------------------------------------------------------------

CATEGORIES = [
    ("gear", None, "Gear", "Ausrüstung"),
    ("bags", "gear", "Bags", "Taschen"),
    ("tops", None, "Tops", "Oberteile"),
]
BRANDS = ("Luma", "Ovo", "Zed")
COLORS = ("Red", "Blue", "Black", "Green")


def product_in(i: int, *, name: str | None = None, active: bool = True) -> ProductIn:
    cats = ["bags"] if i % 3 == 0 else (["gear"] if i % 3 == 1 else ["tops", "gear"])
    return ProductIn(
        name={"en_US": name or f"Product {i} field bag", "de_DE": f"Produkt {i} Tasche"},
        description={"en_US": f"<p>Sturdy item <b>{i}</b> for trips.</p>"},
        brand=BRANDS[i % len(BRANDS)],
        categories=cats,
        attributes={"color": [COLORS[i % 4], COLORS[(i + 1) % 4]], "size": "M"},
        active=active,
    )


def sku_of(i: int) -> str:
    return f"F-{i:04d}"


def seed(r: Rig, products: int, *, stock=lambda i: 3 + (i * 7) % 40, dispatched: bool = True) -> list[str]:
    """Categories, ``products`` products with EUR and USD prices and stock; outbox rows marked sent."""
    skus = [sku_of(i) for i in range(products)]
    with r.pool.connection() as conn:
        commands.put_categories(
            conn,
            [
                (k, CategoryIn(parent=p, name={"en_US": en, "de_DE": de}, position=n))
                for n, (k, p, en, de) in enumerate(CATEGORIES)
            ],
        )
        for start in range(0, products, 500):
            part = range(start, min(products, start + 500))
            commands.put_products(conn, [(sku_of(i), product_in(i)) for i in part])
            commands.put_prices(
                conn,
                [(sku_of(i), cur, Decimal(f"{10 + i % 90}.{i % 100:02d}")) for i in part for cur in ("EUR", "USD")],
            )
            commands.set_stock(conn, [(sku_of(i), stock(i)) for i in part])
        if dispatched:
            settle(conn)
    return skus


def price_versions(r: Rig) -> dict[str, int]:
    with r.pool.connection() as conn:
        return dict(conn.execute("SELECT sku, price_version FROM products").fetchall())


def full_log(p: Process) -> str:
    return p.log_path.read_text(errors="replace")


def kill_hard(p: Process) -> None:
    """SIGKILL a process and its children at once (no warm shutdown, nothing handed back)."""
    p.stop(signal.SIGKILL)


def age_unacked(r: Rig, seconds: float) -> int:
    """Pretend ``seconds`` passed for the messages a dead worker held (kombu's unacked index).

    The Redis transport hands such messages to another worker once they are older than the
    visibility timeout (300 s in projector.celery_app); this moves their delivery time back
    instead of waiting. Returns how many messages there were.
    """
    b = r.broker
    held = b.zrange("unacked_index", 0, -1, withscores=True)
    if held:
        b.zadd("unacked_index", {tag: score - seconds for tag, score in held})
    return len(held)
