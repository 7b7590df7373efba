"""The Magento sample catalog, converted and imported as ``./dev demo`` does it (``python -m
tools.magento_to_feed``, then ``snipshop import``) into a real PostgreSQL: each configurable
product is one product sold in its sizes and colours, each with its price and stock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tools.magento_to_feed import FEED_KINDS

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (
        f"{' '.join(args)} exited {done.returncode}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    )
    return done


@pytest.mark.timeout(900)
def test_the_sample_catalog_imports_each_jacket_once_with_its_variants(service_env, settings, tmp_path):
    feed = tmp_path / "feed"
    run([sys.executable, "-m", "tools.magento_to_feed", "--out", str(feed)])
    files = [str(feed / f"{kind}.csv") for kind in FEED_KINDS]
    imported = run([sys.executable, "-m", "entrypoints.snipshop_cli", "import", "--quiet", *files], env=service_env)
    assert "variants.csv: 1847 rows read, 1847 imported, 0 rejected" in imported.stdout

    with psycopg.connect(settings.database_url) as conn:

        def rows(sql: str, *args: object) -> list[tuple]:
            return conn.execute(sql, args).fetchall()

        assert rows("SELECT count(*) FROM products") == [(191,)]
        # 1,847 explicit variants of 147 products; the 44 simple products have their default variant
        assert rows("SELECT count(*), count(DISTINCT product) FROM variants WHERE sku <> product") == [(1847, 147)]
        assert rows("SELECT count(*) FROM variants WHERE sku = product") == [(44,)]
        assert rows("SELECT count(*) FROM products WHERE sku IN (SELECT sku FROM variants WHERE sku <> product)") == [
            (0,)
        ]

        jackets = rows(
            """SELECT t.name, count(v.sku) FROM product_categories c
                 JOIN product_texts t ON t.sku = c.sku AND t.locale = 'en_US'
                 JOIN variants v ON v.product = c.sku AND v.sku <> c.sku
                WHERE c.category = 'women-tops-jackets' GROUP BY t.name ORDER BY t.name"""
        )
        names = [name for name, _ in jackets]
        assert len(names) == 12 and "Josie Yoga Jacket" in names  # each once, none as "...-XS-Black"
        assert rows("SELECT count(*) FROM product_categories WHERE category = 'women-tops-jackets'") == [(12,)]
        assert all(n >= 5 for _, n in jackets), jackets

        josie = rows(
            """SELECT v.sku, v.position, size.value, color.value, eur.amount::text, usd.amount::text, s.quantity
                 FROM variants v
                 JOIN product_texts t ON t.sku = v.product AND t.locale = 'en_US'
                 JOIN variant_options size ON size.variant = v.sku AND size.name = 'size'
                 JOIN variant_options color ON color.variant = v.sku AND color.name = 'color'
                 JOIN prices eur ON eur.sku = v.sku AND eur.currency = 'EUR'
                 JOIN prices usd ON usd.sku = v.sku AND usd.currency = 'USD'
                 JOIN stock s ON s.sku = v.sku
                WHERE t.name = 'Josie Yoga Jacket' ORDER BY v.position"""
        )
        sizes, colors = ["XS", "S", "M", "L", "XL"], ["Black", "Blue", "Gray"]
        assert [(size, color) for _, _, size, color, *_ in josie] == [(s, c) for s in sizes for c in colors]
        assert [sku for sku, *_ in josie] == [f"WJ02-{s}-{c}" for s in sizes for c in colors]
        assert {(eur, usd) for *_, eur, usd, _ in josie} == {("56.25", "60.75")}
        assert all(quantity >= 0 for *_, quantity in josie)
        assert len({position for _, position, *_ in josie}) == 15
        # what is sold carries the prices and stock: no product with variants has any of its own
        assert rows("SELECT count(*) FROM prices WHERE sku IN (SELECT product FROM variants WHERE sku <> product)") == [
            (0,)
        ]
        assert rows("SELECT count(*), count(DISTINCT sku) FROM stock") == [(1891, 1891)]
        assert rows("SELECT count(DISTINCT sku) FROM prices") == [(1891,)]
