"""Products with variants in the benchmark (docs/variants.md): what selling in variants costs.

Usage::

    python -m bench.variants [--products 20000] [--search embedded|elasticsearch] [--seconds 5] [--rounds 3]

Two catalogs beside the run's simple one, each a shop of its own on the same services
(:meth:`bench.stack.Stack.shop`: its own database, Redis databases and search indices):

* **demo**: the Magento sample catalog as ``./dev demo`` converts it (191 products, 147 of them
  sold in 1,847 variants);
* **generated**: ``tools.generate_catalog --variants 5-15`` with a tenth of the run's product count
  (at least 2,000), every product sold in 5 to 15 variants (colour × size).

For each: ``projector rebuild`` products/s on the stack's search adapter (median of
``rebuild_rounds``, each replacing the previous generation) and the snippet Redis's bytes per
product and per variant (snippets only, and with the search adapter), read beside the simple
catalog's figures of the same run. On the generated catalog, two pages on the shipped server
against the classical baseline (bench/classical/, whose queries know variants too): the category
listing filtered by a colour *and* a size (one variant must have both) in relevance and price
order (the cheapest matching variant), and the product page of a product with variants.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from urllib.parse import urlencode

from bench import http, memory
from bench.projection import drop_replaced_generations, timed_rebuild
from bench.report import table
from bench.stack import Stack, run_cli

GENERATED_VARIANTS = (5, 15)
MIN_GENERATED = 2000
#: Redis databases of the two shops (the run's own shop uses 0 and 1).
REDIS_DBS = {"demo": 2, "generated": 4}

#: The biggest categories (the root of each subtree) by products listed.
BIG_CATEGORIES = http.BIG_CATEGORIES

#: The colour and size one active variant of most of a category's products has.
COMMON_PAIR = """
WITH RECURSIVE tree(key) AS (
    SELECT %s::text UNION ALL SELECT c.key FROM categories c JOIN tree ON c.parent = tree.key),
listed AS (SELECT DISTINCT pc.sku FROM product_categories pc JOIN tree ON pc.category = tree.key
           JOIN products p ON p.sku = pc.sku AND p.active AND p.deleted_at IS NULL)
SELECT color.value, size.value, count(DISTINCT v.product) AS n
FROM variants v JOIN listed ON listed.sku = v.product
JOIN variant_options color ON color.variant = v.sku AND color.name = 'color'
JOIN variant_options size ON size.variant = v.sku AND size.name = 'size'
WHERE v.active GROUP BY 1, 2 ORDER BY n DESC, 1, 2 LIMIT 1
"""

SOLD_IN_VARIANTS = """
SELECT p.sku FROM products p WHERE p.active AND p.deleted_at IS NULL
AND EXISTS (SELECT 1 FROM variants v WHERE v.product = p.sku AND v.sku <> p.sku)
ORDER BY md5(p.sku) LIMIT %s
"""

SELLABLES = "SELECT count(*) FROM variants v JOIN products p ON p.sku = v.product WHERE p.deleted_at IS NULL"


def listing_paths(shop: Stack, categories: int = 20) -> list[str]:
    """Category listings filtered by a colour and a size, by relevance and by price, pages 1 and 2."""
    paths = []
    with shop.connect() as conn:
        for key, _n in conn.execute(BIG_CATEGORIES, (categories,)).fetchall():
            row = conn.execute(COMMON_PAIR, (key,)).fetchone()
            if row is None or row[2] < http.MIN_TILES:
                continue
            color, size, hits = row
            for sort in ("relevance", "price_asc"):
                for page in (1, 2) if hits > http.MIN_TILES else (1,):
                    query = urlencode([("color", color), ("size", size), ("sort", sort), ("page", page)])
                    paths.append(f"/c/{key}?{query}")
    if not paths:
        raise RuntimeError("no category of the variant catalog lists enough products for the benchmark")
    return paths


def product_paths(shop: Stack, count: int = http.PRODUCT_URLS) -> list[str]:
    with shop.connect() as conn:
        return [f"/p/{sku}" for (sku,) in conn.execute(SOLD_IN_VARIANTS, (count,))]


def rebuild_rate(shop: Stack, rounds: int) -> dict:
    """``projector rebuild`` ``rounds`` times on the shop's own adapter, each replacing the last."""
    runs = []
    for _ in range(rounds):
        drop_replaced_generations(shop)
        runs.append(timed_rebuild(shop, shop.search))
    return {
        "products": runs[0]["products"],
        "snippets": runs[0]["snippets"],
        "products_per_s": statistics.median(r["products_per_s"] for r in runs),
        "runs": [r["products_per_s"] for r in runs],
    }


