"""Benchmark change-to-visible latency of price updates: admin API → edge page, idle and under load.

Usage::

    python -m bench.visibility [--products 2000] [--updates 100] [--burst-rate 1000] [--burst-batch 100]
                               [--poll-ms 2] [--search embedded|elasticsearch|none]

What it measures (issue #6 b; target: p99 ≤ 100 ms idle), on a stack running the real processes
(``snipshop worker`` per queue group as ``./dev demo`` runs them: stock movements and the relay
sweep on one, prices, catalog and the refresh on another (docs/queues.md); ``snipshop
scheduler``, ``snipshop serve admin`` and ``serve edge``):

* **One update**: ``PUT /admin/api/v1/prices/<sku>/EUR`` with a new amount (a ``pricing`` token),
  then the edge product page ``/p/<sku>`` (default context en_US/EUR) is fetched again and again
  (``--poll-ms`` apart, one request at a time) until its JSON-LD carries ``"price":"<new amount>"``.
  Latency = from just before the PUT is sent to the end of the first edge response that shows the
  new amount. It includes the admin request (commit, task sent right after the commit), the
  Celery task (re-read, render, guarded write) and up to one poll interval plus one edge request
  of sampling error. Updates run one after another with a short random pause (``--gap-ms``);
  each uses a different product that has no special offer (an offer's box would hide the regular
  price), and a few unmeasured updates warm the worker first.
* **Also reported**: the PUT's own latency and the price tasks' projection lag (the
  ``{prefix}:lag:price`` list the tasks fill: relay hand-off → projection done).
* **Idle**: nothing else runs. **Burst**: the same while a child process (``--burst-child``: the
  open-loop asyncio client of :mod:`bench.stock_movements`) sends ``--burst-rate`` stock movements
  per second (issue #16: 1,000), ``--burst-batch`` to a request: 100 to
  ``POST /admin/api/v1/stock/movements``, as a warehouse system sends them (docs/stock-bulk.md), or
  1 to ``/admin/api/v1/stock/<sku>/movements`` each (unique ``movement_id``s, other products than
  the price updates; each product alternates a sale and a receipt, 20 % of them across the
  low-stock threshold so their badges are re-rendered, the rest by one unit). The burst's achieved
  rate, errors and the stock projection lag are reported with it; after it the backlog (broker
  queue + outbox) is drained.

The goal of the queues per topic: a price change as fast during the burst as when idle
(:func:`summary_rows`: burst ÷ idle of the price task lag, from its hand-off to the broker to its
snippets in Redis, near 1; at most :data:`BURST_GOAL`). The admin request is left out of that
ratio: the burst's movements go through the same admin app, whose queue of requests no broker
queue can bypass (the whole time at the edge is shown beside it). On a machine as small
as two cores the burst's own CPU (the load client, the admin app, PostgreSQL, the stock worker)
still slows every process a little: a ratio somewhat above 1 is that, not queueing. Single calls
cost the admin app a request each: 1,000 of them a second take both cores of such a machine
(it answers about 450/s), so every process waits for CPU and the ratio says little about queues.

Percentiles are nearest-rank: with 100 updates p99 is the largest value.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

from bench.report import Http, fmt_ms, latency_summary, table
from bench.stack import Stack, run_cli
from bench.stock_movements import backlog, drain, python_load

API = "/admin/api/v1"
REPO = Path(__file__).resolve().parent.parent
WARMUP_UPDATES = 5
CROSS_SHARE = 0.2
#: Price change-to-visible during the burst ÷ idle (p50) the goal allows (1 is the ideal).
BURST_GOAL = 1.5


# --- the price updates -------------------------------------------------------------------------


def price_candidates(stack: Stack, currency: str = "EUR") -> list[tuple[str, Decimal]]:
    """(SKU, regular price) of visible products with a price and no offer at all, by SKU."""
    with stack.connect() as conn:
        return conn.execute(
            """SELECT p.sku, pr.amount FROM products p JOIN prices pr ON pr.sku = p.sku AND pr.currency = %s
               WHERE p.active AND p.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.sku = p.sku)
               ORDER BY p.sku""",
            (currency,),
        ).fetchall()


def new_amount(current: Decimal) -> Decimal:
    """A different amount with two places: one cent more."""
    return current + Decimal("0.01")


def run_updates(
    admin_url: str,
    edge_url: str,
    token: str,
    targets: list[tuple[str, Decimal]],
    poll_interval: float,
    gap: float,
    timeout: float,
    rng: random.Random,
) -> dict:
    """Update each target's EUR price in turn and time until the edge shows it."""
    admin, edge = Http(admin_url), Http(edge_url)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    visible_ms, put_ms, polls = [], [], []
    errors: dict[str, int] = {}
    timeouts = 0
    try:
        for sku, current in targets:
            amount = new_amount(current)
            marker = f'"price":"{amount:.2f}"'.encode()
            body = json.dumps({"amount": f"{amount:.2f}"}).encode()
            started = time.perf_counter()
            status, _ = admin.request("PUT", f"{API}/prices/{sku}/EUR", body, headers)
            put_ms.append((time.perf_counter() - started) * 1000)
            if status != 200:
                errors[f"PUT {status}"] = errors.get(f"PUT {status}", 0) + 1
                continue
            n = 0
            while True:
                n += 1
                status, page = edge.request("GET", f"/p/{sku}")
                now = time.perf_counter()
                if status == 200 and marker in page:
                    visible_ms.append((now - started) * 1000)
                    polls.append(n)
                    break
                if status != 200:
                    errors[f"edge {status}"] = errors.get(f"edge {status}", 0) + 1
                if now - started > timeout:
                    timeouts += 1
                    break
                time.sleep(poll_interval)
            time.sleep(gap * rng.uniform(0.5, 1.5))
    finally:
        admin.close()
        edge.close()
    return {
        "visible": latency_summary(visible_ms),
        "put": latency_summary(put_ms),
        "timeouts": timeouts,
        "errors": errors,
        "polls_mean": sum(polls) / len(polls) if polls else float("nan"),
        "visible_ms": visible_ms,
    }


