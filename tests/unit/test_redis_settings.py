"""Settings of Redis replicas and Sentinel, and the clients snipshop.redis_clients makes of them
(no server is asked: clients connect on first use)."""

from __future__ import annotations

import pytest
from redis.sentinel import SentinelConnectionPool

from projector.replication import NotReplicated, check
from projector.tasks import TRANSIENT
from snipshop import redis_clients
from snipshop.config import load


def test_without_the_settings_nothing_changes():
    settings = load({})
    assert settings.redis_sentinels == () and settings.redis_read_url is None and settings.redis_wait_replicas == 0
    assert redis_clients.snippet_reads(settings) is None
    store = redis_clients.snippet_store(settings)
    assert not isinstance(store.connection_pool, SentinelConnectionPool)
    assert redis_clients.read_subscriber(settings).connection_pool.connection_kwargs["port"] == 6379


def test_sentinels_name_the_primary_with_the_url_s_database_and_credentials():
    settings = load(
        {
            "REDIS_URL": "redis://user:secret@ignored:1/4",
            "REDIS_SENTINELS": "10.0.0.1:26379, sentinel-b:26380",
            "REDIS_SENTINEL_SERVICE": "shop",
        }
    )
    assert settings.redis_sentinels == (("10.0.0.1", 26379), ("sentinel-b", 26380))
    for client in (redis_clients.snippet_store(settings), redis_clients.subscriber(settings)):
        pool = client.connection_pool
        assert isinstance(pool, SentinelConnectionPool) and pool.is_master and pool.service_name == "shop"
        assert {k: pool.connection_kwargs[k] for k in ("db", "username", "password")} == {
            "db": 4,
            "username": "user",
            "password": "secret",
        }


def test_the_edge_reads_and_listens_on_the_read_url():
    settings = load({"REDIS_READ_URL": "redis://127.0.0.1:7001/2", "REDIS_WAIT_REPLICAS": "1"})
    reads = redis_clients.snippet_reads(settings, timeout=1.5)
    assert reads is not None
    kwargs = reads.connection_pool.connection_kwargs
    assert (kwargs["port"], kwargs["db"], kwargs["socket_timeout"]) == (7001, 2, 1.5)
    listener = redis_clients.read_subscriber(settings).connection_pool.connection_kwargs
    assert (listener["port"], listener["db"], listener.get("socket_timeout")) == (7001, 2, None)
    assert settings.redis_wait_replicas == 1


@pytest.mark.parametrize("value", ["sentinel-a", "host:port", ":26379", ","])
def test_a_bad_sentinel_list_is_refused(value):
    with pytest.raises(ValueError):
        load({"REDIS_SENTINELS": value})


def test_too_few_replicas_is_a_transient_error_the_task_retries():
    check(1, 1)
    check(2, 1)
    with pytest.raises(NotReplicated) as raised:
        check(0, 1)
    assert isinstance(raised.value, TRANSIENT)
