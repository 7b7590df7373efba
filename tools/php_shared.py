"""The PHP front end's copy of the Python tables it shares with the edge, generated, never edited.

The words of the pages (vocab/i18n.py), the limits of a query (search/query.py), the key scheme's
constants (vocab/keys.py), the headers and the read-repair script of the edge (web/edge/*) and
the text analysis of the embedded index (search/embedded_text.py) have one source: these Python
modules. ``python -m tools.php_shared`` writes them to ``frontend_php_compat/shared/shared.php``,
a PHP file returning one array (opcache keeps it compiled, so a request parses nothing), and
tests/unit/test_php_shared.py fails when the committed file is not what the tables give.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import tempfile
from importlib.util import find_spec
from pathlib import Path

from search import (
    elastic_mapping,
    elastic_params,
    elastic_templates,
    embedded,
    embedded_docs,
    embedded_query,
    embedded_scripts,
    embedded_text,
    query,
)
from vocab import canary_stats, i18n, keys, money, repair_entries
from web import revision
from web.edge import context, listing, listing_pages, page_responses, personalize, repair_requests, shopper_buckets

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "frontend_php_compat" / "shared" / "shared.php"
#: The Snowball stems of every word of the demo catalog, as the Python side computes them: the
#: PHP unit tests compare the C library's stems with them (frontend_php_compat/tests/StemmerTest.php).
STEMS = ROOT / "frontend_php_compat" / "tests" / "fixtures" / "stems.json"


def _unanchored(pattern: str) -> str:
    """A Python pattern for a whole match, without its ``^``/``$`` (PHP adds ``\\A``/``\\z``)."""
    return pattern.removeprefix("^").removesuffix("$")


def tables() -> dict[str, object]:
    """Everything the PHP side reads, by section."""
    return {
        "messages": i18n.MESSAGES,
        "attribute_names": i18n.ATTRIBUTE_NAMES,
        "unavailable_parts": repair_requests.UNAVAILABLE,
        "query": {
            "sorts": list(query.SORTS),
            "max_per_page": query.MAX_PER_PAGE,
            "default_per_page": query.DEFAULT_PER_PAGE,
            "max_result_window": query.MAX_RESULT_WINDOW,
            "max_facet_values": query.MAX_FACET_VALUES,
            "max_filtered_facets": query.MAX_FILTERED_FACETS,
            "max_selected_values": query.MAX_SELECTED_VALUES,
            "max_value_length": query.MAX_VALUE_LENGTH,
            "max_text": query.MAX_TEXT,
            "max_words": query.MAX_WORDS,
            "max_query_string": query.MAX_QUERY_STRING,
            "reserved": sorted(query.RESERVED),
            "money_pattern": money.MONEY_PATTERN,
        },
        "keys": {
            "shop_wide": keys.SHOP_WIDE,
            "field": keys.FIELD,
            "slot": keys.SLOT,
            "var_open": keys.VAR_OPEN,
            "var_pattern": keys.VAR_RE.pattern,
            "label_open": keys.LABEL_OPEN,
            "label_pattern": keys.LABEL_RE.pattern,
            "sku_pattern": _unanchored(keys.SKU_RE.pattern),
            "category_key_pattern": _unanchored(keys.CATEGORY_KEY_RE.pattern),
            "kinds": [kind.value for kind in keys.Kind],
            "per_currency": sorted(kind.value for kind in keys.Kind if kind.per_currency),
            "shop_wide_kinds": sorted(kind.value for kind in keys.SHOP_WIDE_KINDS),
            "product_page_kinds": [kind.value for kind in keys.PRODUCT_PAGE_KINDS],
            "tile_kinds": [kind.value for kind in keys.TILE_KINDS],
            "variant_kinds": [kind.value for kind in keys.VARIANT_KINDS],
        },
        "repair": {
            "window_seconds": repair_requests.WINDOW_SECONDS,
            "max_pending": repair_requests.MAX_PENDING,
            "script": repair_requests.REQUEST,
            "product": repair_entries.PRODUCT,
            "navigation": repair_entries.NAVIGATION,
            "home": repair_entries.HOME,
            "labels": repair_entries.LABELS,
        },
        "responses": {
            "html": page_responses.HTML,
            "public": page_responses.PUBLIC,
            "retry_after": page_responses.RETRY_AFTER,
            "retry_after_repair": page_responses.RETRY_AFTER_REPAIR,
            "security_headers": page_responses.SECURITY_HEADERS,
            "cookie_max_age": context.COOKIE_MAX_AGE,
        },
        "canary": {
            "cookie": shopper_buckets.COOKIE,
            "buckets": shopper_buckets.BUCKETS,
            "cookie_max_age": shopper_buckets.COOKIE_MAX_AGE,
            "not_pages": list(shopper_buckets.NOT_PAGES),
            "latency_bounds_ms": list(canary_stats.LATENCY_BOUNDS_MS),
            "stats_ttl_seconds": canary_stats.STATS_TTL_SECONDS,
        },
        "trace": {
            "request_id_pattern": revision.SANE_REQUEST_ID.pattern,
            "request_id_bytes": revision.REQUEST_ID_BYTES,
        },
        "personalize": {
            "max_name": personalize.MAX_NAME,
            "cart_count_pattern": personalize.CART_COUNT.pattern,
            "personal": list(personalize.PERSONAL),
        },
        "listing": {
            "page_window": listing.PAGE_WINDOW,
            "facet_visible": listing.FACET_VISIBLE,
            "fold_at_least": listing.FOLD_AT_LEAST,
            "suggest_limit": listing_pages.SUGGEST_LIMIT,
            "option_prefix": "opt.",
        },
        "embedded": {
            "max_query_terms": embedded.MAX_QUERY_TERMS,
            "max_suggest_text": embedded.MAX_SUGGEST_TEXT,
            "max_suggestions": embedded.MAX_SUGGESTIONS,
            "suggest_candidates": embedded.SUGGEST_CANDIDATES,
            "max_expansions": embedded_query.MAX_EXPANSIONS,
            "min_prefix": embedded_query.MIN_PREFIX,
            "sorts": {name: list(spec) for name, spec in embedded_query._SORTS.items()},
            "facet_sep": embedded_docs.FACET_SEP,
            "lex_sep": embedded_docs.LEX_SEP,
            "query_scripts": [Path(f).name for f in embedded_scripts.SCRIPT_FILES["query"]],
            # The query script's source and SHA1, so a search reads no file and hashes nothing.
            "query_source": embedded_scripts.script_source("query"),
            "query_sha1": embedded_scripts.script_sha("query"),
        },
        "elasticsearch": {
            "listing": elastic_templates.LISTING,
            "listing_facets": elastic_templates.LISTING_FACETS,
            "facet_names": elastic_templates.FACET_NAMES,
            "suggest": elastic_templates.SUGGEST,
            "templates": list(elastic_templates.TEMPLATES),
            "cents": int(elastic_mapping.CENTS),
            "suggest_word": elastic_params.SUGGEST_WORD,
        },
        "text": {
            "snowball": embedded_text.SNOWBALL,
            "cjk": embedded_text.CJK,
            "max_word": embedded_text.MAX_WORD,
            "suggest_word": embedded_text.SUGGEST_WORD,
        },
    }


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def php_literal(value: object, indent: str = "") -> str:
    """``value`` (dicts, lists, strings, numbers, booleans, None) as a PHP expression."""
    inner = indent + "    "
    if isinstance(value, dict):
        items = "".join(f"{inner}{php_literal(str(k))} => {php_literal(v, inner)},\n" for k, v in value.items())
        return f"[\n{items}{indent}]" if value else "[]"
    if isinstance(value, list | tuple):
        items = "".join(f"{inner}{php_literal(v, inner)},\n" for v in value)
        return f"[\n{items}{indent}]" if value else "[]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        if not _CONTROL.search(value):
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        text = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
        return '"' + _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text) + '"'
    raise TypeError(f"no PHP literal for {type(value).__name__}")


def render() -> str:
    return (
        "<?php\n"
        "// Generated by `python -m tools.php_shared` from the Python tables; do not edit.\n"
        "// tests/unit/test_php_shared.py fails when this file is stale.\n\n"
        f"return {php_literal(tables())};\n"
    )


def stem_vectors(feed: Path) -> dict[str, object]:
    """Words with their Snowball stems as the Python side computes them: every word of the names
    and descriptions of ``feed``/products.csv (the demo catalog converted by
    tools.magento_to_feed) per locale of the feed, and for every algorithm of the index a sample
    built from the algorithm's own suffix table (each suffix alone and after a few stems), so
    every rule of every language is exercised."""
    with (feed / "products.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    locales = sorted({c.partition(".")[2] for c in rows[0] if c.startswith(("name.", "description."))})
    catalog: dict[str, object] = {}
    for locale in locales:
        algorithm = embedded_text.stemmer_for(locale)
        words: set[str] = set()
        for row in rows:
            for column in (f"name.{locale}", f"description.{locale}"):
                words.update(embedded_text.words(row.get(column) or ""))
        stemmed = sorted(w for w in words if len(w) >= 3 and w.isalpha())
        catalog[locale] = {"algorithm": algorithm, "stems": {w: embedded_text.stem(w, algorithm) for w in stemmed}}
    samples: dict[str, dict[str, str]] = {}
    for algorithm in sorted(set(embedded_text.SNOWBALL.values())):
        suffixes = _suffixes(algorithm)
        sample = {s for s in suffixes if len(s) >= 3} | {base + s for base in SAMPLE_STEMS for s in suffixes}
        samples[algorithm] = {w: embedded_text.stem(w, algorithm) for w in sorted(sample) if w.isalpha()}
    return {"catalog": catalog, "algorithms": samples}


#: Stems the suffixes of every algorithm are put after (Latin, and Cyrillic for Russian).
SAMPLE_STEMS = ("kat", "spel", "lavor", "huon", "ставк")


def _suffixes(algorithm: str) -> list[str]:
    """The strings of the algorithm's suffix tables (the Among entries of its generated source)."""
    spec = find_spec(f"snowballstemmer.{algorithm}_stemmer")
    assert spec is not None and spec.origin is not None, algorithm
    return sorted(set(re.findall(r'Among\("([^"]*)"', Path(spec.origin).read_text(encoding="utf-8"))))


def stems_text(feed: Path) -> str:
    return json.dumps(stem_vectors(feed), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def demo_stems_text() -> str:
    """:func:`stems_text` of the demo catalog, converted from the sample catalog in ``data/``."""
    from tools import magento_to_feed

    with tempfile.TemporaryDirectory(prefix="snipshop-stems-") as out:
        magento_to_feed.convert(magento_to_feed.DEFAULT_SOURCE, Path(out))
        return stems_text(Path(out))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed file is stale")
    parser.add_argument(
        "--stems", action="store_true", help="also write the stem vectors of the demo catalog (from data/)"
    )
    args = parser.parse_args(argv)
    if args.stems:
        STEMS.parent.mkdir(parents=True, exist_ok=True)
        STEMS.write_text(demo_stems_text(), encoding="utf-8")
    text = render()
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is stale: run python -m tools.php_shared", file=sys.stderr)
            return 1
        return 0
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
