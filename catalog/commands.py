"""Write commands: each runs in one transaction and records its outbox row in it.

Every command takes a batch, so the admin API (a batch of one) and the feed import (batches of
hundreds) share the same SQL. A command either applies the whole batch or raises a
:class:`~catalog.errors.CatalogError` and the caller's transaction rolls back.

Products are sold in variants (docs/variants.md): prices, offers and stock belong to a variant SKU;
a simple product has one default variant with the product's SKU. ``products.price_version`` and
``stock_version`` never fall below those of the product's variants: every write that moves a
variant's version moves its product's too, to the same number or a later one.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import psycopg

from catalog.errors import Conflict, Invalid, NotFound
from catalog.models import MAX_STOCK, AttributeIn, CategoryIn, OfferIn, ProductIn, VariantIn
from catalog.outbox import record
from vocab.topics import Topic

# A product write re-projects every snippet of the product, so all three versions move on:
# otherwise a tombstone written at deletion could outrank the price or stock snippet of a
# product that comes back.
BUMP_ALL = (
    "version = nextval('source_version'), price_version = nextval('source_version'), "
    "stock_version = nextval('source_version')"
)


def _missing(conn: psycopg.Connection, table: str, column: str, keys: set[str], extra: str = "") -> set[str]:
    if not keys:
        return set()
    found = conn.execute(f"SELECT {column} FROM {table} WHERE {column} = ANY(%s) {extra}", (list(keys),)).fetchall()
    return keys - {r[0] for r in found}


def require_products(conn: psycopg.Connection, skus: set[str]) -> None:
    missing = _missing(conn, "products", "sku", skus, "AND deleted_at IS NULL")
    if missing:
        raise NotFound(f"unknown product(s): {', '.join(sorted(missing))}")


def require_variants(conn: psycopg.Connection, skus: set[str]) -> None:
    """Every SKU names a variant of a product that is not deleted (a simple product's SKU names its
    default variant). A product sold in explicit variants is :class:`Invalid`, with its variants."""
    rows = conn.execute(
        """SELECT s.sku, v.sku IS NOT NULL AND p.deleted_at IS NULL,
                  (SELECT string_agg(x.sku, ', ' ORDER BY x.position, x.sku)
                   FROM variants x JOIN products q ON q.sku = x.product AND q.deleted_at IS NULL
                   WHERE x.product = s.sku)
           FROM unnest(%s::text[]) s(sku) LEFT JOIN variants v ON v.sku = s.sku
                LEFT JOIN products p ON p.sku = v.product
           ORDER BY s.sku""",
        (list(skus),),
    ).fetchall()
    in_variants = [
        f"product {sku} is sold in variants, name one of them: {named}" for sku, ok, named in rows if not ok and named
    ]
    if in_variants:
        raise Invalid("; ".join(in_variants))
    missing = [sku for sku, ok, _ in rows if not ok]
    if missing:
        raise NotFound(f"unknown product(s): {', '.join(missing)}")


def lock_sellers(conn: psycopg.Connection, skus: list[str]) -> None:
    """Lock the products of the variants ``skus`` before anything else: every write that changes a
    product's variants or their prices and stock takes the product's row first, so two writes
    never wait for each other in opposite order."""
    conn.execute(
        """SELECT 1 FROM products WHERE sku IN (SELECT product FROM variants WHERE sku = ANY(%s))
           ORDER BY sku FOR NO KEY UPDATE""",
        (list(skus),),
    )


def _variants_taken(conn: psycopg.Connection, skus: list[str]) -> None:
    """Refuse product SKUs that name another product's variant."""
    taken = conn.execute(
        "SELECT sku, product FROM variants WHERE sku = ANY(%s) AND product <> sku ORDER BY sku", (skus,)
    ).fetchall()
    if taken:
        raise Conflict("; ".join(f"SKU {sku} is a variant of product {product}" for sku, product in taken))


def _follow_products(conn: psycopg.Connection, products: list[str]) -> None:
    """After a product write: its variants take the product's new versions, since the write
    re-projects every snippet of the product, its variants' too."""
    conn.execute(
        """UPDATE variants v SET price_version = p.price_version, stock_version = p.stock_version, updated_at = now()
           FROM products p WHERE p.sku = v.product AND v.product = ANY(%s)""",
        (products,),
    )


