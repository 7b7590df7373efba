"""Elasticsearch request bodies for a :class:`~search.query.Query`, and facets from the answers.

Product-level conditions (visibility, category, text) are the query; the brand selection is
product-level too. Variant-level conditions (attribute selections, price range, in stock) must
hold for ONE variant at once: they are one ``nested`` query on ``variants`` (docs/variants.md).

Disjunctive faceting: the hits are filtered by every facet selection through ``post_filter`` (so
the aggregations do not see it); each facet's aggregation is wrapped in a ``filter`` aggregation
with all OTHER selections, so a facet's counts ignore its own selection (OR within a facet, AND
across facets). An attribute facet counts products: a ``nested`` aggregation over the variants
that pass every other variant-level condition, a ``terms`` aggregation on their values, and in
each bucket a ``reverse_nested`` one, whose count is the number of products. Attribute facets are
found among the matches with a terms aggregation on ``attr_names`` in the first request; the
facets of names that are not selected are then counted in a second, ``size: 0`` request (see
docs/search-elasticsearch.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR
from typing import Any, Protocol

from search.documents import BRAND, fold
from search.elastic_mapping import CENTS, PREFIX_MAX_GRAM
from search.query import MAX_FACET_VALUES, Facet, FacetValue, Query

#: At most this many attribute facets are shown for one listing.
MAX_ATTRIBUTE_FACETS = 100
#: At most this many attribute codes are known as facets at all.
MAX_KNOWN_NAMES = 1000
_ORDER = [{"_count": "desc"}, {"_key": "asc"}]
VISIBLE = {"term": {"visible": True}}


class Answer(Protocol):
    """An Elasticsearch answer as read here: a dict, or the client's response object (not a Mapping)."""

    def __getitem__(self, key: str, /) -> Any: ...


def facet_field(name: str) -> str:
    """The product-level field of a facet: the brand, or the union of the variants' values."""
    return "brand" if name == BRAND else f"attrs.{name}"


def variant_field(name: str) -> str:
    return f"variants.attrs.{name}"


def _bool(filters: list[dict]) -> dict:
    return {"bool": {"filter": filters}} if filters else {"match_all": {}}


def brand_selection(q: Query) -> list[dict]:
    chosen = q.filters.get(BRAND)
    return [{"terms": {"brand": list(chosen)}}] if chosen else []


def variant_conditions(q: Query, skip: str | None = None) -> list[dict]:
    """What one variant must pass (on ``variants.*``): every attribute selection but ``skip``'s,
    the price range and in-stock."""
    out: list[dict] = [
        {"terms": {variant_field(name): list(values)}}
        for name, values in q.filters.items()
        if name not in (BRAND, skip) and values
    ]
    if q.price_min is not None or q.price_max is not None:
        bounds = {}
        if q.price_min is not None:
            bounds["gte"] = int((q.price_min * CENTS).to_integral_value(ROUND_CEILING))
        if q.price_max is not None:
            bounds["lte"] = int((q.price_max * CENTS).to_integral_value(ROUND_FLOOR))
        out.append({"range": {f"variants.price.{q.currency}": bounds}})
    if q.in_stock:
        out.append({"term": {"variants.in_stock": True}})
    return out


def has_variant(conditions: list[dict]) -> list[dict]:
    """A product filter: some variant passes all ``conditions`` (none: no filter)."""
    if not conditions:
        return []
    return [{"nested": {"path": "variants", "query": _bool(conditions), "score_mode": "none"}}]


def selections(q: Query) -> list[dict]:
    """Every selection, as product filters: the brand, and one variant passing the rest."""
    return brand_selection(q) + has_variant(variant_conditions(q))


def base_query(q: Query) -> dict:
    """The product-level conditions: visibility, category, text."""
    filters: list[dict] = [VISIBLE]
    if q.category:
        filters.append({"term": {"category_paths": q.category}})
    body: dict[str, Any] = {"filter": filters}
    if q.text:
        body["must"] = [
            {
                "multi_match": {
                    "query": q.text,
                    "fields": [f"name.{q.locale}^3", f"description.{q.locale}"],
                    # Typos only from four letters on and never in the first letter: "shoo" finds
                    # "shoe", while short stems no longer drift ("jad" matching "jed").
                    "fuzziness": "AUTO:4,7",
                    "prefix_length": 1,
                    "operator": "and",
                }
            }
        ]
    return {"bool": body}


