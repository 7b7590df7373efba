"""The projection's status, as ``projector status`` prints it (projector/status.py): generations,
a running rebuild and its progress, queue depth, projection lag, offer timers, read-repairs, dead
letters, the outbox's backlog; the newest dead letters. Admins get controls beside them
(web/backoffice/projection_controls.py)."""

from __future__ import annotations

from typing import Any

import redis
from flask import Response, current_app, jsonify
from kombu.exceptions import OperationalError as BrokerUnavailable

from projector.compare import compare
from projector.deadletters import DeadLetters
from projector.status import read_status
from snipshop import redis_clients
from vocab.keys import CanaryRecord, KeyScheme
from web.admin import admin_state
from web.backoffice.blueprint import backoffice, log, render
from web.backoffice.signin import current_user

#: Seconds the page waits for either Redis: an unreachable one is a line on the page, not a hang.
REDIS_TIMEOUT = 2.0
#: Dead letters listed on the page (newest first); ``projector dead-letters`` lists them all.
SHOWN_LETTERS = 50
_CLIENTS = "snipshop.backoffice.redis"


def clients() -> tuple[redis.Redis, redis.Redis]:
    """The snippet store and the broker's Redis, made on the page's first use in this process
    (the admin app's writes need neither)."""
    if _CLIENTS not in current_app.extensions:
        settings = admin_state.current().settings
        current_app.extensions[_CLIENTS] = (
            redis_clients.snippet_store(settings, timeout=REDIS_TIMEOUT),
            redis_clients.broker(settings, timeout=REDIS_TIMEOUT),
        )
    client, broker = current_app.extensions[_CLIENTS]
    return client, broker


def rebuild_progress(client: redis.Redis, keys: KeyScheme) -> dict[str, int] | None:
    """Products the running full rebuild has projected, of how many (projector/rebuild.py notes it)."""
    done, total = client.hmget(keys.rebuild_progress, "done", "total")
    if done is None or total is None:
        return None
    return {"done": int(done), "total": int(total)}


@backoffice.get("/status")
def status() -> Any:
    shared = admin_state.current()
    client, broker = clients()
    keys = KeyScheme(shared.settings.key_prefix)
    letters: list[dict[str, Any]] = []
    progress = canary = comparison = None
    try:
        lines = read_status(client, broker, keys, shared.connection)
        letters = DeadLetters(client, keys).entries(SHOWN_LETTERS)
        progress = rebuild_progress(client, keys)
        canary = CanaryRecord.decode(client.get(keys.canary))
        if canary is not None:
            found = compare(client, keys, shared.settings)
            comparison = found.lines() if found is not None else None
    except redis.RedisError as error:
        lines = {"snippet store or broker": f"unreachable: {type(error).__name__}: {error}"}
    user = current_user()
    return render(
        "status.html",
        lines=lines,
        letters=letters,
        progress=progress,
        canary=canary,
        comparison=comparison,
        rebuilding=str(lines.get("rebuild running", "no")).startswith("yes"),
        may_control=bool(user and user.may("admin")),
    )


@backoffice.get("/status/rebuild.json")
def rebuild_state() -> Any:
    """What the status page polls while a rebuild runs."""
    client, _broker = clients()
    keys = KeyScheme(admin_state.current().settings.key_prefix)
    live = client.get(keys.live)
    return jsonify(
        running=client.exists(keys.rebuild_lock) == 1,
        progress=rebuild_progress(client, keys),
        live=live.decode() if isinstance(live, bytes) else live,
    )


@backoffice.errorhandler(redis.RedisError)
@backoffice.errorhandler(BrokerUnavailable)
def _store_down(error: Exception) -> Any:
    log.warning("back office: Redis or the broker unavailable: %s", error)
    page = render(
        "error.html", 503, status=503, message="The snippet store or the broker is unreachable; nothing was changed."
    )
    return Response(page[0], 503, headers={"Retry-After": "5"})
