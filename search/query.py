"""A listing or search query, its result, and the parsing of shopper parameters (clamped)."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from vocab.money import parse_amount

SORTS = ("relevance", "price_asc", "price_desc", "name", "newest")
MAX_PER_PAGE = 96
DEFAULT_PER_PAGE = 24
#: Results reachable by paging, as big shops do: past them a shopper is asked to refine the
#: search. It is Elasticsearch's default ``index.max_result_window``, and it bounds how far the
#: embedded index walks its candidates.
MAX_RESULT_WINDOW = 10_000
MAX_FACET_VALUES = 50  # values listed per facet in the filter navigation
#: Selections a query may carry: facets filtered, and values over all of them. What is beyond
#: is ignored (facets in name order), so the cost of one request stays bounded.
MAX_FILTERED_FACETS = 8
MAX_SELECTED_VALUES = 32
MAX_VALUE_LENGTH = 100
MAX_TEXT = 200
MAX_WORDS = 16  # words of the search text; both adapters search the same cut text
#: Longest query string the edge reads (bytes); a longer one is answered 414.
MAX_QUERY_STRING = 4096
RESERVED = frozenset({"q", "sort", "page", "per_page", "price", "in_stock", "locale", "currency", "category"})
WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Query:
    locale: str
    currency: str
    text: str = ""
    category: str | None = None
    #: Facet name (``brand`` or an attribute) to the selected values: OR within, AND across.
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    in_stock: bool = False
    #: ``relevance`` without text means newest first. Ties are broken by SKU, so pages are stable.
    sort: str = "relevance"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    #: The shopper asked for a page past :data:`MAX_RESULT_WINDOW`; ``page`` is the last one
    #: reachable, and the page asks them to refine the search instead of listing products.
    past_window: bool = False

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def params(self) -> dict[str, list[str]]:
        """The shopper parameters that give this query (without category, context and page):
        what links on its page carry, so parameters that were ignored are not passed on."""
        out: dict[str, list[str]] = {"q": [self.text]} if self.text else {}
        out.update((name, list(values)) for name, values in self.filters.items())
        if self.price_min is not None or self.price_max is not None:
            out["price"] = [f"{_amount_text(self.price_min)}-{_amount_text(self.price_max)}"]
        if self.in_stock:
            out["in_stock"] = ["1"]
        if self.sort != "relevance":
            out["sort"] = [self.sort]
        if self.per_page != DEFAULT_PER_PAGE:
            out["per_page"] = [str(self.per_page)]
        return out


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int
    selected: bool


@dataclass(frozen=True)
class Facet:
    name: str
    values: tuple[FacetValue, ...]


@dataclass(frozen=True)
class Result:
    skus: tuple[str, ...]
    total: int
    #: Facets in a stable order (brand first, then attributes by name); the counts of a facet
    #: are computed without that facet's own selection, so a shopper sees what OR would add.
    facets: tuple[Facet, ...] = ()


@dataclass(frozen=True)
class Suggestion:
    sku: str
    name: str


def last_page(per_page: int) -> int:
    """The last page whose results all lie within :data:`MAX_RESULT_WINDOW`."""
    return max(MAX_RESULT_WINDOW // per_page, 1)


def _amount_text(amount: Decimal | None) -> str:
    return "" if amount is None else str(amount)


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        return min(max(int(value), low), high) if value is not None else default
    except ValueError:
        return default


def _price_range(value: str | None) -> tuple[Decimal | None, Decimal | None]:
    """``MIN-MAX``, ``MIN-`` or ``-MAX`` in the money rule of :mod:`vocab.money`; anything else
    (exponents, signs, ``NaN``) is ignored."""
    if not value or "-" not in value:
        return None, None
    low, _, high = value.partition("-")
    lo, hi = parse_amount(low) if low else None, parse_amount(high) if high else None
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    return lo, hi


def _search_text(value: str | None) -> str:
    """The text as typed, cut after :data:`MAX_WORDS` words and :data:`MAX_TEXT` characters."""
    text = (value or "").strip()[:MAX_TEXT]
    words = list(WORD.finditer(text))
    return text[: words[MAX_WORDS - 1].end()] if len(words) > MAX_WORDS else text


def _filters(args: Mapping[str, Sequence[str]], facet_names: Collection[str]) -> dict[str, tuple[str, ...]]:
    """Selections of known facets only, within the caps; campaign parameters and the like fall
    away here, as does every name the index does not know."""
    filters: dict[str, tuple[str, ...]] = {}
    room = MAX_SELECTED_VALUES
    for name in sorted(n for n in args if n in facet_names and n not in RESERVED):
        if len(filters) == MAX_FILTERED_FACETS or not room:
            break
        values = (v.strip() for v in args[name] if v and len(v) <= MAX_VALUE_LENGTH)
        chosen = tuple(dict.fromkeys(v for v in values if v))[:room]
        if chosen:
            filters[name] = chosen
            room -= len(chosen)
    return filters


def parse(
    args: Mapping[str, Sequence[str]],
    *,
    locale: str,
    currency: str,
    facet_names: Collection[str],
    category: str | None = None,
) -> Query:
    """Build a :class:`Query` from request parameters; bad values are ignored or clamped.

    ``facet_names``: the facets the index knows (``brand`` and the attribute codes); only these
    filter."""

    def first(name: str) -> str | None:
        values = args.get(name) or ()
        return values[0] if values else None

    price_min, price_max = _price_range(first("price"))
    sort = first("sort")
    per_page = _int(first("per_page"), DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    page = _int(first("page"), 1, 1, MAX_RESULT_WINDOW)
    return Query(
        locale=locale,
        currency=currency,
        text=_search_text(first("q")),
        category=category,
        filters=_filters(args, facet_names),
        price_min=price_min,
        price_max=price_max,
        in_stock=first("in_stock") in ("1", "true", "on", "yes"),
        sort=sort if sort in SORTS else "relevance",
        page=min(page, last_page(per_page)),
        per_page=per_page,
        past_window=page > last_page(per_page),
    )
