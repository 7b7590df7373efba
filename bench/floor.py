"""The floor of the HTTP benchmark: a hello-world Flask app.

Served by the same server, with the same worker count, as the edge, it measures what the server,
the WSGI layer and Flask cost per request with no work at all: no page can be faster than this,
so ``edge ÷ floor`` says how much of that ceiling the edge keeps. It answers every path, so the
same URL list can be sent to it as to the edge.
"""

from __future__ import annotations

from flask import Flask

HELLO = "Hello, World!"


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    @app.get("/<path:_path>")
    def hello(_path: str = "") -> str:
        return HELLO

    return app
