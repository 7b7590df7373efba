"""The search contract: both adapters (embedded Redis, Elasticsearch) against the reference.

Queries without text must give exactly the reference's Result (ordered SKUs of the page, total,
facets); see tests/search_reference.py for the semantics. Text scoring is engine-specific, so
text queries are checked by properties: exact tokens, stems, accents, non-Latin words and typos
are found; nothing unrelated is; and every other part of a text query (filters, facets, sorts,
pages) agrees with the reference applied to the documents the engine matched for the text.

Many random queries come from hypothesis (deterministic by default; set
SEARCH_CONTRACT_RANDOM=1 for fresh examples, SEARCH_CONTRACT_EXAMPLES=N for more).
"""

from __future__ import annotations

import math
import os
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.documents import SearchDocument, VariantDocument
from search.query import MAX_PER_PAGE, SORTS, Query, Result
from tests import search_reference as ref
from tests.search_data import CURRENCIES, LOCALES, TREE, catalog

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]  # elasticsearch: on its param

CAT = catalog()
DOCS = CAT.documents
VISIBLE = [d for d in DOCS if d.visible]
FACETS = ["brand", "color", "material", "size"]
EXAMPLES = int(os.environ.get("SEARCH_CONTRACT_EXAMPLES", "150"))
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("SEARCH_CONTRACT_RANDOM"),
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def Q(**kw) -> Query:  # noqa: N802
    return Query(locale=kw.pop("locale", "en_US"), currency=kw.pop("currency", "EUR"), **kw)


def describe(query: Query) -> str:
    parts = [
        f"{k}={v!r}"
        for k, v in vars(query).items()
        if v != getattr(Query("", ""), k) and k not in ("locale", "currency")
    ]
    return f"Query({query.locale}/{query.currency} {' '.join(parts)})"


def facet_diff(actual, expected) -> str:
    """What differs between two facet tuples, compactly (value: (count, selected))."""
    a = {f.name: f.values for f in actual}
    e = {f.name: f.values for f in expected}
    lines = []
    if list(a) != list(e):
        lines.append(f"facet names: got {list(a)}, want {list(e)}")
    for name in e:
        if name not in a or a[name] == e[name]:
            continue
        got = {v.value: (v.count, v.selected) for v in a[name]}
        want = {v.value: (v.count, v.selected) for v in e[name]}
        diff = []
        extra = {k: v for k, v in got.items() if k not in want}
        missing = {k: v for k, v in want.items() if k not in got}
        changed = {k: f"{got[k]} want {want[k]}" for k in got if k in want and got[k] != want[k]}
        if extra:
            diff.append(f"unexpected {extra}")
        if missing:
            diff.append(f"missing {missing}")
        if changed:
            diff.append(f"changed {changed}")
        if not diff:
            diff.append(f"order: got {list(got)}, want {list(want)}")
        lines.append(f"facet {name} ({len(got)} values, want {len(want)}): " + "; ".join(diff))
    return "\n".join(lines)


def sku_diff(got, want, query: Query) -> str:
    """Where two SKU lists part, with each SKU's sort value around there."""
    got, want = list(got), list(want)
    i = next((k for k, (x, y) in enumerate(zip(got, want, strict=False)) if x != y), min(len(got), len(want)))
    lo = max(0, i - 2)
    by_sku = CAT.by_sku

    def value(sku):
        d = by_sku.get(sku)
        if d is None:
            return sku
        if query.sort == "name":
            return sku, d.names.get(query.locale)
        if query.sort in ("price_asc", "price_desc"):
            return sku, str(d.prices.get(query.currency))
        return sku, d.created_at

    def show(skus):
        return [value(s) for s in skus[lo : i + 4]]

    return (
        f"skus differ at position {i} (got {len(got)}, want {len(want)}):\n"
        f"        got  ...{show(got)}\n        want ...{show(want)}"
    )


def assert_result(actual: Result, expected: Result, query: Query, *, matches: set[str] | None = None) -> None:
    """Exact comparison; with ``matches`` (text + relevance) the page only has to be the right
    number of SKUs out of ``matches``, in the engine's order."""
    problems = []
    if actual.total != expected.total:
        problems.append(f"total: got {actual.total}, want {expected.total}")
    if matches is None and tuple(actual.skus) != tuple(expected.skus):
        problems.append(sku_diff(actual.skus, expected.skus, query))
    if matches is not None and (len(actual.skus) != len(expected.skus) or not set(actual.skus) <= matches):
        problems.append(f"skus (any order): got {list(actual.skus)}, want {len(expected.skus)} of {sorted(matches)}")
    if tuple(actual.facets) != tuple(expected.facets):
        problems.append(facet_diff(actual.facets, expected.facets))
    assert not problems, f"{describe(query)}\n" + "\n".join(problems)


def all_skus(index, query: Query) -> list[str]:
    """Every SKU the adapter matches for ``query``, walking all pages of 96."""
    out: list[str] = []
    page = 1
    while True:
        r = index.query(replace(query, page=page, per_page=MAX_PER_PAGE))
        out += r.skus
        if len(r.skus) < MAX_PER_PAGE or page * MAX_PER_PAGE >= r.total:
            break
        page += 1
    assert len(out) == len(set(out)), f"{describe(query)}: a SKU on two pages"
    assert len(out) == r.total, f"{describe(query)}: total {r.total} but {len(out)} SKUs on the pages"
    return out


# ------------------------------------------------------------------------------------------------
# Loading, generations


