"""Benchmark memory: Redis bytes per product, and the edge's resident memory per worker.

Usage::

    python -m bench.memory [--products 20000] [--search embedded|elasticsearch|none]
                           [--edge-workers 2] [--requests 300]

What it measures (issue #6 c), on a stack with a loaded catalog of N products:

* **Redis per product**: ``INFO memory`` ``used_memory`` of the snippet Redis just before and just
  after a ``projector rebuild`` of the N products, divided by N (also the keys per product from
  ``DBSIZE``). First every replaced generation is deleted, so only the live one is there; the
  rebuild's new generation then comes on top of it (the replaced one is kept for the grace period,
  so nothing is freed during the measurement). Two rebuilds: snippets only
  (``rebuild(search=False)``), then with the stack's search adapter; on an ``embedded`` stack the
  second figure is snippets + the embedded index, and the index alone is the difference.
  Before each reading the bench waits until Redis has no lazily freed objects pending. The key
  tables (main and expires) grow in powers of two, so a rebuild during which one doubles shows
  more bytes per product than one that does not; ``used_memory_dataset`` (used_memory minus
  Redis's overhead, the tables included) is reported beside it as the steadier figure. Between
  the two rebuilds and at the end the older generations are deleted again, so the stack is left
  with one generation (built with its own adapter). The search pointer names a deleted generation
  for the moment between the two rebuilds.
* **Edge resident memory**: the VmRSS (and its anonymous / file-backed parts, and PSS from
  ``smaps_rollup``) of every worker process of the edge's HTTP server (granian or gunicorn: the
  children of the ``edge`` process that run its command line) and of the master, after a warm-up
  of ``--requests`` page views (product pages 60 %, category pages 15 %, searches 15 %, home 10 %; four
  client threads so every worker serves some), and again
  after as many more to show whether it still grows.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TypedDict
from urllib.parse import quote

from bench.projection import drop_replaced_generations
from bench.report import Http, children, fmt_bytes, fmt_num, memory_of, table
from bench.stack import Stack, run_cli

LAZYFREE_WAIT = 30.0


# --- Redis -----------------------------------------------------------------------------------------


def used_memory(client) -> tuple[int, int]:
    """``used_memory`` and ``used_memory_dataset`` once nothing is waiting to be freed in the background."""
    deadline = time.monotonic() + LAZYFREE_WAIT
    while True:
        info = client.info("memory")
        if not info.get("lazyfree_pending_objects") or time.monotonic() > deadline:
            return int(info["used_memory"]), int(info["used_memory_dataset"])
        time.sleep(0.05)


def rebuild_growth(stack: Stack, search: bool) -> dict:
    client = stack.client()
    try:
        (before, dataset_before), keys_before = used_memory(client), client.dbsize()
        summary, seconds = stack.rebuild(search=search)
        (after, dataset_after), keys_after = used_memory(client), client.dbsize()
    finally:
        client.close()
    n = summary.products
    return {
        "products": n,
        "bytes": after - before,
        "bytes_per_product": (after - before) / n,
        "dataset_bytes_per_product": (dataset_after - dataset_before) / n,
        "keys_per_product": (keys_after - keys_before) / n,
        "snippets": summary.snippets,
        "used_memory_after": after,
        "rebuild_seconds": seconds,
    }


def redis_per_product(stack: Stack) -> dict:
    """Bytes per product in the snippet Redis: snippets only, and with the stack's search adapter."""
    drop_replaced_generations(stack)
    snippets = rebuild_growth(stack, search=False)
    drop_replaced_generations(stack)
    with_search = rebuild_growth(stack, search=True)
    drop_replaced_generations(stack)
    out = {"snippets": snippets, "with_search": with_search, "search": stack.search}
    if stack.search == "embedded":
        out["embedded_index_bytes_per_product"] = with_search["bytes_per_product"] - snippets["bytes_per_product"]
        out["embedded_index_dataset_bytes_per_product"] = (
            with_search["dataset_bytes_per_product"] - snippets["dataset_bytes_per_product"]
        )
    return out


# --- the edge --------------------------------------------------------------------------------------


def page_paths(stack: Stack, count: int, rng: random.Random) -> list[str]:
    """A mix of shopper pages over the catalog (see the module docstring)."""
    with stack.connect() as conn:
        skus = [r[0] for r in conn.execute("SELECT sku FROM products WHERE active AND deleted_at IS NULL")]
        categories = [r[0] for r in conn.execute("SELECT key FROM categories")]
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM product_texts WHERE locale = %s LIMIT 200", (stack.settings.default_locale,)
            )
        ]
    words = sorted({w.lower() for name in names for w in name.split() if len(w) > 3 and w.isalpha()}) or ["shirt"]
    paths = []
    for _ in range(count):
        r = rng.random()
        if r < 0.6:
            paths.append(f"/p/{rng.choice(skus)}")
        elif r < 0.75:
            paths.append(f"/c/{rng.choice(categories)}")
        elif r < 0.9:
            paths.append(f"/search?q={quote(rng.choice(words))}")
        else:
            paths.append("/")
    return paths


def browse(edge_url: str, paths: list[str], threads: int = 4) -> dict[int, int]:
    """GET every path (``threads`` connections at once); count the statuses."""

    def worker(part: list[str]) -> dict[int, int]:
        http = Http(edge_url)
        statuses: dict[int, int] = {}
        try:
            for path in part:
                status, _ = http.request("GET", path)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            http.close()
        return statuses

    total: dict[int, int] = {}
    with ThreadPoolExecutor(threads) as pool:
        for statuses in pool.map(worker, [paths[i::threads] for i in range(threads)]):
            for status, n in statuses.items():
                total[status] = total.get(status, 0) + n
    return total