def sort_clause(q: Query) -> list:
    sort = q.sort if q.sort != "relevance" or q.text else "newest"
    tie = {"sku": "asc"}
    if sort == "relevance":
        return [{"_score": "desc"}, tie]
    if sort in ("price_asc", "price_desc"):
        # The cheapest variant that passes the variant-level conditions, in both directions.
        nested: dict[str, Any] = {"path": "variants"}
        conditions = variant_conditions(q)
        if conditions:
            nested["filter"] = _bool(conditions)
        order = "asc" if sort == "price_asc" else "desc"
        field = {"order": order, "mode": "min", "missing": "_last", "unmapped_type": "long", "nested": nested}
        return [{f"variants.price.{q.currency}": field}, tie]
    if sort == "name":
        return [{f"name_sort.{q.locale}": {"order": "asc", "missing": "_first", "unmapped_type": "keyword"}}, tie]
    return [{"created_at": {"order": "desc"}}, tie]


_PRODUCTS: dict[str, Any] = {"products": {"reverse_nested": {}}}  # in a bucket of variants: how many products


def _values_aggs(name: str, chosen: Sequence[str] = ()) -> dict[str, Any]:
    """``top`` (and ``chosen``) terms of facet ``name``: the brand's over products, an attribute's
    over variants, counting products."""
    if name == BRAND:
        aggs: dict[str, Any] = {"top": {"terms": {"field": "brand", "size": MAX_FACET_VALUES, "order": _ORDER}}}
        if chosen:  # their counts even when they are not among the top values
            aggs["chosen"] = {"terms": {"field": "brand", "include": list(chosen), "size": len(chosen)}}
        return aggs
    field = variant_field(name)
    order = [{"products": "desc"}, {"_key": "asc"}]
    aggs = {"top": {"terms": {"field": field, "size": MAX_FACET_VALUES, "order": order}, "aggs": _PRODUCTS}}
    if chosen:
        aggs["chosen"] = {"terms": {"field": field, "include": list(chosen), "size": len(chosen)}, "aggs": _PRODUCTS}
    return aggs


def _variant_facet(q: Query, name: str, chosen: Sequence[str] = ()) -> dict:
    """The variants passing every variant-level condition but ``name``'s, and their values."""
    return {
        "nested": {"path": "variants"},
        "aggs": {"passing": {"filter": _bool(variant_conditions(q, skip=name)), "aggs": _values_aggs(name, chosen)}},
    }


def facet_agg(q: Query, name: str) -> dict:
    """Counts of facet ``name`` under every selection except its own."""
    chosen = q.filters.get(name, ())
    if name == BRAND:
        return {"filter": _bool(has_variant(variant_conditions(q))), "aggs": _values_aggs(name, chosen)}
    return {"filter": _bool(brand_selection(q)), "aggs": {"variants": _variant_facet(q, name, chosen)}}


def main_request(q: Query) -> tuple[dict, list[str]]:
    """The request for the hits, the brand facet, selected attribute facets and attribute names.

    Returns the body and the facet names in the order of their aggregations ``f0``, ``f1``, ..."""
    facets = [BRAND, *sorted(n for n in q.filters if n != BRAND)]
    chosen = selections(q)
    aggs = {f"f{i}": facet_agg(q, name) for i, name in enumerate(facets)}
    aggs["names"] = {
        "filter": _bool(chosen),
        "aggs": {"names": {"terms": {"field": "attr_names", "size": MAX_ATTRIBUTE_FACETS, "order": {"_key": "asc"}}}},
    }
    body: dict[str, Any] = {
        "query": base_query(q),
        "sort": sort_clause(q),
        "from": q.offset,
        "size": q.per_page,
        "track_total_hits": True,
        "_source": False,
        "aggs": aggs,
    }
    if chosen:
        body["post_filter"] = _bool(chosen)
    return body, facets


def names_known_request() -> dict:
    """Every attribute code in the index (for which parameters are facets at all)."""
    return {
        "size": 0,
        "track_total_hits": False,
        "aggs": {
            "names": {
                "filter": {"match_all": {}},
                "aggs": {"names": {"terms": {"field": "attr_names", "size": MAX_KNOWN_NAMES}}},
            }
        },
    }


def attribute_names(response: Answer) -> list[str]:
    return [b["key"] for b in response["aggregations"]["names"]["names"]["buckets"]]


def names_request(q: Query, names: Sequence[str]) -> dict:
    """The facets of attribute names that are not selected: all selections apply to each."""
    query = base_query(q)
    query["bool"]["filter"] = [*query["bool"]["filter"], *selections(q)]
    aggs = {f"f{i}": _variant_facet(q, name) for i, name in enumerate(names)}
    return {"query": query, "size": 0, "track_total_hits": False, "aggs": aggs}