def test_live_generation_and_every_visible_document_listed(index):
    assert index.live_generation() == 1
    r = index.query(Q(per_page=MAX_PER_PAGE))
    assert r.total == len(VISIBLE)
    assert set(all_skus(index, Q())) == {d.sku for d in VISIBLE}


def test_stale_versions_never_win(index):
    # the stale copies had another color ("Stalecolor"), other visibility, brand, prices, names
    r = index.query(Q(filters={"color": ("Stalecolor",)}))
    assert r.total == 0
    by_sku = CAT.by_sku
    hidden_now = {d.sku for d in CAT.stale_before + CAT.stale_after if d.visible and not by_sku[d.sku].visible}
    assert hidden_now, "the catalog no longer has stale visible copies of hidden products"
    assert not hidden_now & set(all_skus(index, Q()))


# ------------------------------------------------------------------------------------------------
# Fixed queries without text: exact comparison with the reference

FIXED = [
    Q(),
    Q(per_page=MAX_PER_PAGE, sort="name"),
    Q(locale="de_DE", per_page=MAX_PER_PAGE, sort="name"),
    Q(per_page=MAX_PER_PAGE, page=2, sort="name"),
    Q(per_page=MAX_PER_PAGE, page=4, sort="name"),  # the end: non-Latin names
    Q(per_page=MAX_PER_PAGE, page=5, sort="name"),  # past the end: empty page, total kept
    Q(per_page=MAX_PER_PAGE, sort="price_asc"),
    Q(per_page=MAX_PER_PAGE, page=4, sort="price_asc"),  # the tail: products without a price
    Q(per_page=MAX_PER_PAGE, page=4, sort="price_desc"),
    Q(currency="USD", per_page=MAX_PER_PAGE, sort="price_desc"),
    Q(currency="USD", per_page=MAX_PER_PAGE, page=3, sort="price_asc"),  # the tail: without USD
    Q(sort="newest", per_page=50),
    Q(sort="relevance", per_page=50, page=2),
    Q(category="shoes"),
    Q(category="shoes-running"),
    Q(category="home-kitchen-mugs", sort="name", per_page=96),
    Q(category="no-such-category"),
    Q(filters={"brand": ("Hasa", "Vika")}),
    Q(filters={"brand": ("Hasa",), "color": ("Red", "Blue")}, sort="price_asc"),
    Q(filters={"color": ("Crème", "Écru")}, sort="name"),
    Q(filters={"color": ("Nope",)}),
    Q(filters={"color": ("Red",), "fabric": ("Silk",)}),  # unknown facet name: no match, listed
    Q(filters={"brand": ("",)}),  # empty brand is no brand
    Q(filters={"size": ("42", "XL", "One Size")}, in_stock=True),
    Q(price_min=Decimal("19.99"), price_max=Decimal("49.00"), sort="price_desc"),  # inclusive bounds
    Q(price_min=Decimal("19.99"), price_max=Decimal("19.99")),
    Q(currency="USD", price_min=Decimal("0"), sort="price_asc", per_page=96),  # no USD price: excluded
    Q(currency="USD", price_max=Decimal("10.99")),
    Q(in_stock=True, sort="newest"),
    Q(
        category="boots",
        filters={"material": ("Leather", "Suede"), "size": ("41",)},
        in_stock=True,
        price_max=Decimal("99.99"),
        sort="price_asc",
    ),
]


@pytest.mark.parametrize("query", FIXED, ids=[describe(q) for q in FIXED])
def test_fixed_queries_match_reference(index, query):
    assert_result(index.query(query), ref.search(DOCS, query), query)


def test_brand_facet_is_capped_at_50_values(index):
    r = index.query(Q())
    brand = r.facets[0]
    assert brand.name == "brand" and len(brand.values) == 50
    assert len({d.brand for d in VISIBLE if d.brand}) > 50


def test_selected_facet_values_are_listed_even_outside_the_top_50(index):
    top = ref.search(DOCS, Q()).facets[0].values
    rare = sorted({d.brand for d in VISIBLE if d.brand} - {v.value for v in top})
    assert rare, "every brand is in the top 50: the catalog no longer tests this"
    query = Q(filters={"brand": (rare[0], "No Such Brand")})
    r = index.query(query)
    assert_result(r, ref.search(DOCS, query), query)
    brand = {v.value: (v.count, v.selected) for v in r.facets[0].values}
    assert brand[rare[0]][1] and brand["No Such Brand"] == (0, True) and len(brand) == 50


def test_name_sort_ties_and_non_latin(index):
    # Café Mug / cafe mug / CAFÉ MUG fold to one key: SKU decides; non-Latin names come last
    names = all_skus(index, Q(sort="name"))
    assert names == ref.all_matching(DOCS, Q(sort="name"))
    assert all(ref.name_sort_key(CAT.by_sku[s].names["en_US"])[0] > "z" for s in names[-20:])
    pos = {s: i for i, s in enumerate(names)}
    assert pos["T-0001"] + 1 == pos["T-0002"] and pos["T-0002"] + 1 == pos["T-0003"]


PAGED = [
    Q(category="shoes-casual-loafers"),  # Japanese names: 靴 ..., ランニング靴 ...
    Q(category="shoes-casual-loafers", in_stock=True, price_min=Decimal("0")),
    Q(category="shoes-casual-sneakers", locale="de_DE"),  # Greek names
    Q(category="shoes-running-trail"),  # Cyrillic names
    Q(category="home-kitchen-mugs", currency="USD"),
]  # Café Mug / cafe mug / CAFÉ MUG ties