def _default_variants(conn: psycopg.Connection, products: list[str]) -> None:
    """Give each of ``products`` that has no variant its default variant (the product's SKU, no
    options), stamped with the product's versions."""
    conn.execute(
        """INSERT INTO variants (sku, product, price_version, stock_version)
           SELECT sku, sku, price_version, stock_version FROM products p
           WHERE sku = ANY(%s) AND NOT EXISTS (SELECT 1 FROM variants v WHERE v.product = p.sku)""",
        (products,),
    )


def put_categories(conn: psycopg.Connection, items: Sequence[tuple[str, CategoryIn]]) -> int:
    """Create or replace categories; a parent must exist already or come earlier in the batch."""
    with conn.transaction():
        for key, cat in items:
            if cat.parent is not None:
                if cat.parent == key:
                    raise Invalid(f"category {key!r} cannot be its own parent")
                if _missing(conn, "categories", "key", {cat.parent}):
                    raise Invalid(f"unknown parent category {cat.parent!r}")
                ancestors = conn.execute(
                    """WITH RECURSIVE up(key, parent) AS (
                           SELECT key, parent FROM categories WHERE key = %s
                           UNION SELECT c.key, c.parent FROM categories c JOIN up ON c.key = up.parent)
                       SELECT 1 FROM up WHERE key = %s""",
                    (cat.parent, key),
                ).fetchone()
                if ancestors:
                    raise Invalid(f"parent {cat.parent!r} would put category {key!r} inside itself")
            conn.execute(
                """INSERT INTO categories (key, parent, position) VALUES (%s, %s, %s)
                   ON CONFLICT (key) DO UPDATE SET parent = EXCLUDED.parent, position = EXCLUDED.position,
                       version = nextval('source_version'), updated_at = now()""",
                (key, cat.parent, cat.position),
            )
            conn.execute("DELETE FROM category_names WHERE category = %s", (key,))
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO category_names (category, locale, name) VALUES (%s, %s, %s)",
                    [(key, locale, name) for locale, name in cat.name.items()],
                )
        return record(conn, Topic.CATEGORY, [key for key, _ in items])


def put_products(conn: psycopg.Connection, items: Sequence[tuple[str, ProductIn]]) -> int:
    """Create or replace products with their texts, categories, attributes and images."""
    skus = [sku for sku, _ in items]
    wanted = {c for _, p in items for c in p.categories}
    with conn.transaction():
        unknown = _missing(conn, "categories", "key", wanted)
        if unknown:
            raise Invalid(f"unknown categor{'y' if len(unknown) == 1 else 'ies'}: {', '.join(sorted(unknown))}")
        _variants_taken(conn, skus)
        with conn.cursor() as cur:
            cur.executemany(
                f"""INSERT INTO products (sku, brand, active) VALUES (%s, %s, %s)
                   ON CONFLICT (sku) DO UPDATE SET brand = EXCLUDED.brand, active = EXCLUDED.active,
                       deleted_at = NULL, updated_at = now(), {BUMP_ALL}""",
                [(sku, p.brand, p.active) for sku, p in items],
            )
            for table in ("product_texts", "product_categories", "product_attributes", "product_images"):
                cur.execute(f"DELETE FROM {table} WHERE sku = ANY(%s)", (skus,))
            cur.executemany(
                "INSERT INTO product_texts (sku, locale, name, description) VALUES (%s, %s, %s, %s)",
                [(sku, loc, name, p.description.get(loc, "")) for sku, p in items for loc, name in p.name.items()],
            )
            cur.executemany(
                "INSERT INTO product_categories (sku, category, position) VALUES (%s, %s, %s)",
                [(sku, c, i) for sku, p in items for i, c in enumerate(p.categories)],
            )
            cur.executemany(
                "INSERT INTO product_attributes (sku, name, value, position) VALUES (%s, %s, %s, %s)",
                [(sku, *row) for sku, p in items for row in p.attribute_rows()],
            )
            cur.executemany(
                "INSERT INTO product_images (sku, position, src, width, height) VALUES (%s, %s, %s, %s, %s)",
                [
                    (sku, i, image.src, image.width, image.height)
                    for sku, p in items
                    for i, image in enumerate(p.images)
                ],
            )
        _follow_products(conn, skus)
        _default_variants(conn, skus)
        return record(conn, Topic.PRODUCT, skus)


