"""The worker's consumer reconnects when closing a lost broker connection fails inside kombu."""
from __future__ import annotations

import pytest
from celery.worker.consumer import Consumer

from projector.consumer import ResilientConsumer


def lost(self, exc):
    # What Celery 5.7.0 does on a lost Redis broker when kombu's channel restores held messages
    # through an already detached transport (see projector/consumer.py).
    self.connection = None
    raise AttributeError("'NoneType' object has no attribute 'hostname'")


def test_a_failed_close_of_the_lost_connection_does_not_stop_the_worker(monkeypatch):
    monkeypatch.setattr(Consumer, "on_connection_error_after_connected", lost)
    consumer = ResilientConsumer.__new__(ResilientConsumer)
    consumer.connection = object()
    consumer.on_connection_error_after_connected(ConnectionError("lost"))  # no AttributeError escapes
    assert consumer.connection is None


def test_other_errors_still_surface(monkeypatch):
    def broken(self, exc):
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(Consumer, "on_connection_error_after_connected", broken)
    consumer = ResilientConsumer.__new__(ResilientConsumer)
    with pytest.raises(RuntimeError):
        consumer.on_connection_error_after_connected(ConnectionError("lost"))


def test_the_worker_uses_it():
    from projector.celery_app import make_celery
    from snipshop.config import load

    assert make_celery(load({})).conf.worker_consumer == "projector.consumer:ResilientConsumer"