@pytest.mark.parametrize("per_page", [1, 3])
@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("base", PAGED, ids=[describe(q) for q in PAGED])
def test_small_pages_concatenate_to_the_full_order(index, base, sort, per_page):
    query = replace(base, sort=sort, per_page=per_page)
    want = ref.all_matching(DOCS, query)
    got: list[str] = []
    for page in range(1, math.ceil(len(want) / per_page) + 1):
        r = index.query(replace(query, page=page))
        assert r.total == len(want)
        got += r.skus
    assert got == want, sku_diff(got, want, query)


# ------------------------------------------------------------------------------------------------
# Products with variants (docs/variants.md, "Search"): one variant must match every variant-level
# condition at once; facets count products; price sorts use the cheapest matching variant.
# VP-0001: Blue/S 50 (in stock), Red/M 60 (in stock), Blue/L 40 (sold out); VP-0002: color Black
# (product), XS 20, S 25 (low), M 18 (sold out), L 25; VP-0003: color Grey (product), Navy/M 9.99,
# L 12 (Grey), Navy/L 12 (sold out); VP-0004 hidden; VP-0005: Red (no price), Green 14.50 (sold
# out). All of brand Orcana, under clothing-tops-sweaters.

ORCA = {"brand": ("Orcana",)}
SWEATERS = "clothing-tops-sweaters"

VARIANT_CASES = [
    (Q(category=SWEATERS, filters={"color": ("Blue",), "size": ("M",)}), False),  # Blue/S and Red/M only
    (Q(category=SWEATERS, filters={"color": ("Blue",), "size": ("S",)}), True),
    (Q(category=SWEATERS, filters={"color": ("Blue",), "size": ("M", "S")}), True),
    (Q(category=SWEATERS, filters={"color": ("Red",), "size": ("M",)}), True),
    (Q(category=SWEATERS, filters={"size": ("L",)}), True),
    (Q(category=SWEATERS, filters={"size": ("L",)}, in_stock=True), False),  # Blue/L is sold out
    (Q(category=SWEATERS, filters={"color": ("Blue",)}, in_stock=True), True),
    (Q(category=SWEATERS, price_min=Decimal("35"), price_max=Decimal("45")), True),  # Blue/L at 40
    (Q(category=SWEATERS, price_min=Decimal("35"), price_max=Decimal("45"), in_stock=True), False),
    (Q(category=SWEATERS, filters={"color": ("Red",)}, price_max=Decimal("55")), False),  # Red/M is 60
    (Q(category=SWEATERS, currency="USD", price_min=Decimal("60")), True),  # Red/M at 66 USD
]


@pytest.mark.parametrize("query,hoodie", VARIANT_CASES, ids=[describe(q) for q, _ in VARIANT_CASES])
def test_one_variant_must_match_every_variant_condition(index, query, hoodie):
    r = index.query(replace(query, per_page=MAX_PER_PAGE))
    assert ("VP-0001" in r.skus) is hoodie
    assert_result(r, ref.search(DOCS, replace(query, per_page=MAX_PER_PAGE)), query)


def test_a_product_attribute_applies_to_every_variant_and_an_option_overrides_it(index):
    def orca(**kw):
        return set(index.query(Q(filters={**ORCA, **kw})).skus)

    assert orca(color=("Black",)) == {"VP-0002"}  # the tee's color is a product attribute
    assert orca(color=("Black",), size=("M",)) == {"VP-0002"}
    assert orca(color=("Grey",), size=("L",)) == {"VP-0003"}  # the L without a color is Grey
    assert orca(color=("Grey",), size=("M",)) == set()  # the M is Navy
    assert orca(color=("Navy",), size=("L",)) == {"VP-0003"}
    assert index.query(Q(filters={**ORCA, "color": ("Navy",), "size": ("L",)}, in_stock=True)).total == 0
    assert orca(color=("Blue",)) == {"VP-0001"}  # the hidden VP-0004 never


def counts(result: Result, facet: str) -> dict[str, int]:
    return {v.value: v.count for f in result.facets if f.name == facet for v in f.values}


def test_facet_counts_count_products_not_variants(index):
    r = index.query(Q(filters=ORCA))
    assert r.total == 4
    assert counts(r, "color") == {"Red": 2, "Black": 1, "Blue": 1, "Green": 1, "Grey": 1, "Navy": 1}
    assert counts(r, "size") == {"L": 3, "M": 3, "S": 2, "XS": 1}
    # with a size selected, a color counts the products having it in that size
    r = index.query(Q(filters={**ORCA, "size": ("L",)}))
    assert counts(r, "color") == {"Black": 1, "Blue": 1, "Grey": 1, "Navy": 1}
    assert counts(r, "size") == {"L": 3, "M": 3, "S": 2, "XS": 1}  # its own selection does not count
    r = index.query(Q(filters={**ORCA, "size": ("L",)}, in_stock=True))
    assert counts(r, "color") == {"Black": 1, "Grey": 1}
    # the brand counts the products matching every other condition: the hoodie has no Blue/M
    r = index.query(Q(category=SWEATERS, filters={**ORCA, "color": ("Blue",), "size": ("M",)}))
    assert r.total == 0 and counts(r, "brand").get("Orcana") == 0
    query = Q(category=SWEATERS, filters={"color": ("Blue",), "size": ("M",)})
    assert_result(index.query(query), ref.search(DOCS, query), query)


