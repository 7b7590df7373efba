"""What choosing a generation per request costs the edge when no canary runs.

Usage::

    python -m bench.canary [--products 3000] [--requests 20000] [--rounds 7]

Every request now passes web/edge/shopper_buckets.py's ``AssignGeneration`` before the page
cache: a look for the ``bucket`` cookie, the (cached) pointers, the generation noted for the
request. In one process, on the same stack, two edge apps answer the anonymous product page from
their page caches: one as shipped, one with that middleware taken out (the page cache then asks
for the live generation itself, as it did before canaries). Alternating rounds of CPU time per
request; the figure is the median ratio as shipped ÷ without (bench/metrics.py's in-process
method; throughput moves too much on a shared machine to show a few microseconds).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bench import http, inprocess
from bench.stack import Stack, run_cli


def wsgi_cost(paths: list[str], requests: int, rounds: int) -> dict:
    """In this process, on the stack's environment: microseconds per request of each side
    (medians) and the median ratio as shipped ÷ without the middleware."""
    from snipshop import config
    from web.edge.app import create_app
    from web.edge.shopper_buckets import AssignGeneration

    settings = config.load()
    shipped: Any = create_app(settings).wsgi_app  # Traced, as create_app wraps it
    without: Any = create_app(settings).wsgi_app
    assert isinstance(without.app, AssignGeneration)  # Traced(AssignGeneration(ServeCached(...)))
    without.app = without.app.app
    shipped_us, without_us, ratio = inprocess.compare(shipped, without, paths, requests, rounds)
    return {"shipped_us": shipped_us, "without_us": without_us, "ratio": ratio}


def measure(stack: Stack, args: argparse.Namespace) -> None:
    paths = http.pick_urls(stack)["product"][:200]
    print("\n== choosing a generation per request, no canary running (page cache, CPU per request)", flush=True)
    found = inprocess.in_own_process(stack, "bench.canary", "--wsgi", str(args.requests), str(args.rounds), *paths)
    print(
        f"  {found['shipped_us']:.1f} µs as shipped vs {found['without_us']:.1f} µs without per page-cache hit"
        f" (shipped ÷ without {found['ratio']:.3f})",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--wsgi"]:  # the in-process part, in a process of its own (measure runs it)
        print(json.dumps(wsgi_cost(argv[3:], int(argv[1]), int(argv[2]))))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.canary", description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    return run_cli(lambda stack: measure(stack, args), search="embedded", products=args.products)


if __name__ == "__main__":
    sys.exit(main())
