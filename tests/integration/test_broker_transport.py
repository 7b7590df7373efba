"""The broker transport (projector/broker.py) against a real Redis broker that goes away.

When Celery collects a lost broker connection, kombu closes the connection's channels until the
first one fails to give its held messages back (the broker is down), then drops the connection's
details. A channel left open then fails on everything it still does (Celery's own close of it,
the ack of a task that finishes after the reconnect): with kombu's transport by AttributeError,
which stopped the worker; with the project's, by a connection error, which Celery handles."""

from __future__ import annotations

from dataclasses import replace

import kombu
import pytest
from kombu.transport import redis as kombu_redis

from projector import broker
from projector.celery_app import make_celery
from tools.localservices import Redis, free_port

pytestmark = pytest.mark.integration


def hold_one(channel) -> kombu.Message:
    queue = kombu.Queue("held", channel=channel)
    queue.declare()
    kombu.Producer(channel).publish({"n": 1}, routing_key="held")
    message = queue.get(no_ack=False)  # taken, not acked: in the transport's unacked hash
    assert message is not None and message.payload == {"n": 1}
    return message


def outcome(action) -> Exception | None:
    try:
        action()
    except Exception as exc:  # noqa: BLE001 - what it raised is the result
        return exc
    return None


@pytest.mark.parametrize("kombus", [False, True], ids=["project transport", "kombu transport (the bug)"])
def test_channels_left_open_by_a_collected_connection_fail_like_a_lost_connection(settings, tmp_path, kombus):
    server = Redis(free_port(), tmp_path / "broker").start()
    try:
        app = make_celery(replace(settings, broker_url=f"{server.url}/0"))
        with app.connection_for_write(transport=kombu_redis.Transport if kombus else None) as conn:
            assert isinstance(conn.transport, broker.Transport) != kombus
            errors = conn.connection_errors
            channels = [conn.channel() for _ in range(2)]
            held = [hold_one(channel) for channel in channels]
            server.stop()  # the broker goes away while both channels hold a message
            conn.collect()  # Celery's first step on a lost connection
            left_open = [channel for channel in channels if not channel.closed]
            assert left_open, "collect() closed every channel: the case is not reproduced"
            outcomes = [outcome(action) for action in [ch.close for ch in left_open] + [m.ack for m in held]]
    finally:
        server.stop()
    if kombus:  # remove projector/broker.py once this fails: kombu no longer has the bug
        assert any(isinstance(o, AttributeError) and "hostname" in str(o) for o in outcomes), outcomes
    else:
        assert all(isinstance(o, errors) for o in outcomes), outcomes


def test_the_worker_and_the_relay_use_it_for_a_redis_broker(settings):
    assert make_celery(settings).conf.broker_transport == broker.TRANSPORT
    assert make_celery(replace(settings, broker_url="amqp://guest@127.0.0.1//")).conf.broker_transport is None
