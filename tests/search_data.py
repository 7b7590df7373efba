"""A deterministic catalog of SearchDocuments for the search contract suite (pure, no services).

:func:`catalog` returns the same :class:`Catalog` on every call (seeded ``random.Random``):

- 320 products under a 3-level category tree (4 roots, 2 children each, 2 grandchildren each);
  ``category_paths`` hold the filed categories plus all their ancestors; some products are filed
  in a middle node only, some in two leaves of different roots;
- 56 brands with a skewed distribution (so the brand facet has more than 50 values and counts
  differ), plus a few products without a brand (``""``);
- attributes ``color`` (1-3 values, incl. ``Crème``/``Écru``), ``size`` (shoe sizes, letter sizes,
  ``One Size``; multi-valued; absent for some) and ``material`` (1-2 values; absent for some);
- names and descriptions in ``en_US`` and ``de_DE`` with stemming cases (Shoe/Shoes, Running/Run,
  House/Houses, Schuh/Schuhe, Haus/Häuser), accented words (Crème, Café, Müller), non-Latin names
  (Cyrillic ``Кроссовки``, Greek ``Παπούτσια``, Japanese ``靴`` and ``ランニング靴``), duplicated
  names and case/accent variants of one name (``Café Mug`` / ``cafe mug``) for SKU tie-breaks;
- prices in EUR and USD from a small set of price points (many ties), USD not proportional to
  EUR, about 20 % without USD and a few without any price;
- availability ``in_stock`` / ``low_stock`` / ``sold_out``; ``created_at`` spread over two years
  with shared timestamps; about 8 % hidden (``visible=False``);
- ``stale_before`` / ``stale_after``: OLDER versions of some products with different data (another
  brand, price, name, visibility), to be indexed before / after the current documents: with a
  working version guard neither changes any result;
- a few hand-made products for suggestions (``Juno Jacket``, ``Joust Duffle Bag``, a SKU starting
  like a name word, a word longer than 20 characters);
- products sold in variants (docs/variants.md), appended last: hand-made ones (``VP-...``: a
  hoodie in Blue/S, Red/M and a sold-out Blue/L; a tee whose color is a product attribute and
  whose sizes differ in price, one of them cheaper by a live offer and sold out; socks whose
  variants partly lack a color option and inherit the product's; a hidden one; one with a
  variant without prices) and random ones (``VR-...``: colors and sizes, or shoe sizes with the
  color a product attribute, some variants sold out, some without a USD price), with older
  versions of some among the stale ones. A product's ``prices`` are its cheapest variant's per
  currency and its ``availability`` the aggregate, as the projector makes them.

Some SKUs are lower case (``ab-...``) so the SKU tie-break is checked in code point order.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, replace
from decimal import Decimal

from search.documents import SearchDocument, VariantDocument

SEED = 20260401
N_PRODUCTS = 320
LOCALES = ("en_US", "de_DE")
CURRENCIES = ("EUR", "USD")
T0 = 1_700_000_000
DAY = 86_400

#: key -> (parent, en name)
TREE: dict[str, str | None] = {
    "shoes": None,
    "shoes-running": "shoes",
    "shoes-running-road": "shoes-running",
    "shoes-running-trail": "shoes-running",
    "shoes-casual": "shoes",
    "shoes-casual-sneakers": "shoes-casual",
    "shoes-casual-loafers": "shoes-casual",
    "boots": None,
    "boots-hiking": "boots",
    "boots-hiking-alpine": "boots-hiking",
    "boots-hiking-light": "boots-hiking",
    "boots-winter": "boots",
    "boots-winter-snow": "boots-winter",
    "boots-winter-city": "boots-winter",
    "clothing": None,
    "clothing-tops": "clothing",
    "clothing-tops-shirts": "clothing-tops",
    "clothing-tops-sweaters": "clothing-tops",
    "clothing-bottoms": "clothing",
    "clothing-bottoms-jeans": "clothing-bottoms",
    "clothing-bottoms-shorts": "clothing-bottoms",
    "home": None,
    "home-kitchen": "home",
    "home-kitchen-cookware": "home-kitchen",
    "home-kitchen-mugs": "home-kitchen",
    "home-decor": "home",
    "home-decor-lamps": "home-decor",
    "home-decor-models": "home-decor",
}
LEAVES = [k for k in TREE if k.count("-") == 2]
MIDDLES = [k for k in TREE if k.count("-") == 1]

#: leaf -> list of (en name, de name) templates; {m} is a model name
NAMES: dict[str, list[tuple[str, str]]] = {
    "shoes-running-road": [
        ("{m} Running Shoe", "{m} Schuh zum Laufen"),
        ("{m} Road Running Shoes", "{m} Straßen Schuhe"),
    ],
    "shoes-running-trail": [
        ("{m} Trail Shoe", "{m} Gelände Schuh"),
        ("{m} Trail Shoes", "{m} Trail Schuhe"),
        ("Кроссовки {m}", "Кроссовки {m}"),
    ],
    "shoes-casual-sneakers": [
        ("{m} Sneaker", "{m} Turnschuh"),
        ("{m} Canvas Shoes", "{m} Canvas Schuhe"),
        ("Παπούτσια {m}", "Παπούτσια {m}"),
    ],
    "shoes-casual-loafers": [
        ("{m} Loafer", "{m} Slipper"),
        ("靴 {m}", "靴 {m}"),
        ("ランニング靴 {m}", "ランニング靴 {m}"),
    ],
    "boots-hiking-alpine": [("{m} Alpine Boot", "{m} Alpin Stiefel"), ("Müller {m} Boots", "Müller {m} Stiefel")],
    "boots-hiking-light": [("{m} Hiking Shoe", "{m} Wander Schuh")],
    "boots-winter-snow": [("{m} Snow Boots", "{m} Schnee Stiefel")],
    "boots-winter-city": [("{m} City Boot", "{m} Stadt Stiefel")],
    "clothing-tops-shirts": [("{m} Running Shirt", "{m} Lauf Hemd"), ("{m} Shirt", "{m} Hemd")],
    "clothing-tops-sweaters": [("{m} Sweater", "{m} Pullover")],
    "clothing-bottoms-jeans": [("{m} Jeans", "{m} Jeans")],
    "clothing-bottoms-shorts": [("{m} Run Shorts", "{m} Kurze Lauf Hose")],
    "home-kitchen-cookware": [("{m} Pan", "{m} Pfanne"), ("Crème Brûlée Dish {m}", "Crème-brûlée Form {m}")],
    "home-kitchen-mugs": [("Café Mug {m}", "Café Becher {m}"), ("{m} Coffee Mug", "{m} Kaffee Becher")],
    "home-decor-lamps": [("{m} House Lamp", "{m} Haus Lampe")],
    "home-decor-models": [("{m} Model Houses", "{m} Modell Häuser"), ("{m} Doll House", "{m} Puppen Haus")],
}
DESCRIPTIONS = {
    "shoes": ("Comfortable footwear for every day, by {b}.", "Bequemes Schuhwerk für jeden Tag, von {b}."),
    "boots": ("Sturdy boots for rough weather, by {b}.", "Robuste Stiefel für raues Wetter, von {b}."),
    "clothing": ("Soft clothing that lasts, by {b}.", "Weiche Kleidung, die hält, von {b}."),
    "home": ("Useful things for your home, by {b}.", "Nützliche Dinge für Ihr Zuhause, von {b}."),
}
MODELS = [
    "Aero",
    "Pulse",
    "Nova",
    "Ridge",
    "Alto",
    "Breeze",
    "Comet",
    "Delta",
    "Ember",
    "Fjord",
    "Glide",
    "Harbor",
    "Ion",
    "Jade",
    "Kestrel",
    "Lumen",
    "Mistral",
    "Nimbus",
    "Orbit",
    "Prairie",
    "Quartz",
    "Rally",
    "Summit",
    "Tundra",
    "Umbra",
    "Vega",
    "Willow",
    "Xenon",
    "Yukon",
    "Zenith",
    "éclair",
    "Øresund",
    "Straße",
]
UNIQUE_MODELS = [
    "Zephyrine",
    "Quokkaflex",
    "Borealix",
    "Marmotta",
    "Pemberly",
    "Wombatix",
    "Calderon",
    "Tessaract",
    "Vortexa",
    "Ostrander",
]
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "do", "fa", "gu", "ha", "ji"]
COLORS = ["Black", "Blue", "Brown", "Crème", "Green", "Grey", "Red", "White", "Yellow", "Écru"]
SHOE_SIZES = [str(n) for n in range(36, 48)]
LETTER_SIZES = ["XS", "S", "M", "L", "XL", "XXL"]
MATERIALS = {
    "shoes": ["Leather", "Mesh", "Rubber", "Suede", "Canvas"],
    "boots": ["Leather", "Rubber", "Suede", "Gore-Tex"],
    "clothing": ["Cotton", "Wool", "Polyester", "Denim", "Linen"],
    "home": ["Ceramic", "Steel", "Glass", "Wood", "Cast Iron"],
}
PRICE_POINTS = [
    Decimal(p)
    for p in (
        "4.99",
        "9.99",
        "14.50",
        "19.99",
        "24.99",
        "29.99",
        "39.90",
        "49.00",
        "59.95",
        "79.00",
        "99.99",
        "120.00",
        "149.00",
        "199.50",
    )
]


@dataclass(frozen=True)
class Catalog:
    documents: tuple[SearchDocument, ...]
    stale_before: tuple[SearchDocument, ...]
    stale_after: tuple[SearchDocument, ...]
    brands: tuple[str, ...]
    tree: dict[str, str | None]

    @property
    def by_sku(self) -> dict[str, SearchDocument]:
        return {d.sku: d for d in self.documents}

    def values(self, facet: str) -> list[str]:
        """Every value of a facet over all documents (visible or not) and their variants, sorted."""
        if facet == "brand":
            return sorted({d.brand for d in self.documents if d.brand})
        return sorted({v for d in self.documents for s in d.sellables() for v in d.values(s).get(facet, ())})

    @property
    def prices(self) -> list[Decimal]:
        return sorted({p for d in self.documents for s in d.sellables() for p in s.prices.values()})


def ancestors(key: str) -> list[str]:
    out = []
    while key is not None:
        out.append(key)
        key = TREE[key]
    return out


def _brands(rng: random.Random) -> list[str]:
    names: list[str] = []
    while len(names) < 68:
        name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
        if name not in names:
            names.append(name)
    return names + ["Müller", "Ålborg"]


def _usd(rng: random.Random, eur: Decimal) -> Decimal:
    # Not proportional: a nearby price point, or EUR * 1.1 rounded (ties and order changes).
    if rng.random() < 0.5:
        i = PRICE_POINTS.index(eur) if eur in PRICE_POINTS else 0
        return PRICE_POINTS[max(0, min(len(PRICE_POINTS) - 1, i + rng.choice((-1, 0, 1))))]
    return (eur * Decimal("1.1")).quantize(Decimal("0.01"))


def _sku(i: int) -> str:
    if i % 17 == 3:
        return f"ab-{i:04d}"
    if i % 23 == 5:
        return f"Z{i:04d}"
    return f"SS-{i:04d}"


def _product(rng: random.Random, i: int, brands: list[str], weights: list[float]) -> SearchDocument:
    leaf = rng.choice(LEAVES)
    filed = [leaf]
    r = rng.random()
    if r < 0.08:
        filed = [TREE[leaf]]  # filed in the middle node only
    elif r < 0.16:
        other = rng.choice([k for k in LEAVES if k.split("-")[0] != leaf.split("-")[0]])
        filed = [leaf, other]
    paths: list[str] = []
    for key in filed:
        for a in ancestors(key):
            if a not in paths:
                paths.append(a)
    root = leaf.split("-")[0]
    en_t, de_t = rng.choice(NAMES[leaf])
    model = UNIQUE_MODELS[i // 32] if i % 32 == 7 and i // 32 < len(UNIQUE_MODELS) else rng.choice(MODELS)
    if rng.random() < 0.3:
        model = f"{model} {rng.randint(2, 5)}"
    en, de = en_t.format(m=model), de_t.format(m=model)
    if rng.random() < 0.1:
        en, de = en.lower(), de.lower()  # case variants of names (name sort is case-insensitive)
    brand = "" if rng.random() < 0.03 else rng.choices(brands, weights)[0]
    attributes: dict[str, tuple[str, ...]] = {}
    attributes["color"] = tuple(rng.sample(COLORS, rng.choice((1, 1, 1, 2, 2, 3))))
    if root in ("shoes", "boots"):
        if rng.random() < 0.9:
            start = rng.randrange(len(SHOE_SIZES) - 4)
            attributes["size"] = tuple(SHOE_SIZES[start : start + rng.randint(1, 4)])
    elif root == "clothing":
        attributes["size"] = tuple(rng.sample(LETTER_SIZES, rng.randint(1, 3)))
    elif rng.random() < 0.4:
        attributes["size"] = ("One Size",)
    if rng.random() < 0.88:
        attributes["material"] = tuple(rng.sample(MATERIALS[root], rng.choice((1, 1, 2))))
    prices: dict[str, Decimal] = {}
    if rng.random() > 0.02:
        prices["EUR"] = rng.choice(PRICE_POINTS)
        if rng.random() < 0.8:
            prices["USD"] = _usd(rng, prices["EUR"])
    en_d, de_d = DESCRIPTIONS[root]
    created = T0 + rng.randrange(0, 730) * DAY + (0 if rng.random() < 0.3 else rng.randrange(DAY))
    return SearchDocument(
        sku=_sku(i),
        version=rng.randint(10, 500),
        visible=rng.random() > 0.08,
        created_at=created,
        brand=brand,
        category_paths=tuple(paths),
        attributes=attributes,
        names={"en_US": en, "de_DE": de},
        descriptions={"en_US": en_d.format(b=brand or "us"), "de_DE": de_d.format(b=brand or "uns")},
        prices=prices,
        availability=rng.choices(("in_stock", "low_stock", "sold_out"), (0.6, 0.15, 0.25))[0],
    )


def _specials(docs: list[SearchDocument]) -> list[SearchDocument]:
    """Hand-made documents for the text assertions and tie-breaks (appended to the random ones)."""
    base = docs[0]
    mk = functools.partial(replace, base, visible=True, availability="in_stock", version=100, descriptions={})
    paths = ("home-kitchen-mugs", "home-kitchen", "home")
    return [
        # name ties after folding: Café Mug / cafe mug / CAFÉ MUG -> SKU decides
        mk(
            sku="T-0003",
            names={"en_US": "Café Mug", "de_DE": "Café Becher"},
            category_paths=paths,
            created_at=T0 + 5 * DAY,
            prices={"EUR": Decimal("9.99"), "USD": Decimal("9.99")},
        ),
        mk(
            sku="T-0001",
            names={"en_US": "cafe mug", "de_DE": "cafe becher"},
            category_paths=paths,
            created_at=T0 + 5 * DAY,
            prices={"EUR": Decimal("9.99")},
        ),
        mk(
            sku="T-0002",
            names={"en_US": "CAFÉ MUG", "de_DE": "CAFÉ BECHER"},
            category_paths=paths,
            created_at=T0 + 5 * DAY,
            prices={"EUR": Decimal("9.99"), "USD": Decimal("12.00")},
        ),
        # a hidden product with a unique word: never found
        mk(
            sku="T-0100",
            visible=False,
            names={"en_US": "Phantomweave Shoe", "de_DE": "Phantomweave Schuh"},
            category_paths=("shoes-casual-sneakers", "shoes-casual", "shoes"),
        ),
        # plain singular/plural pairs whose other words do not overlap
        mk(
            sku="T-0200",
            names={"en_US": "Shoe", "de_DE": "Schuh"},
            brand="Müller",
            category_paths=("shoes-casual-sneakers", "shoes-casual", "shoes"),
            attributes={"color": ("Red",)},
        ),
        mk(
            sku="T-0201",
            names={"en_US": "Shoes", "de_DE": "Schuhe"},
            brand="Müller",
            category_paths=("shoes-casual-sneakers", "shoes-casual", "shoes"),
            attributes={"color": ("Blue",)},
        ),
        mk(
            sku="T-0202",
            names={"en_US": "House", "de_DE": "Haus"},
            category_paths=("home-decor-models", "home-decor", "home"),
            attributes={},
        ),
        mk(
            sku="T-0203",
            names={"en_US": "Houses", "de_DE": "Häuser"},
            category_paths=("home-decor-models", "home-decor", "home"),
            attributes={},
        ),
    ]


def _suggestion_specials(base: SearchDocument) -> list[SearchDocument]:
    """Hand-made documents for the suggestion cases, appended after everything random (so the
    random catalog stays as it was): word starts in the middle of names, a SKU that starts like a
    name word, a word longer than the 20 characters typed words are compared on."""
    mk = functools.partial(
        replace,
        base,
        visible=True,
        availability="in_stock",
        version=100,
        descriptions={},
        attributes={"color": ("Blue",)},
        prices={"EUR": Decimal("49.00")},
    )
    bags = ("clothing-bottoms", "clothing")
    tops = ("clothing-tops", "clothing")
    return [
        mk(sku="MJ-0001", names={"en_US": "Juno Jacket", "de_DE": "Juno Jacke"}, category_paths=tops),
        mk(sku="MB-0001", names={"en_US": "Joust Duffle Bag", "de_DE": "Joust Duffle Tasche"}, category_paths=bags),
        mk(
            sku="MB-0002",
            names={"en_US": "Bag of Tricks Duffle", "de_DE": "Trickreiche Duffle-Tasche"},
            category_paths=bags,
        ),
        mk(sku="MJ-0002", names={"en_US": "Jacket Liner", "de_DE": "Jacken Futter"}, category_paths=tops),
        mk(sku="JAC-0001", names={"en_US": "Rain Parka", "de_DE": "Regen Parka"}, category_paths=tops),
        mk(sku="MJ-0003", visible=False, names={"en_US": "Juno Jacket", "de_DE": "Juno Jacke"}, category_paths=tops),
        mk(
            sku="MH-0001",
            names={
                "en_US": "Supercalifragilisticexpialidocious Mug",
                "de_DE": "Superkalifragilistischexpialigetisch Becher",
            },
            category_paths=("home-kitchen-mugs", "home-kitchen", "home"),
        ),
    ]


def _stale(rng: random.Random, doc: SearchDocument, brands: list[str]) -> SearchDocument:
    """An older version of ``doc`` with different data (it must never win)."""
    eur = rng.choice(PRICE_POINTS)
    return replace(
        doc,
        version=rng.randint(1, doc.version - 1),
        visible=not doc.visible if rng.random() < 0.5 else doc.visible,
        brand=rng.choice(brands),
        names={loc: f"Stale {n}" for loc, n in doc.names.items()},
        prices={"EUR": eur, "USD": eur},
        availability="sold_out" if doc.availability != "sold_out" else "in_stock",
        attributes={**doc.attributes, "color": ("Stalecolor",)},
        created_at=doc.created_at + 365 * DAY,
    )


def aggregate(doc: SearchDocument) -> SearchDocument:
    """``doc`` with the product-level price and availability of its variants, as the projector
    makes them: each currency's cheapest variant price; in stock if any variant is, low stock if
    the best is low, else sold out."""
    prices: dict[str, Decimal] = {}
    for v in doc.variants:
        for cur, amount in v.prices.items():
            prices[cur] = min(amount, prices.get(cur, amount))
    states = {v.availability for v in doc.variants}
    availability = next((s for s in ("in_stock", "low_stock") if s in states), "sold_out")
    return replace(doc, prices=prices, availability=availability)


def _variant(sku: str, options: dict[str, str], eur: str | None, usd: str | None, state: str) -> VariantDocument:
    prices = {cur: Decimal(amount) for cur, amount in (("EUR", eur), ("USD", usd)) if amount is not None}
    return VariantDocument(sku, options, prices, state)


def _variant_specials(base: SearchDocument) -> list[SearchDocument]:
    """Hand-made products with variants for the contract's variant cases (see the docstring)."""
    v = _variant
    tops = ("clothing-tops-sweaters", "clothing-tops", "clothing")
    mk = functools.partial(
        replace, base, version=100, visible=True, brand="Orcana", category_paths=tops, descriptions={}
    )
    docs = [
        mk(
            sku="VP-0001",
            created_at=T0 + 10 * DAY,
            names={"en_US": "Orca Hoodie", "de_DE": "Orca Kapuzenpulli"},
            attributes={"material": ("Cotton",)},
            variants=(
                v("VP-0001-BS", {"color": "Blue", "size": "S"}, "50.00", "55.00", "in_stock"),
                v("VP-0001-RM", {"color": "Red", "size": "M"}, "60.00", "66.00", "in_stock"),
                v("VP-0001-BL", {"color": "Blue", "size": "L"}, "40.00", "44.00", "sold_out"),
            ),
        ),
        mk(
            sku="VP-0002",
            created_at=T0 + 11 * DAY,
            names={"en_US": "Orca Tee", "de_DE": "Orca Hemd"},
            attributes={"color": ("Black",), "material": ("Cotton",)},
            variants=(
                v("VP-0002-XS", {"size": "XS"}, "20.00", "22.00", "in_stock"),
                v("VP-0002-S", {"size": "S"}, "25.00", None, "low_stock"),
                v("VP-0002-M", {"size": "M"}, "18.00", None, "sold_out"),  # a live offer: 18 instead of 25
                v("VP-0002-L", {"size": "L"}, "25.00", "27.50", "in_stock"),
            ),
        ),
        mk(
            sku="VP-0003",
            created_at=T0 + 12 * DAY,
            names={"en_US": "Orca Socks", "de_DE": "Orca Socken"},
            attributes={"color": ("Grey",), "material": ("Wool",)},
            variants=(
                v("VP-0003-NM", {"color": "Navy", "size": "M"}, "9.99", "10.99", "in_stock"),
                v("VP-0003-L", {"size": "L"}, "12.00", "13.00", "in_stock"),  # no color: the product's Grey
                v("VP-0003-NL", {"color": "Navy", "size": "L"}, "12.00", "13.00", "sold_out"),
            ),
        ),
        mk(
            sku="VP-0004",
            visible=False,
            created_at=T0 + 13 * DAY,
            names={"en_US": "Orca Phantom Parka", "de_DE": "Orca Phantom Parka"},
            variants=(v("VP-0004-M", {"color": "Blue", "size": "M"}, "30.00", "33.00", "in_stock"),),
        ),
        mk(
            sku="VP-0005",
            created_at=T0 + 14 * DAY,
            names={"en_US": "Orca Scarf", "de_DE": "Orca Schal"},
            attributes={"material": ("Wool",)},
            variants=(
                v("VP-0005-R", {"color": "Red"}, None, None, "in_stock"),  # no price yet
                v("VP-0005-G", {"color": "Green"}, "14.50", None, "sold_out"),
            ),
        ),
    ]
    return [aggregate(d) for d in docs]


