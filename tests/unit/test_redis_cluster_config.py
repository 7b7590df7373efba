"""REDIS_CLUSTER: read once by snipshop.config, refused beside the one-server replica settings."""

from __future__ import annotations

import pytest

from snipshop.config import load


def test_redis_cluster_is_off_unless_asked_for():
    assert load({}).redis_cluster is False
    assert load({"REDIS_CLUSTER": "1", "REDIS_URL": "redis://10.0.0.5:7000/0"}).redis_cluster is True
    with pytest.raises(ValueError, match="expected 1/0"):
        load({"REDIS_CLUSTER": "cluster"})


@pytest.mark.parametrize(
    "setting",
    [
        {"REDIS_SENTINELS": "10.0.0.1:26379"},
        {"REDIS_READ_URL": "redis://127.0.0.1:6380/0"},
        {"REDIS_WAIT_REPLICAS": "1"},
    ],
)
def test_a_cluster_does_not_take_the_one_server_replica_settings(setting):
    load(setting)  # fine without a cluster
    with pytest.raises(ValueError, match="REDIS_CLUSTER=1 does not go with"):
        load({"REDIS_CLUSTER": "1", **setting})
