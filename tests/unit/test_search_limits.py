"""Both search adapters search the same bounded query: the word cap reaches Elasticsearch too."""

from search.elastic_mapping import index_body
from search.elastic_params import listing_params
from search.query import MAX_WORDS, parse


def test_elasticsearch_gets_at_most_the_word_cap():
    text = " ".join(f"word{i}" for i in range(60))
    query = parse({"q": [text]}, locale="en_US", currency="EUR", facet_names={"brand"})
    assert listing_params(query)["text"].split() == [f"word{i}" for i in range(MAX_WORDS)]


def test_elasticsearch_keeps_its_default_result_window():
    assert "max_result_window" not in index_body(["en_US"], ["EUR"], False)["settings"]


def test_a_deep_page_stays_inside_the_default_window():
    query = parse({"page": ["1000"], "per_page": ["96"]}, locale="en_US", currency="EUR", facet_names={"brand"})
    params = listing_params(query)
    assert params["from"] + params["size"] <= 10_000
