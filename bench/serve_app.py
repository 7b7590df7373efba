"""Serve a WSGI app for the HTTP benchmark on a chosen server (the shipped one by default).

    python -m bench.serve_app floor --port 8100 --workers 2
    python -m bench.serve_app edge --port 8100 --workers 2 --server granian

``APP`` is ``edge`` (entrypoints.bootstrap.edge_app, configured from the environment like
``snipshop serve edge``),
``floor`` (bench/floor.py), ``classical`` (bench/classical/app.py, on ``DATABASE_URL``) or any
``module:factory`` taking no arguments. ``--server shipped`` (the default) goes through the same
code path and options as ``snipshop serve edge`` (:func:`entrypoints.serve.serve`), so the floor and
the classical baseline run exactly as the edge does (``--threads`` and ``--accesslog`` apply to
the other servers only). The other servers exist to compare servers
(bench/SERVERS.md): gunicorn with sync or gthread workers, with or without its access log,
granian's WSGI interface and bjoern (``pip install bjoern``; one process per worker, forked after
binding).
"""

from __future__ import annotations

import argparse
import importlib
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

SERVERS = ("shipped", "gunicorn-sync", "gunicorn-gthread", "granian", "bjoern")


def edge() -> Flask:
    from entrypoints.bootstrap import edge_app

    return edge_app()


def floor() -> Flask:
    from bench.floor import create_app

    return create_app()


def classical() -> Flask:
    from bench.classical.app import create_app

    return create_app(os.environ["DATABASE_URL"])


APPS: dict[str, Callable] = {"edge": edge, "floor": floor, "classical": classical}


def target(app: str) -> str:
    """The ``module:factory`` import string of an app name (granian imports it in each worker)."""
    return f"{__name__}:{app}" if app in APPS else app


def load(app: str) -> Callable:
    module, _, name = target(app).partition(":")
    return getattr(importlib.import_module(module), name)


def gunicorn(factory: Callable, host: str, port: int, workers: int, threads: int, accesslog: bool) -> None:
    from entrypoints.serve import GunicornApp

    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread" if threads > 1 else "sync",
        "threads": threads,
        "errorlog": "-",
        "keepalive": 5,
    }
    if accesslog:
        options["accesslog"] = "-"
    GunicornApp(factory, options).run()


def granian(app: str, host: str, port: int, workers: int, threads: int, accesslog: bool) -> None:
    from granian.constants import Interfaces
    from granian.server import Server

    Server(
        target(app),
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        factory=True,
        blocking_threads=threads,
        log_access=accesslog,
    ).serve()


def bjoern(factory: Callable, host: str, port: int, workers: int) -> None:
    import bjoern as server

    server.listen(factory(), host, port)
    for _ in range(workers - 1):
        if os.fork() == 0:
            break
    server.run()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.serve_app", description=__doc__.split("\n")[0])
    parser.add_argument("app", help="edge, floor, classical or module:factory")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--server", choices=SERVERS, default="shipped")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (gunicorn-gthread, granian)")
    parser.add_argument("--accesslog", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args(argv)
    if args.app == "classical":
        load(args.app)()  # once before the workers start: it creates the indexes it needs
    if args.server == "shipped":
        from entrypoints.serve import serve

        serve(load(args.app), args.app, args.host, args.port, args.workers)
    elif args.server == "granian":
        granian(args.app, args.host, args.port, args.workers, args.threads, args.accesslog)
    elif args.server == "bjoern":
        bjoern(load(args.app), args.host, args.port, args.workers)
    else:
        threads = max(args.threads, 2) if args.server == "gunicorn-gthread" else 1
        gunicorn(load(args.app), args.host, args.port, args.workers, threads, args.accesslog)


if __name__ == "__main__":
    main()
