"""Convert the Magento 2 "Luma" sample catalog into feed files for ``snipshop import``.

Usage::

    python -m tools.magento_to_feed [--source DIR] --out DIR [--now ISO-8601] [--placeholders DIR]

``--source`` defaults to ``data/magento-sample-catalog`` in the repository (a copy of the sample
data). The output directory receives ``attributes.csv``, ``categories.csv``, ``products.csv``,
``variants.csv``, ``prices.csv``, ``offers.csv`` and ``stock.csv`` (the feed format of docs/CONTRACT
"Feed files for ``snipshop import``", README "Feed files" and docs/variants.md), the source's
NOTICE.md, LICENSE.txt and LICENSE_AFL.txt, and a README.md describing what was generated.

Choices (the sample data is real and messy, and lacks several things the shop needs):

* Categories come from both fixtures' ``categories.csv`` and from every category path a product
  uses. Magento's ``Default Category`` root is dropped. Keys are slugs of the whole path
  (``Men/Tops/Hoodies & Sweatshirts`` -> ``men-tops-hoodies-sweatshirts``), made unique with a
  numeric suffix if two paths ever slug alike. Parents are written before their children
  (depth-first); ``position`` is the order among siblings (Magento's explicit position first,
  then file order). ``name.de_DE`` comes from a small hand-written dictionary and falls back to
  the English name.
* Products: each configurable apparel product becomes one product with ``active=1`` (its SKU,
  name, description, categories, images and descriptive attributes: material, pattern, climate,
  style_*), and each of its simple children a variant of it in ``variants.csv`` (``sku, product,
  position, active, opt.<name>...``): the options are the attributes the parent's
  ``configurable_variations`` vary by (``size``, ``color``) with the child's values, the position
  the parent's order of its children (size, then colour within a size). Children are not
  products. A simple product no parent names (the gear, any stray apparel row) is a simple
  product. Prices, offers and stock name what is sold: the variant SKUs of a product with
  variants, the product SKU of a simple one. A product is assigned to the leaf category of each of
  its category paths.
* Attributes: ``additional_attributes`` (``size=XS,color=Black``) and the gear files' attribute
  columns become ``attr.<name>`` columns, multi-values (``|`` or newline in the source) joined with
  ``|``. Technical fields (has_options, required_options, ...) and the Yes/No collection flags
  (eco_collection, new, sale, ...; they duplicate the Collections/Promotions categories) are
  skipped, as is any name that is not an attribute code (:mod:`vocab.attributes`); names are
  written in their canonical, lower-case form. HTML
  entities in names and attribute values (``&trade;``) are decoded, since those are plain text;
  descriptions are HTML and are kept as they are (the shop sanitises on render).
* Attribute labels: ``attributes.csv`` gives each attribute code the products use its label from
  both fixtures' ``attributes.csv`` (``frontend_label``, English: ``label.en_US``; German falls
  back, see docs/inputs.md). Magento writes the admin label on the first line and the store's on
  the next (``Style Bags\nStyle``): the store's label is taken, unless two codes would show the
  same one (``style_bags``, ``style_bottom`` and ``style_general`` are all "Style"), in which case
  each keeps its admin label ("Style Bags"). Codes without a label get none (the shop shows a
  readable form of the code).
* Images: each product's ``images`` are the file names Magento's CSV gives it (``base_image``,
  then ``additional_images``; for a configurable product the parent's, else its first child's; the
  children's own colour pictures are not used, as a variant has no image of its own), paths below the shop's
  ``IMAGE_BASE_URL`` (``/m/h/mh01-black_main.jpg``); the gear files name none, so a gear product
  (or any product without one) gets one named by Magento's media layout (``/2/4/24-mb01.jpg``).
  The image files themselves are not in the data: every reference says ``PLACEHOLDER_SIZE``, the size of the
  placeholder that
  ``--placeholders DIR`` writes for it (an SVG with the product's initials and name on a colour
  derived from its SKU, under the referenced name; ``./dev demo`` serves that directory).
* Brand: the data has none. Each product gets a deterministic brand: the first word of its name,
  hashed with SHA-1, picks one of ``BRANDS``, so all items of a product line ("Sprite ...") share
  a brand.
* Prices: EUR is Magento's single price column; USD = EUR * ``USD_RATE`` (1.08), rounded half-up
  to cents.
* Stock: Magento says 100 everywhere; instead each SKU sold gets a deterministic level from
  ``random.Random(sku)``: about 8% are 0, 12% low (1..5), the rest 6..200.
* Offers: ``OFFER_COUNT`` SKUs sold (a deterministic sample) get an EUR offer at 20% off, live from
  "now minus one hour" to "now plus seven days" (UTC, explicit ``+00:00`` offset). "Now" is the
  time of conversion unless ``--now`` is given, so the offers in a committed feed expire.
"""

