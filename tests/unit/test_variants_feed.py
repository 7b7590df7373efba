"""The ``variants`` feed kind (docs/variants.md, "Feeds"; docs/inputs.md): parsing and per-row
errors, without a database."""

from __future__ import annotations

import pytest

from catalog.feeds import KINDS, FeedError
from catalog.importer import COMMANDS
from catalog.models import VariantIn
from tests.unit.feed_rows import parse_feed

HEADER = "sku,product,position,active,opt.Size,opt.color\n"


def test_rows_become_put_variants_items_with_their_options_in_column_order():
    rows = parse_feed("variants", HEADER + "J1-M,J1,,,M,Blue\nJ1-L,J1,3,0, L ,\n J1-S ,J1,,yes,,\n")
    (p1, s1, v1), (p2, s2, v2), (p3, s3, v3) = (r.item for r in rows)
    assert (p1, s1, p2, s2, p3, s3) == ("J1", "J1-M", "J1", "J1-L", "J1", "J1-S")
    assert isinstance(v1, VariantIn)
    assert (v1.options, v1.position, v1.active) == ({"size": "M", "color": "Blue"}, None, True)
    assert list(v1.options) == ["size", "color"]
    assert (v2.options, v2.position, v2.active) == ({"size": "L"}, 3, False)  # an empty cell: no value
    assert (v3.options, v3.active) == ({}, True)
    assert [r.key for r in rows] == ["J1-M", "J1-L", "J1-S"] and [r.line for r in rows] == [2, 3, 4]


def test_only_sku_and_product_are_required():
    [row] = parse_feed("variants", "product,sku\nJ1,J1-M\n")
    assert row.item[:2] == ("J1", "J1-M") and row.item[2].options == {} and row.item[2].position is None


@pytest.mark.parametrize(
    "line, message",
    [
        ("J1 X,J1,,,M,", "sku: SKU 'J1 X' must match"),
        ("J1-X,J 1,,,M,", "product: SKU 'J 1' must match"),
        (",J1,,,M,", "sku: SKU '' must match"),
        ("J1-X,J1,-1,,M,", "position: Input should be greater than or equal to 0"),
        ("J1-X,J1,first,,M,", "position: Input should be a valid integer"),
        ("J1-X,J1,,maybe,M,", "active: Input should be a valid boolean"),
        ("J1-X,J1,,,M\x00,", "opt.size: must not contain a NUL character"),
        ("J1-X,J1,,,M", "expected 6 fields, found 5"),
        ("J1-X,J1,,," + "x" * 201 + ",", "opt.size: String should have at most 200 characters"),
    ],
)
def test_a_bad_row_is_rejected_with_its_column(line, message):
    [(number, key, error)] = parse_feed("variants", HEADER + line + "\n")
    assert number == 2 and key == line.split(",")[0].strip() and error.startswith(message), error


@pytest.mark.parametrize(
    "header, message",
    [
        ("sku,product,opt.si-ze\nJ1-M,J1,M\n", "opt: option name 'si-ze' must be an attribute code"),
        ("sku,product,opt.Size,opt.size\nJ1-M,J1,M,L\n", "opt: option 'size' is given twice"),
    ],
)
def test_bad_option_names_reject_the_rows_that_use_them(header, message):
    [(_, key, error)] = parse_feed("variants", header)
    assert key == "J1-M" and error.startswith(message), error


def test_option_columns_that_differ_only_in_case_are_fine_while_one_is_empty():
    [row] = parse_feed("variants", "sku,product,opt.Size,opt.size\nJ1-M,J1,M,\n")
    assert row.item[2].options == {"size": "M"}


@pytest.mark.parametrize(
    "header, message",
    [
        ("sku,opt.size\n", "missing column(s) for variants: product"),
        ("sku,product,attr.size\n", "unknown column 'attr.size' for variants"),
        ("sku,product,price\n", "unknown column 'price' for variants"),
    ],
)
def test_a_bad_header_skips_the_file(header, message):
    with pytest.raises(FeedError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_feed("variants", header + "J1-M,J1,M\n")


def test_variants_are_imported_after_products_and_before_prices_by_put_variants():
    order = list(KINDS)
    assert order.index("products") < order.index("variants") < order.index("prices")
    assert COMMANDS["variants"].__name__ == "put_variants"