def lag_summary(stack: Stack, topic: str) -> dict[str, float]:
    """The projection lags (ms) the tasks of ``topic`` recorded since :func:`clear_lag`."""
    from vocab.keys import KeyScheme

    client = stack.client()
    try:
        return latency_summary(int(v) for v in client.lrange(KeyScheme(stack.settings.key_prefix).lag(topic), 0, -1))
    finally:
        client.close()


def clear_lag(stack: Stack, *topics: str) -> None:
    from vocab.keys import KeyScheme

    keys = KeyScheme(stack.settings.key_prefix)
    client = stack.client()
    try:
        client.delete(*(keys.lag(t) for t in topics))
    finally:
        client.close()


# --- the stock-movement burst ----------------------------------------------------------------------


def burst_movements(stack: Stack, exclude: set[str], rng: random.Random) -> list[tuple[str, int]]:
    """(SKU, size) of the burst's products: a share crosses the low-stock threshold and back, the
    rest moves by one unit far above it. Each product's first movement is a sale."""
    threshold = stack.settings.low_stock_threshold
    with stack.connect() as conn:
        levels = conn.execute(
            """SELECT p.sku, s.quantity FROM products p JOIN stock s ON s.sku = p.sku
                                 WHERE p.active AND p.deleted_at IS NULL AND s.quantity > %s ORDER BY p.sku""",
            (threshold,),
        ).fetchall()
    levels = [(sku, q) for sku, q in levels if sku not in exclude]
    rng.shuffle(levels)
    crossing = int(len(levels) * CROSS_SHARE)
    low = max(1, threshold - 1)  # a crossing product moves between its level and this (low stock)
    out = [(sku, q - low) for sku, q in levels[:crossing]]
    out += [(sku, 1) for sku, q in levels[crossing:] if q > threshold + 1]
    rng.shuffle(out)
    return out