from __future__ import annotations

import argparse
import collections
import colorsys
import csv
import hashlib
import html
import random
import re
import shutil
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING

from vocab.attributes import canonical_attribute_code
from vocab.images import MAX_IMAGES, Image, check_src, feed_cell

if TYPE_CHECKING:
    from _csv import Writer  # what csv.writer returns

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO_ROOT / "data" / "magento-sample-catalog"

LOCALES = ("en_US", "de_DE")
BRANDS = ("Luma", "Aurora", "Nordkap", "Tessa", "Kiyomi")
USD_RATE = Decimal("1.08")
CENT = Decimal("0.01")
OFFER_COUNT = 20
OFFER_DISCOUNT = Decimal("0.80")  # price paid during an offer, as a fraction of the EUR price
LICENCE_FILES = ("NOTICE.md", "LICENSE.txt", "LICENSE_AFL.txt")
FEED_KINDS = ("attributes", "categories", "products", "variants", "prices", "offers", "stock")
MAX_LABEL = 100
#: Width and height of every image reference: the placeholders' size (the real files are not in the data).
PLACEHOLDER_SIZE = (400, 500)

SKU_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
CATEGORY_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

ROOT_CATEGORY = "Default Category"
# Not attributes: Magento bookkeeping, and Yes/No flags that mirror the Collections and
# Promotions categories.
SKIPPED_ATTRIBUTES = frozenset(
    {
        "has_options",
        "required_options",
        "eco_collection",
        "performance_fabric",
        "erin_recommends",
        "new",
        "sale",
        "special_price",
        "attribute_set",
        "visibility",
        "url_key",
    }
)
# Columns of the gear files that are not attributes.
GEAR_NON_ATTRIBUTE_COLUMNS = frozenset({"category", "name", "sku", "price", "qty", "description"})

GERMAN = {
    "Men": "Herren",
    "Women": "Damen",
    "Gear": "Ausrüstung",
    "Bags": "Taschen",
    "Fitness Equipment": "Fitnessgeräte",
    "Watches": "Uhren",
    "Tops": "Oberteile",
    "Bottoms": "Unterteile",
    "Jackets": "Jacken",
    "Hoodies & Sweatshirts": "Hoodies & Sweatshirts",
    "Tees": "T-Shirts",
    "Tanks": "Tanktops",
    "Bras & Tanks": "BHs & Tanktops",
    "Pants": "Hosen",
    "Shorts": "Shorts",
    "Promotions": "Aktionen",
    "Women Sale": "Sale Damen",
    "Men Sale": "Sale Herren",
    "Collections": "Kollektionen",
    "New Luma Yoga Collection": "Neue Luma-Yoga-Kollektion",
    "Erin Recommends": "Erins Empfehlungen",
    "Performance Fabrics": "Funktionsstoffe",
    "Eco Friendly": "Umweltfreundlich",
}


class SourceError(Exception):
    """The source directory is missing or not the expected sample catalog."""


# ---------------------------------------------------------------------------------------------
# helpers


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def clean_text(value: str) -> str:
    """Plain text from the source: entities decoded, whitespace collapsed."""
    return re.sub(r"\s+", " ", html.unescape(value)).strip()


def money(value: str | Decimal) -> Decimal:
    return Decimal(str(value).strip()).quantize(CENT, rounding=ROUND_HALF_UP)


def fmt_money(value: Decimal) -> str:
    return f"{value.quantize(CENT, rounding=ROUND_HALF_UP):.2f}"


