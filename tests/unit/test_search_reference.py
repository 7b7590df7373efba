"""The reference implementation of the search semantics (tests/search_reference.py) and the
deterministic catalog (tests/search_data.py) that the search contract suite relies on."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from search.documents import SearchDocument
from search.query import Facet, FacetValue, Query
from tests import search_reference as ref
from tests.search_data import TREE, ancestors, catalog


def doc(sku, **kw) -> SearchDocument:
    base = {
        "version": 1,
        "visible": True,
        "created_at": 1000,
        "brand": "Acme",
        "category_paths": ("a",),
        "attributes": {},
        "names": {"en_US": sku},
        "prices": {"EUR": Decimal("10")},
        "availability": "in_stock",
    }
    base.update(kw)
    return SearchDocument(sku=sku, **base)


def q(**kw) -> Query:
    return Query(locale=kw.pop("locale", "en_US"), currency=kw.pop("currency", "EUR"), **kw)


DOCS = [
    doc(
        "A1",
        brand="Acme",
        attributes={"color": ("Red", "Blue"), "size": ("M",)},
        prices={"EUR": Decimal("5"), "USD": Decimal("7")},
        created_at=300,
        names={"en_US": "Zebra Shoe"},
        category_paths=("shoes-road", "shoes"),
    ),
    doc(
        "A2",
        brand="Acme",
        attributes={"color": ("Red",)},
        prices={"EUR": Decimal("10")},
        created_at=200,
        names={"en_US": "apple Shoe"},
        availability="sold_out",
        category_paths=("shoes",),
    ),
    doc(
        "B1",
        brand="Bolt",
        attributes={"color": ("Blue",), "size": ("L",)},
        prices={"EUR": Decimal("10"), "USD": Decimal("1")},
        created_at=300,
        names={"en_US": "Émile Boot"},
        availability="low_stock",
        category_paths=("boots",),
    ),
    doc(
        "B2",
        brand="Bolt",
        attributes={"color": ("Green",)},
        prices={},
        created_at=100,
        names={"en_US": "éa"},
        category_paths=("boots",),
    ),
    doc(
        "C1",
        brand="",
        attributes={"color": ("Red", "Red")},
        prices={"EUR": Decimal("20")},
        created_at=50,
        names={"en_US": "Кроссовки"},
        category_paths=("shoes-road", "shoes"),
    ),
    doc(
        "H1",
        visible=False,
        brand="Acme",
        attributes={"color": ("Red",)},
        created_at=999,
        names={"en_US": "Phantomweave"},
    ),
]


def skus(query, docs=DOCS, **kw):
    return list(ref.search(docs, query, **kw).skus)


def test_only_visible_and_relevance_without_text_is_newest_with_sku_tiebreak():
    assert skus(q()) == ["A1", "B1", "A2", "B2", "C1"]
    assert ref.search(DOCS, q()).total == 5
    assert skus(q(sort="newest")) == skus(q())


def test_category_includes_paths():
    assert skus(q(category="shoes")) == ["A1", "A2", "C1"]
    assert skus(q(category="shoes-road")) == ["A1", "C1"]
    assert skus(q(category="nope")) == []


def test_filters_or_within_and_across():
    assert skus(q(filters={"color": ("Red", "Green")})) == ["A1", "A2", "B2", "C1"]
    assert skus(q(filters={"color": ("Red", "Green"), "brand": ("Bolt",)})) == ["B2"]
    assert skus(q(filters={"brand": ("",)})) == []  # empty brand is no brand
    assert skus(q(filters={"fabric": ("x",)})) == []


def test_price_range_inclusive_and_missing_prices():
    assert skus(q(price_min=Decimal("10"), price_max=Decimal("10"))) == ["B1", "A2"]
    assert skus(q(price_min=Decimal("10"))) == ["B1", "A2", "C1"]
    assert skus(q(price_max=Decimal("5"))) == ["A1"]
    # USD: A2/C1 have no USD price: excluded only with a bound
    assert skus(q(currency="USD", price_max=Decimal("100"))) == ["A1", "B1"]
    assert len(skus(q(currency="USD"))) == 5


def test_in_stock():
    assert skus(q(in_stock=True)) == ["A1", "B1", "B2", "C1"]


def test_price_sorts_missing_last_ties_by_sku():
    assert skus(q(sort="price_asc")) == ["A1", "A2", "B1", "C1", "B2"]
    assert skus(q(sort="price_desc")) == ["C1", "A2", "B1", "A1", "B2"]
    assert skus(q(sort="price_asc", currency="USD")) == ["B1", "A1", "A2", "B2", "C1"]
    assert skus(q(sort="price_desc", currency="USD")) == ["A1", "B1", "A2", "B2", "C1"]


def test_name_sort_is_case_and_accent_insensitive_non_latin_after_latin():
    # apple Shoe < éa < Émile Boot < Zebra Shoe < Кроссовки
    assert skus(q(sort="name")) == ["A2", "B2", "B1", "A1", "C1"]


def test_name_sort_key():
    k = ref.name_sort_key
    assert k("Crème Brûlée") == "creme brulee"
    assert k("CAFÉ MUG") == k("cafe mug") == k("Café Mug")
    assert k("Straße") == "strasse"
    assert k("Παπούτσια") == "παπουτσια"
    assert k("Кроссовки") == "кроссовки"
    assert k("Øresund") == "øresund"
    assert k(None) == ""
    names = ["靴 Aero", "Zenith", "Кроссовки", "Παπούτσια", "éclair", "Øresund", "apple"]
    assert sorted(names, key=k) == ["apple", "éclair", "Zenith", "Øresund", "Παπούτσια", "Кроссовки", "靴 Aero"]


def test_pagination():
    assert skus(q(per_page=2, page=1)) == ["A1", "B1"]
    assert skus(q(per_page=2, page=3)) == ["C1"]
    r = ref.search(DOCS, q(per_page=2, page=9))
    assert r.skus == () and r.total == 5


def test_facets_exclude_own_selection_and_keep_selected_zero():
    r = ref.search(DOCS, q(filters={"color": ("Red", "Purple"), "brand": ("Bolt",)}))
    assert r.total == 0
    assert r.facets == (
        # brand counts: color in (Red, Purple) applied, brand not: A1, A2 (Acme), C1 (no brand)
        Facet("brand", (FacetValue("Acme", 2, False), FacetValue("Bolt", 0, True))),
        # color counts: brand Bolt applied, color not: B1 Blue, B2 Green
        Facet(
            "color",
            (
                FacetValue("Blue", 1, False),
                FacetValue("Green", 1, False),
                FacetValue("Purple", 0, True),
                FacetValue("Red", 0, True),
            ),
        ),
    )


def test_facets_order_and_attribute_names():
    r = ref.search(DOCS, q())
    assert [f.name for f in r.facets] == ["brand", "color", "size"]
    assert r.facets[0].values == (FacetValue("Acme", 2, False), FacetValue("Bolt", 2, False))
    # C1 lists Red twice: counted once; hidden H1 not counted
    assert r.facets[1].values == (
        FacetValue("Red", 3, False),
        FacetValue("Blue", 2, False),
        FacetValue("Green", 1, False),
    )
    assert r.facets[2].values == (FacetValue("L", 1, False), FacetValue("M", 1, False))
    # a facet with no value at all is omitted; an unknown facet with a selection is listed
    r = ref.search(DOCS, q(category="boots", filters={"fabric": ("x",)}))
    assert r.facets == (Facet("fabric", (FacetValue("x", 0, True),)),)
    r = ref.search(DOCS, q(category="shoes", filters={"brand": ("Bolt",)}))
    assert r.facets == (Facet("brand", (FacetValue("Acme", 2, False), FacetValue("Bolt", 0, True))),)
    r = ref.search(DOCS, q(category="shoes-road", filters={"size": ("M",)}))
    assert [f.name for f in r.facets] == ["brand", "color", "size"]
    assert r.facets[2].values == (FacetValue("M", 1, True),)
    r = ref.search(DOCS, q(category="boots", filters={"brand": ("Acme",)}))
    assert r.total == 0 and r.facets[0].values == (FacetValue("Bolt", 2, False), FacetValue("Acme", 0, True))


def test_facets_are_capped_at_50_keeping_selected_values():
    docs = [doc(f"S{i:03d}", brand=f"B{i:03d}", created_at=i) for i in range(60)]
    docs += [doc("X1", brand="B059"), doc("X2", brand="B059")]
    values = ref.search(docs, q()).facets[0].values
    assert len(values) == 50
    assert values[0] == FacetValue("B059", 3, False)
    assert [v.value for v in values[1:]] == [f"B{i:03d}" for i in range(49)]
    # selected values are always listed (here B055, outside the top 50, and an unknown one)
    values = ref.search(docs, q(filters={"brand": ("B055", "Zzz")})).facets[0].values
    assert len(values) == 50
    assert values[0] == FacetValue("B059", 3, False)
    assert [v.value for v in values[1:]] == [f"B{i:03d}" for i in range(47)] + ["B055", "Zzz"]
    assert values[-2:] == (FacetValue("B055", 1, True), FacetValue("Zzz", 0, True))


def test_text_needs_engine_matches():
    with pytest.raises(ValueError):
        ref.search(DOCS, q(text="shoe"))
    r = ref.search(DOCS, q(text="shoe", filters={"color": ("Red",)}), text_matches={"A1", "A2", "H1"})
    assert set(r.skus) == {"A1", "A2"} and r.total == 2
    assert r.facets[1].values == (FacetValue("Red", 2, True), FacetValue("Blue", 1, False))


def test_text_candidates_are_loose_but_not_everything():
    assert ref.text_candidates(DOCS, "shoes") == {"A1", "A2"}
    assert ref.text_candidates(DOCS, "emile") == {"B1"}
    assert ref.text_candidates(DOCS, "кроссовки") == {"C1"}
    assert ref.text_candidates(DOCS, "sheo") == {"A1", "A2"}
    assert ref.text_candidates(DOCS, "phantomweave") == set()  # H1 is hidden
    assert ref.term_forms_match("hauser", "haus") and ref.term_forms_match("running", "run")
    assert ref.term_forms_match("shoes", "hose")  # light_german "shos" ~ "hos"
    assert not ref.term_forms_match("shoe", "boot")
    assert not ref.term_forms_match("lamp", "shoes")


def test_catalog_is_deterministic_and_well_formed():
    c = catalog()
    catalog.cache_clear()
    assert catalog() == c
    skus_ = [d.sku for d in c.documents]
    assert len(skus_) == len(set(skus_)) >= 300
    for d in c.documents:
        for key in d.category_paths:
            assert set(ancestors(key)) <= set(d.category_paths)
        assert set(d.names) == {"en_US", "de_DE"}
        assert d.availability in ("in_stock", "low_stock", "sold_out")
    by_sku = c.by_sku
    for stale in c.stale_before + c.stale_after:
        assert stale.version < by_sku[stale.sku].version
    visible = [d for d in c.documents if d.visible]
    assert len({d.brand for d in visible if d.brand}) > 50
    assert any(not d.visible for d in c.documents)
    assert any("USD" not in d.prices for d in visible) and any(not d.prices for d in visible)
    assert {k for d in c.documents for k in d.category_paths} == set(TREE)
    names = " ".join(d.names["en_US"] + " " + d.names["de_DE"] for d in visible)
    for word in (
        "Shoe",
        "Shoes",
        "Running",
        "Schuh",
        "Schuhe",
        "Haus",
        "Häuser",
        "Crème",
        "Café",
        "Müller",
        "Кроссовки",
        "Παπούτσια",
        "靴",
    ):
        assert word in names


def test_reference_on_catalog_sanity():
    docs = catalog().documents
    r = ref.search(docs, q(per_page=96))
    assert r.total == sum(d.visible for d in docs)
    assert len(r.facets[0].values) == 50
    assert [f.name for f in r.facets] == ["brand", "color", "material", "size"]
    every = ref.all_matching(docs, q(sort="name"))
    assert len(every) == r.total
    hidden = replace(docs[0], visible=False)
    assert docs[0].sku not in ref.all_matching([hidden, *docs[1:]], q())