def _variant_product(rng: random.Random, i: int, base: SearchDocument, brands: list[str]) -> SearchDocument:
    """A random product with variants: clothing in colors and sizes, or shoes in sizes."""
    leaf = rng.choice([k for k in LEAVES if k.startswith(("clothing", "shoes"))])
    root = leaf.split("-")[0]
    en_t, de_t = rng.choice(NAMES[leaf])
    model = rng.choice(MODELS)
    attributes: dict[str, tuple[str, ...]] = {"material": tuple(rng.sample(MATERIALS[root], rng.choice((1, 1, 2))))}
    if root == "clothing":
        axes = {"color": rng.sample(COLORS, rng.randint(1, 3)), "size": rng.sample(LETTER_SIZES, rng.randint(1, 4))}
        if rng.random() < 0.2:
            attributes["color"] = (rng.choice(COLORS),)  # inherited by variants without a color
    else:
        start = rng.randrange(len(SHOE_SIZES) - 5)
        axes = {"size": SHOE_SIZES[start : start + rng.randint(2, 5)]}
        attributes["color"] = tuple(rng.sample(COLORS, rng.choice((1, 2))))
    combos: list[dict[str, str]] = [{}]
    for name, values in axes.items():
        combos = [{**c, name: value} for c in combos for value in values]
    sku = f"VR-{i:04d}"
    base_price = rng.choice(PRICE_POINTS)
    variants = []
    for n, options in enumerate(combos[:8]):
        if "color" in options and attributes.get("color") and rng.random() < 0.2:
            options = {k: val for k, val in options.items() if k != "color"}  # an empty option cell
        eur = rng.choice((base_price, base_price, rng.choice(PRICE_POINTS)))
        prices = {"EUR": eur}
        if rng.random() < 0.8:
            prices["USD"] = _usd(rng, eur)
        state = rng.choices(("in_stock", "low_stock", "sold_out"), (0.55, 0.15, 0.3))[0]
        variants.append(VariantDocument(f"{sku}-{n}", options, prices, state))
    paths = tuple(ancestors(leaf))
    brand = rng.choice(brands)
    return aggregate(
        replace(
            base,
            sku=sku,
            version=rng.randint(10, 500),
            visible=rng.random() > 0.08,
            created_at=T0 + rng.randrange(0, 730) * DAY,
            brand=brand,
            category_paths=paths,
            attributes=attributes,
            names={"en_US": en_t.format(m=model), "de_DE": de_t.format(m=model)},
            descriptions={
                "en_US": DESCRIPTIONS[root][0].format(b=brand),
                "de_DE": DESCRIPTIONS[root][1].format(b=brand),
            },
            variants=tuple(variants),
        )
    )


