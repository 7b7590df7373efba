"""The SQL of the classical baseline: what each page reads from PostgreSQL, per request.

A product page is two queries (the category tree for the frame and breadcrumb, then one row with
everything about the product); a listing or search page is two as well (the category tree, then
one statement that yields the page's 24 tiles, the total and every facet count). Nothing is
cached between requests; psycopg prepares the statements it sees often (``prepare_threshold``).

Semantics follow the search contract (tests/search_reference.py), so the classical pages list the
same products as the edge: a category lists its subcategories' products; attribute filters, the
price range and "in stock" hold for one of a product's variants at once (docs/variants.md,
"Search"); facets are disjunctive (a facet's counts ignore that facet's own selection) and count
products; the price filter and price sorts use what a shopper pays now (a live offer, else the
regular price) of the cheapest matching variant; "newest" compares creation times in whole
seconds, ties by SKU. Text search is PostgreSQL's own: ``plainto_tsquery`` against the name
and description (a GIN index per locale), ranked like the edge by the number of query words in
the name, then SKU; unlike the embedded index it neither folds accents (``rhon`` does not find
``Rhön``), nor expands prefixes (``jack``), and it drops stop words (``the`` finds nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import psycopg
from psycopg import sql

from search.documents import BRAND
from search.embedded_text import SNOWBALL
from search.query import Query
from vocab.images import Image

#: Language of a locale to its PostgreSQL text search configuration (the Snowball stemmers the
#: embedded index uses too); other languages are searched with ``simple`` (no stemming).
TS_CONFIGS = SNOWBALL

#: Name order: a linguistic collation that ignores case and accents at the first level, close to
#: the contract's casefolded, accent-free code point order.
NAME_COLLATION = "und-x-icu"

INDEX_LOCK = 0x5EC1A551  # advisory lock: the server's workers start together


def ts_config(locale: str) -> str:
    return TS_CONFIGS.get(locale.split("_")[0].split("-")[0].lower(), "simple")


def tsvector(locale: str, alias: str = "t") -> sql.Composable:
    """The indexed document of one text row: name weighted A, description B (exactly as indexed)."""
    cfg = sql.Literal(ts_config(locale))
    return sql.SQL(
        "(setweight(to_tsvector({cfg}::regconfig, {a}.name), 'A') || "
        "setweight(to_tsvector({cfg}::regconfig, {a}.description), 'B'))"
    ).format(cfg=cfg, a=sql.Identifier(alias))


def ensure_indexes(conn: psycopg.Connection, locales: Sequence[str]) -> None:
    """Create the indexes the classical queries need beyond the product's schema (idempotent; one
    process at a time, as the server's workers start together).

    Missing are the text search index per locale and an index of the option names (the filter
    parameters: :func:`facet_names`): EXPLAIN shows the other queries on the schema's own keys and
    indexes (product_categories_category, variants_product, the primary keys of product_texts,
    product_attributes, variant_options, prices, stock and offers' unique key).
    """
    conn.execute("SELECT pg_advisory_lock(%s)", (INDEX_LOCK,))
    try:
        conn.execute("CREATE INDEX IF NOT EXISTS classical_option_names ON variant_options (name, value)")
        for locale in locales:
            name = sql.Identifier(f"classical_fts_{locale.lower().replace('-', '_')}")
            conn.execute(
                sql.SQL(
                    "CREATE INDEX IF NOT EXISTS {name} ON product_texts USING gin ({doc}) WHERE locale = {locale}"
                ).format(name=name, doc=tsvector(locale, "product_texts"), locale=sql.Literal(locale))
            )
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (INDEX_LOCK,))


# --- the category tree (every page: navigation, breadcrumbs, a category's subtree) ----------

CATEGORIES = """
SELECT c.key, c.parent, c.position, n.locale, n.name
FROM categories c LEFT JOIN category_names n ON n.category = c.key
ORDER BY c.position, c.key
"""


@dataclass(frozen=True)
class CategoryRow:
    key: str
    parent: str | None
    position: int
    names: dict[str, str]


def load_categories(conn: psycopg.Connection) -> dict[str, CategoryRow]:
    out: dict[str, CategoryRow] = {}
    for key, parent, position, locale, name in conn.execute(CATEGORIES):
        row = out.get(key) or out.setdefault(key, CategoryRow(key, parent, position, {}))
        if locale is not None:
            row.names[locale] = name
    return out


def load_labels(conn: psycopg.Connection) -> dict[str, dict[str, str]]:
    """Attribute code → its labels by locale (what the facet headings and product pages show)."""
    out: dict[str, dict[str, str]] = {}
    for code, locale, label in conn.execute("SELECT code, locale, label FROM attribute_labels"):
        out.setdefault(code, {})[locale] = label
    return out


NAMES = """
WITH RECURSIVE n(name) AS (
    (SELECT name FROM {table} ORDER BY name LIMIT 1)
    UNION ALL
    SELECT (SELECT name FROM {table} WHERE name > n.name ORDER BY name LIMIT 1)
    FROM n WHERE n.name IS NOT NULL)
SELECT name FROM n WHERE name IS NOT NULL"""


def facet_names(conn: psycopg.Connection) -> frozenset[str]:
    """``brand``, every attribute code and every variant option name in the catalog: the parameters
    that filter a listing. (A loose index scan of each (name, value) index, one step per name.)"""
    names = conn.execute(
        f"({NAMES.format(table='product_attributes')}) UNION ({NAMES.format(table='variant_options')})"
    ).fetchall()
    return frozenset({BRAND, *(name for (name,) in names)})


def subtree(categories: dict[str, CategoryRow], key: str) -> list[str]:
    children: dict[str | None, list[str]] = {}
    for c in categories.values():
        children.setdefault(c.parent, []).append(c.key)
    out, todo = [], [key]
    while todo:
        k = todo.pop()
        if k not in out:
            out.append(k)
            todo.extend(children.get(k, ()))
    return out


# --- the product page: one row ----------------------------------------------------------------

#: A product's images in order (all of them, or only the first: a tile's), as JSON [[src, width, height], ...].
IMAGES = (
    "(SELECT json_agg(json_build_array(i.src, i.width, i.height) ORDER BY i.position) "
    "FROM product_images i WHERE i.sku = p.sku{first})"
)
ALL_IMAGES = IMAGES.format(first="")
FIRST_IMAGE = IMAGES.format(first=" AND i.position = 0")
#: A product's variants in order, as JSON [[sku, active, {option: value}, price, lowest live offer,
#: quantity], ...] (amounts as text, to stay exact); a simple product's one default variant included.
VARIANTS = """(SELECT json_agg(json_build_array(
        v.sku, v.active,
        (SELECT json_object_agg(vo.name, vo.value ORDER BY vo.position)
           FROM variant_options vo WHERE vo.variant = v.sku),
        (SELECT vp.amount::text FROM prices vp WHERE vp.sku = v.sku AND vp.currency = %(currency)s),
        (SELECT min(vf.amount)::text FROM offers vf
          WHERE vf.sku = v.sku AND vf.currency = %(currency)s AND vf.starts_at <= now() AND vf.ends_at > now()),
        COALESCE((SELECT vs.quantity FROM stock vs WHERE vs.sku = v.sku), 0)) ORDER BY v.position, v.sku)
    FROM variants v WHERE v.product = p.sku)"""

PRODUCT = f"""
SELECT p.brand,
       (SELECT json_object_agg(t.locale, json_build_array(t.name, t.description))
          FROM product_texts t WHERE t.sku = p.sku),
       ARRAY(SELECT pc.category FROM product_categories pc WHERE pc.sku = p.sku ORDER BY pc.position, pc.category),
       ARRAY(SELECT ARRAY[a.name, a.value] FROM product_attributes a WHERE a.sku = p.sku ORDER BY a.name, a.position),
       (SELECT pr.amount FROM prices pr WHERE pr.sku = p.sku AND pr.currency = %(currency)s),
       (SELECT min(o.amount) FROM offers o
         WHERE o.sku = p.sku AND o.currency = %(currency)s AND o.starts_at <= now() AND o.ends_at > now()),
       COALESCE((SELECT s.quantity FROM stock s WHERE s.sku = p.sku), 0),
       {ALL_IMAGES},
       {VARIANTS}
FROM products p
WHERE p.sku = %(sku)s AND p.active AND p.deleted_at IS NULL
"""

#: The product an active variant of a product sold in variants belongs to (its page: /p/<variant SKU>).
VARIANT_OWNER = "SELECT product FROM variants WHERE sku = %s AND sku <> product AND active"


@dataclass
class VariantRow:
    sku: str
    active: bool
    options: dict[str, str] = field(default_factory=dict)
    price: Decimal | None = None
    offer: Decimal | None = None  # the lowest live offer in the currency
    quantity: int = 0


@dataclass
class ProductRow:
    sku: str
    brand: str
    names: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)
    attributes: dict[str, list[str]] = field(default_factory=dict)
    price: Decimal | None = None
    offer: Decimal | None = None  # the lowest live offer in the currency
    quantity: int = 0
    images: list[Image] = field(default_factory=list)
    #: Every variant in order (a simple product's default one included).
    variants: list[VariantRow] = field(default_factory=list)


def images(rows: list | None) -> list[Image]:
    return [Image(src, width, height) for src, width, height in rows or ()]


def variants(rows: list | None) -> list[VariantRow]:
    def amount(text: str | None) -> Decimal | None:
        return None if text is None else Decimal(text)

    return [
        VariantRow(sku, active, options or {}, amount(price), amount(offer), quantity)
        for sku, active, options, price, offer, quantity in rows or ()
    ]


def variant_owner(conn: psycopg.Connection, sku: str) -> str | None:
    """The product whose active variant ``sku`` is, if any."""
    row = conn.execute(VARIANT_OWNER, (sku,)).fetchone()
    return None if row is None else row[0]


def load_product(conn: psycopg.Connection, sku: str, currency: str) -> ProductRow | None:
    row = conn.execute(PRODUCT, {"sku": sku, "currency": currency}).fetchone()
    if row is None:
        return None
    brand, texts, categories, attributes, price, offer, quantity, pictures, sellables = row
    p = ProductRow(
        sku,
        brand,
        categories=list(categories),
        price=price,
        offer=offer,
        quantity=quantity,
        images=images(pictures),
        variants=variants(sellables),
    )
    for locale, (name, description) in (texts or {}).items():
        p.names[locale] = name
        p.descriptions[locale] = description
    for name, value in attributes:
        p.attributes.setdefault(name, []).append(value)
    return p


# --- listings (category pages and search): one statement ----------------------------------


@dataclass
class Listing:
    tiles: list[ProductRow]  # the page, in order
    total: int
    #: (facet, value) -> count, over the candidates matching every selection but the facet's own
    counts: dict[tuple[str, str], int]


def _all(conditions: Sequence[sql.Composable]) -> sql.Composable:
    return sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("true")


def listing_statement(query: Query, categories: Sequence[str] | None) -> tuple[sql.Composed, dict]:
    """The listing of ``query`` (``categories``: the category's subtree, None for all products).

    Product-level conditions (visible, category, text, brand) pick the candidates; the others hold
    for one sellable at a time (docs/variants.md, "Search"): a product's active variants, or, with
    none, the product itself (no options, no price, not in stock). A sellable's values of an
    attribute are its option's value if it has that option, else the product's. Sellables failing
    the price range or the stock condition are left out at once (every count needs those).

    Parts of the result, told apart by the first column:
    0: a tile of the page (its position, then everything the tile shows);
    1: the number of matches; 2: a facet count (name, value, count).
    """
    params: dict = {"locale": query.locale, "currency": query.currency, "limit": query.per_page, "offset": query.offset}
    joins: list[sql.Composable] = []
    where: list[sql.Composable] = [sql.SQL("p.active AND p.deleted_at IS NULL")]
    columns: list[sql.Composable] = [sql.SQL("p.sku"), sql.SQL("p.brand")]
    if categories is not None:
        params["categories"] = list(categories)
        where.append(
            sql.SQL(
                "EXISTS (SELECT 1 FROM product_categories pc WHERE pc.sku = p.sku "
                "AND pc.category = ANY(%(categories)s))"
            )
        )
    text = bool(query.text)
    if text:
        params["text"] = query.text
        cfg = sql.Literal(ts_config(query.locale))
        tsquery = sql.SQL("plainto_tsquery({cfg}::regconfig, %(text)s)").format(cfg=cfg)
        # the locale as a literal: the text index is partial per locale, and a generic plan of a
        # prepared statement could not prove a parameter equal to it
        joins.append(
            sql.SQL("JOIN product_texts t ON t.sku = p.sku AND t.locale = {l}").format(l=sql.Literal(query.locale))
        )
        where.append(sql.SQL("{doc} @@ {q}").format(doc=tsvector(query.locale), q=tsquery))
        # relevance: how many of the query's words the name holds (the edge's rule), then SKU.
        # Cheaper than ts_rank, which would parse every matching description again.
        columns.append(
            sql.SQL(
                "(SELECT count(*) FROM unnest(tsvector_to_array(to_tsvector({cfg}::regconfig, t.name))) w "
                "WHERE w = ANY(tsvector_to_array(to_tsvector({cfg}::regconfig, %(text)s)))) AS rank"
            ).format(cfg=cfg)
        )
    sort = query.sort
    if sort == "relevance" and not text:
        sort = "newest"
    if sort == "name":
        joins.append(sql.SQL("LEFT JOIN product_texts tn ON tn.sku = p.sku AND tn.locale = %(locale)s"))
        columns.append(sql.SQL("COALESCE(tn.name, '') AS name"))
    if sort == "newest":
        columns.append(sql.SQL("date_trunc('second', p.created_at) AS created"))
    order = {
        "relevance": "rank DESC",
        "newest": "created DESC",
        "price_asc": "price ASC NULLS LAST",
        "price_desc": "price DESC NULLS LAST",
        "name": f'name COLLATE "{NAME_COLLATION}"',
    }[sort] + ', sku COLLATE "C"'  # ties by SKU in code point order

    brand: sql.Composable = sql.SQL("true")  # the brand selection, product-level
    # One flag per selected attribute: the product's own values (a column of the candidates) and
    # the sellable's (its option if it has one, else the product's flag). A product must have a
    # sellable with them all; a facet's counts need all but its own.
    flags: dict[str, str] = {}  # attribute name to its flag's column
    product_flags: list[sql.Composable] = []
    option_flags: list[sql.Composable] = []
    sellable_flags: list[sql.Composable] = []
    for i, (name, values) in enumerate(query.filters.items()):
        params[f"f{i}"] = list(values)
        if name == BRAND:
            brand = sql.SQL("c.brand = ANY({v})").format(v=sql.Placeholder(f"f{i}"))
            continue
        params[f"n{i}"] = name
        m, h, o = (sql.Identifier(f"{x}{i}") for x in "mho")
        n, v = sql.Placeholder(f"n{i}"), sql.Placeholder(f"f{i}")
        flags[name] = f"m{i}"
        product_flags.append(sql.SQL("bool_or(a.name = {n} AND a.value = ANY({v})) AS {m}").format(n=n, v=v, m=m))
        option_flags.append(
            sql.SQL("bool_or(o.name = {n}) AS {h}, bool_or(o.name = {n} AND o.value = ANY({v})) AS {o}").format(
                n=n, v=v, h=h, o=o
            )
        )
        sellable_flags.append(
            sql.SQL("CASE WHEN COALESCE(vo.{h}, false) THEN COALESCE(vo.{o}, false) ELSE c.{m} END AS {m}").format(
                h=h, o=o, m=m
            )
        )
    if product_flags:
        params["selected"] = [name for name in query.filters if name != BRAND]
        joins.append(
            sql.SQL(
                "CROSS JOIN LATERAL (SELECT {s} FROM product_attributes a WHERE a.sku = p.sku "
                "AND a.name = ANY(%(selected)s)) sel"
            ).format(s=sql.SQL(", ").join(product_flags))
        )
        columns += [sql.SQL("COALESCE(sel.{m}, false) AS {m}").format(m=sql.Identifier(m)) for m in flags.values()]

    # A product with its default variant (the variant of a simple product: the product's own SKU)
    # is that one sellable, whose values are the product's: no option lookup, no variant join.
    # Only the others go through their variants (docs/variants.md).
    columns.append(sql.SQL("EXISTS (SELECT 1 FROM variants d WHERE d.sku = p.sku AND d.active) AS simple"))
    simple_columns: list[sql.Composable] = [
        sql.SQL("c.sku AS product"),
        sql.SQL("c.sku AS variant"),
        sql.SQL("true AS simple"),
    ]
    simple_columns += [sql.SQL("c.{m} AS {m}").format(m=sql.Identifier(m)) for m in flags.values()]
    sellable_columns: list[sql.Composable] = [
        sql.SQL("c.sku AS product"),
        sql.SQL("v.sku AS variant"),
        sql.SQL("false"),
        *sellable_flags,
    ]
    price_joins: list[sql.Composable] = []
    option_joins: list[sql.Composable] = []
    sellable_where: list[sql.Composable] = []

    def paid(sku: str) -> sql.Composable:
        """Joins giving ``lo.amount`` and ``pr.amount`` for variant ``sku``: what a shopper pays
        now is the lowest live offer, else the regular price."""
        return sql.SQL(
            "LEFT JOIN prices pr ON pr.sku = {v} AND pr.currency = %(currency)s "
            "LEFT JOIN LATERAL (SELECT min(o.amount) AS amount FROM offers o WHERE o.sku = {v} "
            "AND o.currency = %(currency)s AND o.ends_at > now() AND o.starts_at <= now()) lo ON true"
        ).format(v=sql.SQL(sku))

    # With a price range every sellable needs its price; for a price sort alone only those of
    # the matching sellables do (``passing`` looks them up).
    price_range = query.price_min is not None or query.price_max is not None
    price_sort = sort in ("price_asc", "price_desc")
    passing_joins: sql.Composable = sql.SQL("")
    passing_price = sql.SQL("min(s.price)")
    if price_range:
        price_joins.append(paid("v.sku"))
        price = sql.SQL("COALESCE(lo.amount, pr.amount) AS price")
    else:
        price = sql.SQL("NULL::numeric AS price")
        if price_sort:
            passing_joins = paid("s.variant")
            passing_price = sql.SQL("min(COALESCE(lo.amount, pr.amount))")
    simple_columns.append(price)
    sellable_columns.append(price)
    if query.price_min is not None:
        params["price_min"] = query.price_min
        sellable_where.append(sql.SQL("COALESCE(lo.amount, pr.amount) >= %(price_min)s"))
    if query.price_max is not None:
        params["price_max"] = query.price_max
        sellable_where.append(sql.SQL("COALESCE(lo.amount, pr.amount) <= %(price_max)s"))
    if query.in_stock:
        sellable_where.append(sql.SQL("EXISTS (SELECT 1 FROM stock s WHERE s.sku = v.sku AND s.quantity > 0)"))
    if option_flags:
        option_joins.append(
            sql.SQL(
                "LEFT JOIN LATERAL (SELECT {s} FROM variant_options o WHERE o.variant = v.sku "
                "AND o.name = ANY(%(selected)s)) vo ON true"
            ).format(s=sql.SQL(", ").join(option_flags))
        )

    def matching(skip: str | None = None, alias: str = "s") -> sql.Composable:
        """The sellable (``alias``) passes every attribute selection but ``skip``'s."""
        return _all([sql.Identifier(alias, flag) for name, flag in flags.items() if name != skip])

    def value_flags(alias: str, name: sql.Composable) -> sql.Composable:
        """A value (of attribute ``name``) counts for a sellable when the sellable passes the
        other facets' selections."""
        if not flags:
            return sql.SQL("true")
        cases = sql.SQL(" ").join(
            sql.SQL("WHEN {n} THEN {m}").format(n=sql.Literal(n), m=matching(n, alias)) for n in flags
        )
        return sql.SQL("CASE {name} {cases} ELSE {all} END").format(name=name, cases=cases, all=matching(alias=alias))

    def near(alias: str) -> sql.Composable:
        """A sellable failing two selections counts nowhere (nor matches): skip it early."""
        if not flags:
            return sql.SQL("true")
        return sql.SQL("{misses} <= 1").format(
            misses=sql.SQL(" + ").join(
                sql.SQL("(NOT {m})::int").format(m=sql.Identifier(alias, m)) for m in flags.values()
            )
        )

    statement = sql.SQL("""
WITH candidates AS MATERIALIZED (
    SELECT {columns} FROM products p {joins} WHERE {where}
), sellables AS MATERIALIZED (
    SELECT {simple_columns}
    FROM candidates c CROSS JOIN LATERAL (SELECT c.sku) v(sku) {price_joins}
    WHERE c.simple AND {near_candidate} AND {sellable_where}
    UNION ALL
    SELECT {sellable_columns}
    FROM candidates c LEFT JOIN LATERAL (SELECT v.sku FROM variants v WHERE v.product = c.sku AND v.active) v ON true
    {price_joins} {option_joins}
    WHERE NOT c.simple AND {sellable_where}
), passing AS (
    SELECT s.product, {passing_price} AS price FROM sellables s {passing_joins} WHERE {matching} GROUP BY s.product
), matches AS (
    SELECT c.*, passing.price FROM candidates c JOIN passing ON passing.product = c.sku WHERE {brand}
), page AS (
    SELECT sku, row_number() OVER (ORDER BY {order}) AS n
    FROM (SELECT * FROM matches ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s) s
), sellable_values AS (
    SELECT s.*, o.name, o.value FROM sellables s JOIN variant_options o ON o.variant = s.variant
    WHERE NOT s.simple AND {near}
    UNION ALL
    SELECT s.*, a.name, a.value FROM sellables s JOIN product_attributes a ON a.sku = s.product
    WHERE NOT s.simple AND {near}
    AND NOT EXISTS (SELECT 1 FROM variant_options x WHERE x.variant = s.variant AND x.name = a.name)
)
SELECT 0, page.n, p.sku, p.brand,
       (SELECT json_object_agg(t.locale, t.name) FROM product_texts t WHERE t.sku = p.sku),
       (SELECT pr.amount FROM prices pr WHERE pr.sku = p.sku AND pr.currency = %(currency)s),
       (SELECT min(o.amount) FROM offers o
         WHERE o.sku = p.sku AND o.currency = %(currency)s AND o.starts_at <= now() AND o.ends_at > now()),
       COALESCE((SELECT s.quantity FROM stock s WHERE s.sku = p.sku), 0),
       {first_image},
       {variants}
FROM page JOIN products p ON p.sku = page.sku
UNION ALL
SELECT 1, count(*), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM matches
UNION ALL
SELECT 2, count(*), {brand_name}, c.brand, NULL, NULL, NULL, NULL, NULL, NULL
FROM candidates c JOIN passing ON passing.product = c.sku
WHERE c.brand <> '' GROUP BY c.brand
UNION ALL
SELECT 2, count(*), a.name, a.value, NULL, NULL, NULL, NULL, NULL, NULL
FROM sellables s JOIN candidates c ON c.sku = s.product JOIN product_attributes a ON a.sku = s.product
WHERE s.simple AND {near} AND a.name <> {brand_name} AND {brand} AND {simple_value_flags}
GROUP BY a.name, a.value
UNION ALL
SELECT 2, count(DISTINCT sv.product), sv.name, sv.value, NULL, NULL, NULL, NULL, NULL, NULL
FROM sellable_values sv JOIN candidates c ON c.sku = sv.product
WHERE sv.name <> {brand_name} AND {brand} AND {value_flags}
GROUP BY sv.name, sv.value
""").format(
        columns=sql.SQL(", ").join(columns),
        joins=sql.SQL(" ").join(joins),
        where=_all(where),
        simple_columns=sql.SQL(", ").join(simple_columns),
        sellable_columns=sql.SQL(", ").join(sellable_columns),
        price_joins=sql.SQL(" ").join(price_joins),
        option_joins=sql.SQL(" ").join(option_joins),
        sellable_where=_all(sellable_where),
        matching=matching(),
        brand=brand,
        order=sql.SQL(order),
        near=near("s"),
        near_candidate=near("c"),
        passing_price=passing_price,
        passing_joins=passing_joins,
        brand_name=sql.Literal(BRAND),
        value_flags=value_flags("sv", sql.SQL("sv.name")),
        simple_value_flags=value_flags("s", sql.SQL("a.name")),
        first_image=sql.SQL(FIRST_IMAGE),
        variants=sql.SQL(VARIANTS),
    )
    return statement, params


def load_listing(conn: psycopg.Connection, query: Query, categories: Sequence[str] | None) -> Listing:
    statement, params = listing_statement(query, categories)
    tiles: list[tuple[int, ProductRow]] = []
    total = 0
    counts: dict[tuple[str, str], int] = {}
    for part, n, a, b, names, price, offer, quantity, pictures, sellables in conn.execute(statement, params):
        if part == 0:
            tiles.append(
                (
                    n,
                    ProductRow(
                        a,
                        b,
                        names=names or {},
                        price=price,
                        offer=offer,
                        quantity=quantity,
                        images=images(pictures),
                        variants=variants(sellables),
                    ),
                )
            )
        elif part == 1:
            total = n
        else:  # a value's count of simple products and of the others, each in its own row
            counts[(a, b)] = counts.get((a, b), 0) + n
    tiles.sort(key=lambda t: t[0])
    return Listing([p for _, p in tiles], total, counts)


# --- home page ---------------------------------------------------------------------------------

FEATURED = f"""
SELECT p.sku, p.brand,
       (SELECT json_object_agg(t.locale, t.name) FROM product_texts t WHERE t.sku = p.sku),
       (SELECT pr.amount FROM prices pr WHERE pr.sku = p.sku AND pr.currency = %(currency)s),
       (SELECT min(o.amount) FROM offers o
         WHERE o.sku = p.sku AND o.currency = %(currency)s AND o.starts_at <= now() AND o.ends_at > now()),
       COALESCE((SELECT s.quantity FROM stock s WHERE s.sku = p.sku), 0),
       {FIRST_IMAGE},
       {VARIANTS}
FROM products p WHERE p.active AND p.deleted_at IS NULL
ORDER BY p.created_at DESC, p.sku LIMIT %(count)s
"""


def load_featured(conn: psycopg.Connection, currency: str, count: int) -> list[ProductRow]:
    return [
        ProductRow(
            sku,
            brand,
            names=names or {},
            price=price,
            offer=offer,
            quantity=quantity,
            images=images(pictures),
            variants=variants(sellables),
        )
        for sku, brand, names, price, offer, quantity, pictures, sellables in conn.execute(
            FEATURED, {"currency": currency, "count": count}
        )
    ]
