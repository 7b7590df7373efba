"""Bulk stock movements in ``python -m bench``: the goal "≥ 5,000 movements/s through the bulk
endpoint with projection lag p99 ≤ 1 s", measured on the suite's own shop.

On the stack that ``python -m bench`` has running by then (its catalog, search engine, admin app,
the small machine's queue workers, the stock group's with :data:`STOCK_CONCURRENCY` processes as a
shop taking that rate would run it, and the scheduler), :func:`measure` offers ``POST /admin/api/v1/stock/movements`` in
batches of ``batch`` movements at each rate of ``rates`` (movements/s) for ``seconds``, after a
warm-up at the first rate (``warmup`` s, not measured: a freshly started Elasticsearch spends
its first ~20 s of updates JIT-compiling the update path, 5 of 10 CPU-seconds in its compiler
threads at 5,000 movements/s, which a shop's long-running engine has long done). Movements
move a random sample of the catalog's sellable SKUs by one unit, each SKU alternating
a sale and a receipt from its level (a SKU at 0 starts with a receipt), so the stock never goes
negative and the SKUs at or near a threshold (about a fifth of the generated catalog's) change
their availability and are re-projected with their search documents. The load comes from
``lanes`` streams that each send their batches in order (bench/stock_movements.py
``python_load``), as warehouse systems do.

Per step: the achieved rate, the projection lag as the tasks record it (relay hand-off → done) and
from commit to projection (the outbox row's ``created_at`` → ``projected_at``), the errors and
where the CPU went. A step meets the goal when it achieved ≥ 95 % of the offered rate with no
error, every row was projected, and the commit-to-projection lag p99 is ≤ 1 s.

Alone (its own stack, a generated catalog)::

    python -m bench.bulk_stock [--products 20000] [--rates 5000,7500] [--seconds 10] [--batch 500] [--warmup 10]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from typing import Any

from bench.report import fmt_ms, machine_cpu, percentile, table
from bench.stack import Stack, run_cli
from bench.stock_movements import backlog, drain, outbox_lags, outbox_mark, python_load
from vocab.keys import KeyScheme
from vocab.topics import Topic

API = "/admin/api/v1"
GOAL_RATE = 5000.0
GOAL_LAG_MS = 1000.0
SAMPLE = 20_000  # SKUs moved at most
#: The stock worker's processes in ``python -m bench``'s step (``STOCK_WORKER_CONCURRENCY``).
STOCK_CONCURRENCY = 2


def sellable(stack: Stack, limit: int, rng: random.Random) -> list[tuple[str, int]]:
    """A random sample of (variant SKU, level) of products not deleted."""
    with stack.connect() as conn:
        rows = conn.execute(
            """SELECT v.sku, COALESCE(s.quantity, 0) FROM variants v
               JOIN products p ON p.sku = v.product AND p.deleted_at IS NULL
               LEFT JOIN stock s ON s.sku = v.sku ORDER BY v.sku"""
        ).fetchall()
    return rng.sample(rows, min(limit, len(rows)))


def plan(
    requests: int, batch: int, skus: list[str], signs: list[int], run: str, rng: random.Random, lanes: int
) -> list[tuple[str, bytes]]:
    """Bodies of ``requests`` bulk requests; request r moves only SKUs of its lane (index % lanes)."""
    out = []
    per_lane = [list(range(lane, len(skus), lanes)) for lane in range(lanes)]
    for r in range(requests):
        mine = per_lane[r % lanes]
        rows = []
        for i in range(batch):
            k = mine[rng.randrange(len(mine))]
            rows.append({"sku": skus[k], "movement_id": f"{run}-{r}-{i}", "delta": signs[k]})
            signs[k] = -signs[k]
        out.append((f"{API}/stock/movements", json.dumps({"movements": rows}).encode()))
    return out


def measure(
    stack: Stack,
    admin_url: str,
    rates: tuple[float, ...] = (GOAL_RATE, 1.5 * GOAL_RATE),
    seconds: float = 10.0,
    batch: int = 500,
    lanes: int = 4,
    warmup: float = 10.0,
    drain_limit: float = 60.0,
) -> dict[str, Any]:
    """Offer bulk movements at each rate; return the steps' figures (see the module's docstring)."""
    rng = random.Random(7)
    token = stack.token("stock")
    sample = sellable(stack, SAMPLE, rng)
    skus = [sku for sku, _ in sample]
    signs = [-1 if level > 0 else 1 for _, level in sample]
    lag_key = KeyScheme(stack.settings.key_prefix).lag(Topic.STOCK)
    broker, store = stack.broker(), stack.client()
    run_id = f"bulk{int(time.time())}"
    steps = []
    with stack.connect() as conn:

        def offer(rate: float, length: float, name: str):
            requests = max(1, round(rate * length / batch))
            bodies = plan(requests, batch, skus, signs, f"{run_id}-{name}", rng, lanes)
            return python_load(admin_url, token, bodies, rate / batch, 4 * lanes, 30.0, lanes=lanes)

        if warmup > 0:
            warm = offer(rates[0], warmup, "warm")
            print(f"bulk warm-up: {warmup:g} s at {rates[0]:,.0f}/s, {warm.errors} errors (not measured)", flush=True)
            drain(broker, conn, drain_limit)
        for n, rate in enumerate(rates, 1):
            store.delete(lag_key)
            mark = outbox_mark(conn)
            start = backlog(broker, conn)
            (busy0, total0), wall0 = machine_cpu(), time.monotonic()
            load = offer(rate, seconds, str(n))
            (busy1, total1) = machine_cpu()
            wall = time.monotonic() - wall0
            end = backlog(broker, conn)
            drained = drain(broker, conn, drain_limit)
            lag = sorted(int(v) for v in store.lrange(lag_key, 0, -1))
            committed, unprojected = outbox_lags(conn, mark)
            achieved = load.achieved * batch
            step = {
                "offered": rate,
                "achieved": achieved,
                "movements_ok": load.ok * batch,
                "errors": load.errors,
                "statuses": {str(k): v for k, v in load.statuses.items()},
                "request_p50_ms": load.p50_ms,
                "request_p99_ms": load.p99_ms,
                "task_lag_p50_ms": percentile(lag, 0.5),
                "task_lag_p99_ms": percentile(lag, 0.99),
                "commit_lag_p50_ms": percentile(committed, 0.5),
                "commit_lag_p99_ms": percentile(committed, 0.99),
                "rows": len(committed) + unprojected,
                "unprojected": unprojected,
                "backlog": f"{start.total}→{end.total}",
                "drain_s": drained,
                "machine_busy": 100 * (busy1 - busy0) / max(total1 - total0, 1e-9),
                "wall_s": wall,
            }
            step["met"] = (
                achieved >= 0.95 * rate
                and load.errors == 0
                and unprojected == 0
                and bool(committed)
                and step["commit_lag_p99_ms"] <= GOAL_LAG_MS
            )
            steps.append(step)
            print(
                f"bulk step {n}: offered {rate:,.0f}/s achieved {achieved:,.0f}/s, errors {load.errors} "
                f"{dict(load.statuses)}, lag p99 {fmt_ms(step['task_lag_p99_ms'])} ms (commit → projected "
                f"{fmt_ms(step['commit_lag_p99_ms'])} ms), {'meets' if step['met'] else 'does NOT meet'} the goal",
                flush=True,
            )
    return {"batch": batch, "lanes": lanes, "seconds": seconds, "skus": len(skus), "steps": steps}


def print_results(result: dict[str, Any]) -> None:
    print(
        f"bulk stock movements: batches of {result['batch']}, {result['lanes']} lanes, {result['seconds']:g} s per "
        f"step, {result['skus']:,} SKUs moved by ±1"
    )
    rows = [
        (
            f"{s['offered']:,.0f}",
            f"{s['achieved']:,.0f}",
            s["errors"],
            fmt_ms(s["request_p50_ms"]),
            fmt_ms(s["request_p99_ms"]),
            fmt_ms(s["task_lag_p99_ms"]),
            fmt_ms(s["commit_lag_p50_ms"]),
            fmt_ms(s["commit_lag_p99_ms"]),
            s["backlog"],
            "-" if s["drain_s"] is None else f"{s['drain_s']:.1f}",
            f"{s['machine_busy']:.0f}%",
            "yes" if s["met"] else "NO",
        )
        for s in result["steps"]
    ]
    head = ["offered/s", "achieved/s", "errors", "req p50", "req p99", "task lag p99", "commit p50", "commit p99"]
    print(table([*head, "backlog s→e", "drain s", "machine", "goal"], rows))
    print(
        "(ms; request latency per batch from its scheduled time; task lag = relay hand-off → projection done; "
        "commit = the batch's outbox row → projection done; machine = busy share of all cores)"
    )


def summary_rows(result: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """The goal's row for ``python -m bench``'s summary: the step at the goal rate."""
    steps = result["steps"]
    at_goal = next((s for s in steps if s["offered"] >= GOAL_RATE), steps[-1])
    best = max((s["offered"] for s in steps if s["met"]), default=None)
    return [
        (
            "bulk stock movements",
            f"{at_goal['achieved']:,.0f}/s",
            f"batches of {result['batch']}; commit → projected p99 {fmt_ms(at_goal['commit_lag_p99_ms'])} ms "
            f"(tasks {fmt_ms(at_goal['task_lag_p99_ms'])} ms), {at_goal['errors']} errors; "
            + (f"highest step met {best:,.0f}/s" if best else "no step met"),
            f"≥ {GOAL_RATE:,.0f}/s, lag p99 ≤ {GOAL_LAG_MS / 1000:g} s",
            "met" if at_goal["met"] else "NOT met",
        )
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--search", choices=("elasticsearch", "embedded"), default="embedded")
    parser.add_argument("--rates", default=f"{GOAL_RATE:g},{1.5 * GOAL_RATE:g}", help="movements/s, comma list")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=500, help="movements per request")
    parser.add_argument("--lanes", type=int, default=4)
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds at the first rate before the steps")
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)

    def body(stack: Stack) -> None:
        stack.start_worker(args.worker_concurrency)
        stack.start_scheduler()
        admin = stack.start_admin()
        result = measure(
            stack,
            admin,
            tuple(float(r) for r in args.rates.split(",") if r.strip()),
            args.seconds,
            args.batch,
            args.lanes,
            args.warmup,
        )
        print_results(result)
        print(table(["figure", "value", "measured", "target", ""], summary_rows(result)))

    return run_cli(body, search=args.search, products=args.products, keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
