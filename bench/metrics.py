"""What the metrics cost the edge: throughput with metrics on against off, in the same run.

Usage::

    python -m bench.metrics [--products 3000] [--seconds 5] [--rounds 3] [--workers 2] [--connections 8]

Two edges on the shipped server (``snipshop serve edge``) over the same stack, one as shipped
(``METRICS_ENABLED=1``: every response counted by route, status and generation, with a latency
histogram, in prometheus-client's multiprocess files) and one with ``METRICS_ENABLED=0``; wrk
alternates rounds between them (bench/http.py) on three paths:

* the anonymous product page, answered from the page cache in front of Flask: the cheapest path
  the edge has, where a fixed cost per request weighs most;
* the product page with a shopper's cookies, assembled from snippets (snippet and near-cache
  counters on top of the request's);
* the category page (the search engine timed as well).

The cost is ``1 - on ÷ off`` of requests/s (goal: under 5 %). On a machine shared with other
work throughput moves by tens of percent from one round to the next, more than the cost itself,
so each round also reads the CPU time the edge's processes used (``/proc``: every process of the
server's session) and divides it by the requests served. Steadier still, and the figure to
quote on a busy machine: the edge's WSGI app called directly in one process (no server, no
network, :func:`wsgi_cost`), both apps built on the same stack, the anonymous product page from
the page cache, alternating rounds, CPU time per request on ÷ off. ``python -m bench`` runs it as
its own step.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from dataclasses import replace
from pathlib import Path

from bench import http, inprocess
from bench.stack import Stack, run_cli
from bench.wrk import ensure_wrk

#: Requests per side and round of the in-process measurement, and its rounds per side.
WSGI_REQUESTS = 20_000
WSGI_ROUNDS = 7

GOAL = 0.05
#: A shopper with a name and a basket: no page cache, every snippet fetched (through the near cache).
SHOPPER = ("Cookie: customer_name=Alex; cart_count=2",)


def cpu_seconds(session: int) -> float:
    """User and system CPU time of every live process in ``session`` (a server and its workers)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[3]) == session:  # after the name: state, ppid, pgrp, session, ..., utime, stime
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def alternate(
    a: http.Target, b: http.Target, sessions: tuple[int, int], args: argparse.Namespace
) -> tuple[http.Comparison, tuple[float, float], float]:
    """bench/http.py's alternation (A, B, B, A, ...), reading each side's CPU around its rounds:
    the comparison, the median CPU microseconds per request of each side and the median of the
    pairs' A/B CPU ratios."""
    for side in (a, b):
        http.run_wrk(side, 1, args.connections)
    pairs, cpu = [], []
    for r in range(args.rounds):
        start = r * 997
        got = {}
        for side, session in ((b, sessions[1]), (a, sessions[0])) if r % 2 else ((a, sessions[0]), (b, sessions[1])):
            before = cpu_seconds(session)
            sample = http.run_wrk(side, args.seconds, args.connections, start)
            got[side.name] = (sample, (cpu_seconds(session) - before) / max(sample.rps * args.seconds, 1) * 1e6)
        pairs.append((got[a.name][0], got[b.name][0]))
        cpu.append((got[a.name][1], got[b.name][1]))
    comparison = http.Comparison(
        http.median([p[0] for p in pairs]),
        http.median([p[1] for p in pairs]),
        statistics.median(x.rps / y.rps for x, y in pairs),
        tuple(pairs),
    )
    per_request = (statistics.median(c[0] for c in cpu), statistics.median(c[1] for c in cpu))
    return comparison, per_request, statistics.median(x / y for x, y in cpu if y > 0)


def wsgi_cost(paths: list[str], requests: int = WSGI_REQUESTS, rounds: int = WSGI_ROUNDS) -> dict:
    """In this process (run by :func:`measure` as ``python -m bench.metrics --wsgi``, on the
    stack's environment): two edge apps, metrics on (in the multiprocess files, as served) and
    off, each answering ``paths`` in turn from its page cache; alternating rounds of CPU time.
    Returns microseconds per request of each side (medians) and the median on ÷ off ratio."""
    from snipshop import config, metrics
    from web.edge.app import create_app

    settings = config.load()
    metrics.prepare(settings, "bench")
    apps = {
        on: create_app(replace(settings, metrics_enabled=on)).wsgi_app
        for on in (True, False)  # one Redis client each, as two servers would have
    }

    on_us, off_us, ratio = inprocess.compare(apps[True], apps[False], paths, requests, rounds)
    return {"on_us": on_us, "off_us": off_us, "ratio": ratio}


