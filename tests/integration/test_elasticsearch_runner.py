"""A real Elasticsearch 8.x (tools/elasticsearch.py) driven by the official Python client.

One node is started for the module unless ELASTICSEARCH_URL points at a running server; the
3-node test (``-m es_cluster``) always starts its own cluster, since it stops one of its nodes.
A server that cannot start is an error with its log, never a skip.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from elasticsearch import BadRequestError, ConflictError, Elasticsearch, helpers

from tools.elasticsearch import ElasticsearchCluster, free_base_port

pytestmark = pytest.mark.elasticsearch

MAPPING = {
    "dynamic": "strict",
    "properties": {
        "sku": {"type": "keyword"},
        "title": {"type": "text", "analyzer": "standard"},
        "brand": {"type": "keyword"},
        "price": {"type": "double"},
        "stock": {"type": "integer"},
        "updated": {"type": "date"},
    },
}


def _docs(n: int, start: int = 0):
    brands = ["acme", "globex", "initech"]
    for i in range(start, start + n):
        yield {
            "sku": f"SKU-{i:04d}",
            "title": f"Trail running shoe model {i}",
            "brand": brands[i % 3],
            "price": 10.0 + i,
            "stock": i % 7,
            "updated": "2026-01-01T00:00:00Z",
        }


def _workdir(prefix: str) -> Path:
    # Not under pytest's tmp dir: that is private to root, and Elasticsearch runs as "nobody".
    d = Path(tempfile.mkdtemp(prefix=prefix))
    d.chmod(0o755)
    return d


@pytest.fixture
def es(es_url):
    client = Elasticsearch(es_url, request_timeout=30)
    yield client
    client.close()


@pytest.fixture
def index(es):
    name = f"products-{uuid.uuid4().hex[:8]}"
    es.indices.create(index=name, mappings=MAPPING, settings={"number_of_shards": 1, "number_of_replicas": 0})
    yield name
    es.indices.delete(index=name, ignore_unavailable=True)


def test_server_is_elasticsearch_8(es):
    nodes = es.nodes.info(filter_path="nodes.*.version")["nodes"]
    versions = {n["version"] for n in nodes.values()}
    assert all(v.startswith("8.") for v in versions), versions
    assert es.cluster.health(wait_for_status="yellow", timeout="30s")["status"] in ("green", "yellow")


def test_explicit_mapping_is_applied(es, index):
    mapping = es.indices.get_mapping(index=index)[index]["mappings"]
    assert mapping["properties"]["brand"] == {"type": "keyword"}
    assert mapping["dynamic"] == "strict"
    with pytest.raises(Exception) as err:
        es.index(index=index, id="x", document={"unknown_field": 1})
    assert "strict_dynamic_mapping_exception" in str(err.value)


def test_bulk_with_external_versions_rejects_older_version(es, index):
    docs = list(_docs(6))
    actions = [
        {
            "_op_type": "index",
            "_index": index,
            "_id": d["sku"],
            "_version": 10,
            "_version_type": "external",
            "_source": d,
        }
        for d in docs
    ]
    ok, errors = helpers.bulk(es, actions, refresh="wait_for")
    assert (ok, errors) == (6, [])
    assert es.get(index=index, id="SKU-0001")["_version"] == 10

    # An older (and an equal) external version is rejected, both singly and in a bulk ...
    stale = dict(docs[1], price=1.0)
    with pytest.raises(ConflictError):
        es.index(index=index, id="SKU-0001", document=stale, version=9, version_type="external")
    with pytest.raises(ConflictError):
        es.index(index=index, id="SKU-0001", document=stale, version=10, version_type="external")
    resp = es.bulk(
        operations=[
            {"index": {"_index": index, "_id": "SKU-0001", "version": 5, "version_type": "external"}},
            stale,
            {"index": {"_index": index, "_id": "SKU-0002", "version": 11, "version_type": "external"}},
            dict(docs[2], price=99.5),
        ],
        refresh="wait_for",
    )
    assert resp["errors"] is True
    first, second = (item["index"] for item in resp["items"])
    assert first["status"] == 409 and first["error"]["type"] == "version_conflict_engine_exception"
    assert second["status"] == 200 and second["_version"] == 11

    # ... and the stored documents are the newer ones.
    assert es.get(index=index, id="SKU-0001")["_source"]["price"] == docs[1]["price"]
    assert es.get(index=index, id="SKU-0002")["_source"]["price"] == 99.5


def test_query_with_terms_aggregation(es, index):
    helpers.bulk(es, ({"_index": index, "_id": d["sku"], "_source": d} for d in _docs(9)), refresh="wait_for")
    resp = es.search(
        index=index,
        query={"bool": {"must": [{"match": {"title": "running shoe"}}], "filter": [{"range": {"price": {"gte": 12}}}]}},
        aggs={
            "brands": {"terms": {"field": "brand", "order": {"_key": "asc"}}},
            "avg_price": {"avg": {"field": "price"}},
        },
        size=3,
        sort=[{"price": "asc"}],
    )
    assert resp["hits"]["total"]["value"] == 7
    assert [h["_source"]["sku"] for h in resp["hits"]["hits"]] == ["SKU-0002", "SKU-0003", "SKU-0004"]
    buckets = {b["key"]: b["doc_count"] for b in resp["aggregations"]["brands"]["buckets"]}
    assert buckets == {"acme": 2, "globex": 2, "initech": 3}
    assert resp["aggregations"]["avg_price"]["value"] == pytest.approx(sum(10.0 + i for i in range(2, 9)) / 7)


# ------------------------------------------------------------------------------------------------
# Language analysis from our plugin (tools/es-analysis-plugin, installed by tools/es_plugin.py)


def _tokens(es, **body) -> list[str]:
    return [t["token"] for t in es.indices.analyze(**body)["tokens"]]


def test_analysis_plugin_is_loaded(es):
    plugins = es.nodes.info(metric="plugins", filter_path="nodes.*.plugins.name")["nodes"]
    assert all("snipshop-analysis" in {p["name"] for p in n["plugins"]} for n in plugins.values()), plugins


def test_language_analyzers_and_filters(es):
    assert _tokens(es, analyzer="english", text="The running shoes") == ["run", "shoe"]
    hauser, haus, schuhe = _tokens(es, analyzer="german", text="Häuser und das Haus, Schuhe")
    assert hauser == haus == "haus" and schuhe == "schuh"
    assert _tokens(es, tokenizer="standard", filter=["lowercase", "asciifolding"], text="Crème Brûlée") == [
        "creme",
        "brulee",
    ]
    assert _tokens(es, tokenizer="standard", filter=["lowercase", "german_normalization"], text="Größe Häuser") == [
        "grosse",
        "hauser",
    ]
    assert _tokens(
        es,
        tokenizer="standard",
        filter=["lowercase", {"type": "edge_ngram", "min_gram": 2, "max_gram": 4}],
        text="Shoes",
    ) == ["sh", "sho", "shoe"]
    for language, text, stems in [
        ("english", "running shoes", ["run", "shoe"]),
        ("light_german", "Häuser Schuhe", ["haus", "schuh"]),
        ("german", "Häuser Schuhe", ["haus", "schuh"]),
    ]:
        assert (
            _tokens(
                es, tokenizer="standard", filter=["lowercase", {"type": "stemmer", "language": language}], text=text
            )
            == stems
        ), language
    with pytest.raises(BadRequestError, match="stemmer language \\[klingon\\] is not supported"):
        _tokens(es, tokenizer="standard", filter=[{"type": "stemmer", "language": "klingon"}], text="x")


def test_index_with_language_analysis(es):
    index = f"products-lang-{uuid.uuid4().hex[:8]}"
    es.indices.create(
        index=index,
        settings={
            "number_of_shards": 1,
            "number_of_replicas": 0,
            "analysis": {
                "filter": {
                    "english_stem": {"type": "stemmer", "language": "english"},
                    "prefix": {"type": "edge_ngram", "min_gram": 1, "max_gram": 10},
                },
                "analyzer": {
                    "name_en": {
                        "type": "custom",
                        "tokenizer": "standard",
                        "filter": ["lowercase", "asciifolding", "english_stem"],
                    },
                    "prefix": {
                        "type": "custom",
                        "tokenizer": "standard",
                        "filter": ["lowercase", "asciifolding", "prefix"],
                    },
                    "folded": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase", "asciifolding"]},
                },
                "normalizer": {"folded": {"type": "custom", "filter": ["lowercase", "asciifolding"]}},
            },
        },
        mappings={
            "properties": {
                "title": {"type": "text", "analyzer": "english"},
                "name": {
                    "type": "text",
                    "analyzer": "name_en",
                    "fields": {"prefix": {"type": "text", "analyzer": "prefix", "search_analyzer": "folded"}},
                },
                "title_de": {"type": "text", "analyzer": "german"},
                "sort": {"type": "keyword", "normalizer": "folded"},
            }
        },
    )
    try:
        docs = [
            {
                "title": "Trail running shoes",
                "name": "Crème Brûlée Shoes",
                "title_de": "Schöne Häuser",
                "sort": "Crème",
            },
            {"title": "A rain jacket", "name": "Jacket", "title_de": "Regenjacke", "sort": "Jacke"},
        ]
        helpers.bulk(
            es, ({"_index": index, "_id": str(i), "_source": d} for i, d in enumerate(docs)), refresh="wait_for"
        )

        def ids(query) -> list[str]:
            return [h["_id"] for h in es.search(index=index, query=query)["hits"]["hits"]]

        assert ids({"match": {"title": "shoe"}}) == ["0"]
        assert ids({"match": {"title": "run"}}) == ["0"]
        assert ids({"match": {"name": "creme brulee shoe"}}) == ["0"]
        assert ids({"match": {"title_de": "haus"}}) == ["0"]
        assert ids({"match": {"name.prefix": "brû"}}) == ["0"]
        assert ids({"term": {"sort": "CREME"}}) == ["0"]
    finally:
        es.indices.delete(index=index, ignore_unavailable=True)


# ------------------------------------------------------------------------------------------------
# Three nodes, one stopped


@pytest.fixture(scope="module")
def cluster3():
    base = _workdir("snipshop-es3-")
    cluster = ElasticsearchCluster(base, free_base_port(3), nodes=3, heap_mb=512)
    cluster.start(timeout=280)
    print(f"\nElasticsearch 3 nodes up in {cluster.startup_seconds:.1f}s, RSS {cluster.rss_bytes() / 2**20:.0f} MiB")
    yield cluster
    cluster.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.es_cluster
@pytest.mark.timeout(600)
def test_keeps_indexing_and_querying_while_a_node_is_stopped(cluster3):
    es = Elasticsearch(cluster3.node_urls, request_timeout=30, max_retries=5, retry_on_timeout=True)
    index = "products-ha"
    es.indices.create(
        index=index,
        mappings=MAPPING,
        settings={"number_of_shards": 3, "number_of_replicas": 1, "unassigned.node_left.delayed_timeout": "5m"},
    )
    health = es.cluster.health(index=index, wait_for_status="green", timeout="60s")
    assert health["number_of_nodes"] == 3 and health["status"] == "green"
    helpers.bulk(es, ({"_index": index, "_id": d["sku"], "_source": d} for d in _docs(30)), refresh="wait_for")
    assert es.count(index=index)["count"] == 30

    # Stop a node that is not the elected master and holds a primary shard.
    master_name = es.cat.master(format="json")[0]["node"]
    shards = es.cat.shards(index=index, format="json")
    primaries_on = {s["node"] for s in shards if s["prirep"] == "p"}
    victim = next(
        n for n in (3, 2, 1) if cluster3.node_name(n) != master_name and cluster3.node_name(n) in primaries_on
    )
    lost = sum(1 for s in shards if s["node"] == cluster3.node_name(victim))
    cluster3.stop_node(victim)

    survivors = [cluster3.node_url(n) for n in (1, 2, 3) if n != victim]
    es2 = Elasticsearch(survivors, request_timeout=30, max_retries=5, retry_on_timeout=True)
    deadline = time.monotonic() + 60
    while es2.cluster.health()["number_of_nodes"] != 2:
        assert time.monotonic() < deadline, "the cluster never noticed the stopped node"
        time.sleep(0.5)
    health = es2.cluster.health(index=index, wait_for_status="yellow", timeout="60s")
    assert health["status"] == "yellow", health
    assert health["active_primary_shards"] == 3 and health["unassigned_shards"] == lost, health

    # Keep indexing (single docs and bulks) and querying, through a client that still lists the
    # stopped node as well as through one that only knows the survivors.
    for client in (es, es2):
        start = es2.count(index=index)["count"]
        for d in _docs(5, start):
            client.index(index=index, id=d["sku"], document=d)
        ok, errors = helpers.bulk(
            client, ({"_index": index, "_id": d["sku"], "_source": d} for d in _docs(15, start + 5)), refresh="wait_for"
        )
        assert (ok, errors) == (15, [])
        assert client.count(index=index)["count"] == start + 20
        resp = client.search(index=index, size=0, aggs={"brands": {"terms": {"field": "brand"}}})
        assert sum(b["doc_count"] for b in resp["aggregations"]["brands"]["buckets"]) == start + 20
        assert client.get(index=index, id=f"SKU-{start + 19:04d}")["found"]
    assert es2.count(index=index)["count"] == 70
    es.close()
    es2.close()
