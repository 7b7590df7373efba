"""Pick the search adapter from the configuration: Elasticsearch if configured, else embedded."""

from __future__ import annotations

import redis

from search.port import SearchIndex
from snipshop.config import Settings
from vocab.keys import KeyScheme


def make_search(settings: Settings, client: redis.Redis) -> SearchIndex:
    """``client`` is the snippet Redis, which the embedded index shares."""
    if settings.elasticsearch_url:
        from elasticsearch import Elasticsearch

        from search.elastic import ElasticIndex

        nodes = list(settings.elasticsearch_nodes)
        # Requests go round-robin over the nodes; a node that refuses, resets or times out is set
        # aside for a while, and the request (or one answered 429/502/503/504) goes to the next.
        es = Elasticsearch(nodes, request_timeout=5, retry_on_timeout=True, max_retries=max(2, len(nodes)))
        return ElasticIndex(
            es, settings.key_prefix, settings.locales, settings.currencies, replicas=settings.elasticsearch_replicas
        )
    from search.embedded import EmbeddedIndex

    return EmbeddedIndex(client, KeyScheme(settings.key_prefix), settings.locales, settings.currencies)
