"""The admin app: the write API under /admin/api/v1 (see :mod:`web.admin.routes`), liveness and
readiness (:mod:`web.admin.health`); every response names its revision and request id
(web/revision.py)."""

from __future__ import annotations

from flask import Flask
from psycopg_pool import ConnectionPool

from catalog.relay import Send
from snipshop.config import Settings
from snipshop.logs import AccessLog
from web import request_metrics
from web.admin import health, openapi, problems
from web.admin.admin_state import CONNECTION_WAIT_SECONDS, EXTENSION, AdminState
from web.admin.api import make_blueprint
from web.backoffice import init_app as init_backoffice
from web.request_metrics import RequestMetrics
from web.revision import Traced


def create_app(
    settings: Settings, *, pool: ConnectionPool, send: Send | None = None, wait_seconds: float = CONNECTION_WAIT_SECONDS
) -> Flask:
    """Build the admin app on ``pool`` (opened by the caller: entrypoints.bootstrap.admin_app for
    ``snipshop serve admin``; tests pass fakes).

    ``send`` hands each write's outbox row on right after its commit; without it every row waits
    for the relay's sweep. A request waits at most ``wait_seconds`` for a connection.
    """
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    # Keep the models' field order in responses.
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[EXTENSION] = AdminState(settings, pool, send, openapi.build(settings), wait_seconds=wait_seconds)
    problems.init_app(app)
    app.register_blueprint(make_blueprint())
    app.register_blueprint(health.blueprint)
    init_backoffice(app)  # the back office under /backoffice (web/backoffice/)
    observe = None
    if settings.metrics_enabled:
        request_metrics.init_app(app)
        observe = RequestMetrics("admin", settings.revision)
    access = AccessLog(settings.revision, settings.instance)
    app.wsgi_app = Traced(app.wsgi_app, settings.revision, observe=observe, access=access)  # type: ignore[method-assign]
    return app