def put_attribute_labels(conn: psycopg.Connection, items: Sequence[tuple[str, AttributeIn]]) -> int:
    """Replace the labels of attribute codes (canonical, lower case: ``AttributeIn`` rows give them so)."""
    codes = [code for code, _ in items]
    with conn.transaction():
        with conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO attributes (code) VALUES (%s)
                   ON CONFLICT (code) DO UPDATE SET version = nextval('source_version'), updated_at = now()""",
                [(code,) for code in codes],
            )
            cur.execute("DELETE FROM attribute_labels WHERE code = ANY(%s)", (codes,))
            cur.executemany(
                "INSERT INTO attribute_labels (code, locale, label) VALUES (%s, %s, %s)",
                [(code, locale, label) for code, a in items for locale, label in a.label.items()],
            )
        return record(conn, Topic.ATTRIBUTE, codes)


def delete_product(conn: psycopg.Connection, sku: str) -> int:
    """Withdraw a product: it stays in the database (its history and stock) but leaves the shop."""
    with conn.transaction():
        row = conn.execute(
            f"""UPDATE products SET deleted_at = now(), active = false, updated_at = now(), {BUMP_ALL}
               WHERE sku = %s AND deleted_at IS NULL RETURNING sku""",
            (sku,),
        ).fetchone()
        if row is None:
            raise NotFound(f"unknown product: {sku}")
        _follow_products(conn, [sku])
        return record(conn, Topic.PRODUCT, [sku])


def _lock_products(conn: psycopg.Connection, products: list[str]) -> None:
    """Lock the products whose variants change (so two writes never both find them without
    explicit variants); each must exist and not be deleted."""
    found = conn.execute(
        "SELECT sku FROM products WHERE sku = ANY(%s) AND deleted_at IS NULL ORDER BY sku FOR NO KEY UPDATE",
        (products,),
    ).fetchall()
    missing = set(products) - {r[0] for r in found}
    if missing:
        raise NotFound(f"unknown product(s): {', '.join(sorted(missing))}")


def _not_default(product: str, sku: str) -> None:
    if sku == product:
        raise Invalid(
            f"{sku} is the product's own SKU (its default variant, which it has while it has no other): "
            "a variant needs a SKU of its own"
        )


def put_variants(conn: psycopg.Connection, items: Sequence[tuple[str, str, VariantIn]]) -> int:
    """Create or replace variants: (product sku, variant sku, variant) rows.

    A product's first explicit variant replaces its default variant, with that variant's prices,
    offers and stock. A variant SKU may not be a product's SKU nor another product's variant's.
    Two variants of one product may not have the same options.
    """
    products = sorted({product for product, _, _ in items})
    skus = [sku for _, sku, _ in items]
    with conn.transaction():
        for product, sku, _ in items:
            _not_default(product, sku)
        _lock_products(conn, products)
        owners = [product for product, _, _ in items]
        products_named = sorted(set(skus) - _missing(conn, "products", "sku", set(skus)))
        taken = [f"SKU {sku} is a product's SKU" for sku in products_named] + _owned_elsewhere(conn, skus, owners)
        if taken:
            raise Conflict("; ".join(taken))
        conn.execute("DELETE FROM variants WHERE sku = product AND product = ANY(%s)", (products,))
        with conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO variants (sku, product, position, active)
                   VALUES (%(sku)s, %(product)s,
                           COALESCE(%(position)s::integer,
                                    (SELECT max(position) + 1 FROM variants WHERE product = %(product)s), 0),
                           %(active)s)
                   ON CONFLICT (sku) DO UPDATE SET
                       position = COALESCE(%(position)s::integer, variants.position), active = EXCLUDED.active,
                       price_version = nextval('source_version'), stock_version = nextval('source_version'),
                       updated_at = now()
                   WHERE variants.product = EXCLUDED.product""",
                [
                    {"sku": sku, "product": product, "position": v.position, "active": v.active}
                    for product, sku, v in items
                ],
            )
            taken = _owned_elsewhere(conn, skus, owners)  # by a write that committed meanwhile
            if taken:
                raise Conflict("; ".join(taken))
            cur.execute("DELETE FROM variant_options WHERE variant = ANY(%s)", (skus,))
            cur.executemany(
                "INSERT INTO variant_options (variant, name, value, position) VALUES (%s, %s, %s, %s)",
                [(sku, name, value, i) for _, sku, v in items for i, (name, value) in enumerate(v.options.items())],
            )
        _same_options(conn, products)
        conn.execute(f"UPDATE products SET updated_at = now(), {BUMP_ALL} WHERE sku = ANY(%s)", (products,))
        return record(conn, Topic.PRODUCT, products)