def _stale_variants(rng: random.Random, doc: SearchDocument) -> SearchDocument:
    """An older version of a product with variants: other variants, colors and prices."""
    eur = rng.choice(PRICE_POINTS)
    variants = tuple(
        VariantDocument(
            f"{doc.sku}-old{n}", {"color": "Stalecolor", "size": size}, {"EUR": eur, "USD": eur}, "in_stock"
        )
        for n, size in enumerate(("XS", "XXL", "41"))
    )
    return aggregate(replace(doc, version=rng.randint(1, doc.version - 1), visible=True, variants=variants))


@functools.cache
def catalog() -> Catalog:
    rng = random.Random(SEED)
    brands = _brands(rng)
    weights = [1 / (k + 1) ** 0.6 for k in range(len(brands))]
    docs = [_product(rng, i, brands, weights) for i in range(N_PRODUCTS)]
    # shared timestamps for the newest tie-break
    for k in range(0, N_PRODUCTS, 11):
        docs[k] = replace(docs[k], created_at=T0 + 300 * DAY)
    docs += _specials(docs)
    rng.shuffle(docs)
    before, after = [], []
    for d in docs:
        if d.version > 1 and rng.random() < 0.15:
            (before if rng.random() < 0.5 else after).append(_stale(rng, d, brands))
    docs += _suggestion_specials(docs[0])
    # products with variants, last and with their own random numbers: the rest stays as it was
    vrng = random.Random(SEED + 1)
    with_variants = _variant_specials(docs[0]) + [_variant_product(vrng, i, docs[0], brands) for i in range(48)]
    for d in with_variants:
        if d.version > 1 and vrng.random() < 0.3:
            (before if vrng.random() < 0.5 else after).append(_stale_variants(vrng, d))
    docs += with_variants
    return Catalog(tuple(docs), tuple(before), tuple(after), tuple(brands), dict(TREE))