PRICE_SORTS = [
    (Q(filters=ORCA, sort="price_asc"), ["VP-0003", "VP-0005", "VP-0002", "VP-0001"]),  # 9.99 14.50 18 40
    (Q(filters=ORCA, sort="price_asc", in_stock=True), ["VP-0003", "VP-0002", "VP-0001", "VP-0005"]),  # VP-0005: none
    (Q(filters={**ORCA, "size": ("L",)}, sort="price_asc"), ["VP-0003", "VP-0002", "VP-0001"]),  # 12 25 40
    (Q(filters={**ORCA, "size": ("L",)}, sort="price_desc"), ["VP-0001", "VP-0002", "VP-0003"]),
    (Q(filters={**ORCA, "color": ("Blue",)}, sort="price_asc", in_stock=True), ["VP-0001"]),
    (Q(filters={**ORCA, "color": ("Red",)}, sort="price_desc"), ["VP-0001", "VP-0005"]),  # no price: last
    (Q(filters=ORCA, sort="price_desc", currency="USD", in_stock=True), ["VP-0001", "VP-0002", "VP-0003", "VP-0005"]),
]


@pytest.mark.parametrize("query,want", PRICE_SORTS, ids=[describe(q) for q, _ in PRICE_SORTS])
def test_price_sorts_use_the_cheapest_matching_variant(index, query, want):
    expected = ref.search(DOCS, query)
    assert list(expected.skus) == want, "the reference disagrees with the hand-made expectation"
    assert_result(index.query(query), expected, query)


VARIANT_FIXED = [
    Q(category="clothing", sort="price_asc", per_page=MAX_PER_PAGE),
    Q(category="clothing", sort="price_desc", in_stock=True, per_page=MAX_PER_PAGE),
    Q(category="clothing", filters={"size": ("M", "L"), "color": ("Blue", "Black")}, sort="price_asc"),
    Q(category="shoes", filters={"size": ("41", "42")}, in_stock=True, sort="price_desc", currency="USD"),
    Q(filters={"color": ("Red",), "size": ("S",)}, price_max=Decimal("50"), sort="price_asc"),
    Q(filters={"size": ("XS",)}, price_min=Decimal("20"), in_stock=True, per_page=MAX_PER_PAGE),
    Q(price_min=Decimal("10"), price_max=Decimal("30"), sort="price_desc", per_page=MAX_PER_PAGE),
    Q(filters={"brand": ("Orcana", "Hasa"), "material": ("Cotton",)}, in_stock=True),
]


@pytest.mark.parametrize("query", VARIANT_FIXED, ids=[describe(q) for q in VARIANT_FIXED])
def test_variant_queries_match_reference(index, query):
    assert any(d.variants for d in VISIBLE if ref.matches(d, query)), "no product with variants matches"
    assert_result(index.query(query), ref.search(DOCS, query), query)


def _variant_doc(version: int, variants, **kw) -> SearchDocument:
    fields = {
        "sku": "VX-1",
        "version": version,
        "visible": True,
        "created_at": 1_700_000_000,
        "category_paths": ("vx",),
        "attributes": {"material": ("Wool",)},
        "names": {"en_US": "Vx", "de_DE": "Vx"},
        "prices": {"EUR": Decimal("10.00")},
        "availability": "in_stock",
        "variants": tuple(variants),
    }
    fields.update(kw)
    from tests.search_data import aggregate

    doc = SearchDocument(**fields)
    return aggregate(doc) if doc.variants else doc


def test_option_names_are_facets_and_rewrites_take_variants_along(make_index):
    idx = make_index("vx")
    idx.ensure_generation(1)
    idx.switch(1)

    def write(doc):
        idx.index([doc], [1])
        idx.refresh()

    def skus(**kw):
        return list(idx.query(Q(category="vx", **kw)).skus)

    fits = [
        VariantDocument("VX-1-S", {"fit": "Slim"}, {"EUR": Decimal("30")}, "in_stock"),
        VariantDocument("VX-1-R", {"fit": "Relaxed"}, {"EUR": Decimal("20")}, "sold_out"),
    ]
    write(_variant_doc(1, fits))
    assert "fit" in idx.facet_names()
    assert skus(filters={"fit": ("Slim",)}, in_stock=True) == ["VX-1"]
    assert skus(filters={"fit": ("Relaxed",)}, in_stock=True) == []
    assert skus(price_max=Decimal("25")) == ["VX-1"]
    # new variants replace the old ones in every set
    write(_variant_doc(2, [VariantDocument("VX-1-B", {"fit": "Boxy"}, {"EUR": Decimal("40")}, "in_stock")]))
    assert skus(filters={"fit": ("Slim",)}) == skus(filters={"fit": ("Relaxed",)}) == []
    assert skus(filters={"fit": ("Boxy",)}, in_stock=True) == ["VX-1"]
    assert skus(price_max=Decimal("25")) == [] and skus(price_min=Decimal("40")) == ["VX-1"]
    assert counts(idx.query(Q(category="vx")), "fit") == {"Boxy": 1}
    # a product back to simple: its own values, price and stock only
    write(_variant_doc(3, [], availability="sold_out"))
    assert skus(filters={"fit": ("Boxy",)}) == [] and skus(in_stock=True) == []
    assert skus(filters={"material": ("Wool",)}, price_max=Decimal("10")) == ["VX-1"]
    # an older version with variants arriving late changes nothing
    write(_variant_doc(2, [VariantDocument("VX-1-B", {"fit": "Boxy"}, {"EUR": Decimal("40")}, "in_stock")]))
    assert skus(filters={"fit": ("Boxy",)}) == [] and skus(price_min=Decimal("40")) == []
    # hidden: nothing
    write(_variant_doc(4, fits, visible=False))
    assert skus() == skus(filters={"fit": ("Slim",)}) == []


