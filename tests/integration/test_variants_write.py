"""The write side of products with variants (docs/variants.md) against a real PostgreSQL: the
commands, their versions and outbox rows, and loading the variants for projection."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

from catalog import commands
from catalog.errors import Conflict, Invalid, NotFound
from catalog.models import OfferIn, ProductIn, VariantIn
from projector.readmodel import load_products, stock_levels, variant_products

pytestmark = pytest.mark.integration

SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)


def _product(conn, *skus: str) -> None:
    commands.put_products(conn, [(sku, ProductIn(name={"en_US": f"Product {sku}"})) for sku in skus])


def _variant(conn, product: str, sku: str, position: int | None = None, active: bool = True, **options: str) -> int:
    return commands.put_variants(conn, [(product, sku, VariantIn(options=options, position=position, active=active))])


def _offer(amount: str) -> OfferIn:
    return OfferIn.model_validate(
        {"amount": amount, "starts_at": SOON.isoformat(), "ends_at": (SOON + timedelta(days=7)).isoformat()}
    )


def _outbox(conn) -> list[tuple[str, list[str]]]:
    return conn.execute("SELECT topic, keys FROM outbox ORDER BY id").fetchall()


def _versions(conn, table: str, sku: str) -> tuple[int, int]:
    return conn.execute(f"SELECT price_version, stock_version FROM {table} WHERE sku = %s", (sku,)).fetchone()


def _variants(conn, product: str) -> list[tuple[str, int, bool]]:
    return conn.execute(
        "SELECT sku, position, active FROM variants WHERE product = %s ORDER BY position, sku", (product,)
    ).fetchall()


def test_a_new_product_has_its_default_variant_and_stays_simple(conn):
    _product(conn, "S1")
    commands.put_prices(conn, [("S1", "EUR", Decimal("5.00"))])
    commands.put_offers(conn, [("S1", "EUR", _offer("4.00"))])
    commands.set_stock(conn, [("S1", 7)])
    assert _variants(conn, "S1") == [("S1", 0, True)]
    view = load_products(conn, ["S1"])["S1"]
    assert not view.has_variants
    assert [v.sku for v in view.variants] == ["S1"] and view.variants[0].options == {}
    assert view.prices == {"EUR": Decimal("5.00")} == view.variants[0].prices
    assert [o.amount for o in view.offers] == [Decimal("4.00")]
    assert view.quantity == 7 == view.variants[0].quantity
    assert _outbox(conn) == [("product", ["S1"]), ("price", ["S1"]), ("price", ["S1"]), ("stock", ["S1"])]
    assert variant_products(conn, ["S1", "NOPE"]) == {"S1": "S1"}
    assert stock_levels(conn, ["S1"]) == {"S1": (7, True)}


def test_the_first_variant_replaces_the_default_one_with_its_prices_and_stock(conn):
    _product(conn, "J1")
    commands.put_prices(conn, [("J1", "EUR", Decimal("50.00"))])
    commands.set_stock(conn, [("J1", 4)])
    commands.apply_movement(conn, "J1", "m1", -1, "sale")
    before = _versions(conn, "products", "J1")
    _variant(conn, "J1", "J1-M", size="M", color="Blue")
    assert _variants(conn, "J1") == [("J1-M", 0, True)]
    for table in ("prices", "offers", "stock", "stock_movements"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
    after = _versions(conn, "products", "J1")
    assert after[0] > before[0] and after[1] > before[1]
    assert _outbox(conn)[-1] == ("product", ["J1"])

    _variant(conn, "J1", "J1-L", size="L", color="Blue")
    _variant(conn, "J1", "J1-S", position=0, size="S", color="Blue")  # position 0 ties with J1-M: SKU order
    view = load_products(conn, ["J1"])["J1"]
    assert view.has_variants
    assert [(v.sku, v.position, v.options) for v in view.variants] == [
        ("J1-M", 0, {"size": "M", "color": "Blue"}),
        ("J1-S", 0, {"size": "S", "color": "Blue"}),
        ("J1-L", 1, {"size": "L", "color": "Blue"}),
    ]
    assert view.prices == {} and view.offers == [] and view.quantity == 0
    assert variant_products(conn, ["J1-M", "J1-L", "J1"]) == {"J1-M": "J1", "J1-L": "J1", "J1": "J1"}


def test_sellable_writes_name_the_variant(conn):
    _product(conn, "J1")
    _variant(conn, "J1", "J1-M", size="M")
    _variant(conn, "J1", "J1-L", size="L")
    start = len(_outbox(conn))
    commands.put_prices(conn, [("J1-M", "EUR", Decimal("30.00")), ("J1-L", "EUR", Decimal("34.00"))])
    commands.put_offers(conn, [("J1-L", "EUR", _offer("29.00"))])
    commands.set_stock(conn, [("J1-M", 2)])
    assert commands.apply_movement(conn, "J1-L", "r1", 5, "receipt")[0] == 5
    assert _outbox(conn)[start:] == [
        ("price", ["J1-L", "J1-M"]),
        ("price", ["J1-L"]),
        ("stock", ["J1-M"]),
        ("stock", ["J1-L"]),
    ]
    view = load_products(conn, ["J1"])["J1"]
    by_sku = {v.sku: v for v in view.variants}
    assert by_sku["J1-M"].prices == {"EUR": Decimal("30.00")} and by_sku["J1-M"].quantity == 2
    assert [o.amount for o in by_sku["J1-L"].offers] == [Decimal("29.00")] and by_sku["J1-L"].quantity == 5
    assert stock_levels(conn, ["J1-M", "J1-L", "J1"]) == {"J1-M": (2, True), "J1-L": (5, True)}

    outbox_before = _outbox(conn)
    for write in (
        lambda: commands.put_prices(conn, [("J1", "EUR", Decimal("1.00"))]),
        lambda: commands.put_offers(conn, [("J1", "EUR", _offer("1.00"))]),
        lambda: commands.set_stock(conn, [("J1", 1)]),
        lambda: commands.apply_movement(conn, "J1", "m9", 1, ""),
        lambda: commands.delete_offers(conn, "J1", "EUR"),
    ):
        with pytest.raises(Invalid, match="product J1 is sold in variants, name one of them: J1-M, J1-L"):
            write()
    with pytest.raises(NotFound, match=r"unknown product\(s\): J1-X"):
        commands.put_prices(conn, [("J1-M", "EUR", Decimal("1.00")), ("J1-X", "EUR", Decimal("1.00"))])
    assert _outbox(conn) == outbox_before


def test_versions_only_grow_and_the_products_stay_ahead_of_their_variants(conn):
    _product(conn, "J1")
    _variant(conn, "J1", "J1-M", size="M")
    _variant(conn, "J1", "J1-L", size="L")
    seen = []

    def check() -> None:
        product = _versions(conn, "products", "J1")
        variants = [_versions(conn, "variants", sku) for sku in ("J1-M", "J1-L")]
        assert product[0] >= max(v[0] for v in variants) and product[1] >= max(v[1] for v in variants)
        seen.append((product, variants))

    check()
    commands.put_prices(conn, [("J1-M", "EUR", Decimal("3.00"))])
    check()
    assert seen[1][1][0][0] > seen[0][1][0][0] and seen[1][1][1] == seen[0][1][1]  # J1-L untouched
    assert seen[1][0][0] > seen[0][0][0] and seen[1][0][1] == seen[0][0][1]  # the product's stock untouched
    commands.set_stock(conn, [("J1-L", 3)])
    check()
    assert seen[2][1][1][1] > seen[1][1][1][1]
    _product(conn, "J1")  # a product write moves its variants' versions on too
    check()
    assert all(new > old for new, old in zip(seen[3][1][0], seen[2][1][0], strict=True))
    commands.delete_product(conn, "J1")
    check()
    view = load_products(conn, ["J1"])["J1"]
    assert (view.price_version, view.stock_version) == seen[-1][0]


def test_replacing_a_variant_keeps_its_position_and_replaces_its_options(conn):
    _product(conn, "J1")
    _variant(conn, "J1", "J1-M", size="M", color="Blue")
    _variant(conn, "J1", "J1-L", size="L", color="Blue")
    commands.put_prices(conn, [("J1-L", "EUR", Decimal("9.00"))])
    before = _versions(conn, "variants", "J1-L")
    _variant(conn, "J1", "J1-L", active=False, size="XL")
    assert _variants(conn, "J1") == [("J1-M", 0, True), ("J1-L", 1, False)]
    assert load_products(conn, ["J1"])["J1"].variants[1].options == {"size": "XL"}
    after = _versions(conn, "variants", "J1-L")
    assert after[0] > before[0] and after[1] > before[1]
    assert conn.execute("SELECT amount FROM prices WHERE sku = 'J1-L'").fetchone() == (Decimal("9.00"),)
    assert stock_levels(conn, ["J1-L"]) == {"J1-L": (0, False)}


def test_deleting_the_last_variant_gives_the_default_variant_back(conn):
    _product(conn, "J1")
    _variant(conn, "J1", "J1-M", size="M")
    _variant(conn, "J1", "J1-L", size="L")
    commands.put_prices(conn, [("J1-M", "EUR", Decimal("3.00")), ("J1-L", "EUR", Decimal("4.00"))])
    commands.set_stock(conn, [("J1-M", 3)])
    commands.delete_variant(conn, "J1", "J1-M")
    assert _variants(conn, "J1") == [("J1-L", 1, True)]
    assert conn.execute("SELECT sku FROM prices").fetchall() == [("J1-L",)]
    assert conn.execute("SELECT count(*) FROM stock").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM variant_options WHERE variant = 'J1-M'").fetchone() == (0,)
    before = _versions(conn, "products", "J1")
    commands.delete_variant(conn, "J1", "J1-L")
    assert _variants(conn, "J1") == [("J1", 0, True)]
    assert conn.execute("SELECT count(*) FROM prices").fetchone() == (0,)
    assert all(a > b for a, b in zip(_versions(conn, "products", "J1"), before, strict=True))
    assert _outbox(conn)[-2:] == [("product", ["J1"]), ("product", ["J1"])]
    view = load_products(conn, ["J1"])["J1"]
    assert not view.has_variants and view.prices == {} and view.quantity == 0
    commands.put_prices(conn, [("J1", "EUR", Decimal("8.00"))])  # a simple product again
    assert load_products(conn, ["J1"])["J1"].prices == {"EUR": Decimal("8.00")}
    with pytest.raises(NotFound, match="unknown variant J1-L of product J1"):
        commands.delete_variant(conn, "J1", "J1-L")


def test_a_sku_names_one_thing(conn):
    _product(conn, "J1", "J2", "S1")
    _variant(conn, "J1", "J1-M", size="M")
    before = _outbox(conn)
    with pytest.raises(Conflict, match="SKU S1 is a product's SKU"):
        _variant(conn, "J1", "S1", size="L")
    with pytest.raises(Conflict, match="SKU J1-M is a variant of product J1"):
        _variant(conn, "J2", "J1-M", size="M")
    with pytest.raises(Conflict, match="SKU J1-M is a variant of product J1"):
        _product(conn, "J1-M")
    with pytest.raises(Invalid, match="the product's own SKU"):
        _variant(conn, "J1", "J1", size="L")
    with pytest.raises(Invalid, match="the product's own SKU"):
        commands.delete_variant(conn, "S1", "S1")
    with pytest.raises(NotFound, match=r"unknown product\(s\): NOPE"):
        _variant(conn, "NOPE", "NOPE-1", size="L")
    with pytest.raises(NotFound, match="unknown variant J1-M of product J2"):
        commands.delete_variant(conn, "J2", "J1-M")
    assert _outbox(conn) == before
    assert _variants(conn, "J2") == [("J2", 0, True)] and _variants(conn, "S1") == [("S1", 0, True)]
    # and the database holds it too, whatever a command checks
    with pytest.raises(psycopg.errors.UniqueViolation, match="SKU S1 is the SKU of a product"):
        conn.execute("INSERT INTO variants (sku, product) VALUES ('S1', 'J1')")
    with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction():
        conn.execute("INSERT INTO products (sku) VALUES ('J1-M')")
        conn.execute("INSERT INTO variants (sku, product) VALUES ('J1-M', 'J1-M')")


def test_two_variants_of_a_product_may_not_share_their_options(conn):
    _product(conn, "J1")
    _variant(conn, "J1", "J1-M", size="M", color="Blue")
    with pytest.raises(Invalid, match=r"variants J1-M, J1-M2 of product J1 have the same options"):
        _variant(conn, "J1", "J1-M2", color="Blue", size="M")
    # a swap in one batch is fine: only the result counts
    _variant(conn, "J1", "J1-L", size="L", color="Blue")
    commands.put_variants(
        conn,
        [
            ("J1", "J1-M", VariantIn(options={"size": "L", "color": "Blue"})),
            ("J1", "J1-L", VariantIn(options={"size": "M", "color": "Blue"})),
        ],
    )
    assert [v.options["size"] for v in load_products(conn, ["J1"])["J1"].variants] == ["L", "M"]


def test_a_deleted_product_takes_no_variant_or_price_writes(conn):
    _product(conn, "J1")
    _variant(conn, "J1", "J1-M", size="M")
    commands.delete_product(conn, "J1")
    with pytest.raises(NotFound):
        _variant(conn, "J1", "J1-L", size="L")
    with pytest.raises(NotFound, match=r"unknown product\(s\): J1-M"):
        commands.put_prices(conn, [("J1-M", "EUR", Decimal("1.00"))])
    assert stock_levels(conn, ["J1-M"]) == {"J1-M": (0, False)}
    _product(conn, "J1")  # back, with its variants
    assert [v.sku for v in load_products(conn, ["J1"])["J1"].variants] == ["J1-M"]


def test_concurrent_first_variants_leave_one_product_with_explicit_variants_only(pool):
    with pool.connection() as conn:
        _product(conn, "J1")
        commands.set_stock(conn, [("J1", 2)])
    errors: list[Exception] = []

    def put(sku: str, size: str) -> None:
        try:
            with pool.connection() as conn:
                _variant(conn, "J1", sku, size=size)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=put, args=(f"J1-{n}", str(n))) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with pool.connection() as conn:
        assert sorted(sku for sku, _, _ in _variants(conn, "J1")) == ["J1-0", "J1-1", "J1-2", "J1-3"]
        assert sorted(p for _, p, _ in _variants(conn, "J1")) == [0, 1, 2, 3]


def test_concurrent_product_variant_price_and_stock_writes_never_deadlock(pool):
    """Every write takes the product's row first: product, variant, price and stock writes of one
    product running at once wait for each other, and none is aborted as a deadlock."""
    with pool.connection() as conn:
        _product(conn, "J1")
        _variant(conn, "J1", "J1-M", size="M")
        _variant(conn, "J1", "J1-L", size="L")
    errors: list[Exception] = []
    rounds = 40

    def run(work) -> None:
        try:
            with pool.connection() as conn:
                for n in range(rounds):
                    work(conn, n)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [
        lambda conn, n: _product(conn, "J1"),
        lambda conn, n: _variant(conn, "J1", "J1-L", position=n % 3, size="L"),
        lambda conn, n: commands.apply_movement(conn, "J1-M", f"in-{n}", 1, "receipt"),
        lambda conn, n: commands.set_stock(conn, [("J1-L", n), ("J1-M", n)]),
        lambda conn, n: commands.put_prices(conn, [("J1-L", "EUR", Decimal(n)), ("J1-M", "EUR", Decimal(n))]),
    ]
    threads = [threading.Thread(target=run, args=(work,)) for work in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
