"""The search document: what the projector hands to the index for one product."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class SearchDocument:
    sku: str
    #: Newest source version of the product (text, price and stock versions all come from one
    #: sequence, so the maximum grows with every change); an older document never wins.
    version: int
    #: False for deleted or deactivated products: they stay indexed but never match.
    visible: bool
    #: Seconds since the epoch, for "newest first".
    created_at: int
    brand: str = ""
    #: Categories the product is filed under, plus all their ancestors (a listing of a category
    #: includes its subcategories).
    category_paths: tuple[str, ...] = ()
    #: Attribute name to values (``color`` to ``("Red", "Blue")``); each name is a facet.
    attributes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: Locale to product name / plain-text description.
    names: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    #: Currency to the price a shopper pays now (a live offer's amount, else the regular price).
    prices: dict[str, Decimal] = field(default_factory=dict)
    #: ``in_stock``, ``low_stock`` or ``sold_out``.
    availability: str = "sold_out"

    @property
    def in_stock(self) -> bool:
        return self.availability != "sold_out"


#: Facet name of the brand; every other facet is an attribute name.
BRAND = "brand"
