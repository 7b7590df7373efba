"""The outbox relay: turns committed outbox rows into Celery tasks carrying ids.

Writers call :func:`dispatch` right after their commit (the fast path); the scheduler calls it
every second for whatever was left behind (broker down, process died between commit and send).
Rows are locked with SKIP LOCKED, so concurrent relays never send a row twice at once; a row
is stamped only after its task was handed to the broker. A task that is sent twice is harmless:
tasks re-read the database.
"""
from __future__ import annotations

import logging
import time
from typing import Callable, Sequence

import psycopg

from projector import celery_app as names

log = logging.getLogger(__name__)

TASK_BY_TOPIC = {
    "category": names.PROJECT_CATEGORIES,
    "product": names.PROJECT_PRODUCTS,
    "price": names.PROJECT_PRICES,
    "stock": names.PROJECT_STOCK,
}

Send = Callable[[str, list[str]], None]
BATCH_KEYS = 500


def celery_sender(app) -> Send:
    def send(task_name: str, keys: list[str]) -> None:
        # sent_at lets the task measure the projection lag; it is not data the task acts on.
        app.send_task(task_name, args=[keys], kwargs={"sent_at": time.time()})

    return send


def batches(rows: Sequence[tuple[int, str, list[str]]], size: int = BATCH_KEYS) -> list[tuple[str, list[str]]]:
    """Coalesce rows into (task, keys) batches: one per topic and up to ``size`` distinct keys.

    Many stock movements of a second become one task; repeated keys are projected once, which
    is the same as projecting them twice since tasks re-read the current state.
    """
    by_topic: dict[str, dict[str, None]] = {}
    for _, topic, keys in rows:
        by_topic.setdefault(topic, {}).update(dict.fromkeys(keys))
    out = []
    for topic, keys in by_topic.items():
        unique = list(keys)
        out += [(TASK_BY_TOPIC[topic], unique[i:i + size]) for i in range(0, len(unique), size)]
    return out


def dispatch(conn: psycopg.Connection, send: Send, ids: Sequence[int] | None = None, limit: int = 5000) -> int:
    """Send pending outbox rows (only ``ids`` if given) in batches; return how many rows were sent."""
    only = "AND id = ANY(%(ids)s)" if ids is not None else ""
    with conn.transaction():
        rows = conn.execute(
            f"""SELECT id, topic, keys FROM outbox WHERE dispatched_at IS NULL {only}
                ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED""",
            {"ids": list(ids or []), "limit": limit},
        ).fetchall()
        for task_name, keys in batches(rows):
            send(task_name, keys)
        if rows:
            conn.execute("UPDATE outbox SET dispatched_at = clock_timestamp() WHERE id = ANY(%s)",
                         ([r[0] for r in rows],))
    return len(rows)


def dispatch_quietly(conn: psycopg.Connection, send: Send, ids: Sequence[int]) -> None:
    """The writers' fast path: a failure leaves the rows for the sweep and is only logged."""
    try:
        dispatch(conn, send, ids)
    except Exception:  # noqa: BLE001 - the sweep re-sends; the write itself has committed
        log.warning("outbox dispatch failed; the relay sweep will re-send", exc_info=True, extra={"outbox_ids": list(ids)})
