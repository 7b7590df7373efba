"""The Magento converter's products with variants: a configurable product is one product, its
simple children its variants (``variants.csv``), and prices, offers and stock name what is sold."""

from __future__ import annotations

import collections
import csv
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.unit.feed_rows import parse_feed
from tools import magento_to_feed

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
HEADER = [
    "sku",
    "product_type",
    "categories",
    "name",
    "description",
    "price",
    "additional_attributes",
    "configurable_variations",
    "base_image",
    "additional_images",
]
JACKETS = "Default Category/Women/Tops/Jackets,Default Category"


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_source(root: Path, apparel: list[list[str]], gear: Sequence[list[str]] = ()) -> Path:
    """A Magento sample catalog of the given apparel rows (HEADER's columns) and gear rows
    (category, name, sku, price)."""
    fixtures = root / "ConfigurableSampleData" / "fixtures"
    (root / "CatalogSampleData" / "fixtures" / "SimpleProduct").mkdir(parents=True)
    fixtures.mkdir(parents=True)
    for path, header, rows in (
        (fixtures / "products.csv", HEADER, apparel),
        (fixtures / "categories.csv", ["name", "path", "position"], [["Women", "", "1"], ["Tops", "Women", ""]]),
        (root / "CatalogSampleData/fixtures/categories.csv", ["name", "path", "position"], [["Gear", "", "2"]]),
        (
            root / "CatalogSampleData/fixtures/SimpleProduct/products_gear.csv",
            ["category", "name", "sku", "price"],
            gear,
        ),
    ):
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
    return root


def simple(sku: str, name: str, price: str, packed: str, image: str = "") -> list[str]:
    return [sku, "simple", JACKETS, name, "", price, packed, "", image, ""]


def configurable(sku: str, name: str, price: str, variations: str, packed: str = "", image: str = "") -> list[str]:
    return [sku, "configurable", JACKETS, name, "<p>Warm</p>", price, packed, variations, image, ""]


def convert(source: Path, out: Path) -> tuple[dict[str, int], dict[str, list[dict[str, str]]]]:
    counts = magento_to_feed.convert(source, out, now=NOW)
    kinds = ("products", "variants", "prices", "offers", "stock")
    return counts, {kind: rows_of(out / f"{kind}.csv") for kind in kinds}


