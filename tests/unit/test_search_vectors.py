"""tests/fixtures/search_vectors.json is what the Python builders produce, exactly.

The file holds the search inputs both front ends build (docs/search-sharing.md): the params of
the stored search templates, the KEYS and ARGV of the embedded index's query script, the scripts'
SHA1s and the text analysis, for a set of shopper requests. The PHP unit tests check the PHP
builders against the same file, so the two cannot drift apart; this test keeps the file current.

After a deliberate change: ``.venv/bin/python -m tests.unit.test_search_vectors --write``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from search.documents import fold, name_sort_key
from search.elastic_params import facets_params, listing_params, suggest_params
from search.elastic_templates import TEMPLATES
from search.embedded_query import Lookup, plan
from search.embedded_scripts import SCRIPT_FILES, script_sha
from search.embedded_text import terms, typed_words, words
from search.query import Query, parse
from vocab.keys import KeyScheme

FILE = Path(__file__).resolve().parent.parent / "fixtures" / "search_vectors.json"
FACET_NAMES = ["brand", "color", "material", "size"]
PREFIX = "ss"
GENERATION = 3
NONCE = "0123456789ab"
#: What the lookup found in the index: facet values, and whether there are products with variants.
REGISTRY = {
    "brand": ["Acme", "Zeta"],
    "color": ["Blue", "Crème", "Green", "Red"],
    "material": ["Cotton", "Wool"],
    "size": ["L", "M", "S"],
}

#: (name, shopper parameters, locale, currency, category)
REQUESTS: list[tuple[str, dict[str, list[str]], str, str, str | None]] = [
    ("category, default sort", {}, "en_US", "EUR", "men-shoes"),
    (
        "several options, price range, in stock, price ascending, page 2",
        {
            "brand": ["Zeta", "Acme"],
            "color": ["Red", "Blue"],
            "size": ["M"],
            "price": ["10-49.999"],
            "in_stock": ["1"],
            "sort": ["price_asc"],
            "page": ["2"],
        },
        "en_US",
        "EUR",
        "men-shoes",
    ),
    ("minimum price only, price descending", {"price": ["20-"], "sort": ["price_desc"]}, "en_US", "USD", "women"),
    ("maximum price only, name order", {"price": ["-99.5"], "sort": ["name"]}, "de_DE", "EUR", "women"),
    ("brand only, newest", {"brand": ["Acme"], "sort": ["newest"]}, "en_US", "EUR", None),
    ("in stock only", {"in_stock": ["1"]}, "en_US", "EUR", "men-shoes"),
    (
        "one option, three values, name order",
        {"color": ["Red", "Crème", "Green"], "sort": ["name"]},
        "en_US",
        "EUR",
        None,
    ),
    ("text en_US, relevance", {"q": ["Running Shoes"]}, "en_US", "EUR", None),
    (
        "text de_DE with an option, newest, 48 per page, page 3",
        {"q": ["Häuser Schuhe"], "material": ["Wool"], "sort": ["newest"], "per_page": ["48"], "page": ["3"]},
        "de_DE",
        "EUR",
        None,
    ),
    (
        "text with quotes and backslashes, price ascending",
        {"q": ['men\'s "red" \\ shoe'], "size": ["L", "S"], "sort": ["price_asc"]},
        "en_US",
        "EUR",
        None,
    ),
    (
        "unknown sort and parameters ignored",
        {"sort": ["cheapest"], "utm_source": ["x"], "colour": ["Red"]},
        "en_US",
        "EUR",
        "women",
    ),
]

#: (text as typed, locale, limit)
SUGGESTIONS = [
    ("jac", "en_US", 8),
    ("  Juno Jac  ", "en_US", 8),
    ("MS-01", "en_US", 5),
    ("Häuser sch", "de_DE", 8),
    ("Crème É", "fr_FR", 20),
    ("Superkalifragilistischexpialigetisch sup", "de_DE", 8),
    ('"quoted" \\', "en_US", 1),
]

TEXTS = [
    ("Running Shoes for runners", "en_US"),
    ("Häuser und Schuhe an der Straße", "de_DE"),
    ("Chaussures élégantes, crème brûlée", "fr_FR"),
    ("Crème Écru naïve façade", "en_US"),
    ("ランニング靴 Glide 跑步鞋", "ja_JP"),
    ("Кроссовки Nova", "ru_RU"),
    ("Παπούτσια", "el_GR"),
    ("men's 2.5 x_y ABC123 ½", "en_US"),
]


def query_json(q: Query) -> dict[str, Any]:
    """A parsed query as JSON: decimals as strings, absent values as null."""
    return {
        "locale": q.locale,
        "currency": q.currency,
        "text": q.text,
        "category": q.category,
        "filters": {name: list(values) for name, values in q.filters.items()},
        "price_min": None if q.price_min is None else str(q.price_min),
        "price_max": None if q.price_max is None else str(q.price_max),
        "in_stock": q.in_stock,
        "sort": q.sort,
        "page": q.page,
        "per_page": q.per_page,
        "past_window": q.past_window,
    }


def _lookup(q: Query, with_variants: bool) -> Lookup:
    stems = [[t.stem] for t in terms(q.text, q.locale)[:16]]
    return Lookup({name: set(values) for name, values in REGISTRY.items()}, stems, with_variants)


def _embedded(q: Query, with_variants: bool) -> dict[str, Any]:
    lookup = _lookup(q, with_variants)
    p = plan(q, lookup, KeyScheme(PREFIX), GENERATION, NONCE)
    return {
        "lookup": {"registry": REGISTRY, "stems": lookup.stems, "with_variants": with_variants},
        "keys": p.keys,
        "argv": [json.loads(p.argv)],
    }


def build() -> dict[str, Any]:
    listings = []
    for name, args, locale, currency, category in REQUESTS:
        q = parse(args, locale=locale, currency=currency, facet_names=FACET_NAMES, category=category)
        params = listing_params(q)
        listings.append(
            {
                "name": name,
                "request": {"args": args, "locale": locale, "currency": currency, "category": category},
                "query": query_json(q),
                "params": params,
                "facets_params": facets_params(params, ["material", "size"]),
                "embedded": _embedded(q, with_variants=False),
                "embedded_with_variants": _embedded(q, with_variants=True),
            }
        )
    suggestions = []
    for text, locale, limit in SUGGESTIONS:
        stripped = text.strip()[:100]
        suggestions.append(
            {
                "text": text,
                "locale": locale,
                "limit": limit,
                "params": suggest_params(stripped, locale, min(max(limit, 1), 20)),
            }
        )
    analysis = [
        {
            "text": text,
            "locale": locale,
            "fold": fold(text),
            "name_sort_key": name_sort_key(text),
            "words": words(text),
            "terms": [[t.surface, t.stem] for t in terms(text, locale)],
            "typed_words": typed_words(text),
        }
        for text, locale in TEXTS
    ]
    return {
        "about": "Search inputs both front ends build; see docs/search-sharing.md. Generated by "
        "tests/unit/test_search_vectors.py (--write); do not edit by hand.",
        "facet_names": FACET_NAMES,
        "elasticsearch": {"templates": list(TEMPLATES), "listings": listings, "suggestions": suggestions},
        "embedded": {
            "prefix": PREFIX,
            "generation": GENERATION,
            "nonce": NONCE,
            "scripts": {
                name: {"files": [f"search/{f}" for f in fs], "sha1": script_sha(name)}
                for name, fs in SCRIPT_FILES.items()
            },
        },
        "text_analysis": analysis,
    }


def _normal(data: Any) -> Any:
    """As JSON reads it back (tuples become lists)."""
    return json.loads(json.dumps(data, ensure_ascii=False))


def test_the_committed_vectors_are_what_the_builders_produce():
    committed = json.loads(FILE.read_text(encoding="utf-8"))
    assert committed == _normal(build()), "stale: run .venv/bin/python -m tests.unit.test_search_vectors --write"


def test_the_vectors_cover_every_sort_and_the_parts_of_a_query():
    listings = json.loads(FILE.read_text(encoding="utf-8"))["elasticsearch"]["listings"]
    params = [case["params"] for case in listings]
    for sort in ("relevance", "price_asc", "price_desc", "name", "newest"):
        assert any(p.get(f"sort_{sort}") for p in params), sort
    for key in ("text", "category", "brand", "attributes", "price", "in_stock", "variant_filter"):
        assert any(key in p for p in params), key
    assert any(len(p.get("attributes", ())) > 1 for p in params)  # several options at once
    assert {p["locale"] for p in params if "text" in p} >= {"en_US", "de_DE"}
    assert any(p["from"] > 0 for p in params)


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        FILE.write_text(json.dumps(_normal(build()), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {FILE}")
    else:
        print(json.dumps(_normal(build()), ensure_ascii=False, indent=1))
