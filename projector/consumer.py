"""The worker's Celery consumer, hardened against a broker that goes away.

Celery 5.7.0's reconnect path (``Consumer.on_connection_error_after_connected``) first collects
the broken connection, which detaches kombu's transport, then closes it. Closing kombu's Redis
channel then tries to restore the messages the worker held, through a transport that has no
connection details left, and raises ``AttributeError``: an error ``ignore_errors`` does not
ignore, so the worker logs "Unrecoverable error" and exits. A broker restart (or any dropped
broker connection while tasks are held) thus killed the worker, about one time in three in
tests/faults/test_broker_outage.py.

This consumer lets that close fail and reconnects as it would have. Nothing is lost by it: the
held messages could not be restored through a dead connection anyway; the broker gives them back
after its visibility timeout, and the outbox relay re-sends whatever stays unprojected
(projector.relay).
"""
from __future__ import annotations

import logging

from celery.worker.consumer import Consumer

log = logging.getLogger(__name__)


class ResilientConsumer(Consumer):
    def on_connection_error_after_connected(self, exc: Exception) -> None:
        try:
            super().on_connection_error_after_connected(exc)
        except AttributeError:
            log.warning("closing the lost broker connection failed; reconnecting anyway", exc_info=True)
            self.connection = None