def burst_child() -> int:
    """``python -m bench.visibility --burst-child``: the burst, in a process of its own.

    Reads one JSON line from stdin (admin_url, token, movements, rate, batch, connections, run),
    sends the movements round robin (a sale for every product, then a receipt for every product,
    ...), one call each or ``batch`` to a bulk call (docs/stock-bulk.md), until stdin closes, then
    writes the :class:`bench.stock_movements.LoadResult` as JSON to stdout.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops it by closing stdin
    config = json.loads(sys.stdin.readline())
    stop = threading.Event()

    def wait_for_eof() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=wait_for_eof, daemon=True).start()

    def movements():
        seq, sign = 0, -1
        while True:
            for sku, size in config["movements"]:
                seq += 1
                yield {"sku": sku, "movement_id": f"{config['run']}-{seq}", "delta": sign * size, "reason": "bench"}
            sign = -sign

    def plan():
        batch, rows = config["batch"], movements()
        while True:
            if batch <= 1:
                row = next(rows)
                yield f"{API}/stock/{row.pop('sku')}/movements", json.dumps(row).encode()
            else:
                body = json.dumps({"movements": [next(rows) for _ in range(batch)]})
                yield f"{API}/stock/movements", body.encode()

    rate = config["rate"] / max(1, config["batch"])  # requests/s
    result = python_load(
        config["admin_url"], config["token"], plan(), rate, config["connections"], 10.0, stop=stop.is_set
    )
    json.dump(result.__dict__, sys.stdout)
    return 0


class Burst:
    """A stock-movement burst in a child process (:func:`burst_child`) until :meth:`stop`.

    A plain subprocess rather than multiprocessing: a spawned multiprocessing child would re-import
    the caller's ``__main__``, which an orchestrating script need not guard."""

    def __init__(
        self,
        admin_url: str,
        token: str,
        movements: list[tuple[str, int]],
        rate: float,
        batch: int = 1,
        connections: int = 64,
    ) -> None:
        self.config = {
            "admin_url": admin_url,
            "token": token,
            "movements": movements,
            "rate": rate,
            "batch": batch,
            "connections": connections,
            "run": f"vis{time.time_ns()}",
        }
        self.process: subprocess.Popen | None = None
        self.started = 0.0

    def start(self) -> Burst:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.visibility", "--burst-child"],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        stdin = self.process.stdin
        assert stdin is not None  # stdin=PIPE
        stdin.write(json.dumps(self.config) + "\n")
        stdin.flush()
        self.started = time.monotonic()
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 30.0) -> dict:
        assert self.process is not None
        try:
            out, _ = self.process.communicate(timeout=timeout)  # closes stdin: the child stops sending
            result = json.loads(out) if out.strip() else {}
        except (subprocess.TimeoutExpired, ValueError):
            self.process.kill()
            self.process.communicate()
            result = {}
        result["seconds"] = time.monotonic() - self.started
        return result


# --- the measurement -------------------------------------------------------------------------------


