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

        es = Elasticsearch(settings.elasticsearch_url, request_timeout=5, retry_on_timeout=True, max_retries=2)
        return ElasticIndex(es, settings.key_prefix, settings.locales, settings.currencies)
    from search.embedded import EmbeddedIndex

    return EmbeddedIndex(client, KeyScheme(settings.key_prefix), settings.locales, settings.currencies)
