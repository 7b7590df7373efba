"""Several Elasticsearch nodes in ELASTICSEARCH_URL, the replica setting, and a write to an
unreachable cluster being a transient error (which projection tasks retry)."""

from __future__ import annotations

import pytest
import redis
from elasticsearch import Elasticsearch

from projector.tasks import TRANSIENT
from search.documents import SearchDocument
from search.elastic import ElasticIndex
from search.elastic_mapping import index_body, replica_settings
from search.factory import make_search
from search.port import SearchUnavailable
from snipshop.config import load
from tools.localservices import free_port


def test_one_or_several_node_urls():
    assert load({}).elasticsearch_nodes == ()
    assert load({"ELASTICSEARCH_URL": " "}).elasticsearch_url is None
    one = load({"ELASTICSEARCH_URL": "http://es:9200"})
    assert one.elasticsearch_nodes == ("http://es:9200",)
    three = load({"ELASTICSEARCH_URL": "http://es1:9200, http://es2:9200,http://es3:9200,"})
    assert three.elasticsearch_nodes == ("http://es1:9200", "http://es2:9200", "http://es3:9200")
    assert three.elasticsearch_url == "http://es1:9200,http://es2:9200,http://es3:9200"
    with pytest.raises(ValueError):
        load({"ELASTICSEARCH_URL": ",,"})


def test_the_client_knows_every_node():
    settings = load({"ELASTICSEARCH_URL": "http://127.0.0.1:9201,http://127.0.0.1:9202,http://127.0.0.1:9203"})
    index = make_search(settings, redis.Redis())
    assert isinstance(index, ElasticIndex)
    ports = sorted(node.config.port for node in index.client.transport.node_pool.all())
    assert ports == [9201, 9202, 9203]


def test_replicas():
    assert load({}).elasticsearch_replicas == "0-1"
    assert load({"ELASTICSEARCH_REPLICAS": "2"}).elasticsearch_replicas == "2"
    assert load({"ELASTICSEARCH_REPLICAS": "0-all"}).elasticsearch_replicas == "0-all"
    for bad in ("one", "-1", "1-", "1.5"):
        with pytest.raises(ValueError, match="ELASTICSEARCH_REPLICAS"):
            load({"ELASTICSEARCH_REPLICAS": bad})
    assert index_body(["en_US"], ["EUR"], False)["settings"]["auto_expand_replicas"] == "0-1"
    assert replica_settings("0-2") == {"auto_expand_replicas": "0-2"}
    assert replica_settings("2") == {"number_of_replicas": 2, "auto_expand_replicas": False}


def test_a_write_to_an_unreachable_cluster_is_transient():
    nodes = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]  # nothing listens there
    index = ElasticIndex(Elasticsearch(nodes, max_retries=2), "t", ["en_US"], ["EUR"], language_analysis=False)
    doc = SearchDocument(sku="A-1", version=1, visible=True, created_at=0)
    with pytest.raises(SearchUnavailable):
        index.index([doc], [1])
    assert issubclass(SearchUnavailable, TRANSIENT)
