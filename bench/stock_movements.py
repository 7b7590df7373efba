"""Benchmark stock movements end to end: admin API → PostgreSQL + outbox → Celery → Redis.

Usage::

    python -m bench.stock_movements [--products 1000] [--rates 100,200,300,400,500,600,800]
                                    [--seconds 10] [--admin-workers 2] [--worker-concurrency 2]
                                    [--client wrk|python] [--batch 500 [--lanes 4]]

Starts its own PostgreSQL and Redis (:class:`bench.stack.Stack`, in a temporary directory),
creates a ``stock`` token, seeds N products with stock and prices through ``catalog.commands``,
projects them (``projector.rebuild``), then starts the real processes as an operator would: a
Celery worker (``snipshop worker``), the scheduler (``snipshop scheduler``: the relay sweep) and
the admin app on gunicorn (``snipshop serve admin``). For each target rate it offers
``POST /admin/api/v1/stock/<sku>/movements`` with unique movement ids for ``--seconds`` and
reports the achieved rate, admin latency, projection lag (from the ``{prefix}:lag:stock`` list the
tasks fill), the backlog (broker queue ``projection`` and undispatched outbox rows) at the start
and end of the step, and where the CPU went (per process tree, from /proc).

Load generator (``--client``):

* ``wrk`` (default; Debian package ``wrk``, installed with apt-get when missing and running as
  root): C, so it costs the 2-core machine almost nothing. wrk itself is closed-loop (each
  connection sends its next request when the previous answer came back); the Lua script makes it
  open-loop by pacing: each request claims the next slot of a fixed schedule (``delay()`` waits
  for that slot, read from a monotonic clock through LuaJIT's FFI), so the offered rate is fixed
  as long as a connection is free. ``--connections`` (default 64) bounds what can be in flight; a
  server too slow for that shows as an achieved rate below the offered one. wrk's latency is
  measured from the moment a request is written, so time a request waited for a free connection
  is not in it (coordinated omission) — hence the achieved-rate check.
* ``python``: an asyncio client (raw HTTP/1.1 keep-alive) that sends request i at exactly
  t0 + i/rate whatever the server does, and measures latency from that scheduled time (no
  coordinated omission). Costs a few % of a core (about 5 % at 300/s; the CPU table shows it).

Bulk (``--batch N`` above 1): ``POST /admin/api/v1/stock/movements`` with N movements per
request, from the python client at rate / N requests per second, in ``--lanes`` streams that each
send their batches in order (a lane moves only its own SKUs, so every SKU's movements apply in the
planned order, as a warehouse system's would). Rates stay in movements/s; the lag that decides is
then also the whole way from commit (the outbox row's ``created_at``) to ``projected_at``.

Movements: SKUs are drawn at random; every SKU alternates a sale and a receipt of the same size so
stock stays positive. ``--crossing-share`` of the products (default 20 %) hold 7 units and move by
3 (7 → 4 → 7), crossing the low-stock threshold (5) each time: those movements change the
availability state and re-render the badge; the others (1000 units, ±2) are the cheap path of
``Projector.stock``. Which way a SKU moves next is read from the database before each step.

A step "keeps up" when the projection lag p99 ≤ 1 s, the backlog (queue + outbox) grew by no more
than 100 ms worth of requests, and the achieved rate is ≥ 95 % of the offered one. Between steps
the bench waits for the queue and the outbox to drain (``--drain-seconds``), reads the lag samples
of the step's tasks, and clears the lag list.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import redis

from bench.report import fmt_ms, machine_cpu, machine_report, percentile, py_spy, read_collapsed, tree_cpu_seconds
from bench.stack import Stack
from bench.wrk import ensure_wrk

API = "/admin/api/v1"
SKU_FORMAT = "BENCH-{:05d}"
CROSS_HIGH, CROSS_STEP = 7, 3  # 7 (in stock) <-> 4 (low stock, threshold 5)
PLAIN_HIGH, PLAIN_STEP = 1000, 2


# --- the shop ------------------------------------------------------------------------------


def seed(stack: Stack, products: int, crossing: int) -> str:
    """A ``stock`` token and N products with names, prices and stock, all projected; return the token."""
    from catalog import commands
    from catalog.models import CategoryIn, ProductIn
    from catalog.relay import settle

    settings = stack.settings
    token = stack.token("stock")
    names = lambda text: {loc: f"{text} ({loc})" for loc in settings.locales}  # noqa: E731
    with stack.connect() as conn:
        commands.put_categories(conn, [("bench", CategoryIn(name=names("Bench")))])
        skus = [SKU_FORMAT.format(i) for i in range(products)]
        for start in range(0, products, 500):
            chunk = skus[start : start + 500]
            commands.put_products(
                conn,
                [
                    (
                        sku,
                        ProductIn(
                            name=names(f"Bench product {sku}"),
                            brand="Bench",
                            description={settings.default_locale: "<p>For benching.</p>"},
                            categories=["bench"],
                            attributes={"color": "grey"},
                        ),
                    )
                    for sku in chunk
                ],
            )
            commands.put_prices(conn, [(sku, cur, Decimal("19.99")) for sku in chunk for cur in settings.currencies])
            commands.set_stock(
                conn, [(sku, CROSS_HIGH if i < crossing else PLAIN_HIGH) for i, sku in enumerate(chunk, start)]
            )
        # The rebuild below projects everything; these rows need no task (and, settled as projected,
        # the relay's sweep does not send them again once the queue is empty).
        settle(conn)
    summary, _ = stack.rebuild()
    print(f"projected: {summary}", flush=True)
    return token


# --- movements -----------------------------------------------------------------------------


def next_signs(conn: psycopg.Connection, products: int, crossing: int) -> list[int]:
    """Per SKU index: -1 when its next movement is a sale, +1 for a receipt (from current levels)."""
    levels: dict[str, int] = dict(conn.execute("SELECT sku, quantity FROM stock WHERE sku LIKE 'BENCH-%'").fetchall())
    signs = []
    for i in range(products):
        high = CROSS_HIGH if i < crossing else PLAIN_HIGH
        signs.append(-1 if levels.get(SKU_FORMAT.format(i), 0) >= high else 1)
    return signs


def plan_movements(
    n: int, products: int, crossing: int, signs: list[int], run: str, step: int, rng: random.Random
) -> list[tuple[str, bytes]]:
    """n (path, JSON body) pairs; ``signs`` is updated as the plan alternates each SKU."""
    out = []
    for i in range(n):
        k = rng.randrange(products)
        delta = signs[k] * (CROSS_STEP if k < crossing else PLAIN_STEP)
        signs[k] = -signs[k]
        body = json.dumps({"movement_id": f"{run}-{step}-{i}", "delta": delta, "reason": "bench"}).encode()
        out.append((f"{API}/stock/{SKU_FORMAT.format(k)}/movements", body))
    return out


def plan_batches(
    n: int,
    batch: int,
    products: int,
    crossing: int,
    signs: list[int],
    run: str,
    step: int,
    rng: random.Random,
    lanes: int,
) -> list[tuple[str, bytes]]:
    """``n`` bulk requests of ``batch`` movements each (bodies of ``POST /stock/movements``), drawn
    as :func:`plan_movements` draws single ones; request r moves only SKUs k with k % lanes ==
    r % lanes (its lane's: see :func:`python_load`), so each SKU's movements apply in order."""
    out = []
    for r in range(n):
        rows = []
        lane = r % lanes
        for i in range(batch):
            k = lane + lanes * rng.randrange((products - lane + lanes - 1) // lanes)
            delta = signs[k] * (CROSS_STEP if k < crossing else PLAIN_STEP)
            signs[k] = -signs[k]
            rows.append({"sku": SKU_FORMAT.format(k), "movement_id": f"{run}-{step}-{r}-{i}", "delta": delta})
        out.append((f"{API}/stock/movements", json.dumps({"movements": rows}).encode()))
    return out


def per_movement(result: LoadResult, batch: int) -> LoadResult:
    """A bulk load's result counted in movements (latencies stay per request)."""
    return LoadResult(
        result.offered * batch,
        result.sent * batch,
        result.ok * batch,
        result.errors * batch,
        result.statuses,
        result.achieved * batch,
        result.p50_ms,
        result.p99_ms,
        f"{result.latency_note}, per request of {batch} movements",
    )


@dataclass
class LoadResult:
    offered: float
    sent: int
    ok: int
    errors: int
    statuses: dict[int, int] | dict[str, int]  # by status code (the Python client), or by kind (wrk)
    achieved: float
    p50_ms: float
    p99_ms: float
    latency_note: str


# --- the Python open-loop client ---------------------------------------------------------------


class _Pool:
    """Keep-alive connections to one host; at most ``limit`` open, waiters served in order."""

    def __init__(self, host: str, port: int, limit: int) -> None:
        self.host, self.port, self.limit = host, port, limit
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened = 0
        self.waiters: deque[asyncio.Future] = deque()

    async def acquire(self):
        while True:
            if self.idle:
                return self.idle.pop()
            if self.opened < self.limit:
                self.opened += 1
                try:
                    return await asyncio.open_connection(self.host, self.port)
                except BaseException:
                    self.opened -= 1
                    raise
            fut = asyncio.get_running_loop().create_future()
            self.waiters.append(fut)
            conn = await fut
            if conn is not None:
                return conn

    def _hand_over(self, conn) -> bool:
        while self.waiters:
            fut = self.waiters.popleft()
            if not fut.done():
                fut.set_result(conn)
                return True
        return False

    def release(self, conn) -> None:
        if not self._hand_over(conn):
            self.idle.append(conn)

    def discard(self, conn) -> None:
        conn[1].close()
        self.opened -= 1
        self._hand_over(None)  # a waiter may open a connection instead

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()


#: The first answer of each error status the python client got: printed, so a failing step says why.
FIRST_ERRORS: dict[int, str] = {}


async def _one(pool: _Pool, head: bytes, body: bytes, timeout: float) -> int:
    conn = await pool.acquire()
    keep = False
    try:
        async with asyncio.timeout(timeout):
            reader, writer = conn
            writer.write(head + body)
            header = await reader.readuntil(b"\r\n\r\n")
            status = int(header[9:12])
            length, keep = 0, True
            for line in header.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    keep = False
            if length:
                answer = await reader.readexactly(length)
                if status >= 400 and status not in FIRST_ERRORS:
                    FIRST_ERRORS[status] = answer[:500].decode(errors="replace")
                    print(f"first {status}: {FIRST_ERRORS[status]}", flush=True)
            return status
    except BaseException:
        keep = False
        raise
    finally:
        (pool.release if keep else pool.discard)(conn)


async def _python_load(
    url_host: str,
    port: int,
    token: str,
    plan: Iterable[tuple[str, bytes]],
    rate: float,
    connections: int,
    timeout: float,
    stop: Callable[[], bool] | None = None,
    lanes: int = 0,
) -> LoadResult:
    loop = asyncio.get_running_loop()
    pool = _Pool(url_host, port, connections)
    sched: list[float] = []
    done: list[float] = []
    status: list[int] = []
    previous: dict[int, asyncio.Task] = {}  # per lane, its last request
    # Lanes send a few batches a second, each on a new connection: the handshake costs nothing
    # there, while a kept-alive connection the server closed while idle would lose a batch (and
    # with it the order the lane's next batches count on).
    close = "Connection: close\r\n" if lanes else ""

    async def fire(i: int, head: bytes, body: bytes, after: asyncio.Task | None) -> None:
        try:
            if after is not None:  # a lane sends in order: its next request when the last one answered
                await asyncio.wait([after])
            status[i] = await _one(pool, head, body, timeout)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
            status[i] = 0
        done[i] = loop.time()

    tasks = set()
    t0 = loop.time() + 0.05
    for i, (path, body) in enumerate(plan):
        t = t0 + i / rate
        delay = t - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if stop is not None and stop():
            break
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {url_host}:{port}\r\nAuthorization: Bearer {token}\r\n{close}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        sched.append(t)
        done.append(0.0)
        status.append(0)
        task = loop.create_task(fire(i, head, body, previous.get(i % lanes) if lanes else None))
        if lanes:
            previous[i % lanes] = task
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(set(tasks))
    pool.close()
    n = len(sched)
    statuses: dict[int, int] = defaultdict(int)
    for s in status:
        statuses[s] += 1
    ok = sum(c for s, c in statuses.items() if 200 <= s < 300)
    answered = sorted((done[i] - sched[i]) * 1000 for i in range(n) if status[i])
    span = max(max(done) - t0, n / rate) if n else 1.0
    return LoadResult(
        rate,
        n,
        ok,
        n - ok,
        dict(statuses),
        ok / span,
        percentile(answered, 0.5),
        percentile(answered, 0.99),
        "from scheduled send time",
    )


def python_load(
    admin_url: str,
    token: str,
    plan: Iterable[tuple[str, bytes]],
    rate: float,
    connections: int,
    timeout: float,
    stop: Callable[[], bool] | None = None,
    lanes: int = 0,
) -> LoadResult:
    """POST each (path, JSON body) of ``plan`` at exactly ``rate``/s, open loop, until the plan (which
    may be endless) ends or ``stop()`` says so; latency counts from each request's scheduled time.

    With ``lanes``, request i belongs to lane i % lanes and waits for the lane's previous request
    to answer (as a warehouse system sends one stream of movements in order): movements of one
    SKU then apply in the planned order, while the lanes run side by side. A lane that falls
    behind shows as an achieved rate below the offered one."""
    url = urlsplit(admin_url)
    return asyncio.run(
        _python_load(url.hostname or "127.0.0.1", url.port or 80, token, plan, rate, connections, timeout, stop, lanes)
    )


# --- the wrk client ------------------------------------------------------------------------------

WRK_SCRIPT = r"""
-- Generated by bench/stock_movements.py: paced (open-loop) stock movements with unique ids.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local RATE, NTHREADS, NPRODUCTS, NCROSS = @RATE@, @THREADS@, @PRODUCTS@, @CROSSING@
local RUN, TOKEN, SIGNS, SEED = "@RUN@", "@TOKEN@", "@SIGNS@", @SEED@
local CROSS_STEP, PLAIN_STEP = @CROSS_STEP@, @PLAIN_STEP@

local created = 0
local threads = {}
function setup(thread)
  thread:set("tid", created)
  table.insert(threads, thread)
  created = created + 1
end

local interval, next_slot, seq, signs, headers
function init(args)
  interval = NTHREADS * 1000.0 / RATE
  seq, ok, bad = 0, 0, 0
  signs = {}
  math.randomseed(SEED + tid)
  headers = {["Authorization"] = "Bearer " .. TOKEN, ["Content-Type"] = "application/json"}
end

function delay()
  local now = now_ms()
  if next_slot == nil then next_slot = now + tid * 1000.0 / RATE end
  local slot = next_slot
  next_slot = next_slot + interval
  if slot <= now then return 0 end
  return math.floor(slot - now + 0.5)
end

function request()
  seq = seq + 1
  -- each thread owns the SKUs k with k % NTHREADS == tid, so its alternation stays consistent
  local k = tid + NTHREADS * math.random(0, math.floor((NPRODUCTS - 1 - tid) / NTHREADS))
  local sign = signs[k]
  if sign == nil then sign = (SIGNS:byte(k + 1) == 45) and -1 or 1 end  -- '-' or '+'
  signs[k] = -sign
  local delta = sign * ((k < NCROSS) and CROSS_STEP or PLAIN_STEP)
  local body = string.format('{"movement_id":"%s-%d-%d","delta":%d,"reason":"bench"}', RUN, tid, seq, delta)
  return wrk.format("POST", string.format("/admin/api/v1/stock/BENCH-%05d/movements", k), headers, body)
end

function response(status, hdrs, body)
  if status >= 200 and status < 300 then ok = ok + 1 else bad = bad + 1 end
end

function done(summary, latency, requests)
  local okall, badall = 0, 0
  for _, t in ipairs(threads) do
    okall = okall + t:get("ok")
    badall = badall + t:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"ok":%d,"bad_status":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"timeout":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, okall, badall, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def wrk_load(
    admin_url: str,
    token: str,
    workdir: Path,
    wrk: str,
    rate: float,
    seconds: float,
    products: int,
    crossing: int,
    signs: list[int],
    run: str,
    step: int,
    connections: int,
    threads: int,
    timeout: float,
) -> LoadResult:
    values = {
        "RATE": rate,
        "THREADS": threads,
        "PRODUCTS": products,
        "CROSSING": crossing,
        "RUN": f"{run}-{step}",
        "TOKEN": token,
        "SIGNS": "".join("-" if s < 0 else "+" for s in signs),
        "SEED": step * 7919,
        "CROSS_STEP": CROSS_STEP,
        "PLAIN_STEP": PLAIN_STEP,
    }
    script = WRK_SCRIPT
    for key, value in values.items():
        script = script.replace(f"@{key}@", str(value))
    path = workdir / f"movements-{step}.lua"
    path.write_text(script)
    args = [
        wrk,
        "-t",
        str(threads),
        "-c",
        str(max(connections, threads)),
        "-d",
        f"{seconds:g}s",
        "--timeout",
        f"{timeout:g}s",
        "-s",
        str(path),
        admin_url,
    ]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate()
    except BaseException:  # Ctrl-C / SIGTERM / an error: leave no load generator behind
        proc.kill()
        proc.wait()
        raise
    line = next((ln for ln in out.splitlines() if ln.startswith("BENCHJSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{out[-3000:]}")
    r = json.loads(line.split(" ", 1)[1])
    socket_errors = r["connect"] + r["read"] + r["write"] + r["timeout"]
    duration = r["duration_us"] / 1e6
    statuses = {"2xx": r["ok"], "other": r["bad_status"], "socket": socket_errors}
    return LoadResult(
        rate,
        r["requests"],
        r["ok"],
        r["bad_status"] + socket_errors,
        statuses,
        r["ok"] / duration,
        r["p50_us"] / 1000,
        r["p99_us"] / 1000,
        "from write (wrk)",
    )


# --- steps ---------------------------------------------------------------------------------------


@dataclass
class Backlog:
    queue: int
    unacked: int
    outbox: int

    @property
    def total(self) -> int:
        return self.queue + self.outbox


def backlog(broker: redis.Redis, conn: psycopg.Connection) -> Backlog:
    pipe = broker.pipeline(transaction=False)
    pipe.llen("projection")
    pipe.hlen("unacked")
    queue, unacked = pipe.execute()
    row = conn.execute("SELECT count(*) FROM outbox WHERE dispatched_at IS NULL").fetchone()
    assert row is not None  # an aggregate without GROUP BY answers one row
    outbox = row[0]
    return Backlog(queue, unacked, outbox)


def outbox_mark(conn: psycopg.Connection) -> int:
    """The newest outbox row's id: the rows of a step are those after it."""
    row = conn.execute("SELECT coalesce(max(id), 0) FROM outbox").fetchone()
    assert row is not None
    return int(row[0])


def outbox_lags(conn: psycopg.Connection, after: int) -> tuple[list[int], int]:
    """Commit → projection done (ms) of the stock rows after ``after`` (ascending), and how many of
    them were not projected: the whole way from the write's transaction to the snippets, where
    the tasks' own lag starts at the relay's hand-off."""
    rows = conn.execute(
        """SELECT (extract(epoch FROM projected_at - created_at) * 1000)::bigint FROM outbox
           WHERE id > %s AND topic = 'stock'""",
        (after,),
    ).fetchall()
    return sorted(r[0] for r in rows if r[0] is not None), sum(r[0] is None for r in rows)


def drain(broker: redis.Redis, conn: psycopg.Connection, limit: float) -> float | None:
    """Seconds until the queue, the prefetched messages and the outbox are empty (None: not within limit)."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        b = backlog(broker, conn)
        if b.queue == 0 and b.unacked == 0 and b.outbox == 0:
            return time.monotonic() - started
        time.sleep(0.05)
    return None


@dataclass
class Step:
    load: LoadResult
    start: Backlog
    end: Backlog
    drained_s: float | None
    lag: list[int]
    cpu: dict[str, float]  # % of one core, per process tree, over the step
    busy: float  # % of the whole machine
    tolerance: int
    shop_cpu_s: float  # CPU seconds of the shop (all but the client) from the step's start until drained
    committed: list[int] = field(default_factory=list)  # commit → projected (ms) per outbox row
    unprojected: int = 0  # the step's outbox rows still not projected after the drain

    @property
    def committed_p99(self) -> float:
        return percentile(self.committed, 0.99)

    @property
    def stack_ms_per_movement(self) -> float:
        """CPU milliseconds the shop (everything but the load generator) spent per 2xx movement."""
        return 1000 * self.shop_cpu_s / self.load.ok if self.load.ok else float("nan")

    @property
    def lag_p50(self) -> float:
        return percentile(self.lag, 0.5)

    @property
    def lag_p99(self) -> float:
        return percentile(self.lag, 0.99)

    @property
    def growth(self) -> int:
        return self.end.total - self.start.total

    @property
    def keeps_up(self) -> bool:
        return (
            bool(self.lag)
            and self.lag_p99 <= 1000
            and (not self.committed or self.committed_p99 <= 1000)
            and self.unprojected == 0
            and self.growth <= self.tolerance
            and self.load.achieved >= 0.95 * self.load.offered
        )


def print_table(steps: list[Step]) -> None:
    head = (
        f"{'offered/s':>9} {'achieved/s':>10} {'2xx':>6} {'errors':>6} {'adm p50':>8} {'adm p99':>8} "
        f"{'lag n':>6} {'lag p50':>8} {'lag p99':>8} {'commit p99':>10} {'queue s→e':>11} {'outbox s→e':>11} "
        f"{'drain s':>7} {'keeps up':>8}"
    )
    print(head)
    print("-" * len(head))
    for s in steps:
        print(
            f"{s.load.offered:>9.0f} {s.load.achieved:>10.1f} {s.load.ok:>6} {s.load.errors:>6} "
            f"{fmt_ms(s.load.p50_ms):>8} {fmt_ms(s.load.p99_ms):>8} {len(s.lag):>6} {fmt_ms(s.lag_p50):>8} "
            f"{fmt_ms(s.lag_p99):>8} {fmt_ms(s.committed_p99):>10} {f'{s.start.queue}→{s.end.queue}':>11} "
            f"{f'{s.start.outbox}→{s.end.outbox}':>11} "
            f"{'-' if s.drained_s is None else f'{s.drained_s:.1f}':>7} {'yes' if s.keeps_up else 'NO':>8}"
        )
    print(
        "(latencies in ms; admin latency " + steps[0].load.latency_note + "; lag = relay hand-off → projection "
        "done; commit = the write's outbox row → projection done; queue = Redis list 'projection' in the broker; "
        "outbox = rows not yet dispatched)"
    )
    names = list(steps[0].cpu)
    print()
    ncpu = os.cpu_count() or 1
    print(
        f"CPU per process tree over each step, % of one core ({ncpu} cores = {100 * ncpu} %); 'other' is the rest "
        f"of the machine (other work, kernel); 'ms/mvt' is the shop's CPU per 2xx movement, counted until the "
        f"backlog drained; 'ceiling' = {ncpu} cores / ms/mvt:"
    )
    print(
        f"{'offered/s':>9} "
        + " ".join(f"{n:>9}" for n in names)
        + f" {'other':>9} {'machine':>9} {'ms/mvt':>7} {'ceiling':>8}"
    )
    for s in steps:
        ours = sum(s.cpu.values())
        other = max(0.0, s.busy * ncpu - ours)
        ms = s.stack_ms_per_movement
        print(
            f"{s.load.offered:>9.0f} "
            + " ".join(f"{s.cpu[n]:>9.0f}" for n in names)
            + f" {other:>9.0f} {s.busy:>8.0f}% {ms:>7.1f} {1000 * ncpu / ms:>6.0f}/s"
        )


def verify_badges(stack: Stack) -> str:
    """After the load: does every stored availability badge match the stock level in PostgreSQL?"""
    from collections import Counter
    from datetime import datetime

    from projector.readmodel import ProductView, stock_levels
    from projector.render import Renderer, availability_state
    from vocab.keys import Context, KeyScheme, Kind, split_value

    settings = stack.settings
    keys = KeyScheme(settings.key_prefix)
    renderer = Renderer(settings.locales, settings.currencies, settings.low_stock_threshold)
    client = stack.client()
    raw_live = client.get(keys.live)
    if raw_live is None:
        raise RuntimeError("the snippet store has no live generation")
    live = int(raw_live)
    with stack.connect() as conn:
        skus = [r[0] for r in conn.execute("SELECT sku FROM products ORDER BY sku").fetchall()]
        levels = stock_levels(conn, skus)
    now = datetime.now(UTC)
    wrong, states = 0, Counter(availability_state(q, settings.low_stock_threshold) for q, _ in levels.values())
    for locale in settings.locales:
        ctx = Context(locale, settings.default_currency)
        stored = client.mget([keys.snippet(live, Kind.AVAIL, ctx, sku) for sku in levels])
        for (sku, (quantity, visible)), raw in zip(levels.items(), stored, strict=True):
            expected = renderer.availability(
                ProductView(sku, "", visible, False, now, 0, 0, 0, quantity=quantity), locale
            ).body
            current = split_value(raw)
            wrong += current is None or current[1] != expected
    return (
        f"badges vs. database after the run: {len(levels) * len(settings.locales) - wrong} right, {wrong} wrong "
        f"({', '.join(f'{n} {s}' for s, n in sorted(states.items()))})"
    )


def start_profilers(roots: dict[str, int], out: Path, label: str, seconds: float) -> list[subprocess.Popen]:
    """py-spy on the admin and worker process trees for one step (collapsed stacks, GIL holders only)."""
    spy = py_spy()
    out.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [
                spy,
                "record",
                "--pid",
                str(roots[role]),
                "--subprocesses",
                "--gil",
                "--nonblocking",
                "--nolineno",
                "--format",
                "raw",
                "--rate",
                "100",
                "--duration",
                str(max(1, int(seconds))),
                "--output",
                str(out / f"{role}-{label}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for role in ("admin", "worker")
    ]


def summarize_profile(path: Path, top: int = 25) -> None:
    """Print the functions with the most samples on their stack (inclusive) and at the leaf (self)."""
    inclusive: dict[str, int] = defaultdict(int)
    leaf: dict[str, int] = defaultdict(int)
    total = 0
    for frames, n in read_collapsed(path):
        total += n
        for f in set(frames):
            inclusive[f] += n
        if frames:
            leaf[frames[-1]] += n
    print(f"\n{path.name}: {total} samples (100 Hz, GIL held)")
    print("  inclusive (on the stack; the project's own code and a few library entry points):")
    ours = ("(catalog/", "(web/", "(projector/", "(snipshop/", "(search/")
    libs = (
        "send_task",
        "Logger._log",
        "glogging",
        "Template.render",
        "Connection.execute",
        "Cursor.execute",
        "ConnectionPool.getconn",
        "ConnectionPool.putconn",
        "model_validate",
        "jsonify",
        "Request.__init__",
        "Consumer.receive",
        "Request.execute_using_pool",
        "Redis.execute_command",
        "Pipeline.execute",
        "trace_task",
        "fast_trace_task",
    )
    # frames on (nearly) every stack are the process's entry points: not worth a line
    shown = [
        (f, n)
        for f, n in inclusive.items()
        if n < 0.9 * total and (any(o in f for o in ours) or any(lib in f for lib in libs))
    ]
    for f, n in sorted(shown, key=lambda kv: -kv[1])[:top]:
        print(f"    {100 * n / max(total, 1):5.1f}%  {f}")
    print("  self (leaf):")
    for f, n in sorted(leaf.items(), key=lambda kv: -kv[1])[:12]:
        print(f"    {100 * n / max(total, 1):5.1f}%  {f}")


def run(args: argparse.Namespace) -> int:
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    crossing = int(args.products * args.crossing_share)
    machine_report()
    wrk = ensure_wrk() if args.client == "wrk" and args.batch <= 1 else None
    started = time.monotonic()
    stack = Stack.create(
        search="embedded",
        locales=args.locales,
        currencies=args.currencies,
        extra_env={"LOW_STOCK_THRESHOLD": "5"},
        keep=args.keep,
    )  # 7 -> 4 crosses it
    try:
        token = seed(stack, args.products, crossing)
        stack.start_worker(args.worker_concurrency)
        stack.start_scheduler()
        admin_url = stack.start_admin(args.admin_workers)
        print(f"logs in {stack.base / 'logs'}", flush=True)
        print(
            f"shop up in {time.monotonic() - started:.1f}s: {args.products} products ({crossing} crossing the "
            f"low-stock threshold), admin {admin_url} ({args.admin_workers} gunicorn workers × 4 threads), "
            f"worker concurrency {args.worker_concurrency}, client {args.client}",
            flush=True,
        )
        broker = stack.broker()
        store = stack.client()
        lag_key = "ss:lag:stock"
        # Stack.create started both, Redis as its child
        assert stack.pg is not None and stack.redis is not None and stack.redis.process is not None
        postmaster = int((stack.pg.datadir / "postmaster.pid").read_text().split()[0])
        by_name = {p.name: p.pid for p in stack.procs}
        roots = {
            "admin": by_name["admin"],
            "worker": by_name["worker"],
            "beat": by_name["scheduler"],
            "postgres": postmaster,
            "redis": stack.redis.process.pid,
        }
        run_id = f"b{int(time.time())}"
        rng = random.Random(42)
        steps: list[Step] = []
        with stack.connect() as conn:

            def load(rate: float, seconds: float, step: int) -> LoadResult:
                signs = next_signs(conn, args.products, crossing)
                if args.batch > 1:
                    requests = max(1, int(rate * seconds / args.batch))
                    plan = plan_batches(
                        requests, args.batch, args.products, crossing, signs, run_id, step, rng, args.lanes
                    )
                    result = python_load(
                        admin_url, token, plan, rate / args.batch, args.connections, args.timeout, lanes=args.lanes
                    )
                    return per_movement(result, args.batch)
                if wrk:
                    return wrk_load(
                        admin_url,
                        token,
                        stack.base,
                        wrk,
                        rate,
                        seconds,
                        args.products,
                        crossing,
                        signs,
                        run_id,
                        step,
                        args.connections,
                        args.wrk_threads,
                        args.timeout,
                    )
                plan = plan_movements(int(rate * seconds), args.products, crossing, signs, run_id, step, rng)
                return python_load(admin_url, token, plan, rate, args.connections, args.timeout)

            if args.warmup > 0:
                warm = load(max(10.0, rates[0] / 2), args.warmup, 0)
                drain(broker, conn, args.drain_seconds)
                print(f"warm-up: {warm.ok}/{warm.sent} ok", flush=True)
            for n, rate in enumerate(rates, 1):
                store.delete(lag_key)
                mark = outbox_mark(conn)
                start = backlog(broker, conn)
                spies = start_profilers(roots, args.profile, f"{rate:.0f}", args.seconds) if args.profile else []
                cpu0, (busy0, total0), wall0 = tree_cpu_seconds(roots), machine_cpu(), time.monotonic()
                try:
                    result = load(rate, args.seconds, n)
                    cpu1, (busy1, total1), wall = tree_cpu_seconds(roots), machine_cpu(), time.monotonic() - wall0
                    end = backlog(broker, conn)
                finally:
                    for spy in spies:  # they stop by themselves at the end of the step
                        try:
                            spy.wait(30)
                        except (subprocess.TimeoutExpired, KeyboardInterrupt):
                            spy.kill()
                            spy.wait()
                drained = drain(broker, conn, args.drain_seconds)
                lag = sorted(int(v) for v in store.lrange(lag_key, 0, -1))
                committed, unprojected = outbox_lags(conn, mark)
                cpu2 = tree_cpu_seconds(roots)
                shop_cpu = sum(cpu2[k] - cpu0[k] for k in roots)
                cpu = {name: 100 * (cpu1.get(name, 0.0) - cpu0.get(name, 0.0)) / wall for name in cpu1}
                busy = 100 * (busy1 - busy0) / max(total1 - total0, 1e-9)
                rows_per_s = rate / max(1, args.batch)  # outbox rows (requests) per second
                step = Step(
                    result,
                    start,
                    end,
                    drained,
                    lag,
                    cpu,
                    busy,
                    tolerance=max(2 if args.batch > 1 else 10, int(rows_per_s * 0.1)),
                    shop_cpu_s=shop_cpu,
                    committed=committed,
                    unprojected=unprojected,
                )
                steps.append(step)
                print(
                    f"step {n}: offered {rate:.0f}/s achieved {result.achieved:.1f}/s, errors {result.errors} "
                    f"{result.statuses}, lag p99 {fmt_ms(step.lag_p99)} ms (commit → projected "
                    f"{fmt_ms(step.committed_p99)} ms), backlog {start.total}→{end.total}, "
                    f"{'keeps up' if step.keeps_up else 'does NOT keep up'}",
                    flush=True,
                )
                for p in stack.procs:
                    if not p.alive():
                        raise RuntimeError(f"{p.name} died:\n{p.log()}")
        print()
        print_table(steps)
        print(verify_badges(stack))
        sustained = [s.load.offered for s in steps if s.keeps_up]
        first_fail = next((s.load.offered for s in steps if not s.keeps_up), None)
        print()
        machine_report()
        if args.profile:
            for path in sorted(args.profile.glob("*.txt")):
                summarize_profile(path)
            print()
        if sustained:
            note = f" (first step that did not keep up: {first_fail:.0f}/s)" if first_fail is not None else ""
            print(f"highest sustained rate: {max(sustained):.0f} movements/s{note}")
        else:
            print("highest sustained rate: none of the steps kept up")
        return 0
    finally:
        with contextlib.suppress(OSError):  # stdout may be a closed pipe (| head): stop the stack anyway
            print("stopping ...", flush=True)
        stack.stop()
        if args.keep:
            print(f"kept {stack.base}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--rates", default="100,200,300,400,500,600,800", help="comma list of movements/s")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each step")
    parser.add_argument("--admin-workers", type=int, default=2, help="gunicorn workers (4 threads each)")
    parser.add_argument("--worker-concurrency", type=int, default=2, help="Celery prefork processes")
    parser.add_argument("--client", choices=["wrk", "python"], default="wrk")
    parser.add_argument(
        "--batch",
        type=int,
        default=1,
        help="movements per request: above 1, POST /stock/movements (bulk) with the python client; rates "
        "stay in movements/s",
    )
    parser.add_argument(
        "--lanes", type=int, default=4, help="bulk: streams that each send their requests in order (SKUs split by lane)"
    )
    parser.add_argument("--connections", type=int, default=64, help="most requests in flight")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=10.0, help="per request, seconds")
    parser.add_argument(
        "--crossing-share",
        type=float,
        default=0.2,
        help="share of products whose movements cross the low-stock threshold",
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up load before the steps")
    parser.add_argument("--drain-seconds", type=float, default=60.0, help="longest wait for the backlog between steps")
    parser.add_argument("--locales", default="en_US,de_DE")
    parser.add_argument("--currencies", default="EUR,USD")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="run py-spy on the admin and worker trees during each step; stacks and a summary into DIR",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs) at the end")
    args = parser.parse_args(argv)

    def terminate(signum, frame):  # SIGTERM stops as cleanly as Ctrl-C
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    try:
        return run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