def _owned_elsewhere(conn: psycopg.Connection, skus: list[str], owners: list[str]) -> list[str]:
    """What is wrong with the variant SKUs ``skus`` that belong to other products than ``owners``."""
    return [
        f"SKU {sku} is a variant of product {owner}"
        for sku, owner in conn.execute(
            """SELECT v.sku, v.product FROM variants v JOIN unnest(%s::text[], %s::text[]) i(sku, product)
               ON i.sku = v.sku WHERE v.product <> i.product ORDER BY v.sku""",
            (skus, owners),
        )
    ]


def _same_options(conn: psycopg.Connection, products: list[str]) -> None:
    """Refuse two variants of one product with the same options: the picker could not tell them apart."""
    same = conn.execute(
        """WITH o AS (SELECT v.product, v.sku,
                             COALESCE((SELECT jsonb_object_agg(name, value) FROM variant_options
                                       WHERE variant = v.sku), '{}') AS options
                      FROM variants v WHERE v.product = ANY(%s))
           SELECT product, string_agg(sku, ', ' ORDER BY sku), min(options::text) FROM o
           GROUP BY product, options HAVING count(*) > 1 ORDER BY product""",
        (products,),
    ).fetchall()
    if same:
        raise Invalid(
            "; ".join(
                f"variants {skus} of product {product} have the same options {options}"
                for product, skus, options in same
            )
        )


def delete_variant(conn: psycopg.Connection, product: str, sku: str) -> int:
    """Remove a variant with its prices, offers and stock; a product left without variants gets
    its default variant back (no prices, no stock)."""
    with conn.transaction():
        _not_default(product, sku)
        _lock_products(conn, [product])
        if not conn.execute("DELETE FROM variants WHERE sku = %s AND product = %s", (sku, product)).rowcount:
            raise NotFound(f"unknown variant {sku} of product {product}")
        _default_variants(conn, [product])
        conn.execute(f"UPDATE products SET updated_at = now(), {BUMP_ALL} WHERE sku = %s", (product,))
        return record(conn, Topic.PRODUCT, [product])


def _touch(conn: psycopg.Connection, column: str, skus: list[str]) -> None:
    """Move ``column`` (price_version, stock_version) of the variants ``skus`` and of their
    products on, to one new number."""
    conn.execute(
        f"""WITH n AS (SELECT nextval('source_version') AS n),
                v AS (UPDATE variants SET {column} = (SELECT n FROM n), updated_at = now()
                      WHERE sku = ANY(%s) RETURNING product)
           UPDATE products SET {column} = (SELECT n FROM n) WHERE sku IN (SELECT product FROM v)""",
        (skus,),
    )


def _touch_prices(conn: psycopg.Connection, skus: list[str]) -> int:
    _touch(conn, "price_version", skus)
    return record(conn, Topic.PRICE, skus)


def put_prices(conn: psycopg.Connection, items: Sequence[tuple[str, str, Decimal]]) -> int:
    """Set regular prices: (variant sku, currency, amount) rows."""
    skus = sorted({sku for sku, _, _ in items})
    with conn.transaction():
        lock_sellers(conn, skus)
        require_variants(conn, set(skus))
        with conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO prices (sku, currency, amount) VALUES (%s, %s, %s)
                   ON CONFLICT (sku, currency) DO UPDATE SET amount = EXCLUDED.amount, updated_at = now()""",
                list(items),
            )
        return _touch_prices(conn, skus)


def put_offers(conn: psycopg.Connection, items: Sequence[tuple[str, str, OfferIn]]) -> int:
    """Add or replace special offers, keyed by (sku, currency, starts_at)."""
    skus = sorted({sku for sku, _, _ in items})
    with conn.transaction():
        lock_sellers(conn, skus)
        require_variants(conn, set(skus))
        with conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO offers (sku, currency, amount, starts_at, ends_at) VALUES (%s, %s, %s, %s, %s)
                   ON CONFLICT (sku, currency, starts_at) DO UPDATE SET amount = EXCLUDED.amount,
                       ends_at = EXCLUDED.ends_at, updated_at = now()""",
                [(sku, cur_, o.amount, o.starts_at, o.ends_at) for sku, cur_, o in items],
            )
        return _touch_prices(conn, skus)


