"""Feed tools: the Magento sample converter and the synthetic catalog generator.

Both must write feed files that ``snipshop import`` accepts: the invariants below are the ones
the import relies on (keys and SKUs well-formed, parents before children, references resolve,
prices and stock for what is sold, amounts with two decimal places), checked on real output.
The converter's products with variants have tests of their own (test_magento_variants.py).
"""

from __future__ import annotations

import csv
import filecmp
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from tests.unit.feed_rows import parse_feed
from tools import generate_catalog, magento_to_feed
from vocab.images import Image, parse_feed_image

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = magento_to_feed.DEFAULT_SOURCE.resolve()
NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)

SKU_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
ATTR_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
LOCALE_RE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")
AMOUNT_RE = re.compile(r"^\d{1,10}\.\d{2}$")
HEADERS = {
    "categories": ["key", "parent", "position"],
    "products": ["sku", "brand", "categories", "active"],
    "variants": ["sku", "product", "position", "active"],
    "prices": ["sku", "currency", "amount"],
    "offers": ["sku", "currency", "amount", "starts_at", "ends_at"],
    "stock": ["sku", "quantity"],
}


# ---------------------------------------------------------------------------------------------
# shared checks


def read_feed(directory: Path) -> dict[str, list[dict[str, str]]]:
    """Every feed file's rows; a feed without variants.csv (the generator's) has no variants."""
    feed = {}
    for kind, fixed in HEADERS.items():
        if kind == "variants" and not (directory / "variants.csv").exists():
            feed[kind] = []
            continue
        with (directory / f"{kind}.csv").open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            assert header[: len(fixed)] == fixed, f"{kind}.csv header {header}"
            assert len(set(header)) == len(header), f"{kind}.csv repeats a column"
            for column in header[len(fixed) :]:
                prefix, _, suffix = column.partition(".")
                if kind == "categories":
                    assert prefix == "name" and LOCALE_RE.match(suffix), column
                elif kind == "products" and column == "images":
                    continue
                elif kind == "products":
                    assert prefix in ("name", "description", "attr"), column
                    assert (ATTR_RE if prefix == "attr" else LOCALE_RE).match(suffix), column
                elif kind == "variants":
                    assert prefix == "opt" and ATTR_RE.match(suffix), column
                else:
                    pytest.fail(f"unexpected column {column!r} in {kind}.csv")
            rows = list(reader)
            assert all(None not in row for row in rows), f"{kind}.csv has rows with extra cells"
            feed[kind] = rows
    return feed