def test_a_configurable_product_is_one_product_and_its_children_its_variants(tmp_path, capsys):
    source = write_source(
        tmp_path / "src",
        [
            simple("WJ02-S-Blue", "Josie-S-Blue", "57", "size=S,color=Blue", "/w/j/wj02-blue_main.jpg"),
            simple("WJ02-XS-Black", "Josie-XS-Black", "56.25", "has_options=0,size=XS,color=Black"),
            simple("WJ02-XS-Blue", "Josie-XS-Blue", "", "size=XS,color=Blue"),
            configurable(
                "WJ02",
                "Josie Yoga Jacket ",
                "56.25",
                # the parent's order is the variants' order; a value missing here is the child's own
                "sku=WJ02-XS-Black,size=XS,color=Black|sku=WJ02-XS-Blue,size=XS,Color=|sku=WJ02-S-Blue,size=S,color=Blue",
                "has_options=1,material=Fleece,climate=Cool|Windy,eco_collection=Yes",
                "/w/j/wj02-black_main.jpg",
            ),
        ],
        [["Gear", "Joust Duffle Bag", "24-MB01", "34"]],
    )
    counts, feed = convert(source, tmp_path / "out")
    assert (counts["products"], counts["variants"], counts["prices"], counts["stock"]) == (2, 3, 8, 4)

    products = {row["sku"]: row for row in feed["products"]}
    assert sorted(products) == ["24-MB01", "WJ02"]
    jacket = products["WJ02"]
    assert (jacket["name.en_US"], jacket["description.en_US"], jacket["categories"]) == (
        "Josie Yoga Jacket",
        "<p>Warm</p>",
        "women-tops-jackets",
    )
    assert (jacket["attr.material"], jacket["attr.climate"]) == ("Fleece", "Cool|Windy")
    assert not any(jacket.get(f"attr.{name}") for name in ("size", "color", "eco_collection", "has_options"))
    assert jacket["images"] == "/w/j/wj02-black_main.jpg 400x500"  # the parent's, not a child's

    with (tmp_path / "out" / "variants.csv").open(encoding="utf-8") as handle:
        assert handle.readline().strip() == "sku,product,position,active,opt.size,opt.color"
    assert [tuple(row.values()) for row in feed["variants"]] == [
        ("WJ02-XS-Black", "WJ02", "1", "1", "XS", "Black"),
        ("WJ02-XS-Blue", "WJ02", "2", "1", "XS", "Blue"),
        ("WJ02-S-Blue", "WJ02", "3", "1", "S", "Blue"),
    ]

    prices = {(row["sku"], row["currency"]): row["amount"] for row in feed["prices"]}
    assert prices == {
        ("WJ02-S-Blue", "EUR"): "57.00",  # the child's own price
        ("WJ02-S-Blue", "USD"): "61.56",
        ("WJ02-XS-Black", "EUR"): "56.25",
        ("WJ02-XS-Black", "USD"): "60.75",
        ("WJ02-XS-Blue", "EUR"): "56.25",  # none of its own: the parent's
        ("WJ02-XS-Blue", "USD"): "60.75",
        ("24-MB01", "EUR"): "34.00",  # a simple product sells itself
        ("24-MB01", "USD"): "36.72",
    }
    sold = {"WJ02-S-Blue", "WJ02-XS-Black", "WJ02-XS-Blue", "24-MB01"}
    assert {row["sku"] for row in feed["stock"]} == sold and len(feed["stock"]) == 4
    assert {row["sku"] for row in feed["offers"]} <= sold and len(feed["offers"]) == 4
    assert "skipping" not in capsys.readouterr().err

    labels = rows_of(tmp_path / "out" / "attributes.csv")
    assert labels == []  # this source has no attributes.csv: no labels, but no failure either


def test_children_that_are_missing_or_another_parents_are_skipped_and_a_childless_parent_is_simple(tmp_path, capsys):
    source = write_source(
        tmp_path / "src",
        [
            simple("MJ01-M-Red", "Beaumont-M-Red", "49", "size=M,color=Red"),
            configurable(
                "MJ01", "Beaumont Summit Kit", "42", "sku=MJ01-M-Red,size=M,color=Red|sku=MJ01-XL-Red,size=XL"
            ),
            configurable("MJ02", "Hyperion Elements Jacket", "51", "sku=MJ01-M-Red,size=M,color=Red"),
            configurable("MJ03", "Kenobi Trail Jacket", "47", "sku=MJ02,size=M|sku=bad sku,size=S"),
            simple("bad sku", "Bad-S", "1", "size=S"),
            simple("WT09-M-Red", "Breathe-Easy Tank-M-Red", "34", "size=M,color=Red"),
        ],
        [["Gear", "Duplicate of a variant", "MJ01-M-Red", "10"]],
    )
    counts, feed = convert(source, tmp_path / "out")
    err = capsys.readouterr().err
    assert "skipping variant 'MJ01-XL-Red' of 'MJ01'" in err  # no such product
    assert "skipping variant 'MJ01-M-Red' of 'MJ02'" in err  # MJ01's already
    assert "skipping variant 'MJ02' of 'MJ03'" in err  # a configurable, not a simple product
    assert "skipping variant 'bad sku' of 'MJ03'" in err
    assert "skipping product 'MJ01-M-Red'" in err  # the gear row: the SKU is a variant's

    assert [(row["sku"], row["product"]) for row in feed["variants"]] == [("MJ01-M-Red", "MJ01")]
    assert sorted(row["sku"] for row in feed["products"]) == ["MJ01", "MJ02", "MJ03", "WT09-M-Red"]
    # MJ02 and MJ03 have no variant left: simple products, sold as themselves at their own price
    prices = {row["sku"]: row["amount"] for row in feed["prices"] if row["currency"] == "EUR"}
    assert prices == {"MJ01-M-Red": "49.00", "MJ02": "51.00", "MJ03": "47.00", "WT09-M-Red": "34.00"}
    assert sorted(row["sku"] for row in feed["stock"]) == sorted(prices)
    tank = next(row for row in feed["products"] if row["sku"] == "WT09-M-Red")
    assert (tank["attr.size"], tank["attr.color"]) == ("M", "Red")  # a stray child keeps its attributes
    assert counts["variants"] == 1


