"""Edge HTTP throughput and latency, each figure a ratio against a baseline measured beside it.

Usage::

    python -m bench.http [--products 20000] [--seconds 5] [--rounds 3] [--workers 2]
                         [--connections 8] [--search embedded|elasticsearch] [--search-cache SECONDS]
                         [--floor-pages product,personal,category,search]

Builds a whole shop (:class:`bench.stack.Stack`: PostgreSQL, Redis, a generated catalog,
``projector rebuild``), then starts on loopback, all with ``--workers`` workers:

* the **edge** with ``snipshop serve edge`` (the shipped server, see bench/SERVERS.md);
* the **floor**: a hello-world Flask app (bench/floor.py) on the same server code path and options
  (``python -m bench.serve_app floor``): what the server, WSGI and Flask cost with no work at all;
* the **classical** baseline, if ``bench/classical/app.py`` exists: a Flask + Jinja2 + PostgreSQL
  app serving the same paths, served the same way (``python -m bench.serve_app classical``).

Three pages (:func:`pick_urls`): the product page (``/p/<sku>``, 2000 different active SKUs),
the category page (up to 20 categories, the biggest first, each with its two most common attribute
values of two different facets selected, kept when ≥ 24 products match: 24 tiles plus facets;
each in four variants: relevance or price order, page 1 or 2) and
the search page (the 20 commonest words of the product names); and the **personal product page**:
the same product URLs sent by a signed-in shopper (:data:`SHOPPER`: a name, a basket count, the
currency and an analytics cookie, so every response is filled for that shopper and private; the
floor is sent the same header). wrk (closed loop, ``--connections``
connections on one thread, keep-alive as the server allows) rotates through a page's URLs with a
Lua script whose ``done()`` hook prints requests/s, p50, p99, non-2xx answers and socket errors
as JSON. The edge keeps a search result (and the listing assembled from it) until the projector
announces a change (web/edge/result_cache.py; nothing changes during a run), so with the shipped
setting the listing and search figures are mostly cache hits; ``--search-cache 0`` measures every
page asking the search engine.

Every comparison alternates rounds A, B, B, A, A, B, ... (``--rounds`` of each, ``--seconds``
each, after a one-second warm-up of each side) so that whatever else the shared machine does hits
both sides alike; it reports the median of each side and the median of the per-pair ratios of
requests/s. Printed per page: edge ÷ floor (``--floor-pages``; product target ≥ 0.8, personal
product page ≥ 0.9) and edge ÷ classical (category target ≥ 5). wrk runs on the same 2 cores as
the servers: the figures are comparable within a run, not absolute capacities. On a busy machine
the personal product page also gets a steadier figure, CPU per request with the server left out
(:func:`personal_cpu`): the edge's WSGI app and the floor's called in one process, alternating
rounds (bench/inprocess.py).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import http.client
import json
import math
import re
import statistics
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from bench import inprocess
from bench.stack import PYTHON, Stack
from bench.wrk import ensure_wrk
from tools.localservices import free_port

CLASSICAL = Path(__file__).resolve().parent / "classical" / "app.py"
PRODUCT_URLS = 2000
MIN_TILES = 24
TARGETS = {("product", "floor"): 0.8, ("personal product", "floor"): 0.9, ("category", "classical"): 5.0}
#: A signed-in shopper's request headers: the personalization cookies (web/edge/personalize.py),
#: the currency they chose and a third-party cookie as browsers send them.
SHOPPER = ('Cookie: customer_name="Anna Schmidt"; cart_count=2; currency=EUR; _ga=GA1.1.1234567890.1733400000',)

WRK_SCRIPT = """
local paths = {@PATHS@}
local i = @START@
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'JSON {"requests": %d, "seconds": %.6f, "p50_ms": %.3f, "p99_ms": %.3f, "non2xx": %d, "errors": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass(frozen=True)
class Target:
    name: str
    base_url: str
    paths: Sequence[str]
    #: Request headers sent with every request (``Name: value``), e.g. a shopper's cookies.
    headers: Sequence[str] = ()


@dataclass(frozen=True)
class Sample:
    rps: float
    p50_ms: float
    p99_ms: float
    non2xx: int
    errors: int