def usd_for(eur: str) -> str:
    return str((Decimal(eur) * Decimal("1.08")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def check_invariants(feed: dict[str, list[dict[str, str]]]) -> None:
    # categories: well-formed unique keys, parents before children
    seen: set[str] = set()
    for row in feed["categories"]:
        key = row["key"]
        assert KEY_RE.match(key), f"bad category key {key!r}"
        assert key not in seen, f"category {key!r} repeated"
        assert row["parent"] == "" or row["parent"] in seen, (
            f"category {key!r}: parent {row['parent']!r} not written before it"
        )
        assert row["position"].isdigit(), row
        assert row["name.en_US"].strip(), row
        seen.add(key)
    categories = seen

    # products
    skus: set[str] = set()
    for row in feed["products"]:
        sku = row["sku"]
        assert SKU_RE.match(sku), f"bad SKU {sku!r}"
        assert sku not in skus, f"SKU {sku!r} repeated"
        skus.add(sku)
        assert row["active"] in ("0", "1"), row["active"]
        assert row["name.en_US"].strip() and row["name.en_US"] == row["name.en_US"].strip(), sku
        assert len(row["name.en_US"]) <= 500
        keys = row["categories"].split("|") if row["categories"] else []
        assert keys, f"{sku} has no category"
        assert len(keys) == len(set(keys)), f"{sku} repeats a category"
        for key in keys:
            assert key in categories, f"{sku}: category {key!r} not in categories.csv"
        for column, value in row.items():
            if column.startswith("attr.") and value:
                parts = value.split("|")
                assert all(p and p == p.strip() and len(p) <= 200 for p in parts), (sku, column, value)

    # variants: SKUs unique across products and variants, of a known product, positions 1..n
    positions: dict[str, list[int]] = {}
    variant_skus: set[str] = set()
    for row in feed["variants"]:
        sku = row["sku"]
        assert SKU_RE.match(sku), f"bad variant SKU {sku!r}"
        assert sku not in skus and sku not in variant_skus, f"variant SKU {sku!r} repeated"
        variant_skus.add(sku)
        assert row["product"] in skus, f"variant {sku}: unknown product {row['product']!r}"
        assert row["active"] in ("0", "1"), row
        positions.setdefault(row["product"], []).append(int(row["position"]))
        options = {c: v for c, v in row.items() if c.startswith("opt.") and v}
        assert options, f"variant {sku} has no option values"
        assert all(v == v.strip() and len(v) <= 200 for v in options.values()), row
    for product, numbers in positions.items():
        assert numbers == list(range(1, len(numbers) + 1)), product
    # what is sold: each variant, and each product without variants
    sold = variant_skus | (skus - set(positions))

    # prices: everything sold has EUR and USD, USD derived from EUR; none for a product with variants
    prices: dict[tuple[str, str], str] = {}
    for row in feed["prices"]:
        assert row["sku"] in sold, f"price for an SKU not sold {row['sku']!r}"
        assert row["currency"] in ("EUR", "USD"), row
        assert AMOUNT_RE.match(row["amount"]), f"amount {row['amount']!r} not 2 decimal places"
        assert (row["sku"], row["currency"]) not in prices, f"price repeated: {row}"
        prices[row["sku"], row["currency"]] = row["amount"]
    for sku in sold:
        assert (sku, "EUR") in prices and (sku, "USD") in prices, f"{sku} lacks a price"
        assert prices[sku, "USD"] == usd_for(prices[sku, "EUR"]), sku

    # offers: SKU sold, cheaper than the price, aware window in the right order
    for row in feed["offers"]:
        assert row["sku"] in sold, f"offer for an SKU not sold {row['sku']!r}"
        assert AMOUNT_RE.match(row["amount"]), row
        assert Decimal(row["amount"]) < Decimal(prices[row["sku"], row["currency"]]), row
        starts = datetime.fromisoformat(row["starts_at"])
        ends = datetime.fromisoformat(row["ends_at"])
        assert starts.tzinfo is not None and ends.tzinfo is not None, row
        assert ends > starts, row

    # stock: one non-negative integer per SKU sold
    stocked = [row["sku"] for row in feed["stock"]]
    assert sorted(stocked) == sorted(sold)
    for row in feed["stock"]:
        assert re.fullmatch(r"\d+", row["quantity"]), row


def validate_with_models(feed: dict[str, list[dict[str, str]]]) -> None:
    """The rows also pass the write side's own input models (what the import validates)."""
    from catalog import models

    context = {"locales": ["en_US", "de_DE"], "currencies": ["EUR", "USD"]}

    def localized(row, prefix):
        return {c.split(".", 1)[1]: v for c, v in row.items() if c.startswith(prefix + ".") and v}

    for row in feed["categories"]:
        models.CategoryIn.model_validate(
            {"parent": row["parent"] or None, "name": localized(row, "name"), "position": int(row["position"])},
            context=context,
        )
    for row in feed["products"]:
        attrs = {name: (v.split("|") if "|" in v else v) for name, v in localized(row, "attr").items()}
        images = [parse_feed_image(cell) for cell in row.get("images", "").split("|") if cell]
        models.ProductIn.model_validate(
            {
                "name": localized(row, "name"),
                "description": localized(row, "description"),
                "brand": row["brand"],
                "categories": row["categories"].split("|"),
                "attributes": attrs,
                "active": row["active"] == "1",
                "images": images,
            },
            context=context,
        )
    for row in feed["prices"]:
        models.PriceIn.model_validate({"amount": row["amount"]}, context=context)
    for row in feed["offers"]:
        models.OfferIn.model_validate({k: row[k] for k in ("amount", "starts_at", "ends_at")}, context=context)
    for row in feed["stock"]:
        models.StockIn.model_validate({"quantity": int(row["quantity"])}, context=context)


def depth(categories: list[dict[str, str]], key: str) -> int:
    parent = {row["key"]: row["parent"] for row in categories}
    n = 1
    while parent[key]:
        key, n = parent[key], n + 1
    return n


# ---------------------------------------------------------------------------------------------
# the converter on a tiny hand-made Magento catalog (always available)

CONFIGURABLE_HEADER = [
    "sku",
    "product_type",
    "categories",
    "name",
    "description",
    "visibility",
    "price",
    "url_key",
    "additional_attributes",
    "configurable_variations",
]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


@pytest.fixture
def mini_source(tmp_path: Path) -> Path:
    src = tmp_path / "magento"
    cat_header = [
        "name",
        "url_key",
        "path",
        "active",
        "is_anchor",
        "include_in_menu",
        "position",
        "display_mode",
        "custom_layout_update",
    ]
    write_csv(
        src / "ConfigurableSampleData/fixtures/categories.csv",
        cat_header,
        [
            ["Men", "men", "", "1", "0", "1", "3", "PAGE", ""],
            ["Tops", "tops-men", "Men", "1", "1", "1", "", "", ""],
            ["Hoodies & Sweatshirts", "hoodies-men", "Men/Tops", "1", "1", "1", "", "", ""],
            ["Women", "women", "", "1", "0", "1", "2", "PAGE", ""],
            ["Collections", "collections", "", "0", "0", "0", "", "PAGE", ""],
            ["Eco Friendly", "eco-friendly", "Collections", "1", "1", "0", "", "", ""],
            ["Promotions", "promotions", "", "0", "0", "0", "", "PAGE", ""],
        ],
    )
    write_csv(
        src / "CatalogSampleData/fixtures/categories.csv",
        cat_header,
        [
            ["Gear", "gear", "", "1", "0", "1", "4", "PAGE", ""],
            ["Bags", "bags", "Gear", "1", "1", "1", "", "", ""],
            ["Collections", "collections", "", "0", "0", "0", "", "PAGE", ""],
        ],
    )
    cats = "Default Category/Men/Tops/Hoodies & Sweatshirts,Default Category/Collections/Eco Friendly,Default Category"
    write_csv(
        src / "ConfigurableSampleData/fixtures/products.csv",
        CONFIGURABLE_HEADER,
        [
            [
                "MH01-XS-Black",
                "simple",
                cats,
                "Chaz Hoodie-XS-Black",
                "<p>Warm &amp; soft",
                "Not Visible Individually",
                "52",
                "chaz-xs-black",
                "has_options=0,required_options=0,size=XS,color=Black",
                "",
            ],
            [
                "MH01-S-Gray",
                "simple",
                cats,
                "Chaz Hoodie-S-Gray",
                "<p>Warm &amp; soft",
                "Not Visible Individually",
                "52",
                "chaz-s-gray",
                "has_options=0,required_options=0,size=S,color=Gray",
                "",
            ],
            [
                "MH01",
                "configurable",
                cats,
                "Chaz Hoodie ",
                "<p>Warm &amp; soft",
                "Catalog, Search",
                "52",
                "chaz",
                "has_options=1,required_options=1,material=LumaTech&trade;|Fleece,eco_collection=Yes,Bad-Name=x",
                "sku=MH01-XS-Black,size=XS,color=Black|sku=MH01-S-Gray,size=S,color=Gray",
            ],
            [
                "WT09-M-Red",
                "simple",
                "Default Category/Women/Tops/Tees",
                "Breathe-Easy Tank-M-Red",
                "",
                "Not Visible Individually",
                "34.5",
                "",
                "size=M,color=Red",
                "",
            ],
        ],
    )
    write_csv(
        src / "CatalogSampleData/fixtures/SimpleProduct/products_gear_bags.csv",
        [
            "category",
            "name",
            "sku",
            "price",
            "qty",
            "description",
            "material",
            "strap_bags",
            "eco_collection",
            "special_price",
            "attribute_set",
        ],
        [
            [
                "Gear\nBags\nCollections\nEco Friendly",
                "Joust Duffle Bag ",
                "24-MB01",
                "34",
                "100",
                "<p>Big.</p>",
                "Nylon\nPolyester",
                "Adjustable\nShoulder",
                "1",
                "",
                "Bag",
            ],
            [
                "Gear\nBags\nPromotions\nBrand New",
                "Strive Pack",
                "24-MB04",
                "32",
                "100",
                "<p>Small.</p>",
                "",
                "Single",
                "",
                "30",
                "Bag",
            ],
        ],
    )
    for name in magento_to_feed.LICENCE_FILES:
        (src / name).write_text(f"{name} text\n", encoding="utf-8")
    return src


def test_converter_on_mini_catalog(mini_source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    counts = magento_to_feed.convert(mini_source, out, now=NOW)
    feed = read_feed(out)
    check_invariants(feed)
    validate_with_models(feed)
    assert counts == {
        "attributes": 0,
        "categories": 12,
        "products": 4,
        "variants": 2,
        "prices": 10,
        "offers": 5,
        "stock": 5,
    }
    assert {k: len(v) for k, v in feed.items()} == {k: n for k, n in counts.items() if k != "attributes"}

    cats = {row["key"]: row for row in feed["categories"]}
    # Default Category dropped, path keys, new paths from products added under their parent
    assert set(cats) == {
        "men",
        "men-tops",
        "men-tops-hoodies-sweatshirts",
        "women",
        "women-tops",
        "women-tops-tees",
        "collections",
        "collections-eco-friendly",
        "promotions",
        "promotions-brand-new",
        "gear",
        "gear-bags",
    }
    assert cats["men-tops-hoodies-sweatshirts"]["parent"] == "men-tops"
    assert cats["men"]["name.de_DE"] == "Herren" and cats["gear"]["name.de_DE"] == "Ausrüstung"
    assert cats["promotions-brand-new"]["name.de_DE"] == "Brand New"  # falls back to English
    roots = [row["key"] for row in feed["categories"] if not row["parent"]]
    assert roots[:3] == ["women", "men", "gear"]  # Magento's explicit positions first

    products = {row["sku"]: row for row in feed["products"]}
    assert not {"MH01-XS-Black", "MH01-S-Gray"} & set(products)  # the children are variants
    hoodie = products["MH01"]
    assert hoodie["name.en_US"] == "Chaz Hoodie"
    assert hoodie["categories"] == "men-tops-hoodies-sweatshirts|collections-eco-friendly"
    assert (hoodie["attr.size"], hoodie["attr.color"]) == ("", "")  # options of the variants
    assert hoodie["attr.material"] == "LumaTech™|Fleece"  # decoded
    assert hoodie["description.en_US"] == "<p>Warm &amp; soft"  # HTML kept as is
    assert hoodie["brand"] in magento_to_feed.BRANDS
    assert [(r["sku"], r["product"], r["position"], r["opt.size"], r["opt.color"]) for r in feed["variants"]] == [
        ("MH01-XS-Black", "MH01", "1", "XS", "Black"),
        ("MH01-S-Gray", "MH01", "2", "S", "Gray"),
    ]
    tank = products["WT09-M-Red"]  # no parent names it: a simple product with its own size and colour
    assert (tank["attr.size"], tank["attr.color"]) == ("M", "Red")
    assert not any(
        c in feed["products"][0]
        for c in ("attr.has_options", "attr.required_options", "attr.eco_collection", "attr.bad-name")
    )
    bag = products["24-MB01"]
    assert bag["images"] == "/2/4/24-mb01.jpg 400x500"  # named by Magento's media layout: the data has none
    assert hoodie["images"] == "/m/h/mh01.jpg 400x500"
    assert bag["name.en_US"] == "Joust Duffle Bag"
    assert bag["categories"] == "gear-bags|collections-eco-friendly"
    assert bag["attr.material"] == "Nylon|Polyester" and bag["attr.strap_bags"] == "Adjustable|Shoulder"
    assert products["24-MB04"]["categories"] == "gear-bags|promotions-brand-new"
    assert all(row["active"] == "1" for row in feed["products"])

    prices = {(r["sku"], r["currency"]): r["amount"] for r in feed["prices"]}
    assert prices["WT09-M-Red", "EUR"] == "34.50" and prices["WT09-M-Red", "USD"] == "37.26"
    assert prices["MH01-XS-Black", "EUR"] == "52.00" and ("MH01", "EUR") not in prices
    assert sorted(r["sku"] for r in feed["stock"]) == [
        "24-MB01",
        "24-MB04",
        "MH01-S-Gray",
        "MH01-XS-Black",
        "WT09-M-Red",
    ]

    for row in feed["offers"]:
        assert row["currency"] == "EUR"
        assert Decimal(row["amount"]) == (Decimal(prices[row["sku"], "EUR"]) * Decimal("0.8")).quantize(Decimal("0.01"))
        assert datetime.fromisoformat(row["starts_at"]) == NOW - timedelta(hours=1)
        assert datetime.fromisoformat(row["ends_at"]) == NOW + timedelta(days=7)
        assert row["starts_at"].endswith("+00:00")

    for name in magento_to_feed.LICENCE_FILES:
        assert filecmp.cmp(mini_source / name, out / name, shallow=False)
    assert "USD" in (out / "README.md").read_text(encoding="utf-8")


def test_converter_missing_source_fails_clearly(tmp_path: Path, capsys) -> None:
    status = magento_to_feed.main(["--source", str(tmp_path / "nope"), "--out", str(tmp_path / "out")])
    assert status != 0
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()

    (tmp_path / "empty").mkdir()
    status = magento_to_feed.main(["--source", str(tmp_path / "empty"), "--out", str(tmp_path / "out")])
    assert status != 0
    assert "missing" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# the converter on the real sample data

# The sample data is part of the repository (data/magento-sample-catalog): a missing copy fails.


@pytest.fixture(scope="module")
def sample_feed(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    magento_to_feed.convert(SAMPLE, out, now=NOW)
    return out


def test_converter_on_sample_data(sample_feed: Path) -> None:
    feed = read_feed(sample_feed)
    check_invariants(feed)
    counts = {kind: len(rows) for kind, rows in feed.items()}
    # 147 configurable apparel products with 1,847 variants + 44 gear products; what is sold is
    # the variants and the gear; 33 categories without "Default Category"
    assert counts == {
        "categories": 33,
        "products": 191,
        "variants": 1847,
        "prices": 3782,
        "offers": 20,
        "stock": 1891,
    }
    assert len({row["product"] for row in feed["variants"]}) == 147

    keys = {row["key"] for row in feed["categories"]}
    assert {
        "men",
        "men-tops",
        "men-tops-hoodies-sweatshirts",
        "women-tops-bras-tanks",
        "gear-watches",
        "collections-erin-recommends",
    } <= keys
    assert max(depth(feed["categories"], k) for k in keys) == 3

    products = {row["sku"]: row for row in feed["products"]}
    variants = {row["sku"]: row for row in feed["variants"]}
    assert {"MH01", "WJ12", "MP01"} <= set(products) and not set(variants) & set(products)
    assert (variants["MH01-XS-Black"]["product"], variants["MH01-XS-Black"]["position"]) == ("MH01", "1")
    assert (variants["MH01-XS-Black"]["opt.size"], variants["MH01-XS-Black"]["opt.color"]) == ("XS", "Black")
    assert products["MH01"]["name.en_US"] == "Chaz Kangeroo Hoodie"
    assert products["MH01"]["attr.material"] == "Wool" and not products["MH01"]["attr.size"]
    assert "men-tops-hoodies-sweatshirts" in products["MH01"]["categories"].split("|")
    assert products["24-MB01"]["categories"].split("|")[0] == "gear-bags"
    assert not any("&trade;" in row["name.en_US"] for row in feed["products"])
    brands = {row["brand"] for row in feed["products"]}
    assert brands == set(magento_to_feed.BRANDS)

    quantities = [int(row["quantity"]) for row in feed["stock"]]
    zero = sum(q == 0 for q in quantities)
    low = sum(1 <= q <= 5 for q in quantities)
    assert 0 < zero < len(quantities) * 0.2 and 0 < low < len(quantities) * 0.3
    assert len(set(quantities)) > 50

    for name in magento_to_feed.LICENCE_FILES:
        assert filecmp.cmp(SAMPLE / name, sample_feed / name, shallow=False), name
    assert (sample_feed / "README.md").is_file()


def test_sample_feed_passes_the_input_models(sample_feed: Path) -> None:
    validate_with_models(read_feed(sample_feed))


def test_converter_is_deterministic(sample_feed: Path, tmp_path: Path) -> None:
    magento_to_feed.convert(SAMPLE, tmp_path, now=NOW)
    for kind in HEADERS:
        assert filecmp.cmp(sample_feed / f"{kind}.csv", tmp_path / f"{kind}.csv", shallow=False), kind


def test_the_converter_takes_the_stores_attribute_label_and_the_admin_label_where_they_collide() -> None:
    found = {
        "style_bags": ["Style Bags", "Style"],
        "style_general": ["Style General", "Style"],
        "size": ["Size", "Size"],
        "features_bags": ["Features"],
        "unused": ["Unused"],
    }
    assert magento_to_feed.shop_labels(found, ["style_bags", "style_general", "size", "features_bags", "color"]) == {
        "style_bags": "Style Bags",
        "style_general": "Style General",
        "size": "Size",
        "features_bags": "Features",
    }


def test_the_converter_writes_attributes_csv_from_the_frontend_labels(sample_feed: Path) -> None:
    with (sample_feed / "attributes.csv").open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["code", "label.en_US"]
        labels = {row["code"]: row["label.en_US"] for row in reader}
    assert labels["features_bags"] == "Features" and labels["strap_bags"] == "Strap/Handle"
    assert labels["category_gear"] == "Category" and labels["size"] == "Size"
    assert labels["style_general"] == "Style General" and labels["style_bottom"] == "Style Bottom"
    used = set()
    for name in ("products.csv", "variants.csv"):
        with (sample_feed / name).open(newline="", encoding="utf-8") as handle:
            used |= {c.split(".", 1)[1] for c in next(csv.reader(handle)) if c.startswith(("attr.", "opt."))}
    assert set(labels) <= used and {"eco_collection", "new", "sale"}.isdisjoint(labels)
    assert "attributes.csv" in (sample_feed / "README.md").read_text(encoding="utf-8")
    from catalog.models import AttributeIn

    for label in labels.values():
        AttributeIn.model_validate({"label": {"en_US": label}}, context={"locales": ["en_US", "de_DE"]})


def test_placeholders_are_small_svgs_under_the_referenced_names(tmp_path: Path):
    svg = magento_to_feed.placeholder_svg('Joust "Duffle" <Bag>', "24-MB01", 400, 500)
    assert svg.startswith("<svg ") and 'width="400" height="500"' in svg and ">JD</text>" in svg
    assert "<Bag>" not in svg and "&lt;Bag&gt;" in svg
    assert (
        magento_to_feed.colour_for("24-MB01")
        == magento_to_feed.colour_for("24-MB01")
        != magento_to_feed.colour_for("24-MB02")
    )
    products = [
        magento_to_feed.Product(
            "24-MB01",
            "Joust Duffle Bag",
            "",
            0,
            [],
            {},
            "Luma",
            [Image("/m/b/mb01-blue-0.jpg", 400, 500), Image("https://x.example.com/a.jpg", 1, 1)],
        ),
        magento_to_feed.Product("24-MB02", "Other", "", 0, [], {}, "Luma", [Image("/m/b/mb01-blue-0.jpg", 400, 500)]),
    ]
    assert magento_to_feed.write_placeholders(products, tmp_path / "images") == 1
    written = tmp_path / "images" / "m" / "b" / "mb01-blue-0.jpg"
    assert ">JD</text>" in written.read_text() and written.stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "images" / "m").stat().st_mode & 0o777 == 0o755


def test_the_converter_writes_image_references_for_every_product(tmp_path: Path):
    counts = magento_to_feed.convert(
        magento_to_feed.DEFAULT_SOURCE, tmp_path / "feed", placeholders=tmp_path / "images"
    )
    rows = parse_feed("products", (tmp_path / "feed" / "products.csv").read_text(encoding="utf-8"))
    assert all(hasattr(r, "item") for r in rows), [r for r in rows if not hasattr(r, "item")][:3]  # every row valid
    by_sku = {r.item[0]: r.item[1] for r in rows}
    assert "MH01-XS-Black" not in by_sku  # a variant: the product's images are its parent's
    assert [i.src for i in by_sku["MH01"].images] == [
        "/m/h/mh01-gray_main.jpg",
        "/m/h/mh01-gray_alt1.jpg",
        "/m/h/mh01-gray_back.jpg",
    ]
    assert [(i.src, i.width, i.height) for i in by_sku["24-MB01"].images] == [("/2/4/24-mb01.jpg", 400, 500)]
    names = {i.src for p in by_sku.values() for i in p.images}
    assert counts["placeholders"] == len(names)
    assert all((tmp_path / "images" / src.lstrip("/")).is_file() for src in names)


# ---------------------------------------------------------------------------------------------
# the synthetic generator


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gen")
    generate_catalog.generate(500, out, seed=7, now=NOW)
    return out


def test_generator_invariants_and_counts(generated: Path) -> None:
    feed = read_feed(generated)
    check_invariants(feed)
    assert {k: len(v) for k, v in feed.items()} == {
        "categories": 50,
        "products": 500,
        "variants": 0,  # the generator writes simple products only
        "prices": 1000,
        "offers": 10,
        "stock": 500,
    }

    cats = feed["categories"]
    depths = [depth(cats, row["key"]) for row in cats]
    assert depths.count(1) == 5 and max(depths) == 3
    leaves = {row["key"] for row in cats} - {row["parent"] for row in cats}
    for row in feed["products"]:
        assert set(row["categories"].split("|")) <= leaves

    products = feed["products"]
    assert len({row["brand"] for row in products}) == 20
    for attr in ("attr.color", "attr.size", "attr.material"):
        assert all(row[attr] for row in products), attr
        assert any("|" in row[attr] for row in products), f"{attr} never multi-valued"
    assert all(row["name.de_DE"] and row["description.de_DE"] for row in products)
    assert any(re.search("[äöüÄÖÜß]", row["name.de_DE"]) for row in products)
    assert any(row["active"] == "0" for row in products)

    quantities = [int(row["quantity"]) for row in feed["stock"]]
    assert any(q == 0 for q in quantities) and any(1 <= q <= 5 for q in quantities)
    assert sum(q > 5 for q in quantities) > len(quantities) / 2

    offers = feed["offers"]
    assert {row["currency"] for row in offers} == {"EUR", "USD"}
    assert len({row["sku"] for row in offers}) == 5  # 1% of 500


def test_generated_feed_passes_the_input_models(generated: Path) -> None:
    validate_with_models(read_feed(generated))


def test_generator_is_deterministic(generated: Path, tmp_path: Path) -> None:
    same, other = tmp_path / "same", tmp_path / "other"
    generate_catalog.generate(500, same, seed=7, now=NOW)
    generate_catalog.generate(500, other, seed=8, now=NOW)
    for kind in (k for k in HEADERS if k != "variants"):
        assert filecmp.cmp(generated / f"{kind}.csv", same / f"{kind}.csv", shallow=False), kind
    assert not filecmp.cmp(generated / "products.csv", other / "products.csv", shallow=False)


def test_generator_with_variants(tmp_path: Path) -> None:
    generate_catalog.generate(300, tmp_path, seed=7, now=NOW, variants=(5, 15))
    feed = read_feed(tmp_path)
    check_invariants(feed)
    validate_with_models(feed)
    per_product = Counter(row["product"] for row in feed["variants"])
    assert set(per_product) == {row["sku"] for row in feed["products"]}
    assert min(per_product.values()) == 5 and max(per_product.values()) == 15
    combos = {(row["product"], row["opt.color"], row["opt.size"]) for row in feed["variants"]}
    assert len(combos) == len(feed["variants"])  # no two variants of a product alike
    assert "attr.color" not in feed["products"][0] and feed["products"][0]["attr.material"]
    variant_skus = {row["sku"] for row in feed["variants"]}
    for kind in ("prices", "offers", "stock"):  # what is sold is the variant, never the product
        assert {row["sku"] for row in feed[kind]} <= variant_skus, kind
    assert len(feed["stock"]) == len(feed["variants"]) and len(feed["prices"]) == 2 * len(feed["variants"])
    eur = {row["sku"]: Decimal(row["amount"]) for row in feed["prices"] if row["currency"] == "EUR"}
    size = {row["sku"]: row["opt.size"] for row in feed["variants"]}
    marked_up = [
        (row["sku"], row["product"] + "-01")
        for row in feed["variants"]
        if size[row["sku"]] in ("XL", "XXL") and size[row["product"] + "-01"] not in ("XL", "XXL")
    ]
    assert marked_up  # XL and XXL cost 5% more than the product's other sizes
    for big, small in marked_up:
        assert eur[big] == (eur[small] * Decimal("1.05")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_generator_refuses_a_bad_variant_range(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.generate_catalog",
            "--products",
            "3",
            "--out",
            str(tmp_path),
            "--variants",
            "9-2",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "1 <= LO <= HI" in result.stderr
    assert not list(tmp_path.iterdir())


def test_generator_cli(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.generate_catalog",
            "--products",
            "120",
            "--out",
            str(tmp_path),
            "--seed",
            "3",
            "--now",
            "2025-03-01T12:00:00+00:00",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"products\.csv\s+120 rows", result.stdout)
    check_invariants(read_feed(tmp_path))
