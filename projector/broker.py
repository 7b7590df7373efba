"""The broker transport: kombu's Redis transport, hardened against a broker that goes away.

When the worker loses the broker, Celery 5.7.0 collects the broken connection, which detaches
kombu's transport from its connection, and only then closes the channel. Anything that channel
still does needs a Redis client, and kombu builds one from connection details that are gone:
``AttributeError: 'NoneType' object has no attribute 'hostname'``. Two things do it:

* closing the channel restores the messages the worker held (``restore_unacked``);
* a task that was running during the outage finishes after the reconnect and acks its message
  on the old channel.

Neither ``ignore_errors`` (the close) nor ``ack_log_error`` (the ack) expects an
``AttributeError``, so the worker logs "Unrecoverable error" and stops consuming: any broker
restart that caught the worker holding messages halted projection (tests/faults/
test_broker_outage.py). The channel here fails the way a lost connection fails, with a
connection error, which both paths already handle: the close goes on, the ack is logged as not
done. Nothing is lost by that: a message that could not be restored or acked is given out again
by the broker after its visibility timeout (projection is idempotent and version-guarded), and
the outbox relay re-sends whatever stays unprojected (catalog.relay).
"""

from __future__ import annotations

from collections.abc import Iterable

import redis
from kombu.transport import redis as kombu_redis

from vocab.topics import QUEUES

#: The ``broker_transport`` setting for a ``redis://`` broker URL.
TRANSPORT = "projector.broker:Transport"


# kombu's default priority steps (0, 3, 6, 9): step 0 is the queue's own list.
_PRIORITY_SUFFIXES = ("", *(f"{kombu_redis.Channel.sep}{step}" for step in kombu_redis.Channel.priority_steps[1:]))


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> dict:
        if self.connection.client is None:  # collected after the connection was lost
            raise redis.exceptions.ConnectionError("the broker connection was lost and has been closed")
        return super()._connparams(asynchronous=asynchronous)  # type: ignore[misc]  # kombu's stubs omit it


class Transport(kombu_redis.Transport):
    Channel = Channel


def queue_depths(broker: redis.Redis, queues: Iterable[str] = QUEUES) -> dict[str, int]:
    """Tasks waiting in each queue (not those a worker holds unacknowledged), by queue name, in one
    round trip. kombu's Redis transport keeps a queue as a list named like it; a task sent with a
    priority waits in a list of its own beside it, counted here too."""
    names = [str(q) for q in queues]
    pipe = broker.pipeline(transaction=False)
    for name in names:
        for suffix in _PRIORITY_SUFFIXES:
            pipe.llen(name + suffix)
    lengths = pipe.execute()
    per = len(_PRIORITY_SUFFIXES)
    return {name: sum(lengths[i * per : (i + 1) * per]) for i, name in enumerate(names)}
