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

from search import elastic_answers
from search.documents import fold, name_sort_key
from search.elastic_params import facets_params, listing_params, suggest_params
from search.elastic_templates import TEMPLATES
from search.embedded_query import Lookup, plan
from search.embedded_scripts import SCRIPT_FILES, script_sha
from search.embedded_text import terms, typed_words, words
from search.query import Query, Result, parse
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


def result_json(result: Result) -> dict[str, Any]:
    return {
        "skus": list(result.skus),
        "total": result.total,
        "facets": [
            {"name": f.name, "values": [[v.value, v.count, v.selected] for v in f.values]} for f in result.facets
        ],
    }


def _bucket(key: str, count: int, products: bool) -> dict[str, Any]:
    bucket: dict[str, Any] = {"key": key, "doc_count": count * 3 if products else count}
    if products:
        bucket["products"] = {"doc_count": count}
    return bucket


def _attribute_agg(top: list[tuple[str, int]], chosen: list[tuple[str, int]] | None) -> dict[str, Any]:
    passing: dict[str, Any] = {"doc_count": 99, "top": {"buckets": [_bucket(k, c, True) for k, c in top]}}
    if chosen is not None:
        passing["chosen"] = {"buckets": [_bucket(k, c, True) for k, c in chosen]}
    return {"doc_count": 40, "variants": {"doc_count": 120, "passing": passing}}


def answer_cases() -> list[dict[str, Any]]:
    """Elasticsearch answers (made up, in the shape the templates give) and the result read from
    them: selected values outside the top and without matches, the cap of 50 values, counts of
    products, an attribute facet without values, the facets of the second request."""
    args = {"brand": ["Acme", "Nobody"], "color": ["Red"], "sort": ["price_asc"]}
    q = parse(args, locale="en_US", currency="EUR", facet_names=FACET_NAMES, category="men-shoes")
    many = [(f"Brand {i:02d}", 60 - i) for i in range(55)]
    listing = {
        "hits": {"total": {"value": 57, "relation": "eq"}, "hits": [{"_id": "MS-01"}, {"_id": "MS-07"}]},
        "aggregations": {
            "brand": {
                "doc_count": 80,
                "top": {"buckets": [{"key": k, "doc_count": c} for k, c in many]},
                "chosen": {"buckets": [{"key": "Acme", "doc_count": 3}]},
            },
            "attr:color": _attribute_agg([("Blue", 9), ("Red", 9), ("Crème", 12)], [("Red", 9)]),
            "names": {
                "doc_count": 57,
                "names": {"buckets": [{"key": n, "doc_count": 5} for n in ("color", "material", "size")]},
            },
        },
    }
    names = elastic_answers.unselected_names(q, listing)
    extra = {
        "hits": {"total": {"value": 0, "relation": "eq"}, "hits": []},
        "aggregations": {
            "attr:material": _attribute_agg([], None),
            "attr:size": _attribute_agg([("M", 4), ("L", 4), ("S", 1)], None),
            "none": {"doc_count": 0},
        },
    }
    result = Result(
        elastic_answers.skus(listing),
        elastic_answers.total(listing),
        elastic_answers.facets(q, listing, extra, names),
    )
    suggest = {
        "hits": {
            "hits": [
                {"_id": "JJ-1", "_source": {"name": {"en_US": "Juno Jacket", "de_DE": "Juno Jacke"}}},
                {"_id": "JJ-2", "_source": {"name": {"de_DE": "Nur deutsch", "fr_FR": "Seulement"}}},
                {"_id": "JJ-3", "_source": {}},
            ]
        }
    }
    suggestions = [[s.sku, s.name] for s in elastic_answers.suggestions(suggest, "en_US")]
    return [
        {
            "request": {"args": args, "locale": "en_US", "currency": "EUR", "category": "men-shoes"},
            "query": query_json(q),
            "listing_answer": listing,
            "facet_names": names,
            "facets_answer": extra,
            "result": result_json(result),
            "suggest_answer": suggest,
            "suggestions": suggestions,
        }
    ]


def reply_cases() -> list[dict[str, Any]]:
    """Replies of the query script (made up, in its shape) and the result read from them, for a
    name order (names to sort the window by) and a price order (scores with a sign)."""
    out = []
    for sort in ("name", "price_desc"):
        args = {"color": ["Red"], "sort": [sort], "page": ["2"], "per_page": ["2"]}
        q = parse(args, locale="en_US", currency="EUR", facet_names=FACET_NAMES)
        p = plan(q, _lookup(q, False), KeyScheme(PREFIX), GENERATION, NONCE)
        values = ["Zebra Boot", "apple shoe", "Äpfel Schuh", "Boot"] if sort == "name" else ["30", "12.5", "30", "7"]
        counts = [[(i * 7 + j * 3) % 5 for j, _ in enumerate(vals)] for i, (_, vals) in enumerate(p.facets)]
        window, tail, sign = ["D-4", "A-1", "C-3", "B-2"], ["T-9"], -1 if sort == "price_desc" else 1
        reply = [9, window, values, 1, sign, tail, counts]
        encoded = [
            9,
            [s.encode() for s in window],
            [v.encode() for v in values],
            1,
            sign,
            [s.encode() for s in tail],
            counts,
        ]
        out.append(
            {
                "request": {"args": args, "locale": "en_US", "currency": "EUR", "category": None},
                "query": query_json(q),
                "facets": [[name, values] for name, values in p.facets],
                "names": "names" in p.spec,
                "reply": reply,
                "result": result_json(p.result(encoded)),
            }
        )
    return out


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
        "elasticsearch": {
            "templates": list(TEMPLATES),
            "listings": listings,
            "suggestions": suggestions,
            "answers": answer_cases(),
        },
        "embedded": {
            "prefix": PREFIX,
            "generation": GENERATION,
            "nonce": NONCE,
            "replies": reply_cases(),
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