def brand_for(name_root: str) -> str:
    digest = hashlib.sha1(name_root.lower().encode("utf-8")).digest()
    return BRANDS[int.from_bytes(digest[:4], "big") % len(BRANDS)]


def stock_for(sku: str) -> int:
    rng = random.Random(sku)
    roll = rng.random()
    if roll < 0.08:
        return 0
    if roll < 0.20:
        return rng.randint(1, 5)
    return rng.randint(6, 200)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def split_multi(value: str) -> list[str]:
    """Attribute values: split on ``|`` and newlines, decode entities, drop empties/duplicates."""
    parts = (clean_text(p) for p in re.split(r"[|\r\n]+", value))
    return list(dict.fromkeys(p for p in parts if p))


def parse_packed_attributes(packed: str) -> dict[str, list[str]]:
    """``size=XS,color=Black,material=Wool|Fleece`` -> {"size": ["XS"], ...}."""
    result: dict[str, list[str]] = {}
    for part in re.split(r",(?=\s*[A-Za-z_][A-Za-z0-9_]*=)", packed or ""):
        if "=" not in part:
            continue
        name, value = part.split("=", 1)
        add_attribute(result, name, value)
    return result


def add_attribute(attrs: dict[str, list[str]], name: str, value: str) -> None:
    name = canonical_attribute_code(name.strip()) or ""
    if not name or name in SKIPPED_ATTRIBUTES:
        return
    values = [v[:200] for v in split_multi(value or "")]
    if values:  # names that differ only in case are one attribute: their values merge
        attrs[name] = list(dict.fromkeys([*attrs.get(name, []), *values]))