def pages(shop: Stack, args: argparse.Namespace) -> dict[str, http.Comparison]:
    """The edge against the classical baseline on the shop's listing and product pages."""
    urls = {"category": listing_paths(shop), "product": product_paths(shop)}
    edge = shop.serve("edge", args.workers)
    classical = http.serve_app(shop, "classical", args.workers)
    out = {}
    for page, paths in urls.items():
        http.check(edge, paths[:30])
        http.check(classical, paths[:30])
        differing = http.identical(edge, classical, paths[:30])
        if differing:
            raise RuntimeError(f"the classical baseline's {page} pages differ from the edge's: {differing[:3]}")
        print(f"{page} page with variants ({len(paths)} URLs, e.g. {paths[0]})", flush=True)
        c = http.alternate(
            http.Target("edge", edge, paths),
            http.Target("classical", classical, paths),
            args.seconds,
            args.rounds,
            args.connections,
        )
        http.report(f"{page} with variants", "classical", c)
        out[f"{page} with variants ÷ classical"] = c
    return out


def measure_shop(stack: Stack, name: str, args: argparse.Namespace) -> tuple[dict, dict[str, http.Comparison]]:
    with stack.shop(name, REDIS_DBS[name]) as shop:
        if name == "demo":
            shop.load_demo_catalog()
        else:
            shop.load_catalog(max(MIN_GENERATED, args.products // 10), variants=GENERATED_VARIANTS)
        shop.rebuild()  # the first projection: every measured rebuild replaces a generation
        with shop.connect() as conn:
            row = conn.execute(SELLABLES).fetchone()
            assert row is not None
            sellables = row[0]
        rate = rebuild_rate(shop, args.rebuild_rounds)
        redis_memory = memory.redis_per_product(shop)
        figures = {"sellables": sellables, "rebuild": rate, "redis": redis_memory}
        compared = pages(shop, args) if name == "generated" else {}
        return figures, compared


def measure(stack: Stack, args: argparse.Namespace) -> tuple[dict, dict[str, http.Comparison]]:
    """The figures of both catalogs with variants, and the generated one's page comparisons."""
    figures, compared = {}, {}
    for name in ("demo", "generated"):
        print(f"\n== with variants: the {name} catalog", flush=True)
        figures[name], pages_of = measure_shop(stack, name, args)
        compared.update(pages_of)
    return figures, compared


def rows(figures: dict, simple_rate: float, simple_bytes: float) -> list[tuple[str, str, str]]:
    """Summary rows: each catalog's rebuild rate and Redis bytes against the simple catalog's."""
    out = []
    for name, f in figures.items():
        products, sellables = f["rebuild"]["products"], f["sellables"]
        rate, per_product = f["rebuild"]["products_per_s"], f["redis"]["with_search"]["bytes_per_product"]
        per_sellable = per_product * products / sellables
        catalog = f"{name}: {products:,} products, {sellables:,} sold"
        out.append(
            (
                f"rebuild with variants ({name})",
                f"{rate:,.0f} products/s",
                f"{rate / simple_rate:.2f} × the simple catalog's {simple_rate:,.0f}; {catalog}",
            )
        )
        out.append(
            (
                f"Redis per product with variants ({name})",
                f"{per_product:,.0f} B",
                f"{per_product / simple_bytes:.2f} × the simple catalog's {simple_bytes:,.0f} B; "
                f"{per_sellable:,.0f} B per variant",
            )
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.variants", description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=20_000, help="the simple catalog (the generated: a tenth)")
    parser.add_argument("--search", choices=("elasticsearch", "embedded"), default="embedded")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rebuild-rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    def body(stack: Stack) -> None:
        simple = rebuild_rate(stack, args.rebuild_rounds)
        simple_bytes = memory.redis_per_product(stack)["with_search"]["bytes_per_product"]
        figures, compared = measure(stack, args)
        print("\n== Summary")
        summary = rows(figures, simple["products_per_s"], simple_bytes)
        for key, c in compared.items():
            summary.append((f"edge {key}", f"{c.ratio:.2f}", f"{c.a.rps:,.0f} vs {c.b.rps:,.0f} req/s"))
        print(table(["figure", "value", "measured"], summary))

    return run_cli(body, search=args.search, products=args.products)


if __name__ == "__main__":
    sys.exit(main())
