"""A listing or search query, its result, and the parsing of shopper parameters (clamped)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Mapping, Sequence

SORTS = ("relevance", "price_asc", "price_desc", "name", "newest")
MAX_PER_PAGE = 96
DEFAULT_PER_PAGE = 24
MAX_PAGE = 1000  # deep pages cost the engine more than any shopper needs
MAX_FACET_VALUES = 50
MAX_TEXT = 200
RESERVED = {"q", "sort", "page", "per_page", "price", "in_stock", "locale", "currency", "category"}
FACET_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


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

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


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


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        return min(max(int(value), low), high) if value is not None else default
    except ValueError:
        return default


def _price_range(value: str | None) -> tuple[Decimal | None, Decimal | None]:
    """``MIN-MAX``, ``MIN-`` or ``-MAX``; anything unreadable is ignored."""
    if not value or "-" not in value:
        return None, None
    low, _, high = value.partition("-")

    def amount(text: str) -> Decimal | None:
        try:
            d = Decimal(text.strip())
        except InvalidOperation:
            return None
        return d if d.is_finite() and d >= 0 else None

    lo, hi = amount(low) if low else None, amount(high) if high else None
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    return lo, hi


def parse(args: Mapping[str, Sequence[str]], *, locale: str, currency: str, category: str | None = None) -> Query:
    """Build a :class:`Query` from request parameters; bad values are ignored or clamped."""
    def first(name: str) -> str | None:
        values = args.get(name) or ()
        return values[0] if values else None

    filters = {}
    for name, values in args.items():
        if name in RESERVED or not FACET_NAME.match(name):
            continue
        chosen = tuple(dict.fromkeys(v.strip() for v in values if v and v.strip() and len(v) <= 200))
        if chosen:
            filters[name] = chosen[:MAX_FACET_VALUES]
    price_min, price_max = _price_range(first("price"))
    sort = first("sort")
    return Query(
        locale=locale,
        currency=currency,
        text=(first("q") or "").strip()[:MAX_TEXT],
        category=category,
        filters=dict(sorted(filters.items())),
        price_min=price_min,
        price_max=price_max,
        in_stock=first("in_stock") in ("1", "true", "on", "yes"),
        sort=sort if sort in SORTS else "relevance",
        page=_int(first("page"), 1, 1, MAX_PAGE),
        per_page=_int(first("per_page"), DEFAULT_PER_PAGE, 1, MAX_PER_PAGE),
    )
