"""What one search document becomes in the embedded index: its memberships (pure).

embedded_write.lua applies them atomically behind the version guard and remembers the undoable
part in the document's hash, so the next version can take the old memberships back.

Product-level sets hold the product when ANY of its sellables qualifies (has the value, is in
stock; its price is the cheapest): exact for a simple product, a superset for one with variants.
A product with variants is also in ``with_variants``, in ``fo`` sets (the values it has on
sold-out variants only) and in ``sprice`` (its cheapest in-stock price); each of its variants is a
member ``product U+001F variant`` of the variant-level sets (docs/search-embedded.md).

The memberships come grouped by what the script does with them, as flat lists of strings (a key,
then its fields), which is what a write call sends (as JSON): a document has about a hundred of
them, and the rebuild writes every product's. Their keys are the generation's
(:class:`vocab.keys.IndexKey`, without its prefix), so one document's memberships are the same in
every generation and computed once for all of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from search.documents import BRAND, SearchDocument, name_sort_key
from search.embedded_text import name_rank, terms
from vocab.keys import IndexKey as K

#: The registries' operations in a write call (embedded_write.lua): SADD and ZADD with score 0.
REGISTER, VOCABULARY = "R", "V"
#: Separates the parts of registry members (facet name / value) and lex members (key / SKU).
FACET_SEP = "\x1f"
LEX_SEP = "\x00"
#: Separates the product and the variant SKU in variant members (embedded_query.lua splits there).
VARIANT_SEP = "\x1f"
MAX_TERMS_PER_TEXT = 500  # a very long description adds memory, not findability
#: Documents whose text memberships a process keeps: a stock change that crosses a threshold
#: writes a product's document again with the same texts, and their terms are most of its cost.
TEXT_CACHE = 1024


class Memberships(NamedTuple):
    """One document's memberships, by the command embedded_write.lua gives them (``SKU``: the
    document's; ``key``: an :class:`~vocab.keys.IndexKey`); the first four are undone by the SKU,
    the next two by member."""

    sets: list[str]  # key...: SADD key SKU
    bits: list[str]  # key...: SETBIT key id 1 (id: the product's number in the generation)
    scores: list[str]  # key, score...: ZADD key score SKU
    fields: list[str]  # key, value...: HSET key SKU value
    members: list[str]  # key, member...: SADD key member (a variant)
    ranked: list[str]  # key, member, score...: ZADD key score member (lex members, variants)
    #: ``facet U+001F value`` for the generation's facet registry, which only grows.
    facets: list[str]
    #: Per locale, ``surface U+0000 stem`` of every term, for its vocabulary (only grows).
    vocabulary: dict[str, list[str]]

    def undo(self) -> dict[str, list]:
        """What takes these memberships back, as embedded_write.lua stores it in the document's
        hash (its header describes it): the keys without the SKU, and for members other than the
        SKU the key and the member; empty lists left out."""
        undo: dict[str, list] = {
            "S": self.sets,
            "B": self.bits,
            "Z": self.scores[::2],
            "H": self.fields[::2],
            "N": list(zip(self.members[::2], self.members[1::2], strict=True)),
            "M": list(zip(self.ranked[::3], self.ranked[1::3], strict=True)),
        }
        return {op: keys for op, keys in undo.items() if keys}


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


def memberships(doc: SearchDocument, locales: Iterable[str]) -> Memberships:
    """Every membership of ``doc``; none for a hidden document."""
    out = Memberships([], [], [], [], [], [], [], {})
    if not doc.visible:
        return out
    sku = doc.sku
    sets, scores = out.sets, out.scores
    sets.append(K.VISIBLE)
    # newest first is ascending order: equal times then keep SKU order, and a walk can read it
    scores += (K.CREATED, str(-int(doc.created_at)))
    out.ranked.extend((K.SKU_PREFIX, f"{sku.casefold()}{LEX_SEP}{sku}", "0"))
    if in_stock(doc):
        sets.append(K.IN_STOCK)
    sets += [K.category(path) for path in dict.fromkeys(doc.category_paths)]
    for facet, value in facet_values(doc):
        sets.append(K.facet_value(facet, value))
        out.bits.append(K.facet_bitmap(facet, value))
        out.facets.append(f"{facet}{FACET_SEP}{value}")
    for cur, amount in cheapest(doc).items():
        scores += (K.price(cur), price_score(amount))
    if doc.variants:
        _variants(doc, out)
    for locale in locales:
        text = _text(sku, doc.names.get(locale, ""), doc.descriptions.get(locale, ""), locale)
        sets += text.sets
        scores += text.scores
        out.fields.extend(text.fields)
        out.ranked.extend(text.ranked)
        out.vocabulary[locale] = text.vocabulary
    return out


def _variants(doc: SearchDocument, out: Memberships) -> None:
    """The memberships of a product with variants as such, and its variants'."""
    sku = doc.sku
    out.sets.append(K.WITH_VARIANTS)
    in_stock: dict[tuple[str, str], bool] = {}
    for variant in doc.variants:
        for pair in attribute_values(doc.values(variant)):
            in_stock[pair] = in_stock.get(pair, False) or variant.in_stock
    for (name, value), stocked in in_stock.items():
        if not stocked:  # the product has the value, but not in stock
            out.sets.append(K.sold_out_value(name, value))
            out.bits.append(K.sold_out_bitmap(name, value))
    for cur in cheapest(doc):
        offered = [v.prices[cur] for v in doc.variants if v.in_stock and cur in v.prices]
        out.scores.extend((K.stock_price(cur), price_score(min(offered)) if offered else "inf"))
    for variant in doc.variants:
        member = f"{sku}{VARIANT_SEP}{variant.sku}"
        out.ranked.extend((K.VARIANTS, member, "0"))
        for name, value in attribute_values(doc.values(variant)):
            out.members.extend((K.variant_facet(name, value), member))
        if variant.in_stock:
            out.members.extend((K.VARIANT_IN_STOCK, member))
        for cur, amount in variant.prices.items():
            out.ranked.extend((K.variant_price(cur), member, price_score(amount)))


class _Text(NamedTuple):
    """The name and description memberships of one document in one locale (as in Memberships)."""

    sets: tuple[str, ...]
    scores: tuple[str, ...]
    fields: tuple[str, ...]
    ranked: tuple[str, ...]
    vocabulary: list[str]


@lru_cache(maxsize=TEXT_CACHE)
def _text(sku: str, name: str, description: str, locale: str) -> _Text:
    """A pure function of its arguments: kept for the last :data:`TEXT_CACHE` documents."""
    sort_key = name_sort_key(name)
    # A missing name sorts as the empty string (first), like everywhere else.
    scores = (K.name_rank(locale), str(name_rank(sort_key)))
    fields: tuple[str, ...] = ()
    ranked: list[str] = []
    if name:
        fields = (K.names(locale), name)
        ranked += (K.name_prefix(locale), f"{sort_key}{LEX_SEP}{sku}", "0")
    sets: list[str] = []
    vocabulary: dict[str, None] = {}
    for in_name, text in ((True, name), (False, description)):
        found = terms(text, locale)[:MAX_TERMS_PER_TEXT]
        start = K.term(locale, in_name, "")  # every term key of the text starts so
        sets += [start + term.stem for term in found]
        vocabulary.update(dict.fromkeys(f"{term.surface}{LEX_SEP}{term.stem}" for term in found))
        if in_name:  # every word start of the name, for suggestions
            words = K.name_words(locale)
            for term in found:
                ranked += (words, f"{term.surface}{LEX_SEP}{sku}", "0")
    return _Text(tuple(sets), scores, fields, tuple(ranked), list(vocabulary))
