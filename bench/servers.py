"""Which HTTP server should ship: each candidate against gunicorn sync with its access log.

Usage::

    python -m bench.servers [--products 5000] [--seconds 3] [--rounds 3] [--workers 2]
                            [--apps floor,edge] [--variants NAME,...]

Builds a shop like bench/http.py, then serves the floor (hello world) and the edge with every
variant in :data:`VARIANTS` (``python -m bench.serve_app APP --server ...``, all with
``--workers`` processes) and, for each app and variant, alternates wrk rounds between the variant
and the baseline (gunicorn sync workers with ``accesslog "-"``, what ``snipshop serve edge``
shipped before) on the product page URLs. Prints the medians and the ratio variant ÷ baseline of
requests/s. Results and the decision: bench/SERVERS.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys

from bench.http import Target, alternate, check, pick_urls, ratio, row
from bench.stack import PYTHON, Stack
from tools.localservices import free_port

VARIANTS: dict[str, tuple[str, ...]] = {
    "shipped": ("--server", "shipped"),
    "gunicorn-sync-log": ("--server", "gunicorn-sync", "--accesslog"),
    "gunicorn-sync-nolog": ("--server", "gunicorn-sync", "--no-accesslog"),
    "gunicorn-gthread4": ("--server", "gunicorn-gthread", "--threads", "4", "--accesslog"),
    "gunicorn-gthread4-nolog": ("--server", "gunicorn-gthread", "--threads", "4", "--no-accesslog"),
    "granian": ("--server", "granian", "--threads", "1", "--no-accesslog"),
    "granian-log": ("--server", "granian", "--threads", "1", "--accesslog"),
    "granian-threads4": ("--server", "granian", "--threads", "4", "--no-accesslog"),
    "bjoern": ("--server", "bjoern"),
}


def start(stack: Stack, app: str, name: str, options: tuple[str, ...], workers: int) -> str:
    port = free_port()
    stack.start(
        f"{app}-{name}",
        [PYTHON, "-m", "bench.serve_app", app, "--port", str(port), "--workers", str(workers), *options],
        port,
    )
    return f"http://127.0.0.1:{port}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.servers", description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--apps", type=lambda v: v.split(","), default=["floor", "edge"])
    parser.add_argument("--baseline", choices=VARIANTS, default="gunicorn-sync-log")
    parser.add_argument(
        "--variants",
        type=lambda v: v.split(","),
        default=[n for n in VARIANTS if n not in ("shipped", "gunicorn-sync-log")],
    )
    args = parser.parse_args(argv)
    variants = {n: VARIANTS[n] for n in args.variants if n != args.baseline}
    if "bjoern" in variants and importlib.util.find_spec("bjoern") is None:
        print("bjoern is not installed (pip install bjoern; needs libev-dev): skipped")
        del variants["bjoern"]
    with Stack.create(search="embedded") as stack:
        stack.load_catalog(args.products)
        stack.rebuild()
        paths = pick_urls(stack)["product"]
        for app in args.apps:
            base = start(stack, app, "baseline", VARIANTS[args.baseline], args.workers)
            check(base, paths[:20])
            print(f"{app}: baseline {args.baseline}, {args.workers} workers, product URLs", flush=True)
            for name, options in variants.items():
                url = start(stack, app, name, options, args.workers)
                check(url, paths[:20])
                c = alternate(
                    Target(name, url, paths),
                    Target("baseline", base, paths),
                    args.seconds,
                    args.rounds,
                    args.connections,
                )
                print(
                    row(name, c.a),
                    f"\n{row('baseline', c.b)}\n  {name} ÷ baseline: {c.ratio:.2f}"
                    f"  (rounds: {', '.join(f'{ratio(x, y):.2f}' for x, y in c.rounds)})",
                    flush=True,
                )
                stack.stop_process(stack.procs[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
