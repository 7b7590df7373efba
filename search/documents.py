"""The search document: what the projector hands to the index for one product."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class VariantDocument:
    """One visible variant of a product with variants, as search sees it (docs/variants.md)."""

    sku: str
    #: Option name to value (``size`` to ``M``); on top of the product's ``attributes``.
    options: dict[str, str] = field(default_factory=dict)
    #: Currency to the price a shopper pays now for this variant (live offer, else regular).
    prices: dict[str, Decimal] = field(default_factory=dict)
    availability: str = "sold_out"

    @property
    def in_stock(self) -> bool:
        return self.availability != "sold_out"


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
    #: The visible variants of a product with variants; empty for a simple product, which is
    #: then its own single variant (``sku``, no options, ``prices``, ``availability``). With
    #: variants, ``prices`` holds each currency's cheapest variant price and ``availability``
    #: the aggregate (in stock if any variant is).
    variants: tuple[VariantDocument, ...] = ()

    def sellables(self) -> tuple[VariantDocument, ...]:
        """What a shopper can buy: the variants, or the simple product as one variant."""
        return self.variants or (VariantDocument(self.sku, {}, dict(self.prices), self.availability),)

    def values(self, variant: VariantDocument) -> dict[str, tuple[str, ...]]:
        """A variant's attribute values: the product's, each option replacing its name's values."""
        out = dict(self.attributes)
        out.update((name, (value,)) for name, value in variant.options.items())
        return out

    @property
    def in_stock(self) -> bool:
        return self.availability != "sold_out"


#: Facet name of the brand; every other facet is an attribute name.
BRAND = "brand"


#: Code points below it may be combining marks (none above is, in any Unicode version so far).
COMBINING_BELOW = 0x20000
#: Every combining mark, for ``str.translate`` to drop.
_COMBINING = {c: None for c in range(COMBINING_BELOW) if unicodedata.combining(chr(c))}
#: The marks that accented Latin letters decompose into (the combining ones of U+0300..U+036F),
#: dropped first: what is left is then usually ASCII, and the slower translation is not needed.
_LATIN_MARKS = re.compile("[" + "".join(chr(c) for c in range(0x300, 0x370) if c in _COMBINING) + "]+")


def fold(text: str) -> str:
    """Case- and accent-insensitive form: casefold, NFKD, combining marks dropped.

    ``Crème`` becomes ``creme`` and ``Straße`` ``strasse``; ``ø`` and non-Latin letters stay.
    """
    folded = text.casefold()
    if folded.isascii():  # nothing to decompose (most shop text): the cheap path
        return folded
    decomposed = _LATIN_MARKS.sub("", unicodedata.normalize("NFKD", folded))
    return decomposed if decomposed.isascii() else decomposed.translate(_COMBINING)


def name_sort_key(name: str | None) -> str:
    """The name order both adapters share: this key compared by code point, then the SKU."""
    return fold(name or "")
