"""The search factory names the adapter of an index, so a rebuild worker can make the same one."""

from dataclasses import replace

import pytest
import redis

from search.embedded import EmbeddedIndex
from search.factory import adapter_of, make_search
from snipshop.config import Settings
from vocab.keys import KeyScheme

SETTINGS = Settings(key_prefix="fx", locales=("en_US", "de_DE"), currencies=("EUR",))
ES = replace(SETTINGS, elasticsearch_url="http://127.0.0.1:1")


def client() -> redis.Redis:
    return redis.Redis(port=1)  # never connected: making an index sends nothing


def test_each_adapter_is_named_and_made_again():
    assert adapter_of(make_search(SETTINGS, client()), SETTINGS) == "embedded"
    assert adapter_of(make_search(ES, client()), ES) == "elasticsearch"
    # The embedded index on a shop configured with Elasticsearch (as bench.projection measures it).
    embedded = make_search(ES, client(), "embedded")
    assert isinstance(embedded, EmbeddedIndex) and adapter_of(embedded, ES) == "embedded"


def test_an_index_the_settings_do_not_describe_is_refused():
    with pytest.raises(ValueError, match="not the one the settings describe"):
        adapter_of(EmbeddedIndex(client(), KeyScheme("other"), SETTINGS.locales, SETTINGS.currencies), SETTINGS)
    with pytest.raises(ValueError, match="not the one the settings describe"):
        adapter_of(make_search(ES, client()), replace(ES, currencies=("USD",)))
    with pytest.raises(ValueError, match="needs ELASTICSEARCH_URL"):
        make_search(SETTINGS, client(), "elasticsearch")
    with pytest.raises(ValueError, match="no adapter makes"):
        adapter_of(object(), SETTINGS)  # type: ignore[arg-type]
