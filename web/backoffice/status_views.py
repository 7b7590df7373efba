"""The projection's status, as ``projector status`` prints it (projector/status.py): generations,
a running rebuild, queue depth, projection lag, offer timers, read-repairs, dead letters, the
outbox's backlog. Read-only: rebuilds and replays stay with the ``projector`` command."""

from __future__ import annotations

from typing import Any

import redis
from flask import current_app

from projector.status import read_status
from vocab.keys import KeyScheme
from web.admin import admin_state
from web.backoffice.blueprint import backoffice, render

#: Seconds the page waits for either Redis: an unreachable one is a line on the page, not a hang.
REDIS_TIMEOUT = 2.0
_CLIENTS = "snipshop.backoffice.redis"


def _clients() -> tuple[redis.Redis, redis.Redis]:
    """The snippet store and the broker's Redis, made on the page's first use in this process
    (the admin app's writes need neither)."""
    if _CLIENTS not in current_app.extensions:
        settings = admin_state.current().settings
        current_app.extensions[_CLIENTS] = tuple(
            redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT)
            for url in (settings.redis_url, settings.broker_url)
        )
    client, broker = current_app.extensions[_CLIENTS]
    return client, broker


@backoffice.get("/status")
def status() -> Any:
    shared = admin_state.current()
    client, broker = _clients()
    try:
        lines = read_status(client, broker, KeyScheme(shared.settings.key_prefix), shared.connection)
    except redis.RedisError as error:
        lines = {"snippet store or broker": f"unreachable: {type(error).__name__}: {error}"}
    return render("status.html", lines=lines)
