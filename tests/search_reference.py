"""A brute-force reference of the search semantics over a list of SearchDocument (pure Python).

This is the executable statement of what both adapters (search.elastic, search.embedded) must
return for every query WITHOUT text, and of what they must return for a text query once the set
of documents the engine matched for that text is known (text scoring is engine-specific).

Matching
    A product matches when it is visible, ``query.category`` (if any) is one of its
    ``category_paths``, the brand selection (if any) holds its brand, and ONE of its sellables
    (``SearchDocument.sellables()``: its variants, or a simple product as its one variant) passes
    every variant-level condition at once (docs/variants.md, "Search"):

    * each attribute selection (OR within a facet, AND across facets): the sellable's values of
      that name (``doc.values(sellable)``: its option value if it has that option, else the
      product's attribute values) include a selected value;
    * the price range: the sellable's price in the query's currency is within ``[price_min,
      price_max]`` (inclusive; a sellable without a price in that currency fails only when a
      bound is given);
    * ``in_stock``: the sellable's availability is not ``sold_out``.

    ``brand``, the category and the text are product-level. An empty brand is "no brand": it is
    no facet value and matches no filter.

Facets
    ``brand`` first, then attribute names (the products' attribute names and their variants'
    option names) in code point order. Counts count products. A brand's count: the products
    matching everything EXCEPT the brand selection. An attribute value's count: the products
    passing the product-level conditions (and the brand selection) that have a sellable passing
    every variant-level condition except that facet's own selection and having the value. A value
    is listed when its count is > 0 or it is selected (then possibly with count 0); a facet
    without any value is omitted (so a selection on an unknown facet name yields that facet with
    its selected values at count 0). At most :data:`search.query.MAX_FACET_VALUES` (50) values:
    the selected ones always (a shopper must be able to unselect them), the places left go to the
    unselected values with the highest counts (ties: value ascending); the listed values are then
    ordered by count descending, then value ascending (code point order). A value counts a product
    once, however many of its sellables have it or however often they list it.

Sorting (ties always broken by SKU ascending, code point order)
    ``price_asc`` / ``price_desc``: by the price in the query's currency of the cheapest sellable
    that passes the variant-level conditions (with none, of the cheapest sellable); products none
    of whose matching sellables has a price in that currency come last in both directions.
    ``name``: by :func:`name_sort_key` of the name
    in the query's locale (a missing name is the empty string). ``newest``: ``created_at``
    descending. ``relevance`` without text is ``newest``; with text the order is the engine's.

Pagination
    ``skus`` is ``ordered[offset:offset + per_page]`` with ``offset = (page - 1) * per_page``;
    ``total`` is the number of matching documents (pages past the end are empty, total unchanged).

Suggestions (:func:`suggest`; the search box's ``SearchIndex.suggest(text, locale, limit)``)
    The text is stripped and cut to :data:`MAX_SUGGEST_TEXT` characters; an empty text suggests
    nothing, ``limit`` is clamped to 1..:data:`MAX_SUGGESTIONS`. The *typed words* are the words of
    the text folded (:func:`suggest_words`: ``\\w+`` runs of :func:`fold`, every Chinese or
    Japanese character a word of its own), each cut to its first :data:`SUGGEST_WORD` characters.
    A visible document is suggested when

    * its SKU starts with the text, case-insensitively (``sku.casefold()`` starts with
      ``text.casefold()``), or
    * the text has at least one typed word and every typed word is the start of some word of the
      document's name in ``locale`` (any order, every word may be partial, two typed words may
      be the start of the same name word).

    Order: first the SKU matches, then the documents whose folded name starts with the folded text
    (``name_sort_key(name).startswith(fold(text))``), then the others; within each group by SKU
    (code point order). The first ``limit`` are suggested.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from decimal import Decimal

from search.documents import BRAND, SearchDocument, VariantDocument
from search.query import MAX_FACET_VALUES, Facet, FacetValue, Query, Result


def fold(text: str) -> str:
    """Case- and accent-insensitive form: casefold, NFKD, drop combining marks.

    Unlike ``.encode("ascii", "ignore")`` this keeps non-Latin letters (Cyrillic, Greek, CJK) and
    letters without a decomposition (``ø``, ``æ``, ``ł``); it drops only combining marks, so
    ``Crème`` -> ``creme``, ``Müller`` -> ``muller``, ``Straße`` -> ``strasse``,
    ``Παπούτσια`` -> ``παπουτσια``, ``Кроссовки`` -> ``кроссовки``, ``ガ`` -> ``カ``.
    """
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


def name_sort_key(name: str | None) -> str:
    """THE name sort key both adapters must reproduce: ``fold(name)``, compared by code point.

    The string compares by code point (which is also UTF-8 byte order, i.e. an Elasticsearch
    ``keyword`` sort and a Redis lexicographic order), so Latin names come before Greek before
    Cyrillic before Japanese; equal keys (``Café Mug`` / ``cafe mug``) fall back to the SKU.
    """
    return fold(name or "")


def facet_values(doc: SearchDocument, facet: str) -> frozenset[str]:
    """The values a product has for a facet (``brand`` or an attribute name), over all its
    sellables."""
    if facet == BRAND:
        return frozenset((doc.brand,)) if doc.brand else frozenset()
    return frozenset(v for s in doc.sellables() for v in doc.values(s).get(facet, ()))


def base_match(doc: SearchDocument, query: Query) -> bool:
    """The product-level conditions but the brand: visible and in the category."""
    return doc.visible and (query.category is None or query.category in doc.category_paths)


def brand_match(doc: SearchDocument, query: Query) -> bool:
    wanted = query.filters.get(BRAND)
    return not wanted or doc.brand in set(wanted) - {""}


def sellable_match(doc: SearchDocument, sellable: VariantDocument, query: Query, skip: str | None = None) -> bool:
    """The variant-level conditions: attribute selections (but ``skip``'s), price range, stock."""
    values = doc.values(sellable)
    for name, wanted in query.filters.items():
        if name in (BRAND, skip) or not wanted:
            continue
        if not set(values.get(name, ())) & set(wanted):
            return False
    if query.price_min is not None or query.price_max is not None:
        price = sellable.prices.get(query.currency)
        if price is None:
            return False
        if query.price_min is not None and price < query.price_min:
            return False
        if query.price_max is not None and price > query.price_max:
            return False
    return not (query.in_stock and not sellable.in_stock)


def matching_sellables(doc: SearchDocument, query: Query, skip: str | None = None) -> list[VariantDocument]:
    return [s for s in doc.sellables() if sellable_match(doc, s, query, skip)]


def matches(doc: SearchDocument, query: Query) -> bool:
    """Everything but the text (see :func:`search` for that)."""
    return base_match(doc, query) and brand_match(doc, query) and bool(matching_sellables(doc, query))


def sort_price(doc: SearchDocument, query: Query) -> Decimal | None:
    """The price a price sort uses: the cheapest matching sellable's in the query's currency."""
    prices = [s.prices[query.currency] for s in matching_sellables(doc, query) if query.currency in s.prices]
    return min(prices, default=None)


def sort_key(query: Query):
    if query.sort in ("price_asc", "price_desc"):
        sign = 1 if query.sort == "price_asc" else -1

        def key(doc: SearchDocument):
            price = sort_price(doc, query)
            return (1, Decimal(0), doc.sku) if price is None else (0, sign * price, doc.sku)

        return key
    if query.sort == "name":
        return lambda doc: (name_sort_key(doc.names.get(query.locale)), doc.sku)
    # newest, and relevance (only meaningful without text; with text the engine decides)
    return lambda doc: (-doc.created_at, doc.sku)


def attribute_names(doc: SearchDocument) -> set[str]:
    """The product's attribute names and its variants' option names."""
    return {name for s in doc.sellables() for name in doc.values(s)} - {BRAND}


def _facet_names(docs: Iterable[SearchDocument], query: Query) -> list[str]:
    attrs = {name for doc in docs for name in attribute_names(doc)}
    attrs |= {name for name in query.filters if name != BRAND}
    return [BRAND, *sorted(attrs)]


def counted_values(doc: SearchDocument, query: Query, facet: str) -> set[str]:
    """The values of ``facet`` that ``doc`` counts for: those of its sellables passing every
    variant-level condition but the facet's own selection (brand: the product's, if it matches
    everything but the brand selection)."""
    if facet == BRAND:
        return set(facet_values(doc, BRAND)) if matching_sellables(doc, query) else set()
    if not brand_match(doc, query):
        return set()
    return {v for s in matching_sellables(doc, query, skip=facet) for v in doc.values(s).get(facet, ())}


def facets(candidates: Sequence[SearchDocument], query: Query) -> tuple[Facet, ...]:
    """Facets over ``candidates`` (documents already passing :func:`base_match` and the text)."""
    out = []
    for name in _facet_names(candidates, query):
        counts: Counter[str] = Counter()
        for doc in candidates:
            counts.update(counted_values(doc, query, name))
        selected = set(query.filters.get(name, ()))
        order = lambda vc: (-vc[1], vc[0])  # noqa: E731
        chosen = [(v, counts.get(v, 0)) for v in selected]
        others = sorted(((v, c) for v, c in counts.items() if c > 0 and v not in selected), key=order)
        values = sorted(chosen + others[: max(MAX_FACET_VALUES - len(chosen), 0)], key=order)
        if values:
            out.append(Facet(name, tuple(FacetValue(v, c, v in selected) for v, c in values)))
    return tuple(out)


def search(docs: Sequence[SearchDocument], query: Query, *, text_matches: Iterable[str] | None = None) -> Result:
    """The reference :class:`Result` of ``query`` over ``docs``.

    With ``query.text`` the caller must pass ``text_matches``: the SKUs the engine matched for the
    text alone (the reference then applies every other part of the query to those documents; with
    sort ``relevance`` the returned order is not meaningful, compare sets).
    """
    if query.text and text_matches is None:
        raise ValueError("a text query needs text_matches (the engine's matched SKUs for the text)")
    allowed = set(text_matches) if query.text else None
    candidates = [d for d in docs if base_match(d, query) and (allowed is None or d.sku in allowed)]
    matched = sorted((d for d in candidates if matches(d, query)), key=sort_key(query))
    page = matched[query.offset : query.offset + query.per_page]
    return Result(skus=tuple(d.sku for d in page), total=len(matched), facets=facets(candidates, query))


def all_matching(docs: Sequence[SearchDocument], query: Query, **kw) -> list[str]:
    """Every matching SKU in order (all pages)."""
    return list(search(docs, replace(query, page=1, per_page=len(docs) + 1), **kw).skus)


# ------------------------------------------------------------------------------------------------
# Text: a deliberately loose "contains some form of the term" test, for subset assertions only.

_WORD = re.compile(r"\w+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def tokens(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def _edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance, capped at ``limit + 1``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2, prev = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return min(prev[-1], limit + 1)


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _auto(term: str) -> int:
    """Edits allowed for a term, like Elasticsearch's fuzziness AUTO."""
    return 0 if len(term) < 3 else 1 if len(term) <= 5 else 2


def _forms(word: str) -> set[str]:
    """Crude stand-ins for what a stemmer might make of a word: up to 3 trailing letters off, or
    one letter dropped (light_german: ``shoes`` -> ``shos``), never shorter than 3 letters."""
    out = {word}
    out |= {word[:-k] for k in (1, 2, 3) if len(word) - k >= 3}
    if len(word) >= 5:
        out |= {word[:i] + word[i + 1 :] for i in range(len(word))}
    return out


@functools.lru_cache(maxsize=1 << 16)
def term_forms_match(term: str, word: str) -> bool:
    """Could ``word`` (folded) be a form of the folded query ``term``: same stem, a prefix, an
    infix, a typo (fuzziness AUTO) of some form of the one against some form of the other."""
    if term == word or word.startswith(term) or (len(term) >= 3 and term in word):
        return True  # exact, prefix, infix
    for t in _forms(term):
        for w in _forms(word):
            if t == w or (len(w) >= 3 and t.startswith(w)) or _common_prefix(t, w) >= 4:
                return True  # stems: shoes/shoe, running/run, hauser/haus
            if len(t) >= 4 and _edit_distance(t, w) <= _auto(t):
                return True
    return False


def doc_text(doc: SearchDocument) -> str:
    parts = [doc.sku, doc.brand, *doc.names.values(), *doc.descriptions.values()]
    parts += [v for s in doc.sellables() for values in doc.values(s).values() for v in values]
    return " ".join(parts)


def text_candidates(docs: Sequence[SearchDocument], text: str) -> set[str]:
    """SKUs of visible documents containing SOME form of SOME term of ``text`` in ANY field/locale.

    Loose on purpose (any locale, any field, crude stems, typos like fuzziness AUTO on any of them, CJK by
    substring): an engine's matches for ``text`` must be a subset of this, never random documents.
    """
    terms = tokens(text)
    out = set()
    for doc in docs:
        if not doc.visible:
            continue
        body = fold(doc_text(doc))
        words = _WORD.findall(body)
        for term in terms:
            if _CJK.search(term) and any(ch in body for ch in _CJK.findall(term)):
                out.add(doc.sku)
                break
            if any(term_forms_match(term, w) for w in words):
                out.add(doc.sku)
                break
    return out


# ------------------------------------------------------------------------------------------------
# Suggestions (see the module docstring)

MAX_SUGGEST_TEXT = 100
MAX_SUGGESTIONS = 20
SUGGEST_WORD = 20  # typed words are compared on their first 20 characters
_CJK_RUN = re.compile(f"{_CJK.pattern}|[^{_CJK.pattern[1:]}+")  # a CJK character, or a run of others


def suggest_words(text: str) -> list[str]:
    """Folded words of ``text``: ``\\w+`` runs, every Chinese or Japanese character a word."""
    return [part for run in _WORD.findall(fold(text)) for part in _CJK_RUN.findall(run)]


def suggest_group(doc: SearchDocument, text: str, locale: str) -> int | None:
    """0: the SKU starts with the text; 1: the name starts with it; 2: every typed word starts a
    name word; None: not suggested. ``text`` is already stripped and cut."""
    if not doc.visible:
        return None
    if doc.sku.casefold().startswith(text.casefold()):
        return 0
    typed = [w[:SUGGEST_WORD] for w in suggest_words(text)]
    name = doc.names.get(locale)
    if not typed or not name:
        return None
    name_words = suggest_words(name)
    if not all(any(nw.startswith(t) for nw in name_words) for t in typed):
        return None
    return 1 if name_sort_key(name).startswith(fold(text)) else 2


def suggest(docs: Sequence[SearchDocument], text: str, locale: str, limit: int = 8) -> list[str]:
    """The SKUs a search box suggests for ``text``, in order (see the module docstring)."""
    text = text.strip()[:MAX_SUGGEST_TEXT]
    if not text:
        return []
    limit = min(max(limit, 1), MAX_SUGGESTIONS)
    found = [(group, doc.sku) for doc in docs if (group := suggest_group(doc, text, locale)) is not None]
    return [sku for _, sku in sorted(found)[:limit]]