def measure(
    stack: Stack,
    admin_url: str,
    edge_url: str,
    *,
    updates: int = 100,
    burst_rate: float | None = 300.0,
    burst_batch: int = 1,
    poll_interval: float = 0.002,
    gap: float = 0.05,
    timeout: float = 10.0,
    burst_warmup: float = 2.0,
    seed: int = 1,
) -> dict:
    """Idle and burst change-to-visible latency on a stack with worker, scheduler, admin and edge
    running (``admin_url``, ``edge_url``); ``burst_rate=None`` skips the burst, which sends
    ``burst_batch`` movements per request (1: the single route, more: the bulk route)."""
    rng = random.Random(seed)
    candidates = price_candidates(stack)
    phases = 2 if burst_rate else 1
    need = WARMUP_UPDATES + phases * updates
    if len(candidates) < need:
        raise ValueError(f"{need} products without offers are needed, the catalog has {len(candidates)}")
    chosen = rng.sample(candidates, need)
    warm, idle_targets, burst_targets = (
        chosen[:WARMUP_UPDATES],
        chosen[WARMUP_UPDATES : WARMUP_UPDATES + updates],
        chosen[WARMUP_UPDATES + updates :],
    )
    pricing = stack.token("pricing")
    result: dict = {"updates": updates, "poll_ms": poll_interval * 1000, "gap_ms": gap * 1000}

    run_updates(admin_url, edge_url, pricing, warm, poll_interval, gap, timeout, rng)
    clear_lag(stack, "price")
    result["idle"] = run_updates(admin_url, edge_url, pricing, idle_targets, poll_interval, gap, timeout, rng)
    result["idle"]["price_lag"] = lag_summary(stack, "price")

    if burst_rate:
        movements = burst_movements(stack, {sku for sku, _ in chosen}, rng)
        burst = Burst(admin_url, stack.token("stock"), movements, burst_rate, burst_batch).start()
        try:
            time.sleep(burst_warmup)
            clear_lag(stack, "price", "stock")
            measured = run_updates(admin_url, edge_url, pricing, burst_targets, poll_interval, gap, timeout, rng)
            measured["price_lag"] = lag_summary(stack, "price")
            measured["stock_lag"] = lag_summary(stack, "stock")
            measured["burst_alive_at_end"] = burst.alive()
        finally:
            load = burst.stop()
        measured["load"] = {
            k: load.get(k)
            for k in ("offered", "sent", "ok", "errors", "statuses", "achieved", "p50_ms", "p99_ms", "seconds")
        }
        for k in ("offered", "achieved"):  # requests/s of ``burst_batch`` movements each
            measured["load"][k] = (measured["load"][k] or 0) * burst_batch
        measured["batch"] = burst_batch
        measured["products_moved"] = len(movements)
        with stack.connect() as conn:
            measured["drain_s"] = drain(stack.broker(), conn, 60.0)
            measured["backlog_after"] = backlog(stack.broker(), conn).__dict__
        result["burst"] = measured
    return result


def print_results(result: dict) -> None:
    rows = []
    for phase in ("idle", "burst"):
        r = result.get(phase)
        if r is None:
            continue
        v, p, lag = r["visible"], r["put"], r["price_lag"]
        rows.append(
            (
                phase,
                v["n"],
                fmt_ms(v["p50_ms"]),
                fmt_ms(v["p90_ms"]),
                fmt_ms(v["p99_ms"]),
                fmt_ms(v["max_ms"]),
                fmt_ms(p["p50_ms"]),
                fmt_ms(p["p99_ms"]),
                fmt_ms(lag["p50_ms"]),
                fmt_ms(lag["p99_ms"]),
                f"{r['polls_mean']:.1f}",
                r["timeouts"],
                sum(r["errors"].values()),
                "yes" if phase == "idle" and v["p99_ms"] <= 100 else ("NO" if phase == "idle" else ""),
            )
        )
    print(
        f"\nprice change → visible on the edge, ms ({result['updates']} updates per phase, edge polled every "
        f"{result['poll_ms']:g} ms; PUT = the admin request alone; lag = price task hand-off → projected)"
    )
    print(
        table(
            [
                "phase",
                "n",
                "p50",
                "p90",
                "p99",
                "max",
                "PUT p50",
                "PUT p99",
                "lag p50",
                "lag p99",
                "polls",
                "timeouts",
                "errors",
                "p99 ≤ 100",
            ],
            rows,
        )
    )
    for phase in ("idle", "burst"):
        if result.get(phase, {}).get("errors"):
            print(f"{phase} errors: {result[phase]['errors']}")
    b = result.get("burst")
    if b and not b["load"].get("sent"):
        print("burst: the load client reported nothing (it failed); the burst figures are not valid")
    elif b:
        load, sl = b["load"], b["stock_lag"]
        drained = "-" if b["drain_s"] is None else f"{b['drain_s']:.1f}"
        print(
            f"burst: offered {load['offered']:.0f} movements/s over {b['products_moved']} products "
            f"({b.get('batch', 1)} a request), achieved {(load['achieved'] or 0):.1f}/s, "
            f"{load['ok']} requests ok / {load['errors']} errors {load['statuses']}, "
            f"request latency p50 {fmt_ms(load['p50_ms'] or float('nan'))} / "
            f"p99 {fmt_ms(load['p99_ms'] or float('nan'))} ms, "
            f"stock lag p50 {fmt_ms(sl['p50_ms'])} / p99 {fmt_ms(sl['p99_ms'])} ms; "
            f"backlog drained in {drained}s"
            + ("" if b["burst_alive_at_end"] else "; THE BURST ENDED BEFORE THE UPDATES DID")
        )