# ------------------------------------------------------------------------------------------------
# Random queries without text


@st.composite
def queries(draw, text: str = "") -> Query:
    locale = draw(st.sampled_from(LOCALES))
    currency = draw(st.sampled_from(CURRENCIES))
    category = draw(st.one_of(st.none(), st.none(), st.sampled_from(sorted(TREE)), st.just("no-such-category")))
    names = draw(st.lists(st.sampled_from(FACETS), min_size=0, max_size=3, unique=True))
    filters = {}
    for name in names:
        known = CAT.values(name)
        if category is not None:  # prefer values that occur in the category
            local = sorted({v for d in DOCS if category in d.category_paths for v in ref.facet_values(d, name)})
            known = local or known
        values = st.one_of(st.sampled_from(known), st.sampled_from(known), st.just("Nope"))
        filters[name] = tuple(draw(st.lists(values, min_size=1, max_size=3, unique=True)))
    prices = CAT.prices
    bound = st.one_of(
        st.none(), st.sampled_from(prices), st.sampled_from([Decimal(n) for n in (0, 10, 25, 50, 100, 1000)])
    )
    price_min, price_max = draw(bound), draw(bound)
    if price_min is not None and price_max is not None and price_min > price_max:
        price_min, price_max = price_max, price_min
    sort = draw(st.sampled_from(SORTS))
    per_page = draw(st.one_of(st.sampled_from([1, 2, 3, 5, 10, 24, 48, 96]), st.integers(1, MAX_PER_PAGE)))
    query = Query(
        locale=locale,
        currency=currency,
        text=text,
        category=category,
        filters=dict(sorted(filters.items())),
        price_min=price_min,
        price_max=price_max,
        in_stock=draw(st.booleans()),
        sort=sort,
        per_page=per_page,
    )
    if not text:
        total = ref.search(DOCS, query).total
        pages = max(1, math.ceil(total / per_page))
        query = replace(query, page=draw(st.one_of(st.integers(1, pages), st.integers(1, pages + 2))))
    else:
        query = replace(query, page=draw(st.integers(1, 3)))
    return query


@HYPOTHESIS
@given(query=queries())
def test_random_queries_match_reference(index, query):
    assert_result(index.query(query), ref.search(DOCS, query), query)


# ------------------------------------------------------------------------------------------------
# Full text


def name_tokens(doc: SearchDocument, locale: str) -> set[str]:
    return set(ref.tokens(doc.names.get(locale, "")))


def named(locale: str, *forms: str) -> set[str]:
    """Visible documents whose name in ``locale`` has one of the (folded) word forms."""
    wanted = {ref.fold(f) for f in forms}
    return {d.sku for d in VISIBLE if name_tokens(d, locale) & wanted}


_TEXT_MATCHES: dict[tuple[int, str, str], frozenset[str]] = {}


def text_matches(index, text: str, locale: str, currency: str = "EUR") -> frozenset[str]:
    key = (id(index), text, locale)
    if key not in _TEXT_MATCHES:
        _TEXT_MATCHES[key] = frozenset(all_skus(index, Q(text=text, locale=locale, currency=currency)))
    return _TEXT_MATCHES[key]


def check_text(index, text: str, locale: str, must_find: set[str]) -> frozenset[str]:
    found = text_matches(index, text, locale)
    missing = must_find - found
    assert not missing, (
        f"{text!r} in {locale} misses {sorted(missing)} ({[CAT.by_sku[s].names[locale] for s in sorted(missing)][:8]})"
    )
    stray = found - ref.text_candidates(DOCS, text)
    assert not stray, (
        f"{text!r} in {locale} matches unrelated {sorted(stray)} "
        f"({[CAT.by_sku[s].names[locale] for s in sorted(stray)][:8]})"
    )
    return found


def _exact_tokens() -> list[tuple[str, str]]:
    """(locale, word) pairs: distinct name words of at least 4 letters (a deterministic sample)."""
    out = []
    for locale in LOCALES:
        words = sorted(
            {w for d in VISIBLE for w in d.names[locale].replace("-", " ").split() if len(w) >= 4 and w.isalpha()}
        )
        out += [(locale, w) for w in words[::3]]
    return out


EXACT = _exact_tokens()


@pytest.mark.parametrize("locale,word", EXACT, ids=[f"{loc}-{w}" for loc, w in EXACT])
def test_text_exact_name_word_finds_every_product_named_so(index, locale, word):
    check_text(index, word, locale, named(locale, word))


STEMS = [
    ("en_US", "shoe", ("shoe", "shoes")),
    ("en_US", "shoes", ("shoe", "shoes")),
    ("en_US", "running", ("running", "run")),
    ("en_US", "run", ("running", "run")),
    ("en_US", "house", ("house", "houses")),
    ("en_US", "houses", ("house", "houses")),
    ("en_US", "boots", ("boot", "boots")),
    ("de_DE", "Schuhe", ("schuh", "schuhe")),
    ("de_DE", "Schuh", ("schuh", "schuhe")),
    ("de_DE", "Häuser", ("haus", "häuser")),
    ("de_DE", "Haus", ("haus", "häuser")),
]


