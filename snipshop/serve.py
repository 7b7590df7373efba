"""Run a WSGI role on gunicorn, configured from code rather than a config file."""
from __future__ import annotations

from gunicorn.app.base import BaseApplication

from snipshop.config import Settings


class _Server(BaseApplication):
    def __init__(self, factory, options: dict) -> None:
        self._factory = factory
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        return self._factory()


def run(settings: Settings, role: str, host: str, port: int, workers: int) -> None:
    if role == "edge":
        from web.edge.app import create_app
    else:
        from web.admin.app import create_app

    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread" if role == "admin" else "sync",
        "threads": 4 if role == "admin" else 1,
        "accesslog": "-",
        "errorlog": "-",
        "keepalive": 5,
    }
    _Server(lambda: create_app(settings), options).run()
