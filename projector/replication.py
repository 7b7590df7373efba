"""A projected change reaches a replica before its outbox rows are acknowledged.

With replicas (``REDIS_WAIT_REPLICAS`` > 0, docs/resilience.md) a task ends with Redis ``WAIT``
on the connection of its last write: the primary answers once that many replicas hold every write
made so far, or after :data:`WAIT_TIMEOUT_MS` with the number that do. Too few is
:class:`NotReplicated`, a transient error: the task is retried (it re-projects, which is
idempotent) and its outbox rows stay unacknowledged, so the relay sends them again should the task
give up. A change whose rows are acknowledged is therefore on a replica, and survives the loss of
the primary: Sentinel promotes the replica with the most data.
"""

from __future__ import annotations

import redis
from redis.client import Pipeline

#: How long a task waits for the replicas before it counts the change as not replicated.
WAIT_TIMEOUT_MS = 2000


class NotReplicated(redis.ConnectionError):
    """Fewer replicas than asked hold the change (a transient error: projector.tasks retries it)."""


def wait(pipe: Pipeline, replicas: int) -> None:
    """Queue the ``WAIT`` on ``pipe``, after a write of the same pipeline (the write makes the
    connection's offset cover every earlier write, on any connection)."""
    pipe.execute_command("WAIT", replicas, WAIT_TIMEOUT_MS)


def check(acknowledged: int, replicas: int) -> None:
    """Raise :class:`NotReplicated` unless ``acknowledged`` (WAIT's answer) reaches ``replicas``."""
    if acknowledged < replicas:
        raise NotReplicated(f"{acknowledged} of {replicas} replicas confirmed the change within {WAIT_TIMEOUT_MS} ms")
