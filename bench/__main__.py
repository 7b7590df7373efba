"""The benchmark suite in one command: ``python -m bench``.

    python -m bench [--products 100000] [--search elasticsearch|embedded] [--seconds 5] [--rounds 3]
                    [--workers 2] [--updates 500] [--burst-rate 300] [--no-servers-apart] [--profile DIR]
                    [--json FILE]
    python -m bench --quick            # N = 3,000 and short rounds: does everything run?

One shop on loopback (bench/stack.py: PostgreSQL, Redis, Elasticsearch unless ``--search
embedded``), a generated catalog of N products (categories, attributes, prices in two currencies,
offers, stock) imported through the real importer and projected, then, in this order:

1. ``projector rebuild`` (one process per usable core) on each search adapter against cores × the
   single-core render ceiling, then again with the servers (PostgreSQL, Redis, Elasticsearch)
   pinned to a core of their own, against the other cores × the ceiling (bench/projection.py;
   ``--no-servers-apart`` leaves that out, and so does a machine with a single usable core);
2. Redis memory per product (bench/memory.py);
3. HTTP on the shipped server (bench/http.py, wrk, alternating rounds): the product, category and
   search pages of the edge against the floor (hello-world Flask, same server and workers), the
   classical baseline (bench/classical/: Flask + Jinja2 + PostgreSQL per request), the edge
   with its caches turned off, and for the product page the edge without its page cache (what
   they buy); a signed-in shopper's product page (personalization cookies) against the floor;
   and the dearest URL within the query-string limit against a category page, both
   on the edge without caches (bench/hostile.py); then, on a stack of its own with the other
   search adapter (at most 20,000 products), the category and search pages against the floor
   again, so the listing goals (≥ 0.5 × the floor) are reported for both adapters;
   then the edge with metrics on against off (bench/metrics.py: page cache, assembled product
   page, category page);
4. the edge's resident memory per worker (bench/memory.py);
5. the PHP front end (php-fpm + nginx) against the edge and against a hello-world PHP page through
   the same servers, for the product page, a personal product page and listings (bench/php.py);
6. change-to-visible latency of price updates, idle and during a stock-movement burst, with the
   real workers per queue group, scheduler and admin app; its goal row is the price change during
   the burst ÷ idle (bench/visibility.py); then bulk stock movements through
   ``POST /stock/movements`` at 5,000 and 7,500 movements/s with their projection lag
   (bench/bulk_stock.py);
7. products with variants (bench/variants.py): the rebuild's products/s and Redis bytes per product
   on the demo catalog and on a generated one with 5–15 variants per product, against this run's
   simple catalog, and the listing and product pages with variants against the classical baseline.

It prints each part's table and a summary of the ratios and targets. Every ratio comes from
measurements taken in the same run, alternating the two sides: the machine's other work moves
absolute figures, much less the ratios. docs/benchmarks.md has the figures and what they mean.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

from bench import bulk_stock, hostile, http, memory, metrics, php, projection, variants, visibility
from bench.report import table
from bench.stack import Stack, run_cli
from bench.wrk import ensure_wrk

ADAPTERS = ("embedded", "elasticsearch")
#: Products of the short listing step on the adapter the stack does not use (at most).
OTHER_ADAPTER_PRODUCTS = 20_000
NO_CACHES = {"EDGE_CACHE_MB": "0", "SEARCH_CACHE_SECONDS": "0"}
NO_PAGE_CACHE = {"EDGE_PAGE_CACHE_MB": "0"}  # what whole-page reuse buys on top of the near cache
PERSONAL_CPU = "personal product ÷ floor, CPU per request in one process"


def run_http(stack: Stack, args: argparse.Namespace) -> tuple[str, dict]:
    urls = http.pick_urls(stack)
    edge = stack.start_edge(args.workers)
    floor = http.serve_app(stack, "floor", args.workers)
    classical = http.serve_app(stack, "classical", args.workers)
    bare = stack.serve("edge", args.workers, name="edge-no-caches", env=NO_CACHES)
    assembling = stack.serve("edge", args.workers, name="edge-no-page-cache", env=NO_PAGE_CACHE)
    for page, paths in urls.items():
        for base in (edge, classical, bare, assembling):
            http.check(base, paths[:30])
        sample = paths[:30]
        differing = http.identical(edge, classical, sample)
        print(
            f"{page}: the classical page is the edge's byte for byte on {len(sample) - len(differing)} of "
            f"{len(sample)} URLs" + "".join(f"\n  differs: {p}" for p in differing[:5]),
            flush=True,
        )
        if differing and page == "search" and stack.search == "elasticsearch":
            # Relevance on Elasticsearch is BM25 over name and description with typo tolerance;
            # the classical baseline ranks as the embedded index does (query words in the name,
            # then SKU). Say how much of the difference is only that order.
            beyond = http.identical_but_order(edge, classical, differing)
            print(
                f"  {len(differing) - len(beyond)} of those {len(differing)} differ only in the order of the tiles "
                f"(Elasticsearch ranks by BM25, the classical baseline by query words in the name, then SKU)"
                + "".join(f"\n  differs beyond the order: {p}" for p in beyond[:5]),
                flush=True,
            )
    print(
        f"\n== HTTP: {args.workers} workers each, wrk -t1 -c{args.connections}, {args.rounds} × {args.seconds:g} s "
        f"alternating rounds per side",
        flush=True,
    )
    out: dict = {}
    for page, paths in urls.items():
        print(f"{page} page ({len(paths)} URLs, e.g. {paths[0]})", flush=True)
        baselines = [("floor", floor), ("classical", classical), ("edge without caches", bare)]
        if page == "product":  # the only page of the three the page cache keeps
            baselines.append(("edge without page cache", assembling))
        for name, base in baselines:
            c = http.alternate(
                http.Target("edge", edge, paths),
                http.Target(name, base, paths),
                args.seconds,
                args.rounds,
                args.connections,
            )
            http.report(page, name, c)
            out[f"{page} ÷ {name}"] = c
    print(f"personal product page ({len(urls['product'])} URLs, {http.SHOPPER[0]})", flush=True)
    http.check(edge, urls["product"][:30], http.SHOPPER)
    c = http.personal_against_floor(edge, floor, urls["product"], args)
    http.report("personal product", "floor", c)
    out["personal product ÷ floor"] = c
    cpu = http.measure_personal_cpu(stack, urls["product"])
    out[PERSONAL_CPU] = http.Comparison(  # requests per CPU second, as the wrk figures are per second
        http.Sample(1e6 / cpu["edge_us"], 0, 0, 0, 0), http.Sample(1e6 / cpu["floor_us"], 0, 0, 0, 0), cpu["ratio"], ()
    )
    worst = hostile.worst_paths(stack)
    http.check(bare, worst)
    print(f"worst URL ({len(worst)} URLs of {len(worst[0])} bytes, e.g. {worst[0][:160]}…)", flush=True)
    c = http.alternate(
        http.Target("worst URL", bare, worst),
        http.Target("category", bare, urls["category"]),
        args.seconds,
        args.rounds,
        args.connections,
    )
    http.report("worst URL", "category", c, subject="worst URL")
    out["worst URL ÷ category without caches"] = c
    return edge, out


def rebuild_rows(rebuild: dict, cores_are: str, label: str = "") -> list[tuple[str, str, str, str, str]]:
    """The summary's rows of one rebuild measurement (bench.projection.measure): per adapter, the
    rebuild proper against ``cores`` × the ceiling (deleting a generation past its grace period
    runs beside it)."""
    rows = []
    cores = rebuild.get("cores", 1)
    for mode, r in rebuild["rebuild"].items():
        ceiling = rebuild["ceiling_snippets" if mode == "none" else "ceiling"]["products_per_s"]
        deleted = r["with_delete_ratio"] == r["with_delete_ratio"]  # not NaN: a deletion was timed
        rows.append(
            (
                f"rebuild ÷ ({cores_are} × ceiling) ({mode}{label})",
                f"{r['ratio']:.2f}",
                f"{r['products_per_s']:,.0f} vs {cores} × {ceiling:,.0f} products/s, "
                f"{cores} {cores_are}, {r['processes']} processes; {r['single_core_ratio']:.2f} × one core's ceiling"
                + (f"; {r['with_delete_ratio']:.2f} with the deletion after it" if deleted else ""),
                f"≥ {projection.TARGET:g}",
                "met" if r["ratio"] >= projection.TARGET else "NOT met",
            )
        )
    return rows


def summary(
    rebuild: dict,
    redis_memory: dict,
    pages: dict,
    edge_memory: dict,
    seen: dict,
    php_pages: dict,
    with_variants: dict,
    bulk: dict | None = None,
    rebuild_apart: dict | None = None,
) -> None:
    rows = []
    for key, target in (
        ("product ÷ floor", 0.8),
        ("personal product ÷ floor", 0.9),
        ("product ÷ classical", None),
        ("category ÷ classical", 5.0),
        ("search ÷ classical", None),
        ("product ÷ edge without caches", None),
        ("product ÷ edge without page cache", None),
        ("category ÷ edge without caches", None),
        ("search ÷ edge without caches", None),
        ("category with variants ÷ classical", 5.0),
        ("product with variants ÷ classical", None),
    ):
        c = pages[key]
        rows.append(
            (
                f"edge {key}",
                f"{c.ratio:.2f}",
                f"{c.a.rps:,.0f} vs {c.b.rps:,.0f} req/s",
                f"≥ {target:g}" if target else "",
                ("met" if c.ratio >= target else "NOT met") if target else "",
            )
        )
    for adapter in ADAPTERS:
        for key in ("category ÷ floor", "search ÷ floor"):
            c = pages.get(f"{key} ({adapter})")
            if c is None:
                continue
            rows.append(
                (
                    f"edge {key} ({adapter} index)",
                    f"{c.ratio:.2f}",
                    f"{c.a.rps:,.0f} vs {c.b.rps:,.0f} req/s",
                    f"≥ {http.LISTING_GOAL:g}",
                    "met" if c.ratio >= http.LISTING_GOAL else "NOT met",
                )
            )
    c = pages[PERSONAL_CPU]
    rows.append(
        (
            f"edge {PERSONAL_CPU}",
            f"{c.ratio:.2f}",
            f"{1e6 / c.b.rps:.1f} µs floor vs {1e6 / c.a.rps:.1f} µs edge",
            "",
            "",
        )
    )
    c = pages["worst URL ÷ category without caches"]
    cost = 1 / c.ratio if c.ratio else math.inf  # the worst URL answered nothing: infinitely dear
    rows.append(
        (
            "worst URL's cost in category pages",
            f"{cost:.2f}",
            f"{c.a.rps:,.0f} vs {c.b.rps:,.0f} req/s, p99 {c.a.p99_ms:.0f} vs {c.b.p99_ms:.0f} ms",
            f"≤ {hostile.TARGET:g}",
            "met" if cost <= hostile.TARGET else "NOT met",
        )
    )
    rows += metrics.summary_rows(pages)
    rows += php.summary_rows(php_pages)
    rows += rebuild_rows(rebuild, "cores")
    if rebuild_apart is not None:
        rows += rebuild_rows(rebuild_apart, "rendering cores", ", servers apart")
    for phase in ("idle", "burst"):
        if phase in seen:
            v = seen[phase]["visible"]
            target = phase == "idle"
            rows.append(
                (
                    f"change-to-visible {phase}",
                    f"p99 {v['p99_ms']:.0f} ms",
                    f"p50 {v['p50_ms']:.0f} ms, n = {v['n']}",
                    "≤ 100 ms" if target else "",
                    ("met" if v["p99_ms"] <= 100 else "NOT met") if target else "",
                )
            )
    rows += visibility.summary_rows(seen)
    if bulk is not None:
        rows += bulk_stock.summary_rows(bulk)
    r = redis_memory["redis"]
    simple_rate = rebuild["rebuild"][redis_memory["redis"]["search"]]["products_per_s"]
    simple_bytes = r["with_search"]["bytes_per_product"]
    rows.extend((*row, "", "") for row in variants.rows(with_variants, simple_rate, simple_bytes))
    rows.append(
        (
            "Redis per product",
            f"{r['with_search']['bytes_per_product']:,.0f} B",
            f"snippets only {r['snippets']['bytes_per_product']:,.0f} B ({r['search']} search)",
            "",
            "",
        )
    )
    rows.append(
        (
            "edge RSS per worker",
            f"{edge_memory['edge']['worker_vmrss_kib'] / 1024:.0f} MiB",
            f"PSS {edge_memory['edge']['worker_pss_kib'] / 1024:.0f} MiB",
            "",
            "",
        )
    )
    print("\n== Summary")
    print(table(["figure", "value", "measured", "target", ""], rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument(
        "--search",
        choices=("elasticsearch", "embedded"),
        default="elasticsearch",
        help="the stack's search engine (the edge's); rebuilds are measured on it, embedded and none",
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one wrk round")
    parser.add_argument("--rounds", type=int, default=3, help="wrk rounds per side of each comparison")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="server workers of the edge and its baselines")
    parser.add_argument("--rebuild-rounds", type=int, default=2)
    parser.add_argument(
        "--servers-apart",
        action=argparse.BooleanOptionalAction,
        default=len(os.sched_getaffinity(0)) > 1,
        help="also the rebuild with the servers pinned to a core of their own (bench/projection.py; "
        "about 13 minutes at 100,000 products; default: with two usable cores or more)",
    )
    parser.add_argument(
        "--updates",
        type=int,
        default=500,
        help="price updates per change-to-visible phase (p99 is then the 495th of 500, not the largest of 100)",
    )
    parser.add_argument(
        "--burst-rate", type=float, default=1000.0, help="stock movements/s during the burst phase (issue #16: 1,000)"
    )
    parser.add_argument(
        "--burst-batch",
        type=int,
        default=100,
        help="movements per request of the burst (100: bulk calls, as a warehouse sends them; 1: single calls)",
    )
    parser.add_argument("--profile", metavar="DIR", help="also profile one rebuild per adapter (py-spy) into DIR")
    parser.add_argument("--json", metavar="FILE", help="write every figure as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the stack's directory (logs)")
    parser.add_argument("--quick", action="store_true", help="3,000 products, 1 s rounds: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.products, args.seconds, args.rounds, args.rebuild_rounds, args.updates = 3000, 1.0, 1, 1, 20

    started = time.monotonic()
    ensure_wrk()

    def body(stack: Stack) -> None:
        print("\n== projector rebuild against the render ceiling", flush=True)
        rebuild = projection.measure(
            stack, rounds=args.rebuild_rounds, profile_dir=None if args.profile is None else Path(args.profile)
        )
        projection.print_results(rebuild)
        rebuild_apart = None
        if args.servers_apart:
            print("\n== projector rebuild with the servers on a core of their own", flush=True)
            rebuild_apart = projection.measure(stack, rounds=args.rebuild_rounds, apart=True)
            projection.print_results(rebuild_apart)
        print("\n== Redis memory", flush=True)
        redis_memory = memory.measure(stack, redis=True)
        memory.print_results(redis_memory)

        edge, pages = run_http(stack, args)
        for key in ("category ÷ floor", "search ÷ floor"):
            pages[f"{key} ({stack.search})"] = pages[key]
        other = next(a for a in ADAPTERS if a != stack.search)
        listed = http.listing_floor(
            other, min(args.products, OTHER_ADAPTER_PRODUCTS), args.seconds, args.rounds, args.workers, args.connections
        )
        pages.update({f"{key} ({other})": c for key, c in listed.items()})
        pages.update(metrics.measure(stack, args))  # the edge with metrics on ÷ off (bench/metrics.py)
        edge_memory = memory.measure(stack, edge, redis=False)
        memory.print_results(edge_memory)
        php_pages = php.measure(stack, edge, args)

        print("\n== change-to-visible", flush=True)
        stack.start_queue_workers()
        stack.start_scheduler()
        admin = stack.start_admin()
        seen = visibility.measure(
            stack, admin, edge, updates=args.updates, burst_rate=args.burst_rate, burst_batch=args.burst_batch
        )
        visibility.print_results(seen)
        print("\n== bulk stock movements", flush=True)
        # A shop that takes thousands of movements a second gives its stock group a process per
        # core (STOCK_WORKER_CONCURRENCY); the small machine's default of 1 keeps prices' core free.
        stack.restart_stock_worker(bulk_stock.STOCK_CONCURRENCY)
        rates = (1000.0,) if args.quick else (bulk_stock.GOAL_RATE, 1.5 * bulk_stock.GOAL_RATE)
        bulk = bulk_stock.measure(stack, admin, rates, seconds=max(2.0, 2 * args.seconds))
        bulk_stock.print_results(bulk)

        with_variants, variant_pages = variants.measure(stack, args)
        pages.update(variant_pages)
        summary(rebuild, redis_memory, pages, edge_memory, seen, php_pages, with_variants, bulk, rebuild_apart)
        print(f"\nwhole run: {(time.monotonic() - started) / 60:.1f} min")
        if args.json:
            with open(args.json, "w") as out:
                json.dump(
                    {
                        "products": args.products,
                        "search": args.search,
                        "rebuild": rebuild,
                        "rebuild_servers_apart": rebuild_apart,
                        "redis_memory": redis_memory,
                        "edge_memory": edge_memory,
                        "change_to_visible": seen,
                        "bulk_stock": bulk,
                        "variants": with_variants,
                        "http": {
                            k: {"ratio": c.ratio, "edge": vars(c.a), "baseline": vars(c.b)} for k, c in pages.items()
                        },
                        "php": {
                            k: {"ratio": c.ratio, "php": vars(c.a), "baseline": vars(c.b)} for k, c in php_pages.items()
                        },
                    },
                    out,
                    indent=1,
                    default=str,
                )

    return run_cli(body, search=args.search, products=args.products, keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
