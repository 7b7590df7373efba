"""A whole shop on loopback for the benchmarks, in one temporary directory.

Its own PostgreSQL and Redis (the snippet store on db 0, the broker on db 1) and, on request, one
Elasticsearch node; the schema migrated; a generated catalog imported through the real importer
and projected with ``projector rebuild``; then the real processes an operator runs (edge, admin,
worker, scheduler), each a :class:`tools.processes.Process` with its log under ``logs/``.

    with Stack.create(search="embedded") as stack:
        stack.load_catalog(100_000)
        stack.rebuild()
        edge = stack.start_edge(workers=2)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import redis
from redis import Redis as RedisClient  # in the class body the field ``redis`` hides the module

from projector.celery_app import SMALL_MACHINE_WORKERS
from tools.localservices import Postgres, Redis, free_port, wait_port
from tools.processes import REPO, Process

if TYPE_CHECKING:
    from projector.rebuild import Summary
    from tools.elasticsearch import ElasticsearchCluster

PYTHON = sys.executable
SEARCH_MODES = ("none", "embedded", "elasticsearch")


@dataclass
class Stack:
    base: Path
    search: str = "embedded"
    pg: Postgres | None = None
    redis: Redis | None = None
    es: ElasticsearchCluster | None = None
    env: dict[str, str] = field(default_factory=dict)
    procs: list[Process] = field(default_factory=list)
    keep: bool = False
    #: False for a :meth:`shop` on another stack's services: stopping it leaves them running.
    owns_services: bool = True

    # --- services ------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        search: str = "embedded",
        *,
        locales: str = "en_US,de_DE",
        currencies: str = "EUR,USD",
        extra_env: dict[str, str] | None = None,
        keep: bool = False,
    ) -> Stack:
        """Start PostgreSQL, Redis (and Elasticsearch for ``search="elasticsearch"``), migrate."""
        if search not in SEARCH_MODES:
            raise ValueError(f"search must be one of {SEARCH_MODES}")
        stack = cls(Path(tempfile.mkdtemp(prefix="snipshop-bench-")), search, keep=keep)
        try:
            stack._start_services(locales, currencies, extra_env or {})
        except BaseException:
            stack.stop()
            raise
        return stack

    def _start_services(self, locales: str, currencies: str, extra_env: dict[str, str]) -> None:
        self.base.chmod(0o755)  # PostgreSQL (and Elasticsearch) run unprivileged when we are root
        self.pg = Postgres(self.base / "pg", free_port()).start()
        db_url = self.pg.create_database("bench")
        self.redis = Redis(free_port(), self.base / "redis").start()
        env = dict(
            os.environ,
            DATABASE_URL=db_url,
            REDIS_URL=f"{self.redis.url}/0",
            CELERY_BROKER_URL=f"{self.redis.url}/1",
            SHOP_LOCALES=locales,
            SHOP_CURRENCIES=currencies,
            SHOP_KEY_PREFIX="ss",
            PYTHONPATH=str(REPO),
        )
        env.pop("ELASTICSEARCH_URL", None)
        if self.search == "elasticsearch":
            from tools.elasticsearch import ElasticsearchCluster, free_base_port

            self.es = ElasticsearchCluster(self.base / "es", free_base_port(1), nodes=1).start()
            env["ELASTICSEARCH_URL"] = self.es.url
        env.update(extra_env)
        self.env = env
        from catalog.schema import upgrade

        upgrade(db_url)

    @property
    def settings(self):
        from snipshop import config

        return config.load(self.env)

    def client(self) -> RedisClient:
        """The snippet store."""
        return redis.Redis.from_url(self.env["REDIS_URL"])

    def broker(self) -> RedisClient:
        return redis.Redis.from_url(self.env["CELERY_BROKER_URL"])

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.env["DATABASE_URL"], autocommit=True)

    def token(self, role: str) -> str:
        from catalog.tokens import create_token

        with self.connect() as conn:
            return create_token(conn, role, f"bench-{role}")

    # --- data ----------------------------------------------------------------------------

    def load_catalog(self, products: int, seed: int = 1, variants: tuple[int, int] | None = None) -> dict[str, float]:
        """Generate N products (tools.generate_catalog; ``variants``: LO, HI variants per product)
        and import them; return counts and seconds."""
        from tools.generate_catalog import generate

        feed = self.base / "feed"
        counts: dict[str, float] = dict(generate(products, feed, seed=seed, variants=variants))
        return {**counts, **self.import_feed(feed)}

    def load_demo_catalog(self) -> dict[str, float]:
        """The demo's catalog (the Magento sample, converted as ``./dev demo`` does), imported."""
        from tools.magento_to_feed import DEFAULT_SOURCE, convert

        feed = self.base / "demo-feed"
        counts: dict[str, float] = dict(convert(DEFAULT_SOURCE, feed))
        return {**counts, **self.import_feed(feed)}

    def import_feed(self, feed: Path) -> dict[str, float]:
        """Import every feed file in ``feed`` through the real importer; return its seconds.

        The outbox rows of the import are marked dispatched: :meth:`rebuild` projects everything.
        """
        from catalog.importer import import_files
        from catalog.relay import settle

        started = time.perf_counter()
        files = sorted(feed.glob("*.csv"))  # the importer takes them in dependency order
        rejected = import_files(self.settings, files, progress=False, send=lambda task, keys, ids: None)
        seconds = time.perf_counter() - started
        if rejected:
            raise RuntimeError(f"the catalog in {feed} had {rejected} rejected rows")
        with self.connect() as conn:
            settle(conn)
        return {"import_seconds": seconds}

    @contextlib.contextmanager
    def shop(self, name: str, redis_db: int) -> Iterator[Stack]:
        """A second shop on this stack's services, for a second catalog in the same run: its own
        database, snippet and broker Redis databases (``redis_db`` and the next) and key prefix
        (hence its own search indices). Its processes stop and its data goes when the block ends."""
        from catalog.schema import upgrade

        assert self.pg is not None and self.redis is not None
        env = dict(
            self.env,
            DATABASE_URL=self.pg.create_database(name),
            REDIS_URL=f"{self.redis.url}/{redis_db}",
            CELERY_BROKER_URL=f"{self.redis.url}/{redis_db + 1}",
            SHOP_KEY_PREFIX=f"ss{name}",
        )
        other = Stack(self.base / name, self.search, self.pg, self.redis, self.es, env, owns_services=False)
        other.base.mkdir()
        upgrade(env["DATABASE_URL"])
        try:
            yield other
        finally:
            other.stop()
            for url in (env["REDIS_URL"], env["CELERY_BROKER_URL"]):
                with contextlib.closing(redis.Redis.from_url(url)) as client:
                    client.flushdb()
            if self.es is not None:
                _drop_indices(self.es.url, f"{env['SHOP_KEY_PREFIX']}-products*")
            with psycopg.connect(self.pg.url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @contextlib.contextmanager
    def projector(self, search: bool = True):
        """A Projector on a pool of its own, built as the CLI builds it (``search=False``: snippets only)."""
        from entrypoints.bootstrap import Parts
        from projector.service import Projector

        with Parts(self.settings, pool_name="bench", pool_size=4, wait_for_database=True) as parts:
            if search and self.search != "none":
                yield parts.projector
            else:
                yield Projector(parts.settings, parts.pool, parts.snippet_redis)

    def rebuild(self, search: bool = True, jobs: int | None = None) -> tuple[Summary, float]:
        """``projector rebuild`` from this process (``jobs``: its processes, None: one per usable
        core); return its summary and the seconds it took."""
        from projector.rebuild import rebuild

        with self.projector(search) as projector:
            started = time.perf_counter()
            summary = rebuild(projector, progress=False, jobs=jobs)
            return summary, time.perf_counter() - started

    # --- processes -----------------------------------------------------------------------

    def start(
        self, name: str, args: list[str], ready: str | int, timeout: float = 60, env: dict[str, str] | None = None
    ) -> Process:
        """Start ``args`` as ``name`` (``env`` added to the stack's); ready when ``ready`` (a log
        marker or a port) shows."""
        logs = self.base / "logs"
        logs.mkdir(exist_ok=True)
        proc = Process(name, args, {**self.env, **(env or {})}, logs)
        self.procs.append(proc)
        if isinstance(ready, int):
            try:
                wait_port(ready, timeout, name)
            except RuntimeError:
                raise RuntimeError(f"{name} did not start:\n{proc.log()}") from None
        else:
            proc.wait_log(ready, timeout)
        return proc

    def serve(self, role: str, workers: int = 2, name: str | None = None, env: dict[str, str] | None = None) -> str:
        """``snipshop serve ROLE`` (the shipped server); return its base URL."""
        port = free_port()
        self.start(
            name or role,
            [PYTHON, "-m", "entrypoints.snipshop_cli", "serve", role, "--port", str(port), "--workers", str(workers)],
            port,
            env=env,
        )
        return f"http://127.0.0.1:{port}"

    def start_edge(self, workers: int = 2) -> str:
        return self.serve("edge", workers)

    def start_admin(self, workers: int = 2) -> str:
        return self.serve("admin", workers)

    def start_worker(self, concurrency: int = 2, name: str = "worker", queues: Sequence[str] | None = None) -> Process:
        """``snipshop worker`` serving ``queues`` (default: all of them; docs/queues.md)."""
        return self.start(
            name,
            [
                PYTHON,
                "-m",
                "entrypoints.snipshop_cli",
                "worker",
                *([f"--queues={','.join(queues)}"] if queues else []),
                f"--concurrency={concurrency}",
                "--pool=prefork",
                "-n",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            "ready.",
            env={"WORKER_METRICS_PORT": str(free_port())},
        )

    def start_queue_workers(self, concurrency: int = 2) -> list[Process]:
        """The small machine's worker groups (projector.celery_app.SMALL_MACHINE_WORKERS), as
        ``./dev demo`` runs them: stock and the relay sweep on one worker (concurrency 1), the
        rest on another (``concurrency``)."""
        return [
            self.start_worker(1 if name == "stock" else concurrency, name, queues)
            for name, queues in SMALL_MACHINE_WORKERS.items()
        ]

    def restart_stock_worker(self, concurrency: int) -> Process:
        """Replace the stock group's worker of :meth:`start_queue_workers` by one of
        ``concurrency`` processes (``STOCK_WORKER_CONCURRENCY``, docs/queues.md)."""
        self.stop_process(next(p for p in self.procs if p.name == "stock"))
        return self.start_worker(concurrency, f"stock-{concurrency}", SMALL_MACHINE_WORKERS["stock"])

    def start_scheduler(self) -> Process:
        logs = self.base / "logs"
        logs.mkdir(exist_ok=True)
        return self.start(
            "scheduler",
            [PYTHON, "-m", "entrypoints.snipshop_cli", "scheduler", "-s", str(logs / "beat-schedule")],
            "beat: Starting",
            timeout=30,
        )

    def stop_process(self, proc: Process) -> None:
        proc.stop()
        self.procs.remove(proc)

    def stop(self) -> None:
        for p in reversed(self.procs):
            with contextlib.suppress(Exception):
                p.stop()
        self.procs.clear()
        if not self.owns_services:
            if not self.keep:
                shutil.rmtree(self.base, ignore_errors=True)
            return
        if self.es is not None:
            with contextlib.suppress(Exception):
                self.es.stop()
        if self.pg is not None:
            self.pg.stop("fast")
        if self.redis is not None:
            self.redis.stop()
        if not self.keep:
            shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _drop_indices(url: str, pattern: str) -> None:
    """Delete the Elasticsearch indices matching ``pattern``, by name: Elasticsearch 8 refuses to
    delete by wildcard (``action.destructive_requires_name``)."""
    from elasticsearch import Elasticsearch

    with Elasticsearch(url) as client:
        names = list(client.indices.get(index=pattern, expand_wildcards="all", allow_no_indices=True))
        if names:
            client.options(ignore_status=404).indices.delete(index=",".join(names))


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def run_cli(body, *, search: str, products: int, keep: bool = False, extra_env: dict[str, str] | None = None) -> int:
    """The frame of a benchmark's command line: SIGTERM stops as cleanly as Ctrl-C; the machine's
    load before and after; a stack with ``products`` generated products, projected once (so that
    every measured rebuild replaces a generation); then ``body(stack)``. Returns the exit code."""
    from bench.report import machine_report

    signal.signal(signal.SIGTERM, _interrupt)
    machine_report()
    try:
        with Stack.create(search=search, extra_env=extra_env, keep=keep) as stack:
            started = time.monotonic()
            counts = stack.load_catalog(products)
            print(
                f"stack in {stack.base} (search: {search}); {products:,} products imported in "
                f"{counts['import_seconds']:.1f} s",
                flush=True,
            )
            summary, _ = stack.rebuild()
            print(f"first projection: {summary}; set-up {time.monotonic() - started:.1f} s", flush=True)
            body(stack)
            machine_report()
            if keep:
                print(f"kept {stack.base}")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0
