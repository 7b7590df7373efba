"""Generate a synthetic catalog of any size as feed files for ``snipshop import`` (benchmarks).

Usage::

    python -m tools.generate_catalog --products N --out DIR [--seed S] [--now ISO-8601] [--variants LO-HI]

Writes ``categories.csv``, ``products.csv``, ``prices.csv``, ``offers.csv`` and ``stock.csv`` in
the feed format of the contract (and ``variants.csv`` with ``--variants``). Products are streamed
straight to disk, one row at a time, so memory stays constant even for N = 1,000,000.

What is generated:

* 50 categories in a 3-level tree (5 roots, 3 children each, 2 grandchildren each); products sit
  in one leaf category, 10% of them in a second one.
* 20 brands; attributes ``color`` (sometimes two colours), ``size`` (the sizes a product comes in,
  multi-valued) and ``material`` (one or two); en_US and de_DE names and HTML descriptions built
  from word lists (the German ones with umlauts and ß).
* SKUs ``G0000001``, ``G0000002``, ... (wider when N needs more digits); about 2% inactive.
* Prices in EUR (1.00 to 499.99) and USD (EUR x 1.08, rounded half-up).
* Stock: about 8% at 0, 12% low (1..5), the rest 6..500.
* Offers for 1% of products (exactly one SKU in every full block of 100), in EUR and USD at 10 to
  40% off: 80% of them live around ``--now``, 10% in the future and 10% already over.

* ``--variants LO-HI`` (e.g. ``5-15``): every product is sold in LO to HI variants
  ``G0000001-01``, ``G0000001-02``, ... (options ``color`` × ``size``: one to three colours, two to
  six neighbouring sizes; ``color`` and ``size`` are then options, not product attributes). Prices,
  offers and stock name the variants: XL and XXL cost 5% more, each variant has its own stock,
  and an offered product's offer is on its first variant.

Everything is deterministic given ``--seed``; only the offer windows are anchored at ``--now``
(default: the current UTC time truncated to the hour), so fixing ``--now`` too makes the output
byte-identical.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from _csv import Writer  # what csv.writer returns

LOCALES = ("en_US", "de_DE")
CURRENCIES = ("EUR", "USD")
USD_RATE = Decimal("1.08")
CENT = Decimal("0.01")
OFFER_BLOCK = 100  # one offer per block of this many products
FEED_KINDS = ("categories", "products", "variants", "prices", "offers", "stock")
BIG_SIZES = {"XL", "XXL"}
BIG_SIZE_MARKUP = Decimal("1.05")

# (key, en_US, de_DE, children); leaves carry the product "noun" words for their names.
CATEGORY_TREE = [
    (
        "apparel",
        "Apparel",
        "Bekleidung",
        [
            ("tops", "Tops", "Oberteile", [("shirts", "Shirts", "Hemden"), ("sweaters", "Sweaters", "Pullover")]),
            ("bottoms", "Bottoms", "Unterteile", [("trousers", "Trousers", "Hosen"), ("skirts", "Skirts", "Röcke")]),
            (
                "outerwear",
                "Outerwear",
                "Oberbekleidung",
                [("jackets", "Jackets", "Jacken"), ("coats", "Coats", "Mäntel")],
            ),
        ],
    ),
    (
        "footwear",
        "Footwear",
        "Schuhe",
        [
            (
                "running",
                "Running",
                "Laufen",
                [("road", "Road Shoes", "Straßenschuhe"), ("trail", "Trail Shoes", "Trailschuhe")],
            ),
            ("casual", "Casual", "Freizeit", [("sneakers", "Sneakers", "Sneaker"), ("loafers", "Loafers", "Slipper")]),
            (
                "boots",
                "Boots",
                "Stiefel",
                [("hiking", "Hiking Boots", "Wanderstiefel"), ("winter", "Winter Boots", "Winterstiefel")],
            ),
        ],
    ),
    (
        "outdoor",
        "Outdoor",
        "Outdoor",
        [
            (
                "camping",
                "Camping",
                "Camping",
                [("tents", "Tents", "Zelte"), ("sleeping", "Sleeping Bags", "Schlafsäcke")],
            ),
            (
                "climbing",
                "Climbing",
                "Klettern",
                [("ropes", "Ropes", "Seile"), ("harnesses", "Harnesses", "Klettergurte")],
            ),
            (
                "cycling",
                "Cycling",
                "Radsport",
                [("helmets", "Helmets", "Helme"), ("bottles", "Bottles", "Trinkflaschen")],
            ),
        ],
    ),
    (
        "home",
        "Home",
        "Wohnen",
        [
            ("kitchen", "Kitchen", "Küche", [("pans", "Pans", "Pfannen"), ("knives", "Knives", "Messer")]),
            (
                "textiles",
                "Textiles",
                "Heimtextilien",
                [("towels", "Towels", "Handtücher"), ("blankets", "Blankets", "Decken")],
            ),
            (
                "lighting",
                "Lighting",
                "Beleuchtung",
                [("lamps", "Lamps", "Lampen"), ("lanterns", "Lanterns", "Laternen")],
            ),
        ],
    ),
    (
        "sports",
        "Sports",
        "Sport",
        [
            ("fitness", "Fitness", "Fitness", [("weights", "Weights", "Gewichte"), ("mats", "Mats", "Matten")]),
            ("ball", "Ball Sports", "Ballsport", [("balls", "Balls", "Bälle"), ("goals", "Goals", "Tore")]),
            (
                "water",
                "Water Sports",
                "Wassersport",
                [("swimwear", "Swimwear", "Bademode"), ("goggles", "Goggles", "Schwimmbrillen")],
            ),
        ],
    ),
]

BRANDS = (
    "Aurora",
    "Nordkap",
    "Tessa",
    "Kiyomi",
    "Luma",
    "Bergfeld",
    "Kestrel",
    "Mønster",
    "Valora",
    "Quillon",
    "Fjällgut",
    "Orion & Co",
    "Sundra",
    "Trailwerk",
    "Halden",
    "Zephyr",
    "Marisol",
    "Öko Line",
    "Brisa",
    "Kaskade",
)

# (en_US, de_DE)
COLORS = [
    ("Black", "Schwarz"),
    ("White", "Weiß"),
    ("Red", "Rot"),
    ("Blue", "Blau"),
    ("Green", "Grün"),
    ("Gray", "Grau"),
    ("Yellow", "Gelb"),
    ("Orange", "Orange"),
    ("Purple", "Lila"),
    ("Brown", "Braun"),
    ("Beige", "Beige"),
    ("Navy", "Marineblau"),
]
SIZES = ["XS", "S", "M", "L", "XL", "XXL"]
MATERIALS = [
    ("Cotton", "Baumwolle"),
    ("Wool", "Wolle"),
    ("Polyester", "Polyester"),
    ("Nylon", "Nylon"),
    ("Leather", "Leder"),
    ("Linen", "Leinen"),
    ("Bamboo", "Bambus"),
    ("Steel", "Stahl"),
    ("Aluminium", "Aluminium"),
    ("Recycled Plastic", "Recyclingkunststoff"),
    ("Merino", "Merinowolle"),
    ("Cork", "Kork"),
]
ADJECTIVES = [
    ("Light", "Leichte"),
    ("Warm", "Wärmende"),
    ("Classic", "Klassische"),
    ("Sturdy", "Robuste"),
    ("Soft", "Weiche"),
    ("Compact", "Kompakte"),
    ("Quick", "Schnelle"),
    ("Waterproof", "Wasserdichte"),
    ("Large", "Große"),
    ("Slim", "Schmale"),
    ("Smooth", "Glatte"),
    ("Bold", "Kühne"),
    ("Fine", "Feine"),
    ("Cozy", "Gemütliche"),
    ("Tough", "Zähe"),
    ("Bright", "Helle"),
]
LINES = [
    "Alpha",
    "Brise",
    "Cirrus",
    "Delta",
    "Ember",
    "Fjord",
    "Gala",
    "Horizon",
    "Isar",
    "Jura",
    "Kaiser",
    "Lumen",
    "Mistral",
    "Nova",
    "Ostsee",
    "Polar",
    "Quarz",
    "Rhön",
    "Sölden",
    "Tundra",
    "Ufer",
    "Vento",
    "Würm",
    "Zugspitze",
]
SENTENCES = [
    ("Made for everyday use and built to last.", "Für den Alltag gemacht und für lange Zeit gebaut."),
    ("Easy to clean and quick to dry.", "Leicht zu reinigen und schnell trocken."),
    ("A favourite of our customers for years.", "Seit Jahren ein Liebling unserer Kundinnen und Kunden."),
    ("Designed in Europe with recycled materials.", "In Europa entworfen, aus recycelten Materialien."),
    ("Comfortable in every season.", "Bequem zu jeder Jahreszeit – im Sommer wie im Winter."),
    ("Light enough to take anywhere.", "Leicht genug, um überallhin mitgenommen zu werden."),
    ("Tested in the Alps under harsh conditions.", "In den Alpen unter rauen Bedingungen getestet."),
    ("Pairs well with the rest of the collection.", "Passt gut zur übrigen Kollektion."),
]
FEATURES = [
    ("Reinforced seams", "Verstärkte Nähte"),
    ("Two-year warranty", "Zwei Jahre Garantie"),
    ("Machine washable", "Maschinenwaschbar"),
    ("Fair-trade certified", "Fair-Trade-zertifiziert"),
    ("Free returns", "Kostenlose Rücksendung"),
    ("Size: true to fit", "Größe: fällt normal aus"),
]


def categories() -> Iterator[tuple[str, str, int, str, str, list[str]]]:
    """(key, parent key, position, name en, name de, leaf) rows, parents first."""
    for p1, (k1, en1, de1, children) in enumerate(CATEGORY_TREE, start=1):
        yield k1, "", p1, en1, de1, []
        for p2, (k2, en2, de2, grandchildren) in enumerate(children, start=1):
            key2 = f"{k1}-{k2}"
            yield key2, k1, p2, en2, de2, []
            for p3, (k3, en3, de3) in enumerate(grandchildren, start=1):
                yield f"{key2}-{k3}", key2, p3, en3, de3, [en3, de3]


def leaf_categories() -> list[tuple[str, str, str]]:
    """(key, noun en, noun de) for each leaf."""
    return [(key, leaf[0], leaf[1]) for key, _p, _pos, _en, _de, leaf in categories() if leaf]


def fmt(amount: Decimal) -> str:
    return f"{amount.quantize(CENT, rounding=ROUND_HALF_UP):.2f}"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def _writer(handle: IO[str]) -> Writer:
    return csv.writer(handle, lineterminator="\n")


def variant_range(text: str) -> tuple[int, int]:
    """``"5-15"`` -> (5, 15): variants per product, at least one."""
    lo, sep, hi = text.partition("-")
    try:
        low, high = int(lo), int(hi if sep else lo)
    except ValueError:
        raise argparse.ArgumentTypeError(f"variants per product must be LO-HI, e.g. 5-15, not {text!r}") from None
    if not 1 <= low <= high <= len(COLORS) * len(SIZES):
        raise argparse.ArgumentTypeError(
            f"variants per product must satisfy 1 <= LO <= HI <= {len(COLORS) * len(SIZES)}: {text!r}"
        )
    return low, high


def sellables(
    rng: random.Random, sku: str, colors: list[tuple[str, str]], sizes: list[str], per_product: tuple[int, int] | None
) -> list[tuple[str, str, str]]:
    """(SKU, colour, size) of what is sold: the product itself, or its variants (colour × size, in order)."""
    if per_product is None:
        return [(sku, "", "")]
    count = rng.randint(*per_product)
    if len(sizes) < 2:
        sizes = SIZES[:2] if sizes[0] == SIZES[0] else SIZES[SIZES.index(sizes[0]) - 1 : SIZES.index(sizes[0]) + 1]
    shades = -(-count // len(sizes))  # as many colours as the count needs (ceiling division)
    chosen = colors + [c for c in rng.sample(COLORS, len(COLORS)) if c not in colors]
    combos = [(color, size) for color, _ in chosen[:shades] for size in sizes][:count]
    return [(f"{sku}-{j:02d}", color, size) for j, (color, size) in enumerate(combos, start=1)]


def generate(
    products: int,
    out: Path,
    seed: int = 1,
    now: datetime | None = None,
    variants: tuple[int, int] | None = None,
) -> dict[str, int]:
    """Write the feed files into ``out``; return row counts per kind. ``variants``: (LO, HI) variants
    per product (``variants.csv``), None for simple products."""
    if products < 0:
        raise ValueError("--products must be >= 0")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    now = (now or datetime.now(UTC).replace(minute=0, second=0)).astimezone(UTC)
    now = now.replace(microsecond=0)
    rng = random.Random(seed)
    offer_rng = random.Random(f"{seed}:offers")
    width = max(7, len(str(products)))
    leaves = leaf_categories()
    counts = dict.fromkeys(FEED_KINDS, 0)

    with (out / "categories.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = _writer(handle)
        writer.writerow(["key", "parent", "position", "name.en_US", "name.de_DE"])
        for key, parent, position, en, de, _leaf in categories():
            writer.writerow([key, parent, position, en, de])
            counts["categories"] += 1

    kinds = ("products", "prices", "offers", "stock") + (("variants",) if variants else ())
    files = {kind: (out / f"{kind}.csv").open("w", newline="", encoding="utf-8") for kind in kinds}
    try:
        w_products, w_prices, w_offers, w_stock = (_writer(files[k]) for k in ("products", "prices", "offers", "stock"))
        w_variants = _writer(files["variants"]) if variants else None
        texts = ["sku", "brand", "categories", "active", "name.en_US", "name.de_DE", "description.en_US"]
        texts.append("description.de_DE")
        w_products.writerow(texts + (["attr.material"] if variants else ["attr.color", "attr.size", "attr.material"]))
        if w_variants is not None:
            w_variants.writerow(["sku", "product", "position", "active", "opt.color", "opt.size"])
        w_prices.writerow(["sku", "currency", "amount"])
        w_offers.writerow(["sku", "currency", "amount", "starts_at", "ends_at"])
        w_stock.writerow(["sku", "quantity"])

        offer_at = -1
        for i in range(products):
            if i % OFFER_BLOCK == 0:
                offer_at = i + offer_rng.randrange(OFFER_BLOCK)
            sku = f"G{i + 1:0{width}d}"

            leaf_key, noun_en, noun_de = leaves[rng.randrange(len(leaves))]
            keys = [leaf_key]
            if rng.random() < 0.10:
                other = leaves[rng.randrange(len(leaves))][0]
                if other != leaf_key:
                    keys.append(other)

            (adj_en, adj_de) = ADJECTIVES[rng.randrange(len(ADJECTIVES))]
            line = LINES[rng.randrange(len(LINES))]
            color_idx = rng.sample(range(len(COLORS)), 2 if rng.random() < 0.15 else 1)
            colors = [COLORS[c] for c in color_idx]
            lo = rng.randrange(len(SIZES))
            hi = min(len(SIZES), lo + 1 + rng.randrange(4))
            sizes = SIZES[lo:hi]
            materials = rng.sample(MATERIALS, 2 if rng.random() < 0.25 else 1)

            name_en = f"{line} {adj_en} {noun_en} {colors[0][0]}"
            name_de = f"{line} {adj_de} {noun_de} {colors[0][1]}"
            s1, s2 = rng.sample(SENTENCES, 2)
            feats = rng.sample(FEATURES, 2)
            desc_en = (
                f"<p>The {line} {noun_en.lower()} in {materials[0][0].lower()}. {s1[0]} {s2[0]}</p>"
                f"<ul><li>{feats[0][0]}</li><li>{feats[1][0]}</li></ul>"
            )
            desc_de = (
                f"<p>{line} {noun_de} aus {materials[0][1]}. {s1[1]} {s2[1]}</p>"
                f"<ul><li>{feats[0][1]}</li><li>{feats[1][1]}</li></ul>"
            )
            active = 0 if rng.random() < 0.02 else 1
            brand = BRANDS[rng.randrange(len(BRANDS))]
            row = [sku, brand, "|".join(keys), active, name_en, name_de, desc_en, desc_de]
            if not variants:
                row += ["|".join(c[0] for c in colors), "|".join(sizes)]
            w_products.writerow([*row, "|".join(m[0] for m in materials)])
            counts["products"] += 1

            eur = Decimal(rng.randrange(100, 50_000)) / 100
            sold = sellables(rng, sku, colors, sizes, variants)
            for position, (sellable, color, size) in enumerate(sold, start=1):
                if w_variants is not None:
                    w_variants.writerow([sellable, sku, position, 1, color, size])
                    counts["variants"] += 1
                amount = (eur * BIG_SIZE_MARKUP).quantize(CENT, rounding=ROUND_HALF_UP) if size in BIG_SIZES else eur
                prices = {"EUR": amount, "USD": (amount * USD_RATE).quantize(CENT, rounding=ROUND_HALF_UP)}
                if position == 1:
                    offered = prices
                for currency in CURRENCIES:
                    w_prices.writerow([sellable, currency, fmt(prices[currency])])
                    counts["prices"] += 1
                roll = rng.random()
                quantity = 0 if roll < 0.08 else rng.randint(1, 5) if roll < 0.20 else rng.randint(6, 500)
                w_stock.writerow([sellable, quantity])
                counts["stock"] += 1

            if i == offer_at:
                discount = Decimal(100 - offer_rng.randrange(10, 41)) / 100
                when = offer_rng.random()
                if when < 0.8:
                    start, end = now - timedelta(days=1), now + timedelta(days=14)
                elif when < 0.9:
                    start, end = now + timedelta(days=3), now + timedelta(days=10)
                else:
                    start, end = now - timedelta(days=10), now - timedelta(days=3)
                for currency in CURRENCIES:
                    w_offers.writerow([sold[0][0], currency, fmt(offered[currency] * discount), iso(start), iso(end)])
                    counts["offers"] += 1
    finally:
        for handle in files.values():
            handle.close()
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.generate_catalog", description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, required=True, help="number of products")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default: %(default)s)")
    parser.add_argument(
        "--now",
        type=datetime.fromisoformat,
        default=None,
        help="ISO 8601 time the offer windows are anchored at (default: the current hour, UTC)",
    )
    parser.add_argument(
        "--variants",
        type=variant_range,
        default=None,
        metavar="LO-HI",
        help="sell every product in LO to HI variants (colour × size), e.g. 5-15 (default: simple products)",
    )
    args = parser.parse_args(argv)
    if args.products < 0:
        parser.error("--products must be >= 0")
    if args.now is not None and args.now.tzinfo is None:
        parser.error("--now needs a UTC offset, e.g. 2025-01-01T12:00:00+00:00")
    counts = generate(args.products, args.out, args.seed, args.now, args.variants)
    for kind in FEED_KINDS:
        if kind == "variants" and not args.variants:
            continue
        print(f"{kind + '.csv':<16} {counts[kind]:>9} rows")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
