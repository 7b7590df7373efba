"""The scheduled refresh: every product re-projected in batches, so live snippets never expire
while the database is up, and the ledger that makes sure each batch runs.

The refresh sends one task per :data:`REFRESH_BATCH` products to the ``rebuild`` queue. Once a
worker has started such a task it is safe: the message stays in the broker's unacknowledged set
until the task ends, and goes to another worker if this one dies (``task_acks_late``). Before that
it is not: kombu's Redis transport takes a message off its queue with ``BRPOP`` and records it as
unacknowledged only when the worker reads the reply, so a worker killed in between takes the
message with it. Writes are covered by the outbox (the relay sends again the rows no task
acknowledged); a refresh batch is not a write and has no outbox row. So the refresh lists each
batch in a sorted set (``keys.refresh_pending``, scored by when it was sent), the batch's task
takes it off the list when it starts, and the relay sweep sends again what is still listed
``OUTBOX_REDELIVER_SECONDS`` after it was sent, once the ``rebuild`` queue is empty
(docs/resilience.md, tests/faults/test_worker_kill.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import psycopg
import redis

from projector.readmodel import iter_sku_batches
from vocab.keys import KeyScheme

#: Products per refresh task.
REFRESH_BATCH = 500

#: Sends one refresh batch (projector.celery_app.refresh_sender).
SendBatch = Callable[[list[str]], None]


def _entry(skus: list[str]) -> str:
    return json.dumps(skus, separators=(",", ":"))


def fan_out(conn: psycopg.Connection, client: redis.Redis, keys: KeyScheme, send: SendBatch) -> int:
    """List and send every batch of the refresh; returns how many. A refresh starts a new list:
    whatever the last one left is part of this one."""
    client.delete(keys.refresh_pending)
    sent = 0
    for skus in iter_sku_batches(conn, REFRESH_BATCH):
        client.zadd(keys.refresh_pending, {_entry(skus): time.time()})  # listed before it is sent
        send(skus)
        sent += 1
    return sent


def started(client: redis.Redis, keys: KeyScheme, skus: list[str]) -> None:
    """A batch's task started: from here the broker's acknowledgement covers it."""
    client.zrem(keys.refresh_pending, _entry(skus))


def overdue(client: redis.Redis, keys: KeyScheme, older_than: float) -> list[list[str]]:
    """The batches sent more than ``older_than`` seconds ago that no task has started, marked as
    sent now (the caller sends them again)."""
    now = time.time()
    entries: list[bytes] = client.zrangebyscore(keys.refresh_pending, "-inf", now - older_than)  # type: ignore[assignment]
    if entries:
        client.zadd(keys.refresh_pending, dict.fromkeys(entries, now), xx=True)  # xx: not one started meanwhile
    return [json.loads(e) for e in entries]
