"""Migration 0006 (variants) on a database that already holds simple products: every product gets
its default variant, and its prices, offers, stock and movements stay where they were."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlsplit

import psycopg
import pytest
from alembic import command

from catalog import commands
from catalog.errors import Invalid
from catalog.models import VariantIn
from catalog.schema import alembic_config, upgrade
from projector.readmodel import load_products

pytestmark = pytest.mark.integration

NAME = "snipshop_variants_migration"


@pytest.fixture
def old_db(migrated_db) -> str:
    """An empty database of its own on the suite's server (whose database is migrated already),
    migrated to 0005."""
    with psycopg.connect(migrated_db, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{NAME}"')
    url = urlsplit(migrated_db)._replace(path=f"/{NAME}").geturl()
    upgrade(url, "0005")
    return url


SEED = """
INSERT INTO products (sku, brand) VALUES ('S1', 'Acme'), ('S2', 'Acme');
INSERT INTO product_texts (sku, locale, name) VALUES ('S1', 'en_US', 'One'), ('S2', 'en_US', 'Two');
INSERT INTO prices (sku, currency, amount) VALUES ('S1', 'EUR', 10.00), ('S1', 'USD', 11.00), ('S2', 'EUR', 5.00);
INSERT INTO offers (sku, currency, amount, starts_at, ends_at)
    VALUES ('S1', 'EUR', 8.00, now() - interval '1 day', now() + interval '1 day');
INSERT INTO stock (sku, quantity) VALUES ('S1', 4), ('S2', 0);
INSERT INTO stock_movements (movement_id, sku, delta) VALUES ('m1', 'S1', 4);
"""


def test_upgrade_keeps_simple_products_prices_and_stock(old_db):
    with psycopg.connect(old_db, autocommit=True) as conn:
        conn.execute(SEED)
        versions = conn.execute("SELECT sku, price_version, stock_version FROM products ORDER BY sku").fetchall()
    upgrade(old_db, "0006")
    with psycopg.connect(old_db, autocommit=True) as conn:
        assert (
            conn.execute("SELECT sku, price_version, stock_version FROM variants ORDER BY sku").fetchall() == versions
        )
        assert conn.execute("SELECT sku, product, position, active FROM variants ORDER BY sku").fetchall() == [
            ("S1", "S1", 0, True),
            ("S2", "S2", 0, True),
        ]
        assert conn.execute("SELECT count(*) FROM variant_options").fetchone() == (0,)
        views = load_products(conn, ["S1", "S2"])
        assert not views["S1"].has_variants and not views["S2"].has_variants
        assert views["S1"].prices == {"EUR": Decimal("10.00"), "USD": Decimal("11.00")}
        assert [o.amount for o in views["S1"].offers] == [Decimal("8.00")]
        assert (views["S1"].quantity, views["S2"].quantity) == (4, 0)
        assert [(v.price_version, v.stock_version) for v in (views["S1"], views["S2"])] == [
            (pv, sv) for _, pv, sv in versions
        ]
        # the references now go to the variants: a variant's removal takes its sellable rows along
        commands.put_variants(conn, [("S1", "S1-A", VariantIn(options={"size": "A"}))])
        left = {t: conn.execute(f"SELECT DISTINCT sku FROM {t}").fetchall() for t in ("prices", "offers", "stock")}
        assert left == {"prices": [("S2",)], "offers": [], "stock": [("S2",)]}
        assert conn.execute("SELECT count(*) FROM stock_movements").fetchone() == (0,)
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute("INSERT INTO prices (sku, currency, amount) VALUES ('S1', 'EUR', 1.00)")
        with pytest.raises(Invalid):
            commands.put_prices(conn, [("S1", "EUR", Decimal("1.00"))])


def test_downgrade_gives_the_rows_back_to_the_products_unless_some_are_sold_in_variants(old_db):
    with psycopg.connect(old_db, autocommit=True) as conn:
        conn.execute(SEED)
    upgrade(old_db, "0006")
    with psycopg.connect(old_db, autocommit=True) as conn:
        commands.put_variants(conn, [("S1", "S1-A", VariantIn(options={"size": "A"}))])
    with pytest.raises(Exception, match="products sold in variants would lose them: S1"):
        command.downgrade(alembic_config(old_db), "0005")
    with psycopg.connect(old_db, autocommit=True) as conn:
        commands.delete_variant(conn, "S1", "S1-A")
        commands.put_prices(conn, [("S1", "EUR", Decimal("3.00"))])
    command.downgrade(alembic_config(old_db), "0005")
    with psycopg.connect(old_db, autocommit=True) as conn:
        assert conn.execute("SELECT sku, currency, amount::text FROM prices ORDER BY 1, 2").fetchall() == [
            ("S1", "EUR", "3.00"),
            ("S2", "EUR", "5.00"),
        ]
        assert conn.execute("SELECT to_regclass('variants')").fetchone() == (None,)
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute("INSERT INTO stock (sku, quantity) VALUES ('NOPE', 1)")
    upgrade(old_db, "0006")  # and up again
