"""What one search document becomes in the embedded index: a list of memberships (pure).

embedded_write.lua applies the list atomically behind the version guard and remembers the
undoable part in the document's hash, so the next version can take the old memberships back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from search.documents import BRAND, SearchDocument, name_sort_key
from search.embedded_text import name_rank, terms
from vocab.keys import KeyScheme

#: Operations understood by embedded_write.lua. S, Z, H and B are undone when the document is
#: replaced; R and V add to registries that only grow (until the generation is rebuilt).
SADD, ZADD, HSET, SETBIT, REGISTER, VOCABULARY = "S", "Z", "H", "B", "R", "V"
#: Separates the parts of registry members (facet name / value) and lex members (key / SKU).
FACET_SEP = "\x1f"
LEX_SEP = "\x00"
MAX_TERMS_PER_TEXT = 500  # a very long description adds memory, not findability


class Entry(NamedTuple):
    op: str
    key: str
    member: str
    score: str = "0"  # ZADD score, or HSET value


def price_score(amount) -> str:
    """Prices as sorted-set scores (doubles); ranges are given the same way, so bounds agree."""
    return repr(float(amount))


def facet_values(doc: SearchDocument) -> Iterable[tuple[str, str]]:
    """(facet, value) pairs: the brand (unless empty) and every attribute value."""
    if doc.brand:
        yield BRAND, doc.brand
    for name, values in doc.attributes.items():
        if name != BRAND:  # the brand facet is the brand field; an attribute cannot shadow it
            for value in dict.fromkeys(values):
                yield name, value


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
    if doc.in_stock:
        out.append(Entry(SADD, keys.search_in_stock(gen), sku))
    out += [Entry(SADD, keys.search_category(gen, path), sku) for path in dict.fromkeys(doc.category_paths)]
    for facet, value in facet_values(doc):
        out.append(Entry(SADD, keys.search_facet_value(gen, facet, value), sku))
        out.append(Entry(SETBIT, keys.search_facet_bitmap(gen, facet, value), sku))  # bit: the product's id
        out.append(Entry(REGISTER, keys.search_facet_registry(gen), f"{facet}{FACET_SEP}{value}"))
    out += [Entry(ZADD, keys.search_price(gen, cur), sku, price_score(amount)) for cur, amount in doc.prices.items()]
    for locale in locales:
        out += _text_entries(doc, gen, keys, locale)
    return out


def _text_entries(doc: SearchDocument, gen: int, keys: KeyScheme, locale: str) -> list[Entry]:
    sku, name = doc.sku, doc.names.get(locale, "")
    sort_key = name_sort_key(name)
    # A missing name sorts as the empty string (first), like everywhere else.
    out = [Entry(ZADD, keys.search_name_rank(gen, locale), sku, str(name_rank(sort_key)))]
    if name:
        out.append(Entry(HSET, keys.search_names(gen, locale), sku, name))
        out.append(Entry(ZADD, keys.search_name_prefix(gen, locale), f"{sort_key}{LEX_SEP}{sku}"))
    vocabulary: dict[str, None] = {}
    for in_name, text in ((True, name), (False, doc.descriptions.get(locale, ""))):
        for term in terms(text, locale)[:MAX_TERMS_PER_TEXT]:
            out.append(Entry(SADD, keys.search_term(gen, locale, in_name, term.stem), sku))
            vocabulary[f"{term.surface}{LEX_SEP}{term.stem}"] = None
            if in_name:  # every word start of the name, for suggestions
                out.append(Entry(ZADD, keys.search_name_words(gen, locale), f"{term.surface}{LEX_SEP}{sku}"))
    out += [Entry(VOCABULARY, keys.search_vocabulary(gen, locale), member) for member in vocabulary]
    return out
