"""The admin app: the write API under /admin/api/v1 (see :mod:`web.admin.routes`)."""
from __future__ import annotations

import atexit

from flask import Flask
from psycopg_pool import ConnectionPool

from catalog.db import make_pool
from projector.celery_app import make_celery
from projector.relay import Send, celery_sender
from snipshop.config import Settings
from web.admin import openapi, problems
from web.admin.api import make_blueprint
from web.admin.state import CONNECTION_WAIT_SECONDS, EXTENSION, AdminState


def create_app(settings: Settings, *, pool: ConnectionPool | None = None, send: Send | None = None,
               wait_seconds: float = CONNECTION_WAIT_SECONDS) -> Flask:
    """Build the admin app; a given ``pool`` and ``send`` are used as they are (tests pass fakes).

    The app's own pool opens without waiting, so the app starts while the database is down and
    answers 503 until it is back. A request waits at most ``wait_seconds`` for a connection.
    """
    if pool is None:
        pool = make_pool(settings.database_url)
        pool.open(wait=False)
        atexit.register(pool.close)
    if send is None:
        send = celery_sender(make_celery(settings))

    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    # Keep the models' field order in responses.
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[EXTENSION] = AdminState(settings, pool, send, openapi.build(settings),
                                              wait_seconds=wait_seconds)
    problems.init_app(app)
    app.register_blueprint(make_blueprint())
    return app
