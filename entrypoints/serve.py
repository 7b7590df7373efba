"""Run a WSGI role on its production HTTP server, configured from code rather than a config file.

The edge runs on granian's WSGI interface: HTTP parsing and keep-alive in Rust, one Python thread
per worker process calling the app. With the same two workers it served the product page 1.8-3.7
times as fast as gunicorn's sync workers, which parse HTTP in Python and close every connection
(bench/SERVERS.md). The admin app stays on gunicorn with threaded workers, where its write path
was measured (bench/stock_movements.py). Both log every request to stdout as one JSON line with
the revision, the instance and the request id (web/revision.py), instead of the servers' own
access logs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from gunicorn.app.base import BaseApplication

from entrypoints.bootstrap import admin_app, edge_app
from snipshop import logs, metrics
from snipshop.config import Settings

WSGIApp = Callable[..., Any]


class GunicornApp(BaseApplication):
    """gunicorn configured from code: ``factory()`` builds the app in each worker."""

    def __init__(self, factory, options: dict) -> None:
        self._factory = factory
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        return self._factory()


def serve(
    factory: Callable[[], WSGIApp], name: str, host: str, port: int, workers: int, log_config: dict | None = None
) -> None:
    """Serve the app ``factory()`` builds in each worker the way the edge is served (granian).

    ``factory`` is called in every worker process; keep it picklable (a module-level function or
    a ``functools.partial`` of one) for platforms that spawn rather than fork workers.
    ``log_config`` (a :func:`logging.config.dictConfig` dict) replaces granian's own logging.
    """
    from granian.constants import Interfaces
    from granian.server import Server

    server = Server(
        name,
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=1,
        log_access=False,  # web/revision.py logs each request
        respawn_failed_workers=True,
        log_dictconfig=log_config,
    )
    server.serve(target_loader=factory, wrap_loader=False)


def run(settings: Settings, role: str, host: str, port: int, workers: int) -> None:
    """``snipshop serve ROLE``: each server worker builds its app through entrypoints.bootstrap.

    Before any worker starts, this run gets its own directory for the workers' metric files
    (snipshop/metrics.py), which ``/metrics`` of any worker sums."""
    metrics.prepare(settings, role)
    if role == "edge":
        serve(partial(edge_app, settings), "edge", host, port, workers, logs.dict_config(settings))
        return
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": 4,
        "errorlog": "-",
        "logconfig_dict": logs.dict_config(settings),
        "keepalive": 5,
    }
    GunicornApp(partial(admin_app, settings), options).run()
