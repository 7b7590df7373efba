"""Reads the write side's current state for projection: a few batched queries per batch of SKUs.

The projector is the only code that reads the database for the read side. Every view carries
the source versions its snippets are stamped with.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import psycopg

from vocab.images import Image


@dataclass(frozen=True)
class Offer:
    currency: str
    amount: Decimal
    starts_at: datetime
    ends_at: datetime


@dataclass
class VariantView:
    """One sellable variant of a product: its own SKU, option values, prices, offers and stock.

    A product without options has exactly one variant whose SKU is the product's SKU and whose
    options are empty (a *simple* product); see docs/variants.md.
    """

    sku: str
    position: int
    active: bool
    price_version: int  # its prices and offers
    stock_version: int  # its stock level
    #: Option name (an attribute code: ``size``, ``color``) to the variant's value (``M``, ``Blue``).
    options: dict[str, str] = field(default_factory=dict)
    prices: dict[str, Decimal] = field(default_factory=dict)
    offers: list[Offer] = field(default_factory=list)
    quantity: int = 0


@dataclass
class ProductView:
    sku: str
    brand: str
    active: bool
    deleted: bool
    created_at: datetime
    version: int  # text, categories, attributes, images, active flag
    price_version: int  # prices and offers
    stock_version: int  # stock level
    names: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)
    attributes: dict[str, list[str]] = field(default_factory=dict)
    images: list[Image] = field(default_factory=list)  # the first is the main image
    prices: dict[str, Decimal] = field(default_factory=dict)
    offers: list[Offer] = field(default_factory=list)
    quantity: int = 0
    #: Every variant, active or not, in position order (never empty for a product that exists:
    #: a simple product has its one default variant). ``prices``, ``offers`` and ``quantity``
    #: above are the default variant's for a simple product; for a product with variants they
    #: are empty / 0 and only the variants carry them (docs/variants.md).
    variants: list[VariantView] = field(default_factory=list)

    @property
    def visible(self) -> bool:
        return self.active and not self.deleted

    @property
    def has_variants(self) -> bool:
        """Sold in variants (a picker on its page), not a simple product (nor a view built without variants)."""
        simple = len(self.variants) == 1 and self.variants[0].sku == self.sku and not self.variants[0].options
        return bool(self.variants) and not simple


@dataclass(frozen=True)
class CategoryView:
    key: str
    parent: str | None
    position: int
    version: int
    names: dict[str, str]


def load_products(conn: psycopg.Connection, skus: Sequence[str]) -> dict[str, ProductView]:
    """The current state of ``skus`` (unknown SKUs are simply absent), read in one snapshot.

    Each view holds its variants in position order. ``price_version`` and ``stock_version`` are
    the maximum over the product and its variants (the aggregate snippets' versions); for a simple
    product, ``prices``, ``offers`` and ``quantity`` are its default variant's.
    """
    skus = list(skus)
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        rows = conn.execute(
            """SELECT sku, brand, active, deleted_at IS NOT NULL, created_at, version, price_version, stock_version
               FROM products p WHERE sku = ANY(%b)""",
            (skus,),
        ).fetchall()
        views = {row[0]: ProductView(*row) for row in rows}
        for sku, locale, name, description in conn.execute(
            "SELECT sku, locale, name, description FROM product_texts WHERE sku = ANY(%b)", (skus,)
        ).fetchall():
            views[sku].names[locale] = name
            views[sku].descriptions[locale] = description
        for sku, category in conn.execute(
            "SELECT sku, category FROM product_categories WHERE sku = ANY(%b) ORDER BY sku, position", (skus,)
        ).fetchall():
            views[sku].categories.append(category)
        for sku, name, value in conn.execute(
            "SELECT sku, name, value FROM product_attributes WHERE sku = ANY(%b) ORDER BY sku, name, position",
            (skus,),
        ).fetchall():
            views[sku].attributes.setdefault(name, []).append(value)
        for sku, src, width, height in conn.execute(
            "SELECT sku, src, width, height FROM product_images WHERE sku = ANY(%b) ORDER BY sku, position", (skus,)
        ).fetchall():
            views[sku].images.append(Image(src, width, height))
        variants = _load_variants(conn, skus, views)
    for view in views.values():
        view.price_version = max([view.price_version, *(v.price_version for v in view.variants)])
        view.stock_version = max([view.stock_version, *(v.stock_version for v in view.variants)])
        default = variants.get(view.sku)
        if default is not None and not view.has_variants:
            view.prices, view.offers, view.quantity = dict(default.prices), list(default.offers), default.quantity
    return views


def _load_variants(conn: psycopg.Connection, skus: list[str], views: dict[str, ProductView]) -> dict[str, VariantView]:
    """Fill each view's ``variants`` (with their options, prices, live offers and stock); return
    every loaded variant by its SKU."""
    variants: dict[str, VariantView] = {}
    for product, sku, position, active, price_version, stock_version, quantity in conn.execute(
        """SELECT v.product, v.sku, v.position, v.active, v.price_version, v.stock_version, COALESCE(s.quantity, 0)
           FROM variants v LEFT JOIN stock s ON s.sku = v.sku
           WHERE v.product = ANY(%b) ORDER BY v.product, v.position, v.sku""",
        (skus,),
    ).fetchall():
        variant = VariantView(sku, position, active, price_version, stock_version, quantity=quantity)
        views[product].variants.append(variant)
        variants[sku] = variant
    of_products = "JOIN variants v ON v.sku = t.{column} WHERE v.product = ANY(%b)"
    for sku, name, value in conn.execute(
        "SELECT t.variant, t.name, t.value FROM variant_options t "
        + of_products.format(column="variant")
        + " ORDER BY t.variant, t.position",
        (skus,),
    ).fetchall():
        variants[sku].options[name] = value
    for sku, currency, amount in conn.execute(
        "SELECT t.sku, t.currency, t.amount FROM prices t " + of_products.format(column="sku"), (skus,)
    ).fetchall():
        variants[sku].prices[currency] = amount
    for sku, currency, amount, starts, ends in conn.execute(
        "SELECT t.sku, t.currency, t.amount, t.starts_at, t.ends_at FROM offers t "
        + of_products.format(column="sku")
        + " AND t.ends_at > now()",
        (skus,),
    ).fetchall():
        variants[sku].offers.append(Offer(currency, amount, starts, ends))
    return variants


def variant_products(conn: psycopg.Connection, skus: Sequence[str]) -> dict[str, str]:
    """The product of each SKU in ``skus``: a variant's product, and a product's own SKU for a SKU
    that names a product and none of its variants (a product sold in explicit variants; an outbox
    row written before it got them). A simple product's SKU maps to itself; SKUs that name nothing
    are absent."""
    rows = conn.execute(
        """SELECT v.sku, v.product FROM variants v WHERE v.sku = ANY(%(skus)s)
           UNION ALL
           SELECT p.sku, p.sku FROM products p
           WHERE p.sku = ANY(%(skus)s) AND NOT EXISTS (SELECT 1 FROM variants v WHERE v.sku = p.sku)""",
        {"skus": list(skus)},
    ).fetchall()
    return dict(rows)


def load_categories(conn: psycopg.Connection) -> dict[str, CategoryView]:
    """The whole category tree (small: a shop has hundreds of categories, not millions)."""
    names: dict[str, dict[str, str]] = defaultdict(dict)
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        for key, locale, name in conn.execute("SELECT category, locale, name FROM category_names"):
            names[key][locale] = name
        rows = conn.execute("SELECT key, parent, position, version FROM categories ORDER BY position, key").fetchall()
    return {key: CategoryView(key, parent, position, version, names[key]) for key, parent, position, version in rows}


def load_attribute_labels(
    conn: psycopg.Connection, codes: Sequence[str] | None = None
) -> dict[str, tuple[int, dict[str, str]]]:
    """Attribute code → (version, labels by locale), for ``codes`` or every code that has a row."""
    out: dict[str, tuple[int, dict[str, str]]] = {}
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        for code, version in conn.execute(
            "SELECT code, version FROM attributes WHERE %(codes)s::text[] IS NULL OR code = ANY(%(codes)s)",
            {"codes": None if codes is None else list(codes)},
        ):
            out[code] = (version, {})
        for code, locale, label in conn.execute(
            "SELECT code, locale, label FROM attribute_labels WHERE %(codes)s::text[] IS NULL OR code = ANY(%(codes)s)",
            {"codes": None if codes is None else list(codes)},
        ):
            out[code][1][locale] = label
    return out


def attribute_in_use(conn: psycopg.Connection, code: str) -> bool:
    """Some product has a value of the attribute (the (name, value) index answers it)."""
    row = conn.execute("SELECT EXISTS (SELECT 1 FROM product_attributes WHERE name = %s)", (code,)).fetchone()
    assert row is not None  # SELECT without FROM answers one row
    return row[0]


def featured_skus(conn: psycopg.Connection, count: int) -> list[str]:
    """The home page's featured products: the newest visible ones."""
    rows = conn.execute(
        """SELECT sku FROM products WHERE active AND deleted_at IS NULL
           ORDER BY created_at DESC, sku LIMIT %s""",
        (count,),
    ).fetchall()
    return [r[0] for r in rows]


def skus_in_categories(conn: psycopg.Connection, keys: Sequence[str]) -> list[str]:
    """SKUs filed under any of ``keys`` or their subcategories."""
    rows = conn.execute(
        """WITH RECURSIVE sub(key) AS (
               SELECT key FROM categories WHERE key = ANY(%s)
               UNION SELECT c.key FROM categories c JOIN sub ON c.parent = sub.key)
           SELECT DISTINCT sku FROM product_categories WHERE category IN (SELECT key FROM sub) ORDER BY sku""",
        (list(keys),),
    ).fetchall()
    return [r[0] for r in rows]


def iter_sku_batches(conn: psycopg.Connection, batch: int, only: Sequence[str] | None = None) -> Iterator[list[str]]:
    """Every SKU (or those of ``only`` that exist), in keyset-paginated batches."""
    last = ""
    while True:
        rows = conn.execute(
            "SELECT sku FROM products WHERE sku > %s AND (%s::text[] IS NULL OR sku = ANY(%s)) ORDER BY sku LIMIT %s",
            (last, only, only, batch),
        ).fetchall()
        if not rows:
            return
        yield [r[0] for r in rows]
        last = rows[-1][0]


def count_products(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) FROM products").fetchone()[0]  # type: ignore[index]


def home_state(conn: psycopg.Connection, count: int) -> tuple[int, list[str]]:
    """The featured SKUs and a version that grows with any product write (which may change them)."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        row = conn.execute("SELECT max(version) FROM products").fetchone()
        return int(row[0] or 0) if row else 0, featured_skus(conn, count)


def stock_levels(conn: psycopg.Connection, skus: Sequence[str]) -> dict[str, tuple[int, bool]]:
    """Variant SKU (a simple product's: the product's SKU) to (quantity, visible): the cheap read a
    stock movement needs to see if its state changed. Visible: the variant is active and its
    product visible. SKUs that name no variant are absent."""
    rows = conn.execute(
        """SELECT v.sku, COALESCE(s.quantity, 0), v.active AND p.active AND p.deleted_at IS NULL
           FROM variants v JOIN products p ON p.sku = v.product LEFT JOIN stock s ON s.sku = v.sku
           WHERE v.sku = ANY(%s)""",
        (list(skus),),
    ).fetchall()
    return {sku: (quantity, visible) for sku, quantity, visible in rows}
