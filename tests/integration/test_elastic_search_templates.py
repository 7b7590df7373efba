"""The stored search templates on a real Elasticsearch: installed with their generation, put back
when missing, and rendering every params object of tests/fixtures/search_vectors.json to the query
it stands for. What the queries find is the contract suite's business
(tests/integration/test_search_contract.py runs it through these templates)."""

from __future__ import annotations

import json
import uuid

import pytest
from elasticsearch import Elasticsearch

from search.documents import SearchDocument
from search.elastic import ElasticIndex
from search.elastic_templates import LISTING, LISTING_FACETS, SUGGEST, TEMPLATES, source
from search.query import Query
from tests.unit.test_search_vectors import FILE

pytestmark = pytest.mark.elasticsearch

VECTORS = json.loads(FILE.read_text(encoding="utf-8"))["elasticsearch"]


@pytest.fixture(scope="module")
def es(es_url):
    client = Elasticsearch(es_url, request_timeout=30)
    yield client
    client.close()


@pytest.fixture
def ix(es):
    index = ElasticIndex(es, f"tt{uuid.uuid4().hex[:10]}", ("en_US", "de_DE"), ("EUR", "USD"))
    index.ensure_generation(1)
    index.switch(1)
    yield index
    index.drop(1)


def render(es: Elasticsearch, template_id: str, params: dict) -> dict:
    return es.render_search_template(id=template_id, params=params)["template_output"]


def test_ensuring_a_generation_stores_every_template_under_its_id(es, ix):
    ix.ensure_generation(1)  # again: idempotent
    for template_id in TEMPLATES:
        script = es.get_script(id=template_id)["script"]
        assert script["lang"] == "mustache"
        assert script["source"] == source(template_id)


def test_a_missing_template_is_put_back_by_the_next_read(es, ix):
    ix.index([SearchDocument("A-1", 1, True, 1, names={"en_US": "Juno Jacket"}, prices={})], [1])
    ix.refresh()
    es.delete_script(id=LISTING)
    es.delete_script(id=SUGGEST)
    assert ix.query(Query("en_US", "EUR")).skus == ("A-1",)
    assert [s.sku for s in ix.suggest("jac", "en_US")] == ["A-1"]
    assert es.get_script(id=LISTING)["script"]["source"] == source(LISTING)


def _filters(body: dict) -> list:
    return body["post_filter"]["bool"]["filter"]


@pytest.mark.parametrize("case", VECTORS["listings"], ids=lambda c: c["name"])
def test_every_listing_vector_renders_its_query(es, case):
    params, query = case["params"], case["query"]
    body = render(es, LISTING, params)
    assert (body["from"], body["size"]) == (params["from"], params["size"])
    assert body["sort"][-1] == {"sku": "asc"}
    first_sort = next(iter(body["sort"][0]))
    expected_sort = {
        "relevance": "_score" if query["text"] else "created_at",
        "newest": "created_at",
        "name": f"name_sort.{query['locale']}",
        "price_asc": f"variants.price.{query['currency']}",
        "price_desc": f"variants.price.{query['currency']}",
    }[query["sort"]]
    assert first_sort == expected_sort
    must = body["query"]["bool"].get("must")
    assert (must[0]["multi_match"]["query"] if must else "") == query["text"]
    nested = [f["nested"] for f in _filters(body) if "nested" in f]
    assert bool(nested) == ("variant_filter" in params)
    if nested:
        conditions = nested[0]["query"]["bool"]["filter"][:-1]  # the last is the closing match_all
        attributes = [c for c in conditions if "terms" in c]
        assert attributes == [
            {"terms": {f"variants.attrs.{a['name']}": a["values"]}} for a in params.get("attributes", ())
        ]
        assert ({"term": {"variants.in_stock": True}} in conditions) == query["in_stock"]
    facet_keys = {k for k in body["aggs"] if k.startswith("attr:")}
    assert facet_keys == {f"attr:{a['name']}" for a in params.get("attributes", ())}
    extra = render(es, LISTING_FACETS, case["facets_params"])
    assert set(extra["aggs"]) == {"attr:material", "attr:size", "none"}
    assert extra["query"]["bool"]["filter"][0] == {"term": {"visible": True}}


def test_values_are_escaped_for_json(es):
    case = next(c for c in VECTORS["listings"] if '"' in c["query"]["text"])
    body = render(es, LISTING, case["params"])
    assert body["query"]["bool"]["must"][0]["multi_match"]["query"] == 'men\'s "red" \\ shoe'


@pytest.mark.parametrize("case", VECTORS["suggestions"], ids=lambda c: c["text"])
def test_every_suggestion_vector_renders(es, case):
    params = case["params"]
    body = render(es, SUGGEST, params)
    assert body["size"] == params["size"]
    matches = body["query"]["bool"]["filter"][1]["bool"]["should"]
    assert matches[0] == {"prefix": {"sku": {"value": params["text"], "case_insensitive": True}}}
    assert len(matches) == (4 if "words" in params else 1)
