"""Pick the search adapter from the configuration: Elasticsearch if configured, else embedded."""

from __future__ import annotations

from typing import Literal

import redis

from search.port import SearchIndex
from snipshop.config import Settings
from vocab.keys import KeyScheme

Adapter = Literal["elasticsearch", "embedded"]


def make_search(settings: Settings, client: redis.Redis, adapter: Adapter | None = None) -> SearchIndex:
    """``client`` is the snippet Redis, which the embedded index shares. ``adapter``: this one
    rather than the configured one (the embedded index on a shop configured with Elasticsearch)."""
    if adapter is None:
        adapter = "elasticsearch" if settings.elasticsearch_url else "embedded"
    if adapter == "elasticsearch":
        if not settings.elasticsearch_url:
            raise ValueError("the Elasticsearch adapter needs ELASTICSEARCH_URL")
        from elasticsearch import Elasticsearch
        from elasticsearch.serializer import OrjsonSerializer

        from search.elastic import ElasticIndex

        nodes = list(settings.elasticsearch_nodes)
        # Requests go round-robin over the nodes; a node that refuses, resets or times out is set
        # aside for a while, and the request (or one answered 429/502/503/504) goes to the next.
        # orjson writes the bulk requests and reads the answers (the stdlib's json was a third of
        # the projector's time spent on Elasticsearch writes).
        es = Elasticsearch(
            nodes,
            request_timeout=5,
            retry_on_timeout=True,
            max_retries=max(2, len(nodes)),
            serializer=OrjsonSerializer(),
        )
        return ElasticIndex(
            es, settings.key_prefix, settings.locales, settings.currencies, replicas=settings.elasticsearch_replicas
        )
    from search.embedded import EmbeddedIndex

    return EmbeddedIndex(client, KeyScheme(settings.key_prefix), settings.locales, settings.currencies)


def adapter_of(index: SearchIndex, settings: Settings) -> Adapter:
    """Which adapter ``index`` is, if :func:`make_search` with ``settings`` makes an equal one (the
    same server, prefix, locales and currencies), so another process can make its own; else ValueError."""
    from search.embedded import EmbeddedIndex

    shape = (tuple(settings.locales), tuple(settings.currencies))
    if isinstance(index, EmbeddedIndex):
        if index.keys != KeyScheme(settings.key_prefix) or (index.locales, index.currencies) != shape:
            raise ValueError("this embedded index is not the one the settings describe")
        return "embedded"
    from search.elastic import ElasticIndex

    if isinstance(index, ElasticIndex):
        if not settings.elasticsearch_url or index.prefix != settings.key_prefix:
            raise ValueError("this Elasticsearch index is not the one the settings describe")
        if (index.locales, index.currencies) != shape:
            raise ValueError("this Elasticsearch index is not the one the settings describe")
        return "elasticsearch"
    raise ValueError(f"no adapter makes a {type(index).__name__}")
