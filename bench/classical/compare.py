"""The edge against the classical baseline: same catalog, same URLs, same gunicorn settings.

    python -m bench.classical.compare --products 20000 --seconds 5 --check 100

Starts a :class:`bench.stack.Stack` (PostgreSQL, Redis, embedded search), imports a generated
catalog, projects it, starts the edge (``snipshop serve edge``) and the classical app
(``python -m bench.classical.serve``), both gunicorn sync with ``--workers``. Then, per page kind
(product, category, search), it drives each server with ``wrk -t1 -c<connections> -d<seconds>``
cycling through the same list of URLs, and prints requests per second and latencies.

``--check N`` first compares the HTML both give for N URLs of each kind (the search page's
text matching differs by design: PostgreSQL full-text search against the embedded index).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import tempfile
import time
from urllib.parse import urlencode

import requests

from bench.stack import PYTHON, Stack
from tools.localservices import free_port

KINDS = ("product", "category", "search")
SORTS = ("relevance", "price_asc", "price_desc", "name", "newest")


def urls(conn, kind: str, count: int, seed: int) -> list[str]:
    """``count`` URLs of one kind: visible products; categories with 0-2 filters and a sort; searches."""
    rng = random.Random(f"{seed}:{kind}")
    if kind == "product":
        skus = [r[0] for r in conn.execute("SELECT sku FROM products WHERE active AND deleted_at IS NULL")]
        return [f"/p/{rng.choice(skus)}" for _ in range(count)]
    if kind == "search":
        from tools.generate_catalog import ADJECTIVES, COLORS, LINES, MATERIALS, leaf_categories

        words = [w for w, _ in ADJECTIVES + COLORS + MATERIALS] + LINES + [n for _, n, _ in leaf_categories()]
        return [f"/search?{urlencode({'q': ' '.join(rng.sample(words, rng.choice((1, 1, 2)))).lower()})}"
                for _ in range(count)]
    categories = [r[0] for r in conn.execute("SELECT key FROM categories")]
    values = {}
    for name, value in conn.execute("SELECT DISTINCT name, value FROM product_attributes"):
        values.setdefault(name, []).append(value)
    values["brand"] = [r[0] for r in conn.execute("SELECT DISTINCT brand FROM products WHERE brand <> ''")]
    out = []
    for _ in range(count):
        args = []
        for facet in rng.sample(sorted(values), rng.choice((0, 1, 2))):
            args += [(facet, v) for v in rng.sample(values[facet], rng.choice((1, 1, 2)))]
        if rng.random() < 0.3:
            args.append(("sort", rng.choice(SORTS)))
        if rng.random() < 0.1:
            args.append(("page", str(rng.randrange(2, 4))))
        out.append(f"/c/{rng.choice(categories)}" + (f"?{urlencode(args)}" if args else ""))
    return out


def check(edge: str, classical: str, paths: list[str]) -> tuple[int, list[str]]:
    same, different = 0, []
    for path in paths:
        a, b = requests.get(edge + path, timeout=30), requests.get(classical + path, timeout=30)
        if a.status_code == b.status_code and a.text == b.text:
            same += 1
        else:
            different.append(path)
    return same, different


WRK_SCRIPT = """
local paths = %s
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def wrk(base: str, paths: list[str], seconds: int, connections: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % ("{" + ", ".join(json.dumps(p) for p in paths) + "}"))
    try:
        out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name,
                              base], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)

    def ms(text: str) -> float:
        value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for pct in ("50", "99"):
        result[f"p{pct}"] = ms(re.search(rf"\s{pct}%\s+(\S+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    result["non2xx"] = int(bad.group(1)) if bad else 0
    errors = re.search(r"Socket errors: (.*)", out)
    result["socket_errors"] = errors.group(1) if errors else ""
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--urls", type=int, default=500, help="URLs per page kind (cycled by wrk)")
    parser.add_argument("--check", type=int, default=0, help="compare the HTML of this many URLs per kind first")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the stack's directory (logs)")
    args = parser.parse_args(argv)

    with Stack.create("embedded", keep=args.keep) as stack:
        started = time.perf_counter()
        stack.load_catalog(args.products, seed=args.seed)
        stack.rebuild()
        edge = stack.start_edge(args.workers)
        port = free_port()
        stack.start("classical", [PYTHON, "-m", "bench.classical.serve", "--port", str(port),
                                  "--workers", str(args.workers)], port, timeout=300)
        classical = f"http://127.0.0.1:{port}"
        print(f"{args.products} products ready in {time.perf_counter() - started:.0f}s; "
              f"edge {edge}, classical {classical}; cores {os.cpu_count()}, load {os.getloadavg()[0]:.1f}")
        with stack.connect() as conn:
            lists = {kind: urls(conn, kind, args.urls, args.seed) for kind in args.kinds.split(",")}
        for kind, paths in lists.items():
            for base in (edge, classical):  # warm both (connections, prepared statements, caches)
                for path in paths[:20]:
                    requests.get(base + path, timeout=30)
            if args.check:
                same, different = check(edge, classical, paths[:args.check])
                print(f"check {kind}: {same} of {same + len(different)} pages identical"
                      + "".join(f"\n  differs: {p}" for p in different[:10]))
        print(f"wrk -t1 -c{args.connections} -d{args.seconds}s, {args.urls} URLs per kind")
        print(f"{'page':10s} {'server':10s} {'req/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s} {'non-2xx':>8s}")
        for kind, paths in lists.items():
            for name, base in (("edge", edge), ("classical", classical)):
                r = wrk(base, paths, args.seconds, args.connections)
                print(f"{kind:10s} {name:10s} {r['rps']:8.1f} {r['p50']:8.1f} {r['p99']:8.1f} {r['non2xx']:8d}"
                      + (f"  socket errors: {r['socket_errors']}" if r["socket_errors"] else ""), flush=True)
        print(f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