@pytest.mark.parametrize("locale,text,forms", STEMS, ids=[f"{loc}-{t}" for loc, t, _ in STEMS])
def test_text_stemming(index, locale, text, forms):
    must = named(locale, *forms)
    assert len(must) >= 2
    check_text(index, text, locale, must)


ACCENTS = [
    ("en_US", "creme", ("crème",)),
    ("en_US", "brulee", ("brûlée",)),
    ("en_US", "cafe", ("café",)),
    ("en_US", "CAFE", ("café",)),
    ("en_US", "Café", ("café",)),  # also finds the unaccented "cafe mug"
    ("de_DE", "muller", ("müller",)),
    ("de_DE", "Müller", ("müller",)),
    ("en_US", "eclair", ("éclair",)),
    ("en_US", "παπουτσια", ("παπούτσια",)),
]


@pytest.mark.parametrize("locale,text,forms", ACCENTS, ids=[f"{loc}-{t}" for loc, t, _ in ACCENTS])
def test_text_accent_and_case_insensitive(index, locale, text, forms):
    must = named(locale, *forms)
    assert must
    check_text(index, text, locale, must)


NON_LATIN = [
    ("en_US", "Кроссовки", {d.sku for d in VISIBLE if "Кроссовки" in d.names["en_US"]}),
    ("de_DE", "кроссовки", {d.sku for d in VISIBLE if "Кроссовки" in d.names["de_DE"]}),
    ("en_US", "Παπούτσια", {d.sku for d in VISIBLE if "Παπούτσια" in d.names["en_US"]}),
    ("en_US", "靴", {d.sku for d in VISIBLE if d.names["en_US"].startswith("靴 ")}),
    # a CJK word inside a longer run of Japanese (no spaces in Japanese): ランニング靴
    ("en_US", "靴 (in ランニング靴)", {d.sku for d in VISIBLE if "ランニング靴" in d.names["en_US"]}),
]


@pytest.mark.parametrize("locale,text,must", NON_LATIN, ids=[t for _, t, _ in NON_LATIN])
def test_text_non_latin(index, locale, text, must):
    assert must
    check_text(index, text.split()[0], locale, must)


def test_text_hidden_products_are_never_found(index):
    assert text_matches(index, "Phantomweave", "en_US") == frozenset()


TYPOS = [("sheo", "en_US", {"T-0200"}), ("shoo", "en_US", {"T-0200"}), ("Schhu", "de_DE", {"T-0200"})]
PREFIXES = [
    ("sho", "en_US", {"T-0200", "T-0201"}),
    ("Schu", "de_DE", {"T-0200", "T-0201"}),
    ("Крос", "en_US", {d.sku for d in VISIBLE if "Кроссовки" in d.names["en_US"]}),
]


@pytest.mark.parametrize("text,locale,must", TYPOS, ids=[t for t, _, _ in TYPOS])
def test_text_typo_tolerance(index, text_tolerance, text, locale, must):
    # without declared typo tolerance: nothing required, but still no unrelated matches
    check_text(index, text, locale, must if "typo" in text_tolerance else set())


@pytest.mark.parametrize("text,locale,must", PREFIXES, ids=[t for t, _, _ in PREFIXES])
def test_text_prefix_tolerance(index, text_tolerance, text, locale, must):
    check_text(index, text, locale, must if "prefix" in text_tolerance else set())


SUBSET_TEXTS = [
    "running shoe",
    "crème brûlée",
    "Trail Shoes",
    "coffee",
    "summit",
    "lamp",
    "Stiefel",
    "Becher",
    "boot",
    "xyzzy",
    "Hasa",
    "XL",
    "SS-0010",
]


@pytest.mark.parametrize("text", SUBSET_TEXTS)
@pytest.mark.parametrize("locale", LOCALES)
def test_text_matches_only_related_documents(index, text, locale):
    check_text(index, text, locale, set())


TEXTS = [
    "shoe",
    "shoes",
    "running",
    "Schuhe",
    "Häuser",
    "house",
    "cafe",
    "mug",
    "boots",
    "Кроссовки",
    "summit",
    "creme",
    "Müller",
    "lamp",
    "靴",
]


@HYPOTHESIS
@given(text=st.sampled_from(TEXTS), data=st.data())
def test_random_text_queries_agree_with_reference_on_the_engines_matches(index, text, data):
    query = data.draw(queries(text=text))
    matched = text_matches(index, text, query.locale, query.currency)
    stray = matched - ref.text_candidates(DOCS, text)
    assert not stray, f"{text!r}: unrelated matches {sorted(stray)}"
    expected = ref.search(DOCS, query, text_matches=matched)
    actual = index.query(query)
    every = set(ref.all_matching(DOCS, query, text_matches=matched)) if query.sort == "relevance" else None
    assert_result(actual, expected, query, matches=every)


def test_text_relevance_pages_partition_the_matches(index):
    query = Q(text="shoe", per_page=7)
    seen: list[str] = []
    page = 1
    while True:
        r = index.query(replace(query, page=page))
        seen += r.skus
        if page * 7 >= r.total:
            break
        page += 1
    assert len(seen) == len(set(seen)) == r.total
    assert set(seen) == text_matches(index, "shoe", "en_US")