def measure(stack: Stack, args: argparse.Namespace) -> dict[str, http.Comparison]:
    """Metrics on ÷ off for each path; prints a table as it goes."""
    urls = http.pick_urls(stack)
    print("\n== metrics on ÷ off, the edge's WSGI app in one process (page cache, CPU per request)", flush=True)
    wsgi = inprocess.in_own_process(stack, "bench.metrics", "--wsgi", *urls["product"][:200])
    added_us = wsgi["on_us"] - wsgi["off_us"]
    print(
        f"  {wsgi['on_us']:.1f} µs on vs {wsgi['off_us']:.1f} µs off per request (on ÷ off {wsgi['ratio']:.3f}):"
        f" metrics add {added_us:.1f} µs to a page-cache hit",
        flush=True,
    )
    on = stack.serve("edge", args.workers, name="edge-metrics-on", env={"METRICS_ENABLED": "1"})
    on_session = stack.procs[-1].pid
    off = stack.serve("edge", args.workers, name="edge-metrics-off", env={"METRICS_ENABLED": "0"})
    off_session = stack.procs[-1].pid
    for base in (on, off):
        http.check(base, urls["product"][:30])
        http.check(base, urls["category"][:10])
    print(
        f"\n== metrics on ÷ off: {args.workers} workers each, wrk -t1 -c{args.connections}, "
        f"{args.rounds} × {args.seconds:g} s alternating rounds per side",
        flush=True,
    )
    out: dict[str, http.Comparison] = {}
    cases = (
        ("product page (page cache)", urls["product"], ()),
        ("product page (shopper's cookies)", urls["product"], SHOPPER),
        ("category page", urls["category"], ()),
    )
    for name, paths, headers in cases:
        c, (cpu_on, cpu_off), cpu_ratio = alternate(
            http.Target("metrics on", on, paths, headers),
            http.Target("metrics off", off, paths, headers),
            (on_session, off_session),
            args,
        )
        print(name, flush=True)
        http.report(name, "metrics off", c, subject="metrics on")
        cost = 1 - c.ratio
        print(
            f"  cost of metrics in throughput: {cost:.1%}   goal < {GOAL:.0%}: {'met' if cost < GOAL else 'NOT met'}\n"
            f"  edge CPU per request: {cpu_on:.0f} µs on vs {cpu_off:.0f} µs off; on ÷ off per pair "
            f"{cpu_ratio:.3f} (cost {cpu_ratio - 1:.1%})",
            flush=True,
        )
        if not headers and paths is urls["product"]:
            share = added_us / cpu_off
            verdict = "met" if share < GOAL else "NOT met"
            print(
                f"  the {added_us:.1f} µs metrics add in the app ÷ the {cpu_off:.0f} µs CPU the served edge spends per"
                f" page-cache hit without them: {share:.1%}   goal < {GOAL:.0%}: {verdict}",
                flush=True,
            )
        out[f"{name}: metrics on ÷ off"] = c
    return out


def summary_rows(pages: dict[str, http.Comparison]) -> list[tuple[str, str, str, str, str]]:
    """Rows of ``python -m bench``'s summary: the cost of metrics on each path."""
    return [
        (
            f"cost of metrics, {key.split(':')[0]}",
            f"{1 - c.ratio:.1%}",
            f"{c.a.rps:,.0f} vs {c.b.rps:,.0f} req/s (on vs off)",
            f"< {GOAL:.0%}",
            "met" if 1 - c.ratio < GOAL else "NOT met",
        )
        for key, c in pages.items()
        if key.endswith("metrics on ÷ off")
    ]


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--wsgi"]:  # the in-process part, in a process of its own (measure runs it)
        print(json.dumps(wsgi_cost(argv[1:])))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.metrics", description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--search", choices=("embedded", "elasticsearch"), default="embedded")
    parser.add_argument("--keep", action="store_true", help="keep the stack's directory (logs)")
    args = parser.parse_args(argv)
    ensure_wrk()
    return run_cli(lambda stack: measure(stack, args), search=args.search, products=args.products, keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
