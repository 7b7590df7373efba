"""The outbox: one row per accepted write, committed in the write's own transaction.

Topics (:class:`vocab.topics.Topic`) name what changed; keys are the natural ids of the changed
things. The relay (:mod:`catalog.relay`) hands each row's keys on, one projection task per topic.
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg

from vocab.topics import Topic


def record(conn: psycopg.Connection, topic: Topic, keys: Iterable[str]) -> int:
    """Add an outbox row inside the caller's transaction; return its id."""
    row = conn.execute(
        "INSERT INTO outbox (topic, keys) VALUES (%s, %s) RETURNING id", (topic.value, list(keys))
    ).fetchone()
    assert row is not None
    return int(row[0])
