"""The PHP front end against the edge and against PHP's own floor, in one run.

Usage::

    python -m bench.php [--catalog demo|generated] [--products 20000] [--search embedded|elasticsearch]
                        [--seconds 5] [--rounds 3] [--workers 2] [--php-workers N] [--connections 8]
                        [--json FILE]

Builds a shop (:class:`bench.stack.Stack`) with the demo catalog (the Magento sample data, as
``./dev demo`` imports it; the default) or a generated one, projects it, then serves on loopback,
each with ``--workers`` workers:

* the **edge** as shipped (``snipshop serve edge``: granian, its near cache, page cache and
  search result cache);
* the **PHP front end**: php-fpm (a static pool of ``--workers`` workers, or ``--php-workers``;
  opcache on) behind nginx, as ``./dev demo`` serves it (tools/php_frontend.py);
* the **PHP floor**: a hello-world PHP page (bench/php_floor/index.php) through the same nginx
  and php-fpm configuration: what nginx, FastCGI and a PHP request cost with no work at all.

Three pages: the product page (up to 2,000 products), the same product pages for a shopper with
a name and a basket (a ``Cookie`` header: the page is filled per request, never cached) and
category listings. Each comparison alternates wrk rounds (bench/http.py): PHP ÷ edge and PHP ÷
PHP floor per page. Before measuring, a sample of each page must be the edge's byte for byte.
One more PHP round per page is watched from /proc: the CPU seconds of php-fpm, nginx, Redis and
the rest of the machine, which says what limits PHP's side.

``python -m bench`` runs :func:`measure` after its HTTP part, on its generated catalog.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench import http
from bench.report import machine_cpu, machine_report, table, tree_cpu_seconds
from bench.stack import Stack
from bench.wrk import ensure_wrk
from tools.localservices import free_port
from tools.php_frontend import PhpFrontend

FLOOR = Path(__file__).resolve().parent / "php_floor" / "index.php"
PERSONAL = "Cookie: customer_name=Anna; cart_count=2"
DEMO_FEEDS = ("attributes", "categories", "products", "variants", "prices", "offers", "stock")
SAMPLE = 20  # URLs per page that must be the edge's byte for byte before anything is measured


def load_demo(stack: Stack) -> None:
    """The Magento sample catalog into the stack, as ``./dev demo`` imports it (projected later)."""
    from catalog.importer import import_files
    from catalog.relay import settle

    feed = stack.base / "feed"
    subprocess.run([sys.executable, "-m", "tools.magento_to_feed", "--out", str(feed)], check=True, capture_output=True)
    rejected = import_files(
        stack.settings, [feed / f"{kind}.csv" for kind in DEMO_FEEDS], progress=False, send=lambda *_: None
    )
    if rejected:
        raise RuntimeError(f"the demo catalog had {rejected} rejected rows")
    with stack.connect() as conn:
        settle(conn)


def pages(stack: Stack) -> dict[str, tuple[list[str], tuple[str, ...]]]:
    """Per page, its paths and request headers: product pages anonymous and personal, listings
    (bench/http.py's category pages with two filters; the demo catalog, too small for them, gets
    every category in two sort orders)."""
    try:
        picked = http.pick_urls(stack)
        products, listings = picked["product"], picked["category"]
    except RuntimeError:
        with stack.connect() as conn:
            products = [
                f"/p/{sku}"
                for (sku,) in conn.execute(
                    "SELECT sku FROM products WHERE active AND deleted_at IS NULL ORDER BY md5(sku) LIMIT %s",
                    (http.PRODUCT_URLS,),
                )
            ]
            keys = [key for (key,) in conn.execute("SELECT key FROM categories ORDER BY key")]
        listings = [f"/c/{key}?sort={sort}" for key in keys for sort in ("relevance", "price_asc")]
    return {"product": (products, ()), "personal product": (products, (PERSONAL,)), "listing": (listings, ())}


def fetch(url: str, headers: Sequence[str]) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers=dict(h.split(": ", 1) for h in headers))
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def check_same(edge: str, php: str, paths: Sequence[str], headers: Sequence[str]) -> None:
    """The PHP front end answers 200 with the edge's bytes (else the comparison compares different work)."""
    for path in paths[:SAMPLE]:
        e, p = fetch(edge + path, headers), fetch(php + path, headers)
        if e[0] != 200 or e != p:
            raise RuntimeError(
                f"{path}: the edge answered {e[0]}, PHP {p[0]}, {'same' if e == p else 'different'} body"
            )


