"""What a Redis Cluster costs the edge's fetches: one server against a 3-primary cluster.

Usage::

    python -m bench.cluster_fetch [--products 2000] [--seconds 2] [--rounds 3]

Both stores on this machine (tools.localservices: one ``redis-server``, and three with
``cluster-enabled yes`` joined by ``redis-cli --cluster create``), filled with the same snippets
through the projector's writer (projector/store.py), then read the way the edge reads when its near
cache misses (web/edge/snippets.py): a product page's eight keys in one call (two slots on the
cluster: the product's and the shop-wide ``{_}``) and a listing's 24 tiles (four keys each, up to
24 slots). Fetches per second of one client, alternating rounds (one server, then the cluster);
the ratio is the cluster's over the single server's (below 1: slower). Both servers share the
machine with the client, so this is the client's and the protocol's cost, not the capacity of
more machines (which is what a cluster is for).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path

import redis

from bench.report import table
from projector.render import Snippet
from projector.store import SnippetWriter
from snipshop import redis_clients
from snipshop.config import Settings
from tools.localservices import Redis, RedisCluster, free_cluster_ports, free_port
from vocab.keys import SHOP_WIDE, Context, KeyScheme, Kind

CTX = Context("en_US", "EUR")
KEYS = KeyScheme("bench")
TILES = 24


def fill(client, products: int) -> list[str]:
    skus = [f"B{i:06d}" for i in range(products)]
    kinds = (Kind.DETAIL, Kind.TILE, Kind.CRUMB, Kind.PRICE, Kind.AVAIL, Kind.LD)
    writer = SnippetWriter(client, KEYS, 3600)
    writer.write(
        [Snippet(Kind.FRAME, CTX, SHOP_WIDE, 1, "f" * 3000), Snippet(Kind.LABELS, CTX, SHOP_WIDE, 1, "{}")], [1]
    )
    for start in range(0, products, 500):
        batch = skus[start : start + 500]
        writer.write([Snippet(k, CTX, sku, 1, "x" * 400) for sku in batch for k in kinds], [1])
    return skus


def fetch_next(client: redis.Redis, keys: Iterator[list[str]]) -> object:
    return client.mget(next(keys))


def rate(call: Callable[[], object], seconds: float) -> float:
    done, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        for _ in range(20):
            call()
        done += 20
    return done / seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster_fetch")
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="snipshop-bench-cluster-"))
    single = Redis(free_port(), base / "single").start()
    cluster = RedisCluster(free_cluster_ports(3), base / "cluster").start()
    try:
        settings = replace(Settings(), key_prefix=KEYS.prefix)
        clients = {
            "one server": redis_clients.snippet_store(replace(settings, redis_url=f"{single.url}/0")),
            "3-primary cluster": redis_clients.snippet_store(
                replace(settings, redis_url=f"{cluster.url}/0", redis_cluster=True)
            ),
        }
        skus = {name: fill(client, args.products) for name, client in clients.items()}["one server"]
        rng = random.Random(7)
        pages = [KEYS.product_page(1, CTX, rng.choice(skus)) for _ in range(200)]
        listings = [KEYS.tiles(1, CTX, rng.sample(skus, TILES)) for _ in range(200)]
        work = {"product page (8 keys)": pages, f"listing tiles ({TILES * 4} keys)": listings}
        results: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.rounds):
            for what, key_lists in work.items():
                for name, client in clients.items():
                    fetch = partial(fetch_next, client, iter(key_lists * 10_000))
                    results.setdefault((what, name), []).append(rate(fetch, args.seconds))
        rows = []
        for what in work:
            one = statistics.median(results[(what, "one server")])
            many = statistics.median(results[(what, "3-primary cluster")])
            rows.append([what, f"{one:,.0f}", f"{many:,.0f}", f"{many / one:.2f}"])
        print(table(["fetch", "one server /s", "cluster /s", "ratio"], rows))
    finally:
        cluster.stop()
        single.stop()
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