@dataclass(frozen=True)
class Comparison:
    a: Sample  # medians of A's rounds
    b: Sample  # medians of B's rounds
    ratio: float  # median of A/B requests/s over the pairs
    rounds: tuple[tuple[Sample, Sample], ...]


def run_wrk(target: Target, seconds: float, connections: int = 8, start: int = 0) -> Sample:
    """One closed-loop wrk run rotating through ``target.paths``; figures from its ``done()`` hook."""
    for path in target.paths:
        if not path.startswith("/") or not path.isascii() or any(c in path for c in '"\\\n'):
            raise ValueError(f"unsafe path for the Lua script: {path!r}")
    script = WRK_SCRIPT.replace("@PATHS@", ",".join(f'"{p}"' for p in target.paths))
    script = script.replace("@START@", str(start % len(target.paths)))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench-http-") as lua:
        lua.write(script)
        lua.flush()
        args = [
            ensure_wrk(),
            "-t1",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--timeout",
            "5s",
            "-s",
            lua.name,
            *(arg for header in target.headers for arg in ("-H", header)),
            target.base_url,
        ]
        out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    line = next((ln for ln in out.splitlines() if ln.startswith("JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures:\n{out}")
    data = json.loads(line[5:])
    return Sample(data["requests"] / data["seconds"], data["p50_ms"], data["p99_ms"], data["non2xx"], data["errors"])


def median(samples: Sequence[Sample]) -> Sample:
    """The median of each figure; the non-2xx answers and errors are summed (any is worth seeing)."""

    def mid(field: str) -> float:
        return statistics.median(getattr(s, field) for s in samples)

    return Sample(
        mid("rps"), mid("p50_ms"), mid("p99_ms"), sum(s.non2xx for s in samples), sum(s.errors for s in samples)
    )


def alternate(a: Target, b: Target, seconds: float, rounds: int, connections: int = 8) -> Comparison:
    """Rounds A, B, B, A, A, B, ... (each side goes first every other pair) after a one-second
    warm-up of each; the medians of each side and of the A/B ratios of the pairs."""
    run_wrk(a, 1, connections)
    run_wrk(b, 1, connections)
    pairs = []
    for r in range(rounds):
        start = r * 997  # a different stretch of the URL list each round, the same for both sides
        if r % 2:
            y = run_wrk(b, seconds, connections, start)
            pairs.append((run_wrk(a, seconds, connections, start), y))
        else:
            x = run_wrk(a, seconds, connections, start)
            pairs.append((x, run_wrk(b, seconds, connections, start)))
    return Comparison(
        median([p[0] for p in pairs]),
        median([p[1] for p in pairs]),
        statistics.median(ratio(x, y) for x, y in pairs),
        tuple(pairs),
    )


def ratio(a: Sample, b: Sample) -> float:
    """A's requests/s over B's; infinite when B answered nothing in the round (a side so slow
    that no request finished within wrk's timeout is a result to report, not a crash), NaN
    when neither did."""
    if b.rps > 0:
        return a.rps / b.rps
    return math.inf if a.rps > 0 else math.nan


# --- the URLs -------------------------------------------------------------------------------

BIG_CATEGORIES = """
WITH RECURSIVE tree(root, key) AS (
    SELECT key, key FROM categories
    UNION ALL SELECT tree.root, c.key FROM categories c JOIN tree ON c.parent = tree.key)
SELECT tree.root, count(DISTINCT pc.sku) AS n FROM tree
JOIN product_categories pc ON pc.category = tree.key
JOIN products p ON p.sku = pc.sku AND p.active AND p.deleted_at IS NULL
GROUP BY tree.root ORDER BY n DESC, tree.root LIMIT %s
"""

TOP_VALUES = """
WITH RECURSIVE tree(key) AS (
    SELECT %s::text UNION ALL SELECT c.key FROM categories c JOIN tree ON c.parent = tree.key),
listed AS (SELECT DISTINCT pc.sku FROM product_categories pc JOIN tree ON pc.category = tree.key
           JOIN products p ON p.sku = pc.sku AND p.active AND p.deleted_at IS NULL)
SELECT a.name, a.value, count(*) AS n FROM product_attributes a JOIN listed USING (sku)
GROUP BY a.name, a.value ORDER BY n DESC, a.name, a.value
"""

BOTH = """
WITH RECURSIVE tree(key) AS (
    SELECT %s::text UNION ALL SELECT c.key FROM categories c JOIN tree ON c.parent = tree.key)
SELECT count(DISTINCT pc.sku) FROM product_categories pc JOIN tree ON pc.category = tree.key
JOIN products p ON p.sku = pc.sku AND p.active AND p.deleted_at IS NULL
JOIN product_attributes a1 ON a1.sku = p.sku AND a1.name = %s AND a1.value = %s
JOIN product_attributes a2 ON a2.sku = p.sku AND a2.name = %s AND a2.value = %s
"""

COMMON_WORDS = """
SELECT w FROM product_texts t JOIN products p ON p.sku = t.sku AND p.active,
     regexp_split_to_table(lower(t.name), '\\s+') AS w
WHERE t.locale = %s AND length(w) > 3 GROUP BY w ORDER BY count(*) DESC, w LIMIT %s
"""


def pick_urls(
    stack: Stack, products: int = PRODUCT_URLS, categories: int = 20, words: int = 20
) -> dict[str, list[str]]:
    """Paths for each page: many product pages, category pages with two filters, searches."""
    locale = stack.settings.locales[0]
    with stack.connect() as conn:
        skus = [
            r[0]
            for r in conn.execute(
                "SELECT sku FROM products WHERE active AND deleted_at IS NULL ORDER BY md5(sku) LIMIT %s", (products,)
            )
        ]
        category_paths = []
        for key, _n in conn.execute(BIG_CATEGORIES, (categories,)).fetchall():
            top: dict[str, str] = {}  # the most common value of each attribute, most common first
            for name, value, _count in conn.execute(TOP_VALUES, (key,)):
                top.setdefault(name, value)
            (n1, v1), (n2, v2) = list(top.items())[:2]
            row = conn.execute(BOTH, (key, n1, v1, n2, v2)).fetchone()
            assert row is not None  # an aggregate without GROUP BY answers one row
            hits = row[0]
            if hits >= MIN_TILES:
                # Each listing in four variants (two sorts, first two pages when there are two), so
                # that the edge's short-lived search result cache meets a realistic spread of queries.
                for sort in ("relevance", "price_asc"):
                    for page in (1, 2) if hits > MIN_TILES else (1,):
                        category_paths.append(
                            f"/c/{key}?{urlencode([(n1, v1), (n2, v2), ('sort', sort), ('page', page)])}"
                        )
        searches = [f"/search?{urlencode({'q': w})}" for (w,) in conn.execute(COMMON_WORDS, (locale, words))]
    if not skus or not category_paths or not searches:
        raise RuntimeError("the catalog is too small for the HTTP benchmark")
    return {"product": [f"/p/{s}" for s in skus], "category": category_paths, "search": searches}


def check(base_url: str, paths: Sequence[str], headers: Sequence[str] = ()) -> None:
    """Every path answers 200 (a benchmark of error pages measures nothing), sent with
    ``headers`` (``Name: value``)."""
    sent = dict(header.split(": ", 1) for header in headers)
    for path in paths:
        try:
            with urllib.request.urlopen(urllib.request.Request(base_url + path, headers=sent), timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        if status != 200:
            raise RuntimeError(f"{base_url}{path} answered {status}")


def identical(a_base: str, b_base: str, paths: Sequence[str]) -> list[str]:
    """The paths whose status or HTML differ between two servers (the classical baseline must
    render the edge's pages byte for byte, or the comparison compares different work)."""

    def fetch(url: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    return [p for p in paths if fetch(a_base + p) != fetch(b_base + p)]


#: The parts of a listing page that hold its order: the tile grid and the item list of its JSON-LD.
_ORDERED = re.compile(r'<ul class="tiles">.*?</ul>|<script type="application/ld\+json">.*?</script>', re.S)


def identical_but_order(a_base: str, b_base: str, paths: Sequence[str]) -> list[str]:
    """The paths whose pages differ even without the tile grid and the JSON-LD item list: the
    same status, count, facets, chips and pager, whatever order the matches are in (a search
    page ordered by Elasticsearch's BM25 cannot be reproduced by PostgreSQL, whose baseline
    orders by the number of query words in the name, then SKU)."""

    def fetch(url: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return response.status, _ORDERED.sub("", response.read().decode())
        except urllib.error.HTTPError as error:
            return error.code, _ORDERED.sub("", error.read().decode())

    return [p for p in paths if fetch(a_base + p) != fetch(b_base + p)]


# --- the command ----------------------------------------------------------------------------


def serve_app(stack: Stack, app: str, workers: int) -> str:
    """Serve ``app`` (floor, classical) the way ``snipshop serve edge`` serves the edge."""
    port = free_port()
    stack.start(app, [PYTHON, "-m", "bench.serve_app", app, "--port", str(port), "--workers", str(workers)], port)
    return f"http://127.0.0.1:{port}"


def row(label: str, s: Sample) -> str:
    return f"  {label:<24} {s.rps:>9.0f} req/s  p50 {s.p50_ms:>7.2f} ms  p99 {s.p99_ms:>7.2f} ms" + (
        f"  non-2xx {s.non2xx} errors {s.errors}" if s.non2xx or s.errors else ""
    )


def report(page: str, baseline: str, c: Comparison, subject: str = "edge") -> None:
    goal = TARGETS.get((page, baseline))
    verdict = "" if goal is None else f"   target ≥ {goal:g}: {'met' if c.ratio >= goal else 'NOT met'}"
    print(row(subject, c.a))
    print(row(baseline, c.b))
    zero = sum(1 for _, y in c.rounds if y.rps == 0)
    note = f"   ({baseline} answered no request in {zero} of {len(c.rounds)} rounds)" if zero else ""
    print(
        f"  {subject} ÷ {baseline}: {c.ratio:.2f}  (rounds: {', '.join(f'{ratio(x, y):.2f}' for x, y in c.rounds)})"
        f"{verdict}{note}",
        flush=True,
    )


#: Listing and search pages against the floor, on each search adapter (issue #16).
LISTING_GOAL = 0.5


def listing_floor(
    search: str, products: int, seconds: float, rounds: int, workers: int = 2, connections: int = 8
) -> dict[str, Comparison]:
    """On a stack of its own with ``search``: the category and search pages ÷ the floor (the
    short step ``python -m bench`` runs on the adapter its stack does not use)."""
    out: dict[str, Comparison] = {}
    with Stack.create(search=search) as stack:
        print(f"\n== listings on the {search} index: {products} products", flush=True)
        stack.load_catalog(products)
        stack.rebuild()
        urls = pick_urls(stack)
        edge = stack.serve("edge", workers)
        floor = serve_app(stack, "floor", workers)
        for page in ("category", "search"):
            check(edge, urls[page][:30])
            c = alternate(
                Target("edge", edge, urls[page]), Target("floor", floor, urls[page]), seconds, rounds, connections
            )
            report(page, "floor", c)
            out[f"{page} ÷ floor"] = c
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--wsgi-personal"]:  # the in-process part, in a process of its own
        print(json.dumps(personal_cpu(argv[1:])))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.http", description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--floor-pages",
        type=lambda v: v.split(","),
        default=["product", "personal", "category", "search"],
        help="pages also compared with the floor (comma-separated; default: all)",
    )
    parser.add_argument("--search", choices=("embedded", "elasticsearch"), default="embedded")
    parser.add_argument(
        "--search-cache",
        type=float,
        default=None,
        metavar="SECONDS",
        help="SEARCH_CACHE_SECONDS for the edge (default: the shipped setting; 0: every "
        "listing and search page asks the search engine and is assembled anew)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the stack's directory (logs)")
    args = parser.parse_args(argv)
    ensure_wrk()
    extra_env = {} if args.search_cache is None else {"SEARCH_CACHE_SECONDS": f"{args.search_cache:g}"}
    with Stack.create(search=args.search, extra_env=extra_env, keep=args.keep) as stack:
        print(f"stack in {stack.base}; loading {args.products} products ...", flush=True)
        stack.load_catalog(args.products)
        stack.rebuild()
        urls = pick_urls(stack)
        edge = stack.serve("edge", args.workers)
        floor = serve_app(stack, "floor", args.workers)
        classical = serve_app(stack, "classical", args.workers) if CLASSICAL.exists() else None
        if classical is None:
            print("no bench/classical/app.py: the classical baseline is skipped")
        for paths in urls.values():
            check(edge, paths[:50])
            if classical:
                check(classical, paths[:50])
        check(edge, urls["product"][:50], SHOPPER)
        print(
            f"{args.workers} workers each, wrk -t1 -c{args.connections}, {args.rounds} × {args.seconds:g} s"
            f" alternating rounds per side; {args.search} search, edge search cache"
            f" {stack.settings.search_cache_seconds:g} s; category: {urls['category'][0]};"
            f" search: {urls['search'][0]}"
        )
        for page, paths in urls.items():
            print(f"{page} page ({len(paths)} URLs)")
            if page in args.floor_pages:
                report(
                    page,
                    "floor",
                    alternate(
                        Target("edge", edge, paths),
                        Target("floor", floor, paths),
                        args.seconds,
                        args.rounds,
                        args.connections,
                    ),
                )
            if classical:
                report(
                    page,
                    "classical",
                    alternate(
                        Target("edge", edge, paths),
                        Target("classical", classical, paths),
                        args.seconds,
                        args.rounds,
                        args.connections,
                    ),
                )
        if "personal" in args.floor_pages:
            paths = urls["product"]
            print(f"personal product page ({len(paths)} URLs, {SHOPPER[0]})")
            report("personal product", "floor", personal_against_floor(edge, floor, paths, args))
            measure_personal_cpu(stack, paths)
    return 0


def personal_cpu(paths: list[str], requests: int = 10_000, rounds: int = 5) -> dict[str, float]:
    """In this process (``python -m bench.http --wsgi-personal PATH...``, on a stack's environment):
    the edge's WSGI app and the floor's answer a signed-in shopper's (:data:`SHOPPER`) requests
    for ``paths``; CPU microseconds per request of each (medians) and floor ÷ edge. The edge writes
    its access line per request, as it does when served, to a file here."""
    from bench.floor import create_app as floor_app
    from snipshop import config, logs
    from web.edge.app import create_app

    settings = config.load()
    logs.configure(settings=settings)
    edge = create_app(settings).wsgi_app
    cookie = SHOPPER[0].split(": ", 1)[1]
    with tempfile.TemporaryFile("w") as out, contextlib.redirect_stdout(out):
        edge_us, floor_us, _ = inprocess.compare(edge, floor_app().wsgi_app, paths, requests, rounds, cookie)
    return {"edge_us": edge_us, "floor_us": floor_us, "ratio": floor_us / edge_us}


def measure_personal_cpu(stack: Stack, paths: list[str]) -> dict[str, float]:
    """:func:`personal_cpu` in a process of its own on ``stack``; prints and returns its figures."""
    cpu = inprocess.in_own_process(stack, "bench.http", "--wsgi-personal", *paths[:200])
    print(
        f"  in one process, no server: {cpu['edge_us']:.1f} µs of CPU per personal page vs {cpu['floor_us']:.1f} µs"
        f" per floor request: floor ÷ edge {cpu['ratio']:.2f}",
        flush=True,
    )
    return cpu


def warm(base_url: str, paths: Sequence[str], headers: Sequence[str] = (), connections: int = 8) -> None:
    """Ask for every path once on each of ``connections`` keep-alive connections (as wrk's are
    spread over the server's workers), so that the rounds after measure pages the edge keeps
    rather than the first fill of thousands of them, which a loaded machine makes slow (each a
    Redis round trip waiting for a core)."""
    sent = dict(header.split(": ", 1) for header in headers)
    address = urllib.parse.urlsplit(base_url)

    def one_connection(_: int) -> None:
        conn = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=30)
        try:
            for path in paths:
                conn.request("GET", path, headers=sent)
                conn.getresponse().read()
        finally:
            conn.close()

    with concurrent.futures.ThreadPoolExecutor(connections) as pool:
        list(pool.map(one_connection, range(connections)))


def personal_against_floor(edge: str, floor: str, paths: Sequence[str], args: argparse.Namespace) -> Comparison:
    """A signed-in shopper's product pages (:data:`SHOPPER`) against the floor sent the same,
    after a :func:`warm` pass over the edge."""
    warm(edge, paths, SHOPPER, args.connections)
    return alternate(
        Target("edge", edge, paths, SHOPPER),
        Target("floor", floor, paths, SHOPPER),
        args.seconds,
        args.rounds,
        args.connections,
    )


if __name__ == "__main__":
    sys.exit(main())