# ------------------------------------------------------------------------------------------------
# Suggestions: exact comparison with the reference (tests/search_reference.py, "Suggestions")


def _middle_word_prefixes() -> list[tuple[str, str]]:
    """(locale, text): starts of the second and later words of names, and two such starts
    together in reverse order (a deterministic sample). Lucene's asciifolding folds ``ø`` to
    ``o`` where the shared fold keeps it (docs/search-elasticsearch.md), so texts that are the
    start of ``oresund`` (from ``Øresund``) are left out: there the adapters differ by design."""
    out: list[tuple[str, str]] = []
    for locale in LOCALES:
        later = sorted(
            {
                w
                for d in VISIBLE
                for w in ref.suggest_words(d.names[locale])[1:]
                if w.isascii() and w.isalpha() and len(w) >= 3
            }
        )
        starts = [w[:n] for w in later[::4] for n in (2, 3, len(w) - 1)]
        starts = [t for t in dict.fromkeys(starts) if not "oresund".startswith(t)]
        out += [(locale, t) for t in starts]
        out += [(locale, f"{b} {a[:3]}") for a, b in zip(starts[::5], starts[2::5], strict=False)]
    return out


SUGGESTIONS = [
    # word starts anywhere in the name, any order, each may be partial
    ("en_US", "jac", 8),
    ("en_US", "jacket", 8),
    ("en_US", "Jacket", 8),
    ("en_US", "bag", 8),
    ("en_US", "duf", 8),
    ("en_US", "juno", 8),
    ("en_US", "juno jac", 8),
    ("en_US", "jac juno", 8),
    ("en_US", "bag duf", 8),
    ("en_US", "duffle bag", 8),
    ("en_US", "joust duffle bag", 8),
    ("en_US", "juno bag", 8),
    ("de_DE", "jac", 8),
    ("de_DE", "jacke", 8),
    ("de_DE", "tasche", 8),
    ("de_DE", "duffle tas", 8),
    ("en_US", "of", 8),
    ("en_US", "shoe", 20),
    ("en_US", "running sh", 20),
    ("en_US", "mug caf", 20),
    ("en_US", "trail", 20),
    ("de_DE", "schuh", 20),
    ("de_DE", "lauf", 20),
    ("de_DE", "stiefel", 20),
    ("en_US", "lamp house", 20),
    # folding: case and accents, both ways
    ("en_US", "creme", 20),
    ("en_US", "CRÈME brû", 20),
    ("en_US", "brulee", 20),
    ("en_US", "cafe", 20),
    ("en_US", "Café m", 20),
    ("en_US", "éclair", 20),
    ("en_US", "ECLA", 20),
    ("de_DE", "muller", 20),
    ("de_DE", "Müll", 20),
    ("de_DE", "häuser", 20),
    ("de_DE", "hauser", 20),
    ("en_US", "straße", 20),
    ("en_US", "strass", 20),
    ("en_US", "Øre", 20),
    # non-Latin names
    ("en_US", "Крос", 20),
    ("de_DE", "кроссовки", 20),
    ("en_US", "Παπού", 20),
    ("en_US", "παπ", 20),
    ("en_US", "靴", 20),
    ("en_US", "ラン", 20),
    # SKU starts (case-insensitive) before names, then names starting with the text, then the rest
    ("en_US", "ss-00", 20),
    ("en_US", "SS-01", 8),
    ("en_US", "ab-", 20),
    ("en_US", "AB-00", 20),
    ("en_US", "z00", 20),
    ("en_US", "t-000", 8),
    ("en_US", "T-0003", 8),
    ("en_US", "t", 20),
    ("de_DE", "j", 20),
    ("en_US", "j", 20),
    ("en_US", "MB", 8),
    ("en_US", "s", 20),
    ("de_DE", "s", 20),
    # typed words are compared on their first 20 characters
    ("en_US", "supercalifragilistic", 8),
    ("en_US", "Supercalifragilisticexpi", 8),
    ("en_US", "supercalifragilisticXYZ", 8),
    ("de_DE", "superkalifragilistischexpialigetisch", 8),
    # nothing, or only hidden and stale products
    ("en_US", "xyzzy", 8),
    ("en_US", "jacket xyzzy", 8),
    ("en_US", "phantomweave", 8),
    ("en_US", "stale", 8),
    ("en_US", "-", 8),
    ("en_US", "  ", 8),
    ("en_US", "MJ-0003", 8),
    # limits
    ("en_US", "sho", 1),
    ("en_US", "sho", 3),
    ("en_US", "ss-0", 20),
    ("en_US", "jac", 2),
] + [(locale, text, 8) for locale, text in _middle_word_prefixes()]


@pytest.mark.parametrize("locale,text,limit", SUGGESTIONS, ids=[f"{loc}-{t!r}-{n}" for loc, t, n in SUGGESTIONS])
def test_suggestions_match_reference(index, locale, text, limit):
    got = index.suggest(text, locale, limit)
    want = ref.suggest(DOCS, text, locale, limit)
    assert [s.sku for s in got] == want, (
        f"{text!r} in {locale}: got {[(s.sku, s.name) for s in got]}, "
        f"want {[(sku, CAT.by_sku[sku].names[locale]) for sku in want]}"
    )
    assert [s.name for s in got] == [CAT.by_sku[sku].names[locale] for sku in want]