def delete_offers(conn: psycopg.Connection, sku: str, currency: str) -> int:
    """Remove every offer of a variant (a simple product) in one currency."""
    with conn.transaction():
        lock_sellers(conn, [sku])
        require_variants(conn, {sku})
        deleted = conn.execute("DELETE FROM offers WHERE sku = %s AND currency = %s", (sku, currency)).rowcount
        if not deleted:
            raise NotFound(f"no offer for {sku} in {currency}")
        return _touch_prices(conn, [sku])


def touch_stock(conn: psycopg.Connection, skus: list[str]) -> int:
    """Move the stock versions of the variants ``skus`` (and their products') on and record one
    outbox row for them all; return its id."""
    _touch(conn, "stock_version", skus)
    return record(conn, Topic.STOCK, skus)


def set_stock(conn: psycopg.Connection, items: Sequence[tuple[str, int]]) -> int:
    """Set absolute stock levels: (variant sku, quantity) rows."""
    skus = sorted({sku for sku, _ in items})
    with conn.transaction():
        lock_sellers(conn, skus)
        require_variants(conn, set(skus))
        with conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO stock (sku, quantity) VALUES (%s, %s)
                   ON CONFLICT (sku) DO UPDATE SET quantity = EXCLUDED.quantity, updated_at = now()""",
                list(items),
            )
        return touch_stock(conn, skus)


def apply_movement(
    conn: psycopg.Connection, sku: str, movement_id: str, delta: int, reason: str
) -> tuple[int, int | None]:
    """Apply a stock movement once per movement id.

    Returns ``(quantity after, outbox id)``; the outbox id is None when the movement had been
    applied before. The level changes in one UPDATE, so concurrent movements never lose one. A
    movement that would take the level below 0 is a :class:`Conflict`, above :data:`MAX_STOCK` an
    :class:`Invalid` (the column is a 32-bit integer); either way nothing is written.
    """
    with conn.transaction():
        lock_sellers(conn, [sku])
        require_variants(conn, {sku})
        inserted = conn.execute(
            """INSERT INTO stock_movements (movement_id, sku, delta, reason) VALUES (%s, %s, %s, %s)
               ON CONFLICT (movement_id) DO NOTHING RETURNING movement_id""",
            (movement_id, sku, delta, reason),
        ).fetchone()
        if inserted is None:
            earlier = conn.execute(
                "SELECT sku, delta FROM stock_movements WHERE movement_id = %s", (movement_id,)
            ).fetchone()
            if earlier != (sku, delta):
                raise Conflict(f"movement {movement_id!r} was already used for another change")
            level = conn.execute("SELECT quantity FROM stock WHERE sku = %s", (sku,)).fetchone()
            return (level[0] if level else 0), None
        if delta > 0:  # a receipt may be the first stock the product ever had
            # The sum is taken in bigint: in integer it would overflow before the bound is compared.
            row = conn.execute(
                """INSERT INTO stock (sku, quantity) VALUES (%s, %s)
                   ON CONFLICT (sku) DO UPDATE SET quantity = stock.quantity + EXCLUDED.quantity, updated_at = now()
                   WHERE stock.quantity::bigint + EXCLUDED.quantity <= %s
                   RETURNING quantity""",
                (sku, delta, MAX_STOCK),
            ).fetchone()
            if row is None:
                found = conn.execute("SELECT quantity FROM stock WHERE sku = %s", (sku,)).fetchone()
                assert found is not None  # the upsert met the row and left it (its bound held)
                level = found[0]
                raise Invalid(
                    f"movement of +{delta} would raise the stock of {sku} from {level} to "
                    f"{level + delta}, above the largest level {MAX_STOCK}"
                )
        else:
            row = conn.execute(
                """UPDATE stock SET quantity = quantity + %s, updated_at = now()
                   WHERE sku = %s AND quantity + %s >= 0 RETURNING quantity""",
                (delta, sku, delta),
            ).fetchone()
        if row is None:
            raise Conflict(f"movement of {delta} would make the stock of {sku} negative")
        return row[0], touch_stock(conn, [sku])