def cpu_breakdown(front: PhpFrontend, redis_pid: int, target: http.Target, seconds: float, connections: int) -> dict:
    """CPU seconds per second of wall time for php-fpm, nginx, Redis and everything else (wrk,
    the machine's other work) during one round on ``target``."""
    roots = {"php-fpm": front.processes[0].pid, "nginx": front.processes[1].pid, "redis": redis_pid}
    before, busy_before = tree_cpu_seconds(roots, None), machine_cpu()[0]
    started = time.monotonic()
    sample = http.run_wrk(target, seconds, connections)
    wall = time.monotonic() - started
    after, busy_after = tree_cpu_seconds(roots, None), machine_cpu()[0]
    used = {name: (after[name] - before[name]) / wall for name in roots}
    used["other"] = (busy_after - busy_before) / wall - sum(used.values())
    return {"rps": sample.rps, "cores": used}


def measure(stack: Stack, edge: str, args: argparse.Namespace) -> dict[str, http.Comparison]:
    """PHP ÷ edge and PHP ÷ PHP floor for each page; prints each comparison and the CPU breakdown."""
    out: dict[str, http.Comparison] = {}
    workers = getattr(args, "php_workers", None) or args.workers
    front = PhpFrontend(free_port(), stack.base / "php", env=stack.env, workers=workers)
    floor = PhpFrontend(free_port(), stack.base / "php-floor", script=FLOOR, env=stack.env, workers=workers)
    with front, floor:
        urls = pages(stack)
        for paths, headers in urls.values():
            check_same(edge, front.url, paths, headers)
        print(
            f"\n== PHP front end (php-fpm + nginx, {workers} workers) vs the edge ({args.workers} workers) and the "
            f"PHP floor: wrk -t1 -c{args.connections}, {args.rounds} × {args.seconds:g} s alternating rounds per side",
            flush=True,
        )
        cpu = {}
        for page, (paths, headers) in urls.items():
            print(f"{page} page ({len(paths)} URLs, e.g. {paths[0]}{' with ' + headers[0] if headers else ''})")
            php = http.Target("PHP", front.url, paths, headers)
            for name, base in (("edge", edge), ("PHP floor", floor.url)):
                c = http.alternate(
                    php, http.Target(name, base, paths, headers), args.seconds, args.rounds, args.connections
                )
                http.report(page, name, c, subject="PHP")
                out[f"PHP {page} ÷ {name}"] = c
            assert stack.redis is not None and stack.redis.process is not None
            cpu[page] = cpu_breakdown(front, stack.redis.process.pid, php, args.seconds, args.connections)
        print("\nCPU while PHP serves (cores busy, of the machine's; 'other' includes wrk):")
        names = ["php-fpm", "nginx", "redis", "other"]
        rows = [(page, f"{c['rps']:,.0f}", *(f"{c['cores'][n]:.2f}" for n in names)) for page, c in cpu.items()]
        print(table(["page", "req/s", *names], rows))
    return out


def summary_rows(figures: dict[str, http.Comparison]) -> list[tuple[str, str, str, str, str]]:
    return [(key, f"{c.ratio:.2f}", f"{c.a.rps:,.0f} vs {c.b.rps:,.0f} req/s", "", "") for key, c in figures.items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.php", description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", choices=("demo", "generated"), default="demo")
    parser.add_argument("--products", type=int, default=20_000, help="products of a generated catalog")
    parser.add_argument("--search", choices=("embedded", "elasticsearch"), default="embedded")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="edge workers (and php-fpm workers)")
    parser.add_argument("--php-workers", type=int, help="php-fpm workers, if not as many as the edge's")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--json", metavar="FILE", help="write the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the stack's directory (logs)")
    args = parser.parse_args(argv)
    ensure_wrk()
    machine_report()
    with Stack.create(search=args.search, keep=args.keep) as stack:
        if args.catalog == "demo":
            load_demo(stack)
        else:
            stack.load_catalog(args.products)
        summary, _ = stack.rebuild()
        print(f"stack in {stack.base} ({args.catalog} catalog, {args.search} search): {summary}", flush=True)
        edge = stack.start_edge(args.workers)
        figures = measure(stack, edge, args)
    print("\n== Summary")
    print(table(["figure", "value", "measured", "", ""], summary_rows(figures)))
    machine_report()
    if args.json:
        with open(args.json, "w") as f:
            json.dump({k: {"ratio": c.ratio, "php": vars(c.a), "baseline": vars(c.b)} for k, c in figures.items()}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