def read_csv(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        yield from csv.DictReader(handle)


# ---------------------------------------------------------------------------------------------
# attribute labels


def load_attribute_labels(source: Path) -> dict[str, list[str]]:
    """Code → the lines of its ``frontend_label`` (admin label first, then the store's), from
    both fixtures' ``attributes.csv`` (the first file naming a code wins)."""
    found: dict[str, list[str]] = {}
    for fixture in ("CatalogSampleData", "ConfigurableSampleData"):
        path = source / fixture / "fixtures" / "attributes.csv"
        if not path.exists():
            continue
        for row in read_csv(path):
            code = canonical_attribute_code((row.get("attribute_code") or "").strip())
            lines = [line for line in (clean_text(x) for x in (row.get("frontend_label") or "").splitlines()) if line]
            if code and lines and code not in found:
                found[code] = lines
    return found


def shop_labels(found: dict[str, list[str]], used: Iterable[str]) -> dict[str, str]:
    """The label each used code shows: the store's, or the admin label where store labels collide."""
    store = {code: found[code][-1] for code in used if code in found}
    shown = collections.Counter(store.values())
    return {code: (found[code][0] if shown[label] > 1 else label)[:MAX_LABEL] for code, label in store.items()}


# ---------------------------------------------------------------------------------------------
# categories


@dataclass
class Category:
    path: tuple[str, ...]
    key: str
    explicit_position: int | None
    order: int
    children: list[Category] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path[-1]


class CategoryTree:
    def __init__(self) -> None:
        self.by_path: dict[tuple[str, ...], Category] = {}
        self.roots: list[Category] = []
        self._keys: set[str] = set()

    def _new_key(self, path: tuple[str, ...]) -> str:
        base = slugify("-".join(path))[:64].strip("-") or "category"
        key, n = base, 1
        while key in self._keys or not CATEGORY_KEY_RE.fullmatch(key):
            n += 1
            suffix = f"-{n}"
            key = base[: 64 - len(suffix)].rstrip("-") + suffix
        self._keys.add(key)
        return key

    def add(self, path: Iterable[str], position: int | None = None) -> Category:
        """Add a path (and any missing ancestors); return its node."""
        path = tuple(p for p in (clean_text(x) for x in path) if p)
        if not path:
            raise ValueError("empty category path")
        node = self.by_path.get(path)
        if node is None:
            parent = self.add(path[:-1]) if len(path) > 1 else None
            node = Category(path, self._new_key(path), position, len(self.by_path))
            self.by_path[path] = node
            (parent.children if parent else self.roots).append(node)
        elif position is not None and node.explicit_position is None:
            node.explicit_position = position
        return node

    def known(self, path: tuple[str, ...]) -> bool:
        return path in self.by_path

    def walk(self) -> Iterator[tuple[Category, Category | None, int]]:
        """Depth-first: (node, parent, position); parents always come before children."""

        def ordered(nodes: list[Category]) -> list[Category]:
            return sorted(nodes, key=lambda c: (c.explicit_position is None, c.explicit_position or 0, c.order))

        def visit(nodes: list[Category], parent: Category | None):
            for position, node in enumerate(ordered(nodes), start=1):
                yield node, parent, position
                yield from visit(node.children, node)

        yield from visit(self.roots, None)


def load_category_files(tree: CategoryTree, source: Path) -> None:
    for fixture in ("ConfigurableSampleData", "CatalogSampleData"):
        path = source / fixture / "fixtures" / "categories.csv"
        for row in read_csv(path):
            parent = [p for p in (row.get("path") or "").split("/") if p.strip()]
            position = (row.get("position") or "").strip()
            tree.add([*parent, row["name"]], int(position) if position.isdigit() else None)


def slash_paths(value: str) -> list[tuple[str, ...]]:
    """Configurable products: ``Default Category/Men/Tops,Default Category`` -> [("Men", "Tops")]."""
    paths = []
    for raw in (value or "").split(","):
        parts = [clean_text(p) for p in raw.split("/")]
        if parts and parts[0] == ROOT_CATEGORY:
            parts = parts[1:]
        parts = [p for p in parts if p]
        if parts:
            paths.append(tuple(parts))
    return paths


def line_paths(value: str, tree: CategoryTree) -> list[tuple[str, ...]]:
    """Gear products: one category name a line, e.g. ``Gear\\nBags\\nCollections\\nErin Recommends``.

    Each name continues the current path when it is a known child of it, starts a new path when
    it is a known root, and otherwise continues the current path as a new category.
    """
    paths: list[tuple[str, ...]] = []
    current: tuple[str, ...] = ()
    for raw in (value or "").splitlines():
        name = clean_text(raw)
        if not name or name == ROOT_CATEGORY:
            continue
        if current and tree.known(current + (name,)):
            current += (name,)
        elif tree.known((name,)) or not current:
            if current:
                paths.append(current)
            current = (name,)
        else:
            current += (name,)
    if current:
        paths.append(current)
    return paths


# ---------------------------------------------------------------------------------------------
# products


@dataclass
class Variant:
    """A size/colour child of a configurable product: its own SKU, price and option values."""

    sku: str
    price: Decimal
    options: dict[str, str]


@dataclass
class Product:
    sku: str
    name: str
    description: str
    price: Decimal
    category_paths: list[tuple[str, ...]]
    attributes: dict[str, list[str]]
    brand: str
    images: list[Image] = field(default_factory=list)
    variants: list[Variant] = field(default_factory=list)  # empty: a simple product, sold as itself

    def sellables(self) -> list[tuple[str, Decimal]]:
        """(SKU, price) of what is sold: each variant, or the product itself when it has none."""
        return [(v.sku, v.price) for v in self.variants] or [(self.sku, self.price)]


def image_refs(*names: str) -> list[Image]:
    """Magento image file names (``/m/h/mh01-black_main.jpg``, comma-separated lists) as image
    references of the placeholder's size; names that are not image references are skipped."""
    refs: list[Image] = []
    for name in dict.fromkeys(n.strip() for value in names for n in (value or "").split(",") if n.strip()):
        try:
            refs.append(Image(check_src(name), *PLACEHOLDER_SIZE))
        except ValueError:
            print(f"skipping image {name!r}: not an image reference", file=sys.stderr)
    return refs[:MAX_IMAGES]


def media_path(sku: str) -> str:
    """A file name in Magento's media layout (the first two characters as folders): ``/2/4/24-mb01.jpg``."""
    name = slugify(sku) or "product"
    return f"/{name[0]}/{name[1] if len(name) > 1 else '_'}/{name}.jpg"


def variations(parent: dict[str, str]) -> Iterator[tuple[str, dict[str, str]]]:
    """The children a configurable row names, in its order: ``sku=MH01-XS-Black,size=XS,color=Black|...``
    -> ("MH01-XS-Black", {"size": "XS", "color": "Black"})."""
    for variation in (parent.get("configurable_variations") or "").split("|"):
        fields = dict(f.split("=", 1) for f in variation.split(",") if "=" in f)
        sku = fields.pop("sku", "").strip()
        if sku:
            yield sku, {name.strip(): value for name, value in fields.items()}


def variant_options(named: dict[str, str], child: dict[str, str]) -> dict[str, str]:
    """The option values of a child: for each attribute its parent varies by, the value the
    parent's variation gives (else the child's own attribute), as an attribute code and plain text."""
    own = parse_packed_attributes(child.get("additional_attributes", ""))
    options: dict[str, str] = {}
    for name, value in named.items():
        code = canonical_attribute_code(name)
        if not code or code in SKIPPED_ATTRIBUTES:
            continue
        text = clean_text(value)[:200] or next(iter(own.get(code, [])), "")
        if text:
            options[code] = text
    return options


def configurable_products(source: Path) -> Iterator[Product]:
    """The apparel: each configurable product with its simple children as variants (in the
    parent's order), and any simple product no parent names as a simple product."""
    path = source / "ConfigurableSampleData" / "fixtures" / "products.csv"
    rows = list(read_csv(path))
    by_sku = {row["sku"].strip(): row for row in rows}
    children: dict[str, list[tuple[str, dict[str, str]]]] = collections.defaultdict(list)
    parent_of: dict[str, str] = {}
    for row in rows:
        if row.get("product_type") != "configurable":
            continue
        parent = row["sku"].strip()
        for sku, named in variations(row):
            child = by_sku.get(sku)
            if child is None or child.get("product_type") == "configurable" or sku in parent_of:
                print(f"skipping variant {sku!r} of {parent!r}: no such simple product, or another's", file=sys.stderr)
                continue
            parent_of[sku] = parent
            children[parent].append((sku, variant_options(named, child)))
    for row in rows:
        sku = row["sku"].strip()
        if sku in parent_of:
            continue  # a variant of its configurable parent
        kids = [by_sku[child] for child, _ in children.get(sku, [])]
        first = kids[0] if kids else {}
        variants = [
            Variant(child, money(by_sku[child].get("price") or row.get("price") or "0"), options)
            for child, options in children.get(sku, [])
        ]
        attributes = parse_packed_attributes(row.get("additional_attributes", ""))
        for variant in variants:  # what varies is an option of each variant, not the product's
            for name in variant.options:
                attributes.pop(name, None)
        name = clean_text(row["name"])
        yield Product(
            sku=sku,
            name=name,
            description=(row.get("description") or first.get("description") or "").strip(),
            price=money(row.get("price") or first.get("price") or "0"),
            category_paths=slash_paths(row.get("categories") or first.get("categories", "")),
            attributes=attributes,
            brand=brand_for(name.split(" ")[0] if name else sku),
            images=(
                image_refs(row.get("base_image", ""), row.get("additional_images", ""))
                or image_refs(first.get("base_image", ""), first.get("additional_images", ""))
                or image_refs(media_path(sku))
            ),
            variants=variants,
        )


def gear_products(source: Path, tree: CategoryTree) -> Iterator[Product]:
    folder = source / "CatalogSampleData" / "fixtures" / "SimpleProduct"
    for path in sorted(folder.glob("*.csv")):
        for row in read_csv(path):
            attributes: dict[str, list[str]] = {}
            for column, value in row.items():
                if column is None or column in GEAR_NON_ATTRIBUTE_COLUMNS:
                    continue
                add_attribute(attributes, column, value or "")
            name = clean_text(row["name"])
            sku = row["sku"].strip()
            yield Product(
                sku=sku,
                name=name,
                description=(row.get("description") or "").strip(),
                price=money(row.get("price") or "0"),
                category_paths=line_paths(row.get("category", ""), tree),
                attributes=attributes,
                brand=brand_for(name.split(" ")[0] if name else row["sku"]),
                images=image_refs(row.get("base_image", "")) or image_refs(media_path(sku)),
            )


# ---------------------------------------------------------------------------------------------
# conversion


def check_source(source: Path) -> None:
    required = [
        source / "ConfigurableSampleData" / "fixtures" / "products.csv",
        source / "ConfigurableSampleData" / "fixtures" / "categories.csv",
        source / "CatalogSampleData" / "fixtures" / "categories.csv",
        source / "CatalogSampleData" / "fixtures" / "SimpleProduct",
    ]
    if not source.is_dir():
        raise SourceError(f"source directory {source} does not exist")
    missing = [str(p.relative_to(source)) for p in required if not p.exists()]
    if missing:
        raise SourceError(f"{source} is not the Magento sample catalog: missing {', '.join(missing)}")


def _writer(handle: IO[str]) -> Writer:
    return csv.writer(handle, lineterminator="\n")


def convert(source: Path, out: Path, now: datetime | None = None, placeholders: Path | None = None) -> dict[str, int]:
    """Write the feed files (plus licence files and README) into ``out``, and with ``placeholders``
    a placeholder image for every image reference there; return row counts (and ``placeholders``,
    the number of images written)."""
    source = Path(source)
    out = Path(out)
    check_source(source)
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)

    tree = CategoryTree()
    load_category_files(tree, source)

    products: list[Product] = []
    seen: set[str] = set()  # product and variant SKUs: one namespace
    for product in (*configurable_products(source), *gear_products(source, tree)):
        if product.sku in seen or not SKU_RE.fullmatch(product.sku) or not product.name:
            print(f"skipping product {product.sku!r}: duplicate, bad SKU or no name", file=sys.stderr)
            continue
        seen.add(product.sku)
        kept = []
        for variant in product.variants:
            if variant.sku in seen or not SKU_RE.fullmatch(variant.sku):
                print(f"skipping variant {variant.sku!r} of {product.sku!r}: duplicate or bad SKU", file=sys.stderr)
                continue
            seen.add(variant.sku)
            kept.append(variant)
        product.variants = kept
        products.append(product)
        for path in product.category_paths:
            tree.add(path)

    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}

    with (out / "categories.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = _writer(handle)
        writer.writerow(["key", "parent", "position", *(f"name.{loc}" for loc in LOCALES)])
        n = 0
        for node, parent, position in tree.walk():
            writer.writerow(
                [node.key, parent.key if parent else "", position, node.name, GERMAN.get(node.name, node.name)]
            )
            n += 1
        counts["categories"] = n

    attribute_names = sorted(
        {name for p in products for name in p.attributes}, key=lambda a: (a not in ("color", "size"), a)
    )
    option_names = list(dict.fromkeys(name for p in products for v in p.variants for name in v.options))
    labels = shop_labels(load_attribute_labels(source), [*attribute_names, *option_names])
    with (out / "attributes.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = _writer(handle)
        writer.writerow(["code", "label.en_US"])
        for code in sorted(labels):
            writer.writerow([code, labels[code]])
        counts["attributes"] = len(labels)

    with (out / "products.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = _writer(handle)
        writer.writerow(
            [
                "sku",
                "brand",
                "categories",
                "active",
                *(f"name.{loc}" for loc in LOCALES),
                "description.en_US",
                "images",
                *(f"attr.{a}" for a in attribute_names),
            ]
        )
        for p in products:
            keys = list(dict.fromkeys(tree.by_path[path].key for path in p.category_paths))
            writer.writerow(
                [
                    p.sku,
                    p.brand,
                    "|".join(keys[:50]),
                    1,
                    p.name[:500],
                    p.name[:500],
                    p.description[:100_000],
                    feed_cell(p.images),
                    *("|".join(p.attributes.get(a, ())) for a in attribute_names),
                ]
            )
        counts["products"] = len(products)

    with (out / "variants.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = _writer(handle)
        writer.writerow(["sku", "product", "position", "active", *(f"opt.{o}" for o in option_names)])
        n = 0
        for p in products:
            for position, v in enumerate(p.variants, start=1):
                writer.writerow([v.sku, p.sku, position, 1, *(v.options.get(o, "") for o in option_names)])
                n += 1
        counts["variants"] = n

    # What is sold: the variants of a product with variants, else the product itself.
    price_of = {sku: price for p in products for sku, price in p.sellables()}
    with (out / "prices.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = _writer(handle)
        writer.writerow(["sku", "currency", "amount"])
        for sku, price in price_of.items():
            writer.writerow([sku, "EUR", fmt_money(price)])
            writer.writerow([sku, "USD", fmt_money(price * USD_RATE)])
        counts["prices"] = 2 * len(price_of)

    priced = sorted(sku for sku, price in price_of.items() if price > 0)
    offered = sorted(random.Random("snipshop-offers").sample(priced, min(OFFER_COUNT, len(priced))))
    with (out / "offers.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = _writer(handle)
        writer.writerow(["sku", "currency", "amount", "starts_at", "ends_at"])
        for sku in offered:
            writer.writerow(
                [
                    sku,
                    "EUR",
                    fmt_money(price_of[sku] * OFFER_DISCOUNT),
                    iso(now - timedelta(hours=1)),
                    iso(now + timedelta(days=7)),
                ]
            )
        counts["offers"] = len(offered)

    with (out / "stock.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = _writer(handle)
        writer.writerow(["sku", "quantity"])
        for sku in price_of:
            writer.writerow([sku, stock_for(sku)])
        counts["stock"] = len(price_of)

    for name in LICENCE_FILES:
        if (source / name).exists():
            shutil.copyfile(source / name, out / name)
        else:
            print(f"warning: {name} missing from {source}", file=sys.stderr)
    with_variants = sum(1 for p in products if p.variants)
    (out / "README.md").write_text(_readme(counts, now, with_variants), encoding="utf-8")
    if placeholders is not None:
        counts["placeholders"] = write_placeholders(products, Path(placeholders))
    return counts


# ---------------------------------------------------------------------------------------------
# placeholder images


def colour_for(sku: str) -> str:
    """A colour of its own for each SKU (a hue from its SHA-1), dark enough for white text."""
    hue = int.from_bytes(hashlib.sha1(sku.encode("utf-8")).digest()[:2], "big") % 360 / 360
    red, green, blue = colorsys.hls_to_rgb(hue, 0.36, 0.55)
    return f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"


def initials(name: str) -> str:
    words = [w for w in re.split(r"[^\w]+", name) if w and w[0].isalpha()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def placeholder_svg(name: str, sku: str, width: int, height: int) -> str:
    """A small SVG standing in for a product photo: initials and name on the SKU's colour."""
    label = name if len(name) <= 30 else name[:29] + "…"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(name)}">'
        f'<rect width="{width}" height="{height}" fill="{colour_for(sku)}"/>'
        f'<text x="{width // 2}" y="{height * 9 // 20}" font-family="sans-serif" font-size="{width * 3 // 10}" '
        f'font-weight="700" fill="#fff" text-anchor="middle" dominant-baseline="middle">'
        f"{html.escape(initials(name))}</text>"
        f'<text x="{width // 2}" y="{height * 17 // 20}" font-family="sans-serif" font-size="{max(10, width // 18)}" '
        f'fill="#fff" text-anchor="middle">{html.escape(label)}</text></svg>\n'
    )


def write_placeholders(products: Iterable[Product], directory: Path) -> int:
    """One placeholder per image reference below the image base (the first product naming a file
    gives it its initials and colour); files and folders readable by every user (the image server
    may run as another). Returns the number of files written."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)
    written: set[str] = set()
    for p in products:
        for image in p.images:
            if image.absolute or image.src in written:
                continue
            target = directory / image.src.lstrip("/")
            for folder in reversed(target.relative_to(directory).parents[:-1]):
                (directory / folder).mkdir(exist_ok=True)
                (directory / folder).chmod(0o755)
            target.write_text(placeholder_svg(p.name, p.sku, image.width, image.height), encoding="utf-8")
            target.chmod(0o644)
            written.add(image.src)
    return len(written)


def _readme(counts: dict[str, int], now: datetime, with_variants: int) -> str:
    rows = "\n".join(f"| `{kind}.csv` | {counts[kind]} |" for kind in FEED_KINDS)
    return f"""# Demo catalog feed (generated)

Generated by `python -m tools.magento_to_feed --out <dir>` from the Magento 2 "Luma" sample
catalog (see NOTICE.md; the data is licensed under OSL 3.0 / AFL 3.0, LICENSE.txt and
LICENSE_AFL.txt). Do not edit by hand: change the converter and regenerate. Import with

    snipshop import {" ".join(f"{k}.csv" for k in FEED_KINDS)}

with the locales {", ".join(LOCALES)} and the currencies EUR, USD configured (`SHOP_LOCALES`,
`SHOP_CURRENCIES`); otherwise the import rejects rows that use the others.

| file | rows |
| --- | --- |
{rows}

What is not in the source and was made up, deterministically:

- **Products and variants**: each configurable apparel product is a product, active, with its
  material, pattern, climate and style attributes; its simple children are its variants in
  `variants.csv` ({counts["variants"]} variants of {with_variants} products), with the sizes and
  colours Magento varies it by as options (`opt.size`, `opt.color`), in the parent's order of its
  children. The simple gear products are simple products. Prices, stock and offers name the
  variant SKUs of a product with variants and the product SKU of a simple one. `name.de_DE`
  repeats the English name; there is no German description.
- **Attribute labels**: `attributes.csv` takes Magento's `frontend_label` of each attribute the
  products use, in English (the store's label; the admin label where two attributes would show
  the same, as the three "Style" attributes). German falls back (`docs/inputs.md`).
- **Images**: `images` names the files Magento's CSV gives each product (a configurable product's
  own, else its first child's; variants have no images of their own, so the children's colour
  pictures are not used); the gear files name none, so a gear product gets one named by Magento's
  media layout (`/2/4/24-mb01.jpg`). The files are not in the data: each reference says
  {PLACEHOLDER_SIZE[0]}x{PLACEHOLDER_SIZE[1]}, the size of the placeholder SVG that
  `python -m tools.magento_to_feed --placeholders DIR` writes under that name (`./dev demo` does
  and serves them).
- **Brands**: the source has none. The first word of the product's name is hashed
  (SHA-1) to pick one of {", ".join(BRANDS)}.
- **Categories**: Magento's "Default Category" root is dropped; keys are slugs of the full path
  (`men-tops-jackets`); German names come from a small dictionary, else the English name.
- **Prices**: EUR is Magento's price; USD = EUR x {USD_RATE}, rounded half-up to cents.
- **Stock**: Magento says 100 everywhere; instead `random.Random(sku)` gives about 8% of SKUs 0,
  12% a low level (1-5) and the rest 6-200.
- **Offers**: {counts["offers"]} SKUs (a fixed pseudo-random sample) at 20% off in EUR, from
  one hour before to seven days after the conversion time, {iso(now)}.
  They expire: rerun the converter to refresh them.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.magento_to_feed", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--source",
        type=Path,
        default=DEFAULT_SOURCE,
        help="the magento-sample-catalog directory (default: %(default)s)",
    )
    parser.add_argument("--out", type=Path, required=True, help="output directory, e.g. data/demo")
    parser.add_argument(
        "--now",
        type=datetime.fromisoformat,
        default=None,
        help="ISO 8601 time the offers are anchored at (default: the current time)",
    )
    parser.add_argument(
        "--placeholders",
        type=Path,
        default=None,
        help="also write a placeholder image (SVG) for every image reference into this directory",
    )
    args = parser.parse_args(argv)
    now = args.now
    if now is not None and now.tzinfo is None:
        parser.error("--now needs a UTC offset, e.g. 2025-01-01T12:00:00+00:00")
    try:
        counts = convert(args.source.resolve(), args.out, now, args.placeholders)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for kind in FEED_KINDS:
        print(f"{kind + '.csv':<16} {counts[kind]:>6} rows")
    print(f"written to {args.out}")
    if args.placeholders is not None:
        print(f"{counts['placeholders']} placeholder images written to {args.placeholders}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
