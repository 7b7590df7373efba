"""Reading the answers of the stored search templates (docs/search-sharing.md, "Reading the
answers"): hits to SKUs, aggregations to facets. The PHP front end reads them the same way.

Aggregation keys: ``brand`` (the brand facet), ``attr:<name>`` (an attribute facet: in the listing
answer for selected names, in the facets answer for the others) and ``names`` (the attribute names
among the matches). A facet's buckets are in ``top`` and, for selected values, ``chosen``; an
attribute facet has them under ``variants`` > ``passing`` and counts products in each bucket's
``products``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from search.documents import BRAND
from search.query import MAX_FACET_VALUES, Facet, FacetValue, Query, Suggestion


class Answer(Protocol):
    """An Elasticsearch answer as read here: a dict, or the client's response object (not a Mapping)."""

    def __getitem__(self, key: str, /) -> Any: ...


def skus(answer: Answer) -> tuple[str, ...]:
    return tuple(hit["_id"] for hit in answer["hits"]["hits"])


def total(answer: Answer) -> int:
    return int(answer["hits"]["total"]["value"])


def attribute_names(answer: Answer) -> list[str]:
    """The names of the ``names`` aggregation (listing and facet-names answers)."""
    return [b["key"] for b in answer["aggregations"]["names"]["names"]["buckets"]]


def unselected_names(q: Query, listing: Answer) -> list[str]:
    """The attribute names among the matches whose facets the second request counts."""
    return [n for n in attribute_names(listing) if n != BRAND and not q.filters.get(n)]


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


def _facet(q: Query, name: str, agg: Mapping) -> Facet | None:
    values_aggs = _values(agg)
    chosen = q.filters.get(name, ())
    chosen_counts = {b["key"]: _count(b) for b in values_aggs.get("chosen", {}).get("buckets", ())}
    values = facet_values(values_aggs["top"]["buckets"], chosen_counts, chosen)
    return Facet(name, values) if values else None


def facets(q: Query, listing: Answer, extra: Answer | None, extra_names: Sequence[str]) -> tuple[Facet, ...]:
    """Brand first, then attributes by name; facets without values left out."""
    found: dict[str, Facet] = {}
    listed = listing["aggregations"]
    sources = [(BRAND, listed["brand"])]
    sources += [(name, listed[f"attr:{name}"]) for name in q.filters if name != BRAND and q.filters[name]]
    if extra is not None:
        sources += [(name, extra["aggregations"][f"attr:{name}"]) for name in extra_names]
    for name, agg in sources:
        facet = _facet(q, name, agg)
        if facet is not None:
            found[name] = facet
    order = ([BRAND] if BRAND in found else []) + sorted(n for n in found if n != BRAND)
    return tuple(found[n] for n in order)


def suggestions(answer: Answer, locale: str) -> list[Suggestion]:
    """Each hit's SKU and its name in ``locale``, else any name it has."""
    out = []
    for hit in answer["hits"]["hits"]:
        names = hit.get("_source", {}).get("name", {})
        out.append(Suggestion(hit["_id"], names.get(locale) or next(iter(names.values()), "")))
    return out
