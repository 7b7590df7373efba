"""The stored search templates: versioned ids, and params objects with nothing where a part is absent."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from importlib.resources import files

from hypothesis import given
from hypothesis import strategies as st

from search.elastic_params import listing_params, suggest_params
from search.elastic_templates import TEMPLATES, source
from search.query import SORTS, Query
from tests.unit.test_search_vectors import FILE

#: The first 16 hex digits of each template's SHA-256. A template is never changed under its id:
#: a changed file is a new one with the next version (old and new code run side by side while a
#: rollout or a rebuild goes on); add its hash here.
RECORDED = {
    "snipshop-listing-v1": "5ce8c95c6aba2012",
    "snipshop-listing-facets-v1": "1eab850dd97e8641",
    "snipshop-facet-names-v1": "efd8ee165ef7643f",
    "snipshop-suggest-v1": "e6602acf54d0c13e",
}


def test_a_template_never_changes_under_its_id():
    for template_id in TEMPLATES:
        digest = hashlib.sha256(source(template_id).encode()).hexdigest()[:16]
        assert RECORDED.get(template_id) == digest, f"{template_id} changed: give it a new version"


def test_every_template_file_is_installed():
    found = {p.name.removesuffix(".mustache") for p in files("search").joinpath("templates").iterdir()}
    assert found == set(TEMPLATES)


def _no_empty_parts(value, path="params"):
    """Absent parts are left out: no null, false, empty string or empty list (except ``others``)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key != "others":
                _no_empty_parts(item, f"{path}.{key}")
        return
    assert value is not None and value is not False and value != "" and value != [], path
    if isinstance(value, list):
        for i, item in enumerate(value):
            _no_empty_parts(item, f"{path}[{i}]")


def test_the_vectors_have_no_empty_parts():
    data = json.loads(FILE.read_text(encoding="utf-8"))["elasticsearch"]
    for case in data["listings"]:
        _no_empty_parts(case["params"])
        _no_empty_parts(case["facets_params"])
    for case in data["suggestions"]:
        _no_empty_parts(case["params"])


amounts = st.none() | st.decimals(min_value=0, max_value=10_000, places=3).map(Decimal)
selections = st.dictionaries(
    st.sampled_from(["brand", "color", "size", "material"]),
    st.lists(st.sampled_from(["Red", "Acme", "M", "Wool"]), min_size=0, max_size=3).map(tuple),
    max_size=4,
)


@given(
    text=st.sampled_from(["", "shoe", "Häuser"]),
    category=st.none() | st.just("men"),
    filters=selections,
    low=amounts,
    high=amounts,
    in_stock=st.booleans(),
    sort=st.sampled_from(SORTS),
)
def test_listing_params_leave_absent_parts_out(text, category, filters, low, high, in_stock, sort):
    q = Query("en_US", "EUR", text, category, filters, low, high, in_stock, sort)
    params = listing_params(q)
    _no_empty_parts(params)
    assert sum(1 for key in params if key.startswith("sort_")) == 1
    assert ("variant_filter" in params) == bool(params.keys() & {"attributes", "price", "in_stock"})
    selected = [name for name, values in filters.items() if name != "brand" and values]
    assert [a["name"] for a in params.get("attributes", ())] == sorted(selected)


def test_price_bounds_are_cents_rounded_inwards():
    params = listing_params(Query("en_US", "EUR", price_min=Decimal("49.991"), price_max=Decimal("50.019")))
    assert params["price"] == {"gte": 5000, "lte": 5001}
    assert listing_params(Query("en_US", "EUR", price_max=Decimal("7")))["price"] == {"lte": 700}


def test_suggest_params_cut_words_for_the_edge_ngrams():
    params = suggest_params("Superkalifragilistischexpiali Sch", "de_DE", 8)
    assert params["words"] == {
        "cut": "Superkalifragilistis Sch",
        "prefixes": ["superkalifragilistis", "sch"],
    }
    assert "words" not in suggest_params("--", "en_US", 8)
