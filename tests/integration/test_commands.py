"""Write commands against a real PostgreSQL: one transaction each, outbox row included."""

import threading
from decimal import Decimal

import pytest

from catalog import commands
from catalog.errors import Conflict, Invalid, NotFound
from catalog.models import CategoryIn, ProductIn

pytestmark = pytest.mark.integration


def _outbox(conn):
    return conn.execute("SELECT topic, keys FROM outbox ORDER BY id").fetchall()


def _seed(conn):
    commands.put_categories(
        conn,
        [("gear", CategoryIn(name={"en_US": "Gear"})), ("bags", CategoryIn(parent="gear", name={"en_US": "Bags"}))],
    )
    commands.put_products(
        conn, [("B1", ProductIn(name={"en_US": "Bag"}, categories=["bags"], attributes={"color": ["Red", "Blue"]}))]
    )


def test_writes_commit_their_outbox_row(conn):
    _seed(conn)
    commands.put_prices(conn, [("B1", "EUR", Decimal("12.50"))])
    assert _outbox(conn) == [("category", ["gear", "bags"]), ("product", ["B1"]), ("price", ["B1"])]
    assert conn.execute("SELECT value FROM product_attributes WHERE sku='B1' ORDER BY position").fetchall() == [
        ("Red",),
        ("Blue",),
    ]


def test_rejected_write_changes_nothing(conn):
    _seed(conn)
    before = _outbox(conn)
    with pytest.raises(Invalid, match="unknown category: nope"):
        commands.put_products(conn, [("B2", ProductIn(name={"en_US": "X"}, categories=["nope"]))])
    with pytest.raises(NotFound):
        commands.put_prices(conn, [("B1", "EUR", Decimal("1")), ("MISSING", "EUR", Decimal("1"))])
    with pytest.raises(Invalid, match="inside itself"):
        commands.put_categories(conn, [("gear", CategoryIn(parent="bags", name={"en_US": "G"}))])
    assert _outbox(conn) == before
    assert conn.execute("SELECT count(*) FROM products").fetchone() == (1,)
    assert conn.execute("SELECT count(*) FROM prices").fetchone() == (0,)


def test_versions_grow_with_every_write(conn):
    _seed(conn)
    v1 = conn.execute("SELECT version, price_version FROM products WHERE sku='B1'").fetchone()
    commands.put_prices(conn, [("B1", "EUR", Decimal("3.00"))])
    v2 = conn.execute("SELECT version, price_version FROM products WHERE sku='B1'").fetchone()
    assert v2[0] == v1[0] and v2[1] > v1[1]


def test_movement_applies_once_and_never_below_zero(conn):
    _seed(conn)
    commands.set_stock(conn, [("B1", 3)])
    assert commands.apply_movement(conn, "B1", "m1", -2, "sale")[0] == 1
    assert commands.apply_movement(conn, "B1", "m1", -2, "sale") == (1, None)
    with pytest.raises(Conflict, match="negative"):
        commands.apply_movement(conn, "B1", "m2", -5, "sale")
    with pytest.raises(Conflict, match="another change"):
        commands.apply_movement(conn, "B1", "m1", 7, "receipt")
    assert conn.execute("SELECT count(*) FROM stock_movements").fetchone() == (1,)


def test_concurrent_movements_lose_no_update(pool):
    with pool.connection() as conn:
        _seed(conn)
        commands.set_stock(conn, [("B1", 0)])

    def worker(n):
        with pool.connection() as c:
            for i in range(25):
                commands.apply_movement(c, "B1", f"w{n}-{i}", 1, "receipt")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with pool.connection() as conn:
        assert conn.execute("SELECT quantity FROM stock WHERE sku='B1'").fetchone() == (100,)