def summary_rows(result: dict) -> list[tuple[str, str, str, str, str]]:
    """The bench summary's goal row: price change-to-visible during the burst ÷ idle, timed from
    the price task's hand-off to the broker to its snippets written in Redis (the price task lag,
    p50): the part the queues govern. The whole time at the edge, PUT included, is shown beside
    it: during the burst the PUT waits for the admin app, which serves the burst's movements too
    (and while a slow PUT is still answering, the projection may already be done)."""
    if "burst" not in result:
        return []
    idle, burst = result["idle"]["price_lag"], result["burst"]["price_lag"]
    whole_idle, whole_burst = result["idle"]["visible"], result["burst"]["visible"]
    ratio = burst["p50_ms"] / idle["p50_ms"] if idle["p50_ms"] else math.inf
    load = result["burst"]["load"]
    per = f" in bulk calls of {result['burst']['batch']}" if result["burst"].get("batch", 1) > 1 else ""
    rate = f"{load.get('achieved') or 0:.0f} movements/s{per}" if load.get("sent") else "its figures missing"
    return [
        (
            "price change-to-visible during burst ÷ idle",
            f"{ratio:.2f}",
            f"hand-off → in Redis p50 {burst['p50_ms']:.0f} vs {idle['p50_ms']:.0f} ms, p99 {burst['p99_ms']:.0f} vs "
            f"{idle['p99_ms']:.0f} ms; at the edge with the PUT p50 {whole_burst['p50_ms']:.0f} vs "
            f"{whole_idle['p50_ms']:.0f} ms; burst {rate}",
            f"≤ {BURST_GOAL:g} (near 1)",
            "met" if ratio <= BURST_GOAL else "NOT met",
        )
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--search", choices=["embedded", "elasticsearch", "none"], default="embedded")
    parser.add_argument("--updates", type=int, default=100, help="measured price updates per phase")
    parser.add_argument("--burst-rate", type=float, default=1000.0, help="stock movements/s during the burst (0: none)")
    parser.add_argument(
        "--burst-batch", type=int, default=100, help="movements per request (1: single calls; more: the bulk route)"
    )
    parser.add_argument("--poll-ms", type=float, default=2.0, help="pause between edge polls")
    parser.add_argument("--gap-ms", type=float, default=50.0, help="mean pause between updates")
    parser.add_argument("--timeout", type=float, default=10.0, help="longest wait for one update, seconds")
    parser.add_argument("--edge-workers", type=int, default=2)
    parser.add_argument("--admin-workers", type=int, default=2)
    parser.add_argument(
        "--worker-concurrency", type=int, default=2, help="of the worker for prices, catalog and rebuild"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs) at the end")
    parser.add_argument("--burst-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.burst_child:
        return burst_child()

    def body(stack: Stack) -> None:
        stack.start_queue_workers(args.worker_concurrency)
        stack.start_scheduler()
        admin_url = stack.start_admin(args.admin_workers)
        edge_url = stack.start_edge(args.edge_workers)
        print(
            f"workers: stock and control (concurrency 1), prices, catalog and rebuild "
            f"(concurrency {args.worker_concurrency}); scheduler, admin {admin_url}, edge {edge_url}; "
            f"logs in {stack.base / 'logs'}",
            flush=True,
        )
        result = measure(
            stack,
            admin_url,
            edge_url,
            updates=args.updates,
            burst_rate=args.burst_rate or None,
            burst_batch=args.burst_batch,
            poll_interval=args.poll_ms / 1000,
            gap=args.gap_ms / 1000,
            timeout=args.timeout,
        )
        print_results(result)
        rows = summary_rows(result)
        if rows:
            print(table(["figure", "value", "measured", "goal", ""], rows))

    return run_cli(body, search=args.search, products=args.products, keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
