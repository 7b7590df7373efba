"""The Elasticsearch index: settings and mapping of one generation, and documents as sources.

Two analysis modes, chosen when an index is created (see docs/search-elasticsearch.md):

* **language analysis** (the analysis plugin is installed): per-locale analyzers (``en`` stems
  with the English stemmer, ``de`` normalizes umlauts and stems with ``light_german``, every other
  language folds accents) and an edge-n-gram subfield ``name.<locale>.prefix`` for suggestions;
* **fallback** (the minimal distribution, no ``analysis-common``): ``standard`` everywhere, no
  prefix subfield (suggestions use a ``prefix`` query per typed word on ``name.<locale>``).

The name sort key does not depend on the mode: it is computed in Python (:func:`sort_key`).

Attributes are a ``flattened`` field (``attrs.<name>`` is a keyword for term queries and terms
aggregations, one mapping entry however many names there are) plus ``attr_names``, the names a
product has, which is how a query finds the attribute facets among its matches.

What a shopper buys is a **variant** (docs/variants.md): every product has ``variants``, nested
documents, one per sellable (a simple product is one), each with its effective attribute values
(the product's, each option replacing its name's values), its prices and whether it is in stock.
Attribute selections, the price range and in-stock are conditions on one variant at once.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from elasticsearch import ApiError, Elasticsearch

from search.documents import SearchDocument, name_sort_key

#: Bumped when the mapping changes incompatibly; recorded in the index's ``_meta``.
SCHEMA = 2
CENTS = Decimal(100)
PREFIX_MAX_GRAM = 20
SORT_KEY_MAX = 2000  # characters; a keyword term must stay under 32 766 bytes

_EDGE = {"type": "edge_ngram", "min_gram": 1, "max_gram": PREFIX_MAX_GRAM}
_STEM_EN = {"type": "stemmer", "language": "english"}
_STEM_DE = {"type": "stemmer", "language": "light_german"}


def language_of(locale: str) -> str:
    """``de_DE`` -> ``de``."""
    return locale.replace("-", "_").split("_")[0].lower()


def text_analyzer(locale: str, language_analysis: bool) -> str:
    if not language_analysis:
        return "standard"
    return {"en": "shop_text_en", "de": "shop_text_de"}.get(language_of(locale), "shop_text_folded")


def _analysis(language_analysis: bool) -> dict:
    if not language_analysis:
        return {}
    return {
        "filter": {"shop_stem_en": _STEM_EN, "shop_stem_de": _STEM_DE, "shop_edge": _EDGE},
        "analyzer": {
            "shop_text_en": {"tokenizer": "standard", "filter": ["lowercase", "asciifolding", "shop_stem_en"]},
            # german_normalization folds umlauts and ß; asciifolding then takes the other accents
            # before stemming, so "Café" and "cafe" reach the stemmer as the same word.
            "shop_text_de": {
                "tokenizer": "standard",
                "filter": ["lowercase", "german_normalization", "asciifolding", "shop_stem_de"],
            },
            "shop_text_folded": {"tokenizer": "standard", "filter": ["lowercase", "asciifolding"]},
            "shop_prefix_index": {"tokenizer": "standard", "filter": ["lowercase", "asciifolding", "shop_edge"]},
            "shop_prefix_search": {"tokenizer": "standard", "filter": ["lowercase", "asciifolding"]},
        },
    }


def _name_field(locale: str, language_analysis: bool) -> dict:
    field: dict[str, object] = {"type": "text", "analyzer": text_analyzer(locale, language_analysis)}
    if language_analysis:
        field["fields"] = {
            "prefix": {
                "type": "text",
                "analyzer": "shop_prefix_index",
                "search_analyzer": "shop_prefix_search",
                "index_options": "docs",
            }
        }
    return field


def sort_key(name: str | None) -> str:
    """The shared name sort key (:func:`search.documents.name_sort_key`), cut to what a keyword
    holds. Computed here rather than by a normalizer, which could not reproduce it (Lucene's
    asciifolding also folds ``ø`` to ``o``)."""
    return name_sort_key(name)[:SORT_KEY_MAX]


def replica_settings(replicas: str) -> dict:
    """Index settings for ``ELASTICSEARCH_REPLICAS`` (snipshop/config.py): a range such as ``0-1``
    is an ``auto_expand_replicas`` (as many replicas as the other nodes allow, within it), a
    number a fixed ``number_of_replicas``."""
    if "-" in replicas:
        return {"auto_expand_replicas": replicas}
    return {"number_of_replicas": int(replicas), "auto_expand_replicas": False}


#: Settings of a generation while a rebuild fills it in bulk (``ensure_generation(bulk=True)``):
#: no periodic refresh (each one writes a small segment that merges then rewrite) and the
#: translog synced in the background rather than on every bulk request. Nobody queries a
#: generation before it is switched to, and a rebuild that fails midway deletes it.
BULK_LOAD_SETTINGS = {"refresh_interval": "-1", "translog.durability": "async"}
#: What :meth:`ElasticIndex.compact` puts back before the generation can go live: the defaults.
SERVING_SETTINGS = {"refresh_interval": None, "translog.durability": None}


def index_body(
    locales: Sequence[str],
    currencies: Sequence[str],
    language_analysis: bool,
    replicas: str = "0-1",
    bulk: bool = False,
) -> dict:
    """``settings`` and ``mappings`` for :meth:`indices.create` of one generation (``bulk``: one
    a rebuild fills, :data:`BULK_LOAD_SETTINGS`)."""
    settings = {
        # A product catalogue fits one shard; exact facet counts need no shard_size tuning.
        "number_of_shards": 1,
        # With the default 0-1, a cluster of two or more nodes keeps a copy of every document on
        # a second node: one node's loss loses nothing (tests/faults/test_elasticsearch_node_loss.py).
        **replica_settings(replicas),
        **(BULK_LOAD_SETTINGS if bulk else {}),
        "analysis": _analysis(language_analysis),
    }
    mappings = {
        "dynamic": "strict",
        "_meta": {"schema": SCHEMA, "language_analysis": language_analysis},
        "properties": {
            "sku": {"type": "keyword"},
            "visible": {"type": "boolean"},
            "created_at": {"type": "date", "format": "epoch_second"},
            "brand": {"type": "keyword"},
            "category_paths": {"type": "keyword"},
            "attr_names": {"type": "keyword"},
            "attrs": {"type": "flattened"},
            "name": {"properties": {loc: _name_field(loc, language_analysis) for loc in locales}},
            # name_sort_key(name), "" without a name (sorts first, like the reference)
            "name_sort": {"properties": {loc: {"type": "keyword"} for loc in locales}},
            "description": {
                "properties": {
                    loc: {"type": "text", "analyzer": text_analyzer(loc, language_analysis)} for loc in locales
                }
            },
            # In cents: scaled_float is in mapper-extras, which the minimal distribution lacks.
            "price": {"properties": {cur: {"type": "long"} for cur in currencies}},
            "availability": {"type": "keyword"},
            "in_stock": {"type": "boolean"},
            # What is sold: the variants, or a simple product as one (SearchDocument.sellables).
            "variants": {
                "type": "nested",
                "properties": {
                    "attrs": {"type": "flattened"},
                    "price": {"properties": {cur: {"type": "long"} for cur in currencies}},
                    "in_stock": {"type": "boolean"},
                },
            },
        },
    }
    return {"settings": settings, "mappings": mappings}


def cents(amount: Decimal) -> int:
    return int((amount * CENTS).to_integral_value(ROUND_HALF_UP))


def _attrs(values: dict[str, tuple[str, ...]]) -> dict[str, list[str]]:
    """Attribute values as indexed: empty values and names without values dropped."""
    kept = {name: list(dict.fromkeys(v for v in vs if v)) for name, vs in values.items()}
    return {name: vs for name, vs in kept.items() if vs}


def document_source(doc: SearchDocument, locales: Sequence[str], currencies: Sequence[str]) -> dict:
    """The indexed ``_source``; locales and currencies the index was not built for are dropped.

    ``attrs`` and ``attr_names`` hold the values of all the product's sellables (what its facets
    list); ``price`` the cheapest, ``in_stock`` whether any is."""
    variants = []
    attrs: dict[str, list[str]] = {}
    for sellable in doc.sellables():
        values = _attrs(doc.values(sellable))
        for name, vs in values.items():
            attrs[name] = list(dict.fromkeys([*attrs.get(name, ()), *vs]))
        prices = {cur: cents(amount) for cur, amount in sellable.prices.items() if cur in currencies}
        variants.append({"attrs": values, "price": prices, "in_stock": sellable.in_stock})
    source = {
        "sku": doc.sku,
        "visible": doc.visible,
        "created_at": doc.created_at,
        "category_paths": list(doc.category_paths),
        "attr_names": sorted(attrs),
        "attrs": attrs,
        "name": {loc: text for loc, text in doc.names.items() if loc in locales},
        "name_sort": {loc: sort_key(doc.names.get(loc)) for loc in locales},
        "description": {loc: text for loc, text in doc.descriptions.items() if loc in locales},
        "price": {cur: cents(amount) for cur, amount in doc.prices.items() if cur in currencies},
        "availability": doc.availability,
        "in_stock": doc.in_stock,
        "variants": variants,
    }
    if doc.brand:
        source["brand"] = doc.brand
    return source


# ---------------------------------------------------------------------------------------------
# Is language analysis available? Asked once per process and cluster.

_PROBES = (
    {"analyzer": "english", "text": "running"},
    {
        "tokenizer": "standard",
        "text": "Häuser Crème",
        "filter": ["lowercase", "german_normalization", _STEM_DE, _STEM_EN, "asciifolding", _EDGE],
    },
)
_supported: dict[tuple[str, ...], bool] = {}
_lock = threading.Lock()


def _cluster_key(client: Elasticsearch) -> tuple[str, ...]:
    return tuple(sorted(str(node.base_url) for node in client.transport.node_pool.all()))


def language_analysis_supported(client: Elasticsearch) -> bool:
    """True when the server has the analyzers and filters :func:`index_body` uses.

    An unknown analyzer or filter is a 400 from ``indices.analyze``; connection errors propagate
    (and are not cached)."""
    key = _cluster_key(client)
    with _lock:
        if key in _supported:
            return _supported[key]
    try:
        for probe in _PROBES:
            client.indices.analyze(**probe)
        answer = True
    except ApiError as e:
        if e.meta.status != 400:
            raise
        answer = False
    with _lock:
        _supported[key] = answer
    return answer