def edge_master(stack: Stack, name: str = "edge") -> int:
    """The pid of the edge's server master (the process started as ``name``)."""
    master = next((p.pid for p in stack.procs if p.name == name), None)
    if master is None:
        raise ValueError(f"no process named {name!r} on the stack: start_edge() first")
    return master


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def server_workers(master: int) -> list[int]:
    """The master's children that run its command line: the forked workers (granian, gunicorn),
    not helpers such as a multiprocessing resource tracker."""
    command = _cmdline(master)
    return [pid for pid in children(master) if _cmdline(pid) == command]


class Reading(TypedDict):
    """The edge's memory after ``requests`` page views (KiB by field of :func:`memory_of`)."""

    requests: int
    statuses: dict[int, int]
    master: dict[str, int]
    workers: dict[int, dict[str, int]]  # by pid


def edge_memory(stack: Stack, edge_url: str, requests: int = 300, name: str = "edge", seed: int = 1) -> dict:
    """Resident memory of the edge's master and workers after ``requests`` page views, and after
    as many again. The workers are looked up at each reading (the server forks them after the
    port opens, and replaces any that die)."""
    rng = random.Random(seed)
    master = edge_master(stack, name)
    readings: list[Reading] = []
    for _ in range(2):
        statuses = browse(edge_url, page_paths(stack, requests, rng))
        readings.append(
            {
                "requests": requests * (len(readings) + 1),
                "statuses": statuses,
                "master": memory_of(master),
                "workers": {pid: memory_of(pid) for pid in server_workers(master)},
            }
        )
    last = list(readings[-1]["workers"].values())
    mean = lambda field: sum(m.get(field, 0) for m in last) / len(last) if last else float("nan")  # noqa: E731
    return {"master": master, "readings": readings, "worker_vmrss_kib": mean("VmRSS"), "worker_pss_kib": mean("Pss")}


# --- the measurement -------------------------------------------------------------------------------


def measure(
    stack: Stack, edge_url: str | None = None, *, requests: int = 300, redis: bool = True, edge_name: str = "edge"
) -> dict:
    """Redis bytes per product (``redis=True``; rebuilds twice) and, given ``edge_url`` of a running
    edge, its memory per worker."""
    result: dict = {}
    if redis:
        result["redis"] = redis_per_product(stack)
    if edge_url:
        result["edge"] = edge_memory(stack, edge_url, requests, edge_name)
    return result


def print_results(result: dict) -> None:
    r = result.get("redis")
    if r:
        rows = [("snippets only", r["snippets"])]
        label = {
            "embedded": "snippets + embedded index",
            "elasticsearch": "snippets (index in Elasticsearch)",
            "none": "snippets (no search)",
        }[r["search"]]
        rows.append((label, r["with_search"]))
        n = r["snippets"]["products"]
        print(f"\nRedis used_memory growth of one rebuild, N = {n:,} products:")
        print(
            table(
                ["", "bytes/product", "dataset bytes/product", "keys/product", "total", "used_memory after"],
                [
                    (
                        name,
                        fmt_num(g["bytes_per_product"]),
                        fmt_num(g["dataset_bytes_per_product"]),
                        f"{g['keys_per_product']:.1f}",
                        fmt_bytes(g["bytes"]),
                        fmt_bytes(g["used_memory_after"]),
                    )
                    for name, g in rows
                ],
            )
        )
        print(
            "(used_memory includes the key tables, which grow in powers of two: a doubling during the rebuild "
            "adds to its figure; dataset = used_memory minus Redis's overhead, tables included)"
        )
        if "embedded_index_bytes_per_product" in r:
            print(
                f"embedded index alone: {fmt_num(r['embedded_index_bytes_per_product'])} bytes/product "
                f"({fmt_num(r['embedded_index_dataset_bytes_per_product'])} dataset bytes/product)"
            )
    e = result.get("edge")
    if e:
        workers = len(e["readings"][-1]["workers"])
        print(f"\nedge resident memory, KiB (server master {e['master']}, {workers} workers):")
        memory_rows = []
        for reading in e["readings"]:
            for role, pid, mem in [("master", e["master"], reading["master"])] + [
                ("worker", pid, m) for pid, m in reading["workers"].items()
            ]:
                memory_rows.append(
                    (
                        reading["requests"],
                        role,
                        pid,
                        fmt_num(mem.get("VmRSS")),
                        fmt_num(mem.get("RssAnon")),
                        fmt_num(mem.get("RssFile")),
                        fmt_num(mem.get("Pss")),
                        fmt_num(mem.get("VmHWM")),
                    )
                )
        print(
            table(
                ["after requests", "process", "pid", "VmRSS", "RssAnon", "RssFile", "Pss", "VmHWM"],
                memory_rows,
                align=">>>>>>>>",
            )
        )
        print(
            f"per worker after {e['readings'][-1]['requests']} requests: VmRSS {fmt_num(e['worker_vmrss_kib'])} KiB, "
            f"PSS {fmt_num(e['worker_pss_kib'])} KiB (mean)"
        )
        print("statuses: " + "; ".join(f"{r['requests']}: {r['statuses']}" for r in e["readings"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--search", choices=["embedded", "elasticsearch", "none"], default="embedded")
    parser.add_argument("--edge-workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=300, help="warm-up page views before reading the RSS")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs) at the end")
    args = parser.parse_args(argv)

    def body(stack: Stack) -> None:
        redis_figures = measure(stack, redis=True)
        edge_url = stack.start_edge(args.edge_workers)
        print_results({**redis_figures, **measure(stack, edge_url, requests=args.requests, redis=False)})

    return run_cli(body, search=args.search, products=args.products, keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
