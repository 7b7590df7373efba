"""What one search document becomes in the embedded index: a list of memberships (pure).

embedded_write.lua applies the list atomically behind the version guard and remembers the
undoable part in the document's hash, so the next version can take the old memberships back.

Product-level sets hold the product when ANY of its sellables qualifies (has the value, is in
stock; its price is the cheapest): exact for a simple product, a superset for one with variants.
A product with variants is also in ``with_variants``, in ``fo`` sets (the values it has on
sold-out variants only) and in ``sprice`` (its cheapest in-stock price); each of its variants is a
member ``product U+001F variant`` of the variant-level sets (docs/search-embedded.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from search.documents import BRAND, SearchDocument, name_sort_key
from search.embedded_text import name_rank, terms
from vocab.keys import KeyScheme

#: Operations understood by embedded_write.lua. S, Z, H and B are undone when the document is
#: replaced; R and V add to registries that only grow (until the generation is rebuilt).
SADD, ZADD, HSET, SETBIT, REGISTER, VOCABULARY = "S", "Z", "H", "B", "R", "V"
#: The registry operations: a write call sends each of their entries once (search/embedded_scripts.py).
REGISTRIES = frozenset((REGISTER, VOCABULARY))
#: Separates the parts of registry members (facet name / value) and lex members (key / SKU).
FACET_SEP = "\x1f"
LEX_SEP = "\x00"
#: Separates the product and the variant SKU in variant members (embedded_query.lua splits there).
VARIANT_SEP = "\x1f"
MAX_TERMS_PER_TEXT = 500  # a very long description adds memory, not findability
#: Documents whose text entries a process keeps: a stock change that crosses a threshold writes a
#: product's document again with the same texts, and their terms are most of its cost.
TEXT_CACHE = 1024


class Entry(NamedTuple):
    op: str
    key: str
    member: str
    score: str = "0"  # ZADD score, or HSET value


def price_score(amount) -> str:
    """Prices as sorted-set scores (doubles); ranges are given the same way, so bounds agree."""
    return repr(float(amount))


def attribute_values(values: dict[str, tuple[str, ...]]) -> Iterable[tuple[str, str]]:
    """(name, value) pairs of attribute values, each once."""
    for name, vs in values.items():
        if name != BRAND:  # the brand facet is the brand field; an attribute cannot shadow it
            for value in dict.fromkeys(vs):
                yield name, value


def facet_values(doc: SearchDocument) -> Iterable[tuple[str, str]]:
    """(facet, value) pairs: the brand (unless empty) and every value of any sellable."""
    if doc.brand:
        yield BRAND, doc.brand
    if not doc.variants:
        yield from attribute_values(doc.attributes)
        return
    yield from dict.fromkeys(pair for v in doc.variants for pair in attribute_values(doc.values(v)))


def cheapest(doc: SearchDocument) -> dict[str, Decimal]:
    """Each currency's cheapest variant price (a simple product's own prices)."""
    if not doc.variants:
        return doc.prices
    out: dict[str, Decimal] = {}
    for variant in doc.variants:
        for currency, amount in variant.prices.items():
            out[currency] = min(amount, out.get(currency, amount))
    return out


def in_stock(doc: SearchDocument) -> bool:
    """Is any variant in stock (a simple product: itself)?"""
    return any(v.in_stock for v in doc.variants) if doc.variants else doc.in_stock


def entries(doc: SearchDocument, gen: int, keys: KeyScheme, locales: Iterable[str]) -> list[Entry]:
    """Every membership of ``doc`` in generation ``gen``; none for a hidden document."""
    if not doc.visible:
        return []
    sku = doc.sku
    out = [
        Entry(SADD, keys.search_visible(gen), sku),
        # newest first is ascending order: equal times then keep SKU order, and a walk can read it
        Entry(ZADD, keys.search_created(gen), sku, str(-int(doc.created_at))),
        Entry(ZADD, keys.search_sku_prefix(gen), f"{sku.casefold()}{LEX_SEP}{sku}"),
    ]
    if in_stock(doc):
        out.append(Entry(SADD, keys.search_in_stock(gen), sku))
    out += [Entry(SADD, keys.search_category(gen, path), sku) for path in dict.fromkeys(doc.category_paths)]
    for facet, value in facet_values(doc):
        out.append(Entry(SADD, keys.search_facet_value(gen, facet, value), sku))
        out.append(Entry(SETBIT, keys.search_facet_bitmap(gen, facet, value), sku))  # bit: the product's id
        out.append(Entry(REGISTER, keys.search_facet_registry(gen), f"{facet}{FACET_SEP}{value}"))
    out += [Entry(ZADD, keys.search_price(gen, cur), sku, price_score(amount)) for cur, amount in cheapest(doc).items()]
    out += _variant_entries(doc, gen, keys)
    for locale in locales:
        out += _text_entries(sku, doc.names.get(locale, ""), doc.descriptions.get(locale, ""), gen, keys, locale)
    return out


def _variant_entries(doc: SearchDocument, gen: int, keys: KeyScheme) -> list[Entry]:
    """The variant-level memberships of a product with variants (none for a simple product)."""
    if not doc.variants:
        return []
    out = [Entry(SADD, keys.search_with_variants(gen), doc.sku)]
    in_stock: dict[tuple[str, str], bool] = {}
    for variant in doc.variants:
        for pair in attribute_values(doc.values(variant)):
            in_stock[pair] = in_stock.get(pair, False) or variant.in_stock
    for (name, value), stocked in in_stock.items():
        if not stocked:  # the product has the value, but not in stock
            out.append(Entry(SADD, keys.search_sold_out_value(gen, name, value), doc.sku))
            out.append(Entry(SETBIT, keys.search_sold_out_bitmap(gen, name, value), doc.sku))
    for cur in cheapest(doc):
        offered = [v.prices[cur] for v in doc.variants if v.in_stock and cur in v.prices]
        score = price_score(min(offered)) if offered else "inf"
        out.append(Entry(ZADD, keys.search_stock_price(gen, cur), doc.sku, score))
    for variant in doc.variants:
        member = f"{doc.sku}{VARIANT_SEP}{variant.sku}"
        out.append(Entry(ZADD, keys.search_variants(gen), member))
        out += [
            Entry(SADD, keys.search_variant_facet(gen, name, value), member)
            for name, value in attribute_values(doc.values(variant))
        ]
        if variant.in_stock:
            out.append(Entry(SADD, keys.search_variant_in_stock(gen), member))
        out += [
            Entry(ZADD, keys.search_variant_price(gen, cur), member, price_score(amount))
            for cur, amount in variant.prices.items()
        ]
    return out


@lru_cache(maxsize=TEXT_CACHE)
def _text_entries(sku: str, name: str, description: str, gen: int, keys: KeyScheme, locale: str) -> tuple[Entry, ...]:
    """The name and description memberships of one document in one locale (a pure function of its
    arguments: kept for the last :data:`TEXT_CACHE` documents)."""
    sort_key = name_sort_key(name)
    # A missing name sorts as the empty string (first), like everywhere else.
    out = [Entry(ZADD, keys.search_name_rank(gen, locale), sku, str(name_rank(sort_key)))]
    if name:
        out.append(Entry(HSET, keys.search_names(gen, locale), sku, name))
        out.append(Entry(ZADD, keys.search_name_prefix(gen, locale), f"{sort_key}{LEX_SEP}{sku}"))
    vocabulary: dict[str, None] = {}
    for in_name, text in ((True, name), (False, description)):
        for term in terms(text, locale)[:MAX_TERMS_PER_TEXT]:
            out.append(Entry(SADD, keys.search_term(gen, locale, in_name, term.stem), sku))
            vocabulary[f"{term.surface}{LEX_SEP}{term.stem}"] = None
            if in_name:  # every word start of the name, for suggestions
                out.append(Entry(ZADD, keys.search_name_words(gen, locale), f"{term.surface}{LEX_SEP}{sku}"))
    out += [Entry(VOCABULARY, keys.search_vocabulary(gen, locale), member) for member in vocabulary]
    return tuple(out)