def test_suggestion_cases_of_the_issue(index):
    """ "jac", "jacket", "bag", "duf" against "Juno Jacket" and "Joust Duffle Bag"."""

    def skus(text):
        return [s.sku for s in index.suggest(text, "en_US")]

    assert skus("jac") == ["JAC-0001", "MJ-0002", "MJ-0001"]  # SKU, name starting so, a later word
    assert skus("jacket") == ["MJ-0002", "MJ-0001"]
    assert skus("bag") == ["MB-0002", "MB-0001"]
    assert skus("duf") == ["MB-0001", "MB-0002"]
    assert skus("bag jou") == ["MB-0001"]


def test_suggestions_follow_renames_and_hiding(make_index):
    idx = make_index("sug")
    idx.ensure_generation(1)
    idx.switch(1)

    def write(version: int, name: str, visible: bool = True) -> None:
        idx.index([_doc(version, "Brand", "10.00", name, visible=visible, sku="SG-1")], [1])
        idx.refresh()

    def skus(text: str) -> list[str]:
        return [s.sku for s in idx.suggest(text, "en_US")]

    write(1, "Juno Jacket")
    assert skus("jack") == skus("juno") == ["SG-1"]
    write(2, "Juno Parka")
    assert skus("jack") == [], "the old name's word still suggests the product"
    assert skus("park") == skus("juno pa") == ["SG-1"]
    assert [s.name for s in idx.suggest("park", "en_US")] == ["Juno Parka"]
    write(1, "Juno Jacket")  # an older version arriving late changes nothing
    assert skus("jack") == [] and skus("park") == ["SG-1"]
    write(3, "Juno Parka", visible=False)
    assert skus("park") == skus("juno") == skus("sg-") == []


# ------------------------------------------------------------------------------------------------
# Version guard through the port


def _doc(version: int, brand: str, price: str, name: str, visible: bool = True, sku: str = "VG-1") -> SearchDocument:
    return SearchDocument(
        sku=sku,
        version=version,
        visible=visible,
        created_at=1_700_000_000,
        brand=brand,
        category_paths=("vg",),
        attributes={"color": (f"{brand}-color",)},
        names={"en_US": name, "de_DE": name},
        descriptions={},
        prices={"EUR": Decimal(price), "USD": Decimal(price)},
        availability="in_stock",
    )


FILLER = _doc(1, "Filler", "1.00", "Filler", sku="VG-F")  # names sort: Fifth Version < Filler < Sixth Version


def _stored(idx) -> tuple[str, str, str] | None:
    """What the index holds for VG-1, as seen through queries: (brand, EUR price, name side)."""
    r = idx.query(Q(category="vg", sort="name"))
    if "VG-1" not in r.skus:
        return None
    brands = [v.value for v in r.facets[0].values if v.value != "Filler"] if r.facets else []
    price = next(
        (
            p
            for p in ("40.00", "50.00", "60.00")
            if "VG-1" in idx.query(Q(category="vg", price_min=Decimal(p), price_max=Decimal(p))).skus
        ),
        None,
    )
    side = "before Filler" if r.skus.index("VG-1") < r.skus.index("VG-F") else "after Filler"
    return (brands[0] if len(brands) == 1 else repr(brands)), price, side


@pytest.mark.parametrize("path", ["single", "bulk"])
def test_version_guard(make_index, path):
    idx = make_index("vg")
    idx.ensure_generation(1)
    idx.switch(1)
    idx.index([FILLER], [1])

    def write(doc):
        idx.index([doc] if path == "single" else [FILLER, doc, replace(FILLER, sku="VG-G")], [1])
        idx.refresh()

    write(_doc(5, "Five", "50.00", "Fifth Version"))
    assert _stored(idx) == ("Five", "50.00", "before Filler")
    write(_doc(4, "Four", "40.00", "Sixth Version"))
    assert _stored(idx) == ("Five", "50.00", "before Filler"), "version 4 replaced version 5"
    write(_doc(3, "Three", "40.00", "Sixth Version", visible=False))
    assert _stored(idx) == ("Five", "50.00", "before Filler"), "an older hidden version hid version 5"
    write(_doc(6, "Six", "60.00", "Sixth Version"))
    assert _stored(idx) == ("Six", "60.00", "after Filler"), "version 6 did not replace version 5"
    write(_doc(7, "Six", "60.00", "Sixth Version", visible=False))
    assert _stored(idx) is None, "a newer hidden version did not hide it"


def test_generations_switch_and_drop(make_index):
    idx = make_index("gen")
    assert idx.live_generation() is None
    idx.ensure_generation(1)
    idx.index([_doc(1, "One", "1.00", "One")], [1])
    idx.switch(1)
    idx.refresh()
    assert idx.query(Q()).skus == ("VG-1",)
    idx.ensure_generation(2)
    idx.index([_doc(1, "Two", "2.00", "Two", sku="VG-2")], [2])
    idx.refresh()
    assert idx.query(Q()).skus == ("VG-1",), "generation 2 is not live yet"
    idx.switch(2)
    idx.refresh()
    assert idx.live_generation() == 2
    assert idx.query(Q()).skus == ("VG-2",)
    idx.drop(1)
    assert idx.query(Q()).skus == ("VG-2",)
    # both generations at once
    idx.ensure_generation(3)
    idx.index([_doc(2, "Both", "3.00", "Both", sku="VG-3")], [2, 3])
    idx.refresh()
    assert set(idx.query(Q()).skus) == {"VG-2", "VG-3"}
    idx.switch(3)
    idx.refresh()
    assert idx.query(Q()).skus == ("VG-3",)
