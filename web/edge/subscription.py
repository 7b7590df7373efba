"""One pub/sub channel heard for as long as the process lives: the loop both of the edge's
listeners run (web/edge/nearcache.py's invalidations, web/edge/listing_epochs.py's listing changes).

It subscribes on a connection of its own, says when the subscription holds and hands on every
message; on any failure it says the channel is lost and subscribes again, with a backoff of
0.2 s doubling to 5 s. Until ``subscribed`` is called again, a listener must assume it missed
messages (each stops reusing what it keeps).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NoReturn

import redis

FIRST_BACKOFF = 0.2
MAX_BACKOFF = 5.0


def listen(
    connect: Callable[[], redis.Redis],
    channel: str,
    subscribed: Callable[[], None],
    message: Callable[[bytes], None],
    lost: Callable[[Exception], None],
) -> NoReturn:
    """Run in a daemon thread: ``connect`` makes the connection (again after each loss)."""
    backoff = FIRST_BACKOFF
    while True:
        client = pubsub = None
        try:
            client = connect()  # a cluster client connects here already
            pubsub = client.pubsub()
            pubsub.subscribe(channel)
            while True:
                got = pubsub.get_message(timeout=1.0)
                if got is None:
                    continue
                if got["type"] == "subscribe":
                    subscribed()
                    backoff = FIRST_BACKOFF
                elif got["type"] == "message":
                    message(got["data"])
        except Exception as exc:  # noqa: BLE001 - any failure: the listener stops reusing, we reconnect
            lost(exc)
        finally:
            try:
                if pubsub is not None:
                    pubsub.close()
                if client is not None:
                    client.close()
            except Exception:  # noqa: BLE001
                pass
        time.sleep(backoff)
        backoff = min(backoff * 2, MAX_BACKOFF)