def _count(bucket: Mapping) -> int:
    """Products in a bucket: an attribute's bucket counts them in ``products``."""
    return bucket["products"]["doc_count"] if "products" in bucket else bucket["doc_count"]


def _values(agg: Mapping) -> Mapping:
    """The aggregations holding ``top`` (and ``chosen``) of a facet's aggregation."""
    agg = agg.get("variants", agg)
    return agg.get("passing", agg)


def facet_values(
    top: Iterable[Mapping], chosen_counts: Mapping[str, int], chosen: Sequence[str]
) -> tuple[FacetValue, ...]:
    """Selected values always (count 0 if absent), then the top others, 50 in all; by count, value."""
    counts = {value: chosen_counts.get(value, 0) for value in chosen}
    room = max(MAX_FACET_VALUES - len(counts), 0)
    for bucket in top:
        if room and bucket["key"] not in counts:
            counts[bucket["key"]] = _count(bucket)
            room -= 1
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(FacetValue(value, count, value in chosen) for value, count in ordered)


def facets(
    q: Query, main: Answer, main_names: Sequence[str], extra: Answer | None, extra_names: Sequence[str]
) -> tuple[Facet, ...]:
    found: dict[str, Facet] = {}
    for i, name in enumerate(main_names):
        agg = _values(main["aggregations"][f"f{i}"])
        chosen = q.filters.get(name, ())
        chosen_counts = {b["key"]: _count(b) for b in agg.get("chosen", {}).get("buckets", ())}
        values = facet_values(agg["top"]["buckets"], chosen_counts, chosen)
        if values:
            found[name] = Facet(name, values)
    for i, name in enumerate(extra_names):
        assert extra is not None
        values = facet_values(_values(extra["aggregations"][f"f{i}"])["top"]["buckets"], {}, ())
        if values:
            found[name] = Facet(name, values)
    order = ([BRAND] if BRAND in found else []) + sorted(n for n in found if n != BRAND)
    return tuple(found[n] for n in order)


_WORD_RUN = re.compile(r"\w+")
#: Typed words are compared on their first characters only, as many as the edge n-grams hold.
SUGGEST_WORD = PREFIX_MAX_GRAM


def suggest_request(text: str, locale: str, limit: int) -> dict:
    """Visible products whose SKU starts with ``text`` (case-insensitive) or whose name in
    ``locale`` has, for every typed word, a word starting with it; SKU matches first, then names
    starting with the text, then the others, each group by SKU (the port's ``suggest``).

    Word starts: the edge n-grams of ``name.<locale>.prefix`` (language analysis), or a
    ``prefix`` query per typed word on ``name.<locale>`` for documents without that sub-field (an
    index built without the analysis plugin), so suggestions work against an index of either
    mode. "The name starts with the text" is a prefix of the folded name in ``name_sort``; it
    also counts as a match (the text's words then start words of the name). The groups are
    constant scores (``dis_max``: 2 for the SKU, 1 for the name start, 0 otherwise)."""
    cut = _WORD_RUN.sub(lambda m: m.group()[:SUGGEST_WORD], text)
    words = [w[:SUGGEST_WORD] for w in _WORD_RUN.findall(text.lower())]
    sku = {"prefix": {"sku": {"value": text, "case_insensitive": True}}}
    name_start = {"prefix": {f"name_sort.{locale}": {"value": fold(text)}}}
    prefix_field = f"name.{locale}.prefix"
    matches: list[dict] = [sku]
    if words:
        matches += [
            {"match": {prefix_field: {"query": cut, "operator": "and"}}},
            {
                "bool": {
                    "filter": [{"prefix": {f"name.{locale}": {"value": w, "case_insensitive": True}}} for w in words],
                    "must_not": [{"exists": {"field": prefix_field}}],
                }
            },
            name_start,
        ]
    return {
        "query": {
            "bool": {
                "filter": [VISIBLE, {"bool": {"should": matches, "minimum_should_match": 1}}],
                "should": [
                    {
                        "dis_max": {
                            "queries": [
                                {"constant_score": {"filter": sku, "boost": 2.0}},
                                {"constant_score": {"filter": name_start, "boost": 1.0}},
                            ]
                        }
                    }
                ],
            }
        },
        "sort": [{"_score": "desc"}, {"sku": "asc"}],
        "size": limit,
        "_source": ["name"],
        "track_total_hits": False,
    }