# ---------------------------------------------------------------------------------------------
# the real sample catalog


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("magento-variants")
    magento_to_feed.convert(magento_to_feed.DEFAULT_SOURCE, out, now=NOW)
    return out


def test_the_sample_catalog_has_each_jacket_once_with_its_sizes_and_colours_as_variants(sample: Path):
    products = {row["sku"]: row for row in rows_of(sample / "products.csv")}
    variants = rows_of(sample / "variants.csv")
    of: dict[str, list[dict[str, str]]] = collections.defaultdict(list)
    for row in variants:
        of[row["product"]].append(row)
    assert (len(products), len(variants), len(of)) == (191, 1847, 147)

    jackets = [row for row in products.values() if "women-tops-jackets" in row["categories"].split("|")]
    names = [row["name.en_US"] for row in jackets]
    assert len(names) == len(set(names)) == 12 and "Josie Yoga Jacket" in names
    assert not any(re.search(r"-(XS|S|M|L|XL)-\w+$", name) for name in names)  # no child is a product
    assert all(of[row["sku"]] for row in jackets)

    josie = next(row for row in jackets if row["name.en_US"] == "Josie Yoga Jacket")
    picks = [(row["opt.size"], row["opt.color"]) for row in of[josie["sku"]]]
    sizes, colors = ["XS", "S", "M", "L", "XL"], ["Black", "Blue", "Gray"]
    assert picks == [(size, color) for size in sizes for color in colors]
    assert [row["position"] for row in of[josie["sku"]]] == [str(n) for n in range(1, 16)]

    skus = {row["sku"] for row in of[josie["sku"]]}
    prices = [row for row in rows_of(sample / "prices.csv") if row["sku"] in skus]
    assert {(row["currency"], row["amount"]) for row in prices} == {("EUR", "56.25"), ("USD", "60.75")}
    assert len(prices) == 30
    stock = {row["sku"]: int(row["quantity"]) for row in rows_of(sample / "stock.csv")}
    assert skus <= set(stock) and josie["sku"] not in stock


def test_the_sample_catalogs_variants_pass_the_importers_checks(sample: Path):
    rows = parse_feed("variants", (sample / "variants.csv").read_text(encoding="utf-8"))
    assert len(rows) == 1847
    assert all(hasattr(row, "item") for row in rows), [row for row in rows if not hasattr(row, "item")][:3]


def test_the_demo_and_the_generated_readme_import_every_feed_file_in_dependency_order(sample: Path):
    files = [f"{kind}.csv" for kind in magento_to_feed.FEED_KINDS]
    assert files.index("products.csv") < files.index("variants.csv") < files.index("prices.csv")
    assert all((sample / name).is_file() for name in files)
    assert f"snipshop import {' '.join(files)}" in (sample / "README.md").read_text(encoding="utf-8")
    dev = (REPO / "dev").read_text(encoding="utf-8")
    imported = re.search(r'snipshop" import --quiet "\$feed"/\{([a-z,]+)\}\.csv', dev)
    assert imported and imported.group(1).split(",") == list(magento_to_feed.FEED_KINDS)


def test_the_command_line_says_how_many_variants_it_wrote(tmp_path, capsys):
    assert magento_to_feed.main(["--out", str(tmp_path), "--now", "2025-03-01T12:00:00+00:00"]) == 0
    assert re.search(r"^variants\.csv\s+1847 rows$", capsys.readouterr().out, re.M)
