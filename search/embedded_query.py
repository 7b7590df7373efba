"""A query as a plan for embedded_query.lua, and the script's reply as a Result (pure).

The edge's query takes two round trips: :class:`Lookup` (pipelined reads of the live pointer,
the facet registry and the query words' terms) and one script call with the :class:`Plan`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from search.documents import BRAND, name_sort_key
from search.embedded_docs import FACET_SEP, LEX_SEP, price_score
from search.embedded_text import Term
from search.query import MAX_FACET_VALUES, Facet, FacetValue, Query, Result
from vocab.keys import KeyScheme

MAX_EXPANSIONS = 50  # a word that matches nothing stands for at most this many words it starts
MIN_PREFIX = 2  # ...and only when it has at least this many characters
#: sort -> (zset, weight, products without a score last)
_SORTS = {
    "price_asc": ("price", 1, True),
    "price_desc": ("price", -1, True),
    "name": ("name", 1, False),
    "newest": ("created", 1, False),
}  # created holds minus the time


@dataclass
class Lookup:
    """What the plan needs to know from Redis first."""

    #: facet name -> every value indexed in the generation (some may count 0 now)
    registry: dict[str, set[str]] = field(default_factory=dict)
    #: per query term: the stems to look up (its own, or those of the words it is a prefix of)
    stems: list[list[str]] = field(default_factory=list)
    #: the generation has products with variants (else the plan of a simple catalog is made)
    with_variants: bool = False

    @staticmethod
    def parse(
        registry: Sequence[bytes],
        terms: Sequence[Term],
        found: Sequence[int],
        vocabulary: Sequence[Sequence[bytes]],
        with_variants: int = 0,
    ) -> Lookup:
        """``found[i]``: how many term sets of term i exist; ``vocabulary[i]``: its prefix matches;
        ``with_variants``: how many products with variants the generation has."""
        facets: dict[str, set[str]] = {}
        for raw in registry:
            name, _, value = raw.decode().partition(FACET_SEP)
            facets.setdefault(name, set()).add(value)
        stems = []
        for term, exists, words in zip(terms, found, vocabulary, strict=True):
            if exists or len(term.surface) < MIN_PREFIX:
                stems.append([term.stem])
            else:  # no such word: the words it starts (vocabulary members are "surface\0stem")
                expanded = dict.fromkeys(w.decode().partition(LEX_SEP)[2] for w in words)
                stems.append(list(expanded) or [term.stem])
        return Lookup(facets, stems, with_variants > 0)


@dataclass
class Plan:
    """KEYS and ARGV of one embedded_query.lua call, and how to read its reply."""

    query: Query
    keys: list[str]
    spec: dict
    facets: list[tuple[str, list[str]]]

    @property
    def argv(self) -> str:
        return json.dumps(self.spec)

    def result(self, reply: list) -> Result:
        total, window, values, first, sign, tail, counts = reply
        skus = [s.decode() for s in window]
        keys: list[str] | list[float]
        if "names" in self.spec:
            keys = [name_sort_key(v.decode()) for v in values]
        else:
            keys = [int(sign) * float(v) for v in values]
        ordered = [sku for _, sku in sorted(zip(keys, skus, strict=True))]
        start = self.query.offset - int(first)
        page = ordered[start : start + self.query.per_page]
        page += [s.decode() for s in tail][: self.query.per_page - len(page)]
        return Result(tuple(page), int(total), self._facets(counts))

    def _facets(self, counts: list[list[int]]) -> tuple[Facet, ...]:
        """Selected values always (to unselect them), the best others up to the cap."""
        out = []
        for (name, values), numbers in zip(self.facets, counts, strict=False):
            selected = set(self.query.filters.get(name, ()))
            chosen = [(v, int(c)) for v, c in zip(values, numbers, strict=False) if v in selected]
            others = sorted(
                ((v, int(c)) for v, c in zip(values, numbers, strict=False) if c > 0 and v not in selected), key=_order
            )
            listed = sorted(chosen + others[: max(MAX_FACET_VALUES - len(chosen), 0)], key=_order)
            if listed:
                out.append(Facet(name, tuple(FacetValue(v, c, v in selected) for v, c in listed)))
        return tuple(out)


def _order(value_count: tuple[str, int]) -> tuple[int, str]:
    return -value_count[1], value_count[0]


def variant_level(query: Query) -> bool:
    """Does the query hold a condition one variant must pass (docs/variants.md, "Search")?"""
    attribute = any(values for name, values in query.filters.items() if name != BRAND)
    return attribute or query.in_stock or query.price_min is not None or query.price_max is not None


def _price_range(query: Query) -> tuple[str, str] | None:
    if query.price_min is None and query.price_max is None:
        return None
    low = price_score(query.price_min) if query.price_min is not None else "-inf"
    high = price_score(query.price_max) if query.price_max is not None else "+inf"
    return low, high


def plan(query: Query, lookup: Lookup, keys: KeyScheme, gen: int, nonce: str) -> Plan:
    """``query`` must carry a locale and currency the index knows (the adapter sees to that)."""
    refs: dict[str, int] = {}

    def ref(key: str) -> int:
        return refs.setdefault(key, len(refs) + 1)  # KEYS are 1-based in Lua

    spec: dict = {"visible": ref(keys.search_visible(gen)), "base": [], "offset": query.offset, "count": query.per_page}
    if query.category is not None:
        spec["base"].append(ref(keys.search_category(gen, query.category)))
    if query.in_stock:
        spec["stock"] = ref(keys.search_in_stock(gen))
    spec["terms"] = [
        [
            [ref(keys.search_term(gen, query.locale, in_name, s)) for s in stems for in_name in (True, False)],
            [ref(keys.search_term(gen, query.locale, True, s)) for s in stems],
        ]
        for stems in lookup.stems
    ]
    price = _price_range(query)
    if price is not None:
        spec["price"] = [ref(keys.search_price(gen, query.currency)), *price]
    names = [BRAND] + sorted((set(lookup.registry) | set(query.filters)) - {BRAND})
    facets = [(n, sorted(lookup.registry.get(n, set()) | set(query.filters.get(n, ())))) for n in names]
    spec["facets"] = [[ref(keys.search_facet_value(gen, n, v)) for v in values] for n, values in facets]
    spec["bitmaps"] = [[ref(keys.search_facet_bitmap(gen, n, v)) for v in values] for n, values in facets]
    spec["ids"], spec["idseq"] = ref(keys.search_ids(gen)), ref(keys.search_id_seq(gen))
    spec["filters"] = [
        [pos, [ref(keys.search_facet_value(gen, n, v)) for v in query.filters[n]]]
        for pos, (n, _) in enumerate(facets, start=1)
        if query.filters.get(n)
    ]
    _sort(spec, query, keys, gen, ref)
    if lookup.with_variants and variant_level(query):
        spec["v"] = _variant_spec(query, facets, keys, gen, ref)
    spec["tmp"] = len(refs) + 1
    key_list = list(refs) + [keys.search_temp(gen, nonce, n) for n in range(_temporaries(spec))]
    return Plan(query, key_list, spec, facets)


def _variant_spec(query: Query, facets: list[tuple[str, list[str]]], keys: KeyScheme, gen: int, ref) -> dict:
    """The variant-level half of a query with variant-level conditions, in a generation with
    products with variants (the script checks that again: the lookup came a round trip before)."""
    v: dict = {"multi": ref(keys.search_with_variants(gen)), "all": ref(keys.search_variants(gen))}
    if query.in_stock:
        v["stock"] = ref(keys.search_variant_in_stock(gen))
    price = _price_range(query)
    if price is not None:
        v["price"] = [ref(keys.search_variant_price(gen, query.currency)), *price]
    v["filters"] = [
        [pos, [ref(keys.search_variant_facet(gen, n, value)) for value in query.filters[n]]]
        for pos, (n, _) in enumerate(facets, start=1)
        if n != BRAND and query.filters.get(n)
    ]
    v["facets"] = [
        [] if n == BRAND else [ref(keys.search_variant_facet(gen, n, value)) for value in values]
        for n, values in facets
    ]
    if query.in_stock:
        v["sold_out"] = [[ref(keys.search_sold_out_value(gen, n, value)) for value in values] for n, values in facets]
        v["sold_out_bitmaps"] = [
            [ref(keys.search_sold_out_bitmap(gen, n, value)) for value in values] for n, values in facets
        ]
    if query.sort in ("price_asc", "price_desc"):
        v["sort"] = ref(keys.search_variant_price(gen, query.currency))
        if query.in_stock:
            v["stock_sort"] = ref(keys.search_stock_price(gen, query.currency))
    return v


def _temporaries(spec: dict) -> int:
    """An upper bound of the temporary keys embedded_query.lua may create for ``spec``."""
    constraints = [[k] for k in spec["base"]] + [keys for keys, _ in spec["terms"]]
    constraints += [values for _, values in spec["filters"]]
    if "stock" in spec:
        constraints.append([spec["stock"]])
    per_chain = sum(len(keys) + 1 for keys in constraints) + 1  # + the price range
    relevance = sum(len(names) + 1 for _, names in spec["terms"]) + 1
    bitmaps = len(spec["filters"]) + 2  # one per candidate set counted, and a scratch key
    if "v" not in spec:
        return per_chain * (len(spec["filters"]) + 1) + relevance + bitmaps + 2
    # Per set of matches (all, and without each selection): the chain, the chain from the
    # products with variants, a difference and a union; the variants' chain (with in stock, the
    # price, the variants to start from) and their products. Two sets counted per set of
    # matches; the sort by the cheapest matching variant.
    variant_chain = sum(len(keys) + 1 for _, keys in spec["v"]["filters"]) + 4
    per_match = 2 * per_chain + 2 + variant_chain
    return per_match * (len(spec["filters"]) + 1) + relevance + 2 * bitmaps + 4


def _sort(spec: dict, query: Query, keys: KeyScheme, gen: int, ref) -> None:
    sort = query.sort
    if sort == "relevance":
        if spec["terms"]:
            return  # the candidates' own scores: minus the relevance
        sort = "newest"
    zset, weight, missing = _SORTS[sort]
    key = {
        "price": lambda: keys.search_price(gen, query.currency),
        "name": lambda: keys.search_name_rank(gen, query.locale),
        "created": lambda: keys.search_created(gen),
    }[zset]()
    spec["sort"] = [ref(key), weight]
    if missing:
        spec["missing"] = True
    if sort == "name":
        spec["names"] = ref(keys.search_names(gen, query.locale))
