"""The params of the stored search templates (search/templates/): a parsed query as a flat object.

Everything a query means is in the templates; this only renames and converts: absent parts are
left out (mustache sections test presence), prices become cents, the sort a flag. The PHP front
end builds the same objects (docs/search-sharing.md, tests/fixtures/search_vectors.json).
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from search.documents import BRAND, fold
from search.elastic_mapping import CENTS, PREFIX_MAX_GRAM
from search.query import Query

_WORD_RUN = re.compile(r"\w+")
#: Typed words are compared on their first characters only, as many as the edge n-grams hold.
SUGGEST_WORD = PREFIX_MAX_GRAM


def _cents(amount: Decimal, rounding: str) -> int:
    return int((amount * CENTS).to_integral_value(rounding))


def attribute_selections(q: Query) -> list[dict[str, Any]]:
    """The selected attribute facets by name, each with the other selected attributes (its
    facet's counts apply every selection but its own)."""
    chosen = [(name, list(values)) for name, values in sorted(q.filters.items()) if name != BRAND and values]
    return [
        {"name": name, "values": values, "others": [{"name": n, "values": v} for n, v in chosen if n != name]}
        for name, values in chosen
    ]


def listing_params(q: Query) -> dict[str, Any]:
    """Params of ``snipshop-listing-v1`` (and, with ``facet_names``, of the facets template)."""
    params: dict[str, Any] = {"locale": q.locale, "currency": q.currency}
    if q.text:
        params["text"] = q.text
    if q.category:
        params["category"] = q.category
    brands = q.filters.get(BRAND)
    if brands:
        params["brand"] = {"values": list(brands)}
    attributes = attribute_selections(q)
    if attributes:
        params["attributes"] = attributes
    price: dict[str, int] = {}
    if q.price_min is not None:
        price["gte"] = _cents(q.price_min, ROUND_CEILING)
    if q.price_max is not None:
        price["lte"] = _cents(q.price_max, ROUND_FLOOR)
    if price:
        params["price"] = price
    if q.in_stock:
        params["in_stock"] = True
    if attributes or price or q.in_stock:
        params["variant_filter"] = True
    params[f"sort_{q.sort}"] = True
    params["from"] = q.offset
    params["size"] = q.per_page
    return params


def facets_params(listing: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """Params of ``snipshop-listing-facets-v1``: the listing's plus the names to count."""
    return {**listing, "facet_names": list(names)}


def suggest_params(text: str, locale: str, limit: int) -> dict[str, Any]:
    """Params of ``snipshop-suggest-v1`` for a stripped, cut, non-empty ``text`` and a clamped
    ``limit``. ``words``: the text with every word cut to its first 20 characters (for the edge
    n-grams) and the lower-cased words so cut (for indices without them)."""
    params: dict[str, Any] = {"locale": locale, "text": text, "name_start": fold(text), "size": limit}
    prefixes = [w[:SUGGEST_WORD] for w in _WORD_RUN.findall(text.lower())]
    if prefixes:
        cut = _WORD_RUN.sub(lambda m: m.group()[:SUGGEST_WORD], text)
        params["words"] = {"cut": cut, "prefixes": prefixes}
    return params
