"""``snipshop import`` of ``variants.csv`` against a real PostgreSQL: good rows land in row order,
bad rows are reported by line, and prices and stock then name the variants."""

from __future__ import annotations

import psycopg
import pytest

from catalog.importer import import_files
from tests.integration.test_import import write_feed

pytestmark = pytest.mark.integration

FEED = {
    "products.csv": "sku,name.en_US\nJ1,Jacket\nJ2,Coat\nS1,Scarf\n",
    "variants.csv": (
        "sku,product,position,active,opt.Size,opt.color\n"
        "J1-M,J1,,,M,Blue\n"
        "J1-L,J1,,,L,Blue\n"
        "J1-S,J1,0,0,S,Blue\n"
        "J2-M,NOPE,,,M,\n"  # 5: unknown product
        "S1,J1,,,XL,\n"  # 6: a product's SKU
        "J1-M,J2,,,M,\n"  # 7: another product's variant
        "J1-X,J1,,,M,Blue\n"  # 8: the options of J1-M
        "J2,J2,,,M,\n"  # 9: the product's own SKU
        "J1-XL,J1,,,XL,\n"
        "J2-M,J2,,,M,\n"
    ),
    "prices.csv": "sku,currency,amount\nJ1-M,EUR,30.00\nJ1,EUR,10.00\nS1,EUR,5.00\nJ2-M,EUR,20.00\n",  # 3: J1
    "stock.csv": "sku,quantity\nJ1-L,3\nJ1,2\nS1,1\n",  # 3: J1
}
EXPECTED_ERRORS = [
    ("variants.csv", 5, "J2-M", "unknown product(s): NOPE"),
    ("variants.csv", 6, "S1", "SKU S1 is a product's SKU"),
    ("variants.csv", 7, "J1-M", "SKU J1-M is a variant of product J1"),
    ("variants.csv", 8, "J1-X", "variants J1-M, J1-X of product J1 have the same options"),
    ("variants.csv", 9, "J2", "J2 is the product's own SKU"),
    ("prices.csv", 3, "J1/EUR", "product J1 is sold in variants, name one of them: J1-M, J1-S, J1-L, J1-XL"),
    ("stock.csv", 3, "J1", "product J1 is sold in variants, name one of them: J1-M, J1-S, J1-L, J1-XL"),
]


def _import(settings, files, sent):
    return import_files(settings, files, progress=False, send=lambda topic, keys, ids: sent.append((topic, keys)))


def test_variants_import_in_row_order_and_bad_rows_are_reported(settings, tmp_path, capsys):
    sent: list = []
    files = write_feed(tmp_path / "feed", FEED)
    assert _import(settings, files, sent) == len(EXPECTED_ERRORS)
    err = capsys.readouterr().err.splitlines()
    for name, line, key, message in EXPECTED_ERRORS:
        prefix = f"{tmp_path / 'feed' / name}:{line}: {key}: {message}"
        assert any(e.startswith(prefix) for e in err), (prefix, err)

    with psycopg.connect(settings.database_url) as conn:
        variants = conn.execute("SELECT product, sku, position, active FROM variants ORDER BY product, position, sku")
        assert variants.fetchall() == [
            ("J1", "J1-M", 0, True),
            ("J1", "J1-S", 0, False),
            ("J1", "J1-L", 1, True),
            ("J1", "J1-XL", 2, True),
            ("J2", "J2-M", 0, True),
            ("S1", "S1", 0, True),
        ]
        options = conn.execute("SELECT variant, name, value FROM variant_options ORDER BY variant, position")
        assert options.fetchall() == [
            ("J1-L", "size", "L"),
            ("J1-L", "color", "Blue"),
            ("J1-M", "size", "M"),
            ("J1-M", "color", "Blue"),
            ("J1-S", "size", "S"),
            ("J1-S", "color", "Blue"),
            ("J1-XL", "size", "XL"),
            ("J2-M", "size", "M"),
        ]
        assert conn.execute("SELECT sku, amount::text FROM prices ORDER BY sku").fetchall() == [
            ("J1-M", "30.00"),
            ("J2-M", "20.00"),
            ("S1", "5.00"),
        ]
        assert conn.execute("SELECT sku, quantity FROM stock ORDER BY sku").fetchall() == [("J1-L", 3), ("S1", 1)]
    product_rows = [keys for topic, keys in sent if topic == "product"]
    assert sorted({k for keys in product_rows for k in keys}) == ["J1", "J2", "S1"]
    assert all(set(keys) <= {"J1-M", "J2-M", "S1", "J1-L"} for topic, keys in sent if topic in ("price", "stock"))


def test_a_second_import_of_the_same_files_changes_no_variant(settings, tmp_path):
    files = write_feed(tmp_path / "feed", FEED)
    _import(settings, files, [])

    def state():
        with psycopg.connect(settings.database_url) as conn:
            return conn.execute(
                """SELECT v.sku, v.product, v.position, v.active,
                          (SELECT json_agg(json_build_array(name, value) ORDER BY position)
                           FROM variant_options WHERE variant = v.sku)::text,
                          (SELECT quantity FROM stock WHERE sku = v.sku)
                   FROM variants v ORDER BY v.sku"""
            ).fetchall()

    first = state()
    _import(settings, files, [])
    assert state() == first
