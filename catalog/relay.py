"""The outbox relay: hands committed outbox rows to whoever projects them, by topic and keys.

The relay knows nothing of Celery: it is given a :data:`Send` (the wiring, entrypoints/bootstrap.py,
passes ``projector.celery_app.celery_sender``: one projection task per topic). Writers call
:func:`dispatch` right after their commit (the fast path); the scheduler calls it every few hundred
milliseconds for whatever was left behind (broker down, process died between commit and send,
stock rows, which it batches). Rows are locked with SKIP LOCKED, so concurrent relays never
send a row twice at once; a row is stamped ``dispatched_at`` only after it was handed on.

Acknowledgement is end to end: every task carries the ids of its outbox rows and stamps them
``projected_at`` when its projection is done (:func:`acknowledge`). The sweep sends a row again
when it was dispatched more than ``redeliver_after`` seconds ago and is still not projected: the
broker lost the message (restarted without persistence) or a worker died holding it. A task that
is sent twice is harmless: tasks re-read the database. ``MAX_SENDS`` bounds the re-sends of a row
whose task fails for good (it is a dead letter then, for an operator to replay).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence

import psycopg

from vocab.topics import Topic

log = logging.getLogger(__name__)

#: ``send(topic, keys, outbox_ids)`` hands the keys of one topic to the projection, with the
#: outbox rows they came from (which the projection acknowledges).
Send = Callable[[Topic, list[str], list[int]], None]
BATCH_KEYS = 500
MAX_SENDS = 5

Row = tuple[int, str, list[str]]


def batches(rows: Sequence[Row], size: int = BATCH_KEYS) -> list[tuple[Topic, list[str], list[int]]]:
    """Coalesce rows into (topic, keys, outbox ids) batches: per topic, whole rows, ~``size`` keys.

    Many stock movements of a second become one task; repeated keys are projected once, which
    is the same as projecting them twice since tasks re-read the current state. A row is never
    split over two tasks (its acknowledgement must mean all its keys were projected); a row with
    more than ``size`` keys makes a task of its own.
    """
    by_topic: dict[str, list[tuple[dict[str, None], list[int]]]] = {}
    for outbox_id, topic, keys in rows:
        open_batches = by_topic.setdefault(topic, [])
        if not open_batches or len(open_batches[-1][0]) + len(keys) > size:
            open_batches.append(({}, []))
        batch_keys, ids = open_batches[-1]
        batch_keys.update(dict.fromkeys(keys))
        ids.append(outbox_id)
    return [
        (Topic(topic), list(keys), ids)
        for topic, topic_batches in by_topic.items()
        for keys, ids in topic_batches
        if keys
    ]


def dispatch(
    conn: psycopg.Connection,
    send: Send,
    ids: Sequence[int] | None = None,
    limit: int = 5000,
    redeliver_after: float | None = None,
    redeliver_topics: Collection[Topic] | None = None,
) -> int:
    """Send pending outbox rows (only ``ids`` if given) in batches; return how many rows were sent.

    With ``redeliver_after`` (the sweep), rows dispatched that many seconds ago and still not
    projected are sent again too: of every topic, or only of ``redeliver_topics`` (those whose
    tasks cannot still be waiting for a worker).
    """
    only = "AND id = ANY(%(ids)s)" if ids is not None else ""
    params = {
        "ids": list(ids or []),
        "limit": limit,
        "after": redeliver_after,
        "max_sends": MAX_SENDS,
        "topics": None if redeliver_topics is None else [t.value for t in redeliver_topics],
    }
    with conn.transaction():
        rows = conn.execute(
            f"""SELECT id, topic, keys FROM outbox WHERE dispatched_at IS NULL {only}
                ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED""",
            params,
        ).fetchall()
        if redeliver_after is not None:
            rows += conn.execute(
                """SELECT id, topic, keys FROM outbox
                   WHERE projected_at IS NULL AND dispatched_at IS NOT NULL
                     AND dispatched_at < clock_timestamp() - make_interval(secs => %(after)s)
                     AND sends < %(max_sends)s
                     AND (%(topics)s::text[] IS NULL OR topic = ANY(%(topics)s::text[]))
                   ORDER BY dispatched_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED""",
                params,
            ).fetchall()
        for topic, keys, outbox_ids in batches(rows):
            send(topic, keys, outbox_ids)
        if rows:
            conn.execute(
                "UPDATE outbox SET dispatched_at = clock_timestamp(), sends = sends + 1 WHERE id = ANY(%s)",
                ([r[0] for r in rows],),
            )
    return len(rows)


def acknowledge(conn: psycopg.Connection, outbox_ids: Sequence[int]) -> None:
    """The projection of these rows is done: the sweep will not send them again."""
    if outbox_ids:
        conn.execute(
            "UPDATE outbox SET projected_at = clock_timestamp() WHERE id = ANY(%s) AND projected_at IS NULL",
            (list(outbox_ids),),
        )


def dispatch_quietly(conn: psycopg.Connection, send: Send, ids: Sequence[int]) -> None:
    """The writers' fast path: a failure leaves the rows for the sweep and is only logged."""
    try:
        dispatch(conn, send, ids)
    except Exception:  # noqa: BLE001 - the sweep re-sends; the write itself has committed
        log.warning(
            "outbox dispatch failed; the relay sweep will re-send", exc_info=True, extra={"outbox_ids": list(ids)}
        )


def settle(conn: psycopg.Connection) -> None:
    """Mark every open row dispatched and projected: for a caller about to project everything
    itself (seeding followed by ``projector rebuild``), which needs no task per row."""
    conn.execute("""UPDATE outbox SET dispatched_at = coalesce(dispatched_at, clock_timestamp()),
                    projected_at = clock_timestamp() WHERE projected_at IS NULL""")


def prune(conn: psycopg.Connection, keep_days: float) -> int:
    """Delete rows projected more than ``keep_days`` ago (kept that long for audits); return how many."""
    cur = conn.execute(
        "DELETE FROM outbox WHERE projected_at < clock_timestamp() - make_interval(secs => %s)", (keep_days * 86400,)
    )
    return cur.rowcount
