"""The Elasticsearch adapter (search.elastic) against a real Elasticsearch 8.14 node.

One node is started for the module (tools/elasticsearch.py) unless ELASTICSEARCH_URL points at a
running server; a server that cannot start is an error, never a skip. Every adapter test runs in
the ``standard`` analysis mode (all a bare minimal distribution supports) and in the ``language``
mode the analysis plugin (tools/es-analysis-plugin, installed by the runner) provides. The
stemming and accent tests need language analysis: a server without it fails them.

What both adapters must agree on (results against a brute-force computation) is the contract
suite's business; this module checks the Elasticsearch specifics.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal

import pytest
from elasticsearch import ConnectionError as ESConnectionError
from elasticsearch import Elasticsearch, helpers

from search.documents import SearchDocument, VariantDocument
from search.elastic import ElasticIndex
from search.elastic_mapping import language_analysis_supported
from search.port import SearchUnavailable
from search.query import Facet, FacetValue, Query
from tools.elasticsearch import free_base_port

pytestmark = pytest.mark.elasticsearch

MODES = ["standard", "language"]
LOCALES = ("en_US", "de_DE", "fr_FR")
CURRENCIES = ("EUR", "USD")


@pytest.fixture
def es(es_url):
    client = Elasticsearch(es_url, request_timeout=30)
    yield client
    client.close()


def _make_index(es: Elasticsearch, mode: str):
    if mode == "language":
        assert language_analysis_supported(es), "the server lacks the analysis plugin"
    ix = ElasticIndex(es, f"t{uuid.uuid4().hex[:10]}", LOCALES, CURRENCIES, language_analysis=mode == "language")
    ix.ensure_generation(1)
    ix.switch(1)
    return ix


def _delete_all(es: Elasticsearch, index: ElasticIndex) -> None:
    names = list(es.indices.get(index=f"{index.alias}-*", allow_no_indices=True))
    if names:
        es.indices.delete(index=",".join(names))


@pytest.fixture(params=MODES)
def ix(request, es):
    index = _make_index(es, request.param)
    yield index
    _delete_all(es, index)


@pytest.fixture
def lang_ix(es):
    index = _make_index(es, "language")
    yield index
    _delete_all(es, index)


def doc(sku: str, **kw) -> SearchDocument:
    kw.setdefault("version", 1)
    kw.setdefault("visible", True)
    kw.setdefault("created_at", 1_700_000_000)
    kw.setdefault("names", {"en_US": f"Product {sku}"})
    kw.setdefault("availability", "in_stock")
    return SearchDocument(sku=sku, **kw)


def q(**kw) -> Query:
    kw.setdefault("locale", "en_US")
    kw.setdefault("currency", "EUR")
    return Query(**kw)


def load(ix: ElasticIndex, docs, generations=(1,)) -> None:
    ix.index(list(docs), list(generations))
    ix.refresh()


def stored(es, ix, sku, gen=1) -> dict:
    return es.get(index=ix.index_name(gen), id=sku)


# ------------------------------------------------------------------------------------------------
# Index, mapping, versions, generations


def test_mapping_is_strict_and_records_the_analysis_mode(es, ix):
    ix.ensure_generation(1)  # idempotent
    mapping = es.indices.get_mapping(index=ix.index_name(1))[ix.index_name(1)]["mappings"]
    assert mapping["dynamic"] == "strict"
    assert mapping["_meta"]["language_analysis"] is ix.language_analysis
    assert mapping["properties"]["attrs"]["type"] == "flattened"
    assert mapping["properties"]["price"]["properties"]["USD"] == {"type": "long"}
    assert mapping["properties"]["name_sort"]["properties"]["de_DE"] == {"type": "keyword"}
    with pytest.raises(Exception) as err:
        es.index(index=ix.index_name(1), id="x", document={"sku": "x", "colour": "red"})
    assert "strict_dynamic_mapping_exception" in str(err.value)
    # Locales and currencies the index was not built for are dropped, not rejected.
    load(ix, [doc("A1", names={"en_US": "Boot", "it_IT": "Stivale"}, prices={"CHF": Decimal("3")})])
    assert set(stored(es, ix, "A1")["_source"]["name"]) == {"en_US"}


def test_every_product_is_sold_as_nested_variants(es, ix):
    mapping = es.indices.get_mapping(index=ix.index_name(1))[ix.index_name(1)]["mappings"]
    variants = mapping["properties"]["variants"]
    assert variants["type"] == "nested" and mapping["_meta"]["schema"] == 2
    assert variants["properties"]["attrs"]["type"] == "flattened"
    assert variants["properties"]["price"]["properties"]["EUR"] == {"type": "long"}
    simple = doc("S1", attributes={"color": ("Red", "Blue")}, prices={"EUR": Decimal("9.99")}, availability="low_stock")
    jacket = doc(
        "J1",
        attributes={"color": ("Grey",), "material": ("Wool",)},
        prices={"EUR": Decimal("40")},
        variants=(
            VariantDocument("J1-BS", {"color": "Blue", "size": "S"}, {"EUR": Decimal("50")}, "sold_out"),
            VariantDocument("J1-M", {"size": "M"}, {"EUR": Decimal("40"), "CHF": Decimal("1")}, "in_stock"),
        ),
    )
    load(ix, [simple, jacket])
    # a simple product is its one variant
    assert stored(es, ix, "S1")["_source"]["variants"] == [
        {"attrs": {"color": ["Red", "Blue"]}, "price": {"EUR": 999}, "in_stock": True}
    ]
    source = stored(es, ix, "J1")["_source"]
    assert source["variants"] == [
        {"attrs": {"color": ["Blue"], "material": ["Wool"], "size": ["S"]}, "price": {"EUR": 5000}, "in_stock": False},
        {"attrs": {"color": ["Grey"], "material": ["Wool"], "size": ["M"]}, "price": {"EUR": 4000}, "in_stock": True},
    ]
    assert source["attrs"] == {"color": ["Blue", "Grey"], "material": ["Wool"], "size": ["S", "M"]}
    assert source["attr_names"] == ["color", "material", "size"]
    assert ix.facet_names() == {"brand", "color", "material", "size"}
    # one variant must pass every variant-level condition
    assert ix.query(q(filters={"color": ("Blue",), "size": ("M",)})).total == 0
    assert ix.query(q(filters={"color": ("Grey",), "size": ("M",)}, in_stock=True)).skus == ("J1",)
    assert ix.query(q(filters={"color": ("Blue",)}, in_stock=True)).skus == ("S1",)
    # price sorts by the cheapest passing variant; an unknown currency sorts without failing
    assert ix.query(q(filters={"size": ("S",)}, sort="price_desc")).skus == ("J1",)
    assert ix.query(q(sort="price_asc", filters={"material": ("Wool",)}, currency="CHF")).skus == ("J1",)
    assert set(ix.query(q(sort="price_asc", in_stock=True, currency="JPY")).skus) == {"S1", "J1"}


def test_older_version_never_wins_on_the_single_path(es, ix):
    load(ix, [doc("V1", version=5, names={"en_US": "Five"})])
    load(ix, [doc("V1", version=3, names={"en_US": "Three"})])  # a 409, ignored
    assert stored(es, ix, "V1")["_source"]["name"]["en_US"] == "Five"
    load(ix, [doc("V1", version=7, names={"en_US": "Seven"})])
    assert stored(es, ix, "V1")["_version"] == 7
    # The same version is written again (like the snippet store): an offer that starts changes
    # the price paid now without a new source version.
    load(ix, [doc("V1", version=7, names={"en_US": "Seven"}, prices={"EUR": Decimal("9.99")})])
    assert stored(es, ix, "V1")["_source"]["price"] == {"EUR": 999}
    assert ix.query(q(text="seven")).skus == ("V1",)
    assert ix.query(q(text="five")).total == 0


def test_older_version_never_wins_on_the_bulk_path_in_every_generation(es, ix):
    ix.ensure_generation(2)
    load(ix, [doc(f"B{i}", version=10, brand="new") for i in range(6)], generations=(1, 2))
    mixed = [doc(f"B{i}", version=10 + (1 if i % 2 else -1), brand="odd" if i % 2 else "stale") for i in range(6)]
    load(ix, mixed + [doc("B9", version=1, brand="fresh")], generations=(1, 2))
    for gen in (1, 2):
        brands = {f"B{i}": stored(es, ix, f"B{i}", gen)["_source"]["brand"] for i in range(6)}
        assert brands == {f"B{i}": "odd" if i % 2 else "new" for i in range(6)}
        assert stored(es, ix, "B9", gen)["_source"]["brand"] == "fresh"


def test_other_bulk_errors_raise_after_the_rest_is_written(es, ix):
    too_big = doc("E1", prices={"EUR": Decimal("1e30")})  # beyond a long in cents
    with pytest.raises(helpers.BulkIndexError) as err:
        ix.index([doc("E0"), too_big, doc("E2")], [1])
    assert len(err.value.errors) == 1 and err.value.errors[0]["index"]["_id"] == "E1"
    ix.refresh()
    assert set(ix.query(q()).skus) == {"E0", "E2"}


def test_switch_moves_the_alias_and_drop_deletes(es, ix):
    load(ix, [doc("G1")])
    ix.ensure_generation(2)
    load(ix, [doc("G2")], generations=(2,))
    assert ix.live_generation() == 1 and ix.query(q()).skus == ("G1",)
    ix.switch(2)
    assert ix.live_generation() == 2 and ix.query(q()).skus == ("G2",)
    assert list(es.indices.get_alias(name=ix.alias)) == [ix.index_name(2)]
    ix.switch(1)  # rollback
    assert ix.live_generation() == 1 and ix.query(q()).skus == ("G1",)
    ix.drop(2)
    assert not es.indices.exists(index=ix.index_name(2))
    ix.drop(2)  # dropping what is gone is fine
    ix.drop(1)
    assert ix.live_generation() is None
    assert ix.query(q()).total == 0 and ix.suggest("Prod", "en_US") == []


def test_connection_errors_propagate_and_writes_say_they_may_be_retried():
    dead = Elasticsearch(f"http://127.0.0.1:{free_base_port(1) + 1}", max_retries=0, request_timeout=2)
    index = ElasticIndex(dead, "x", LOCALES, CURRENCIES, language_analysis=False)
    with pytest.raises(ESConnectionError):
        index.query(q())
    # A write to an unreachable cluster is the transient error projection tasks retry.
    with pytest.raises(SearchUnavailable) as raised:
        index.index([doc("X")], [1])
    assert isinstance(raised.value.__cause__, ESConnectionError)


def test_language_analysis_support_is_detected_once(es, monkeypatch):
    answer = language_analysis_supported(es)
    assert answer is True, "the server lacks the analysis plugin (tools/es-analysis-plugin)"
    monkeypatch.setattr(es.indices, "analyze", lambda **kw: pytest.fail("asked twice"))
    assert language_analysis_supported(es) is answer
    assert ElasticIndex(es, "p", LOCALES, CURRENCIES).language_analysis is answer


# ------------------------------------------------------------------------------------------------
# Queries


CATALOG = [
    # sku, brand, categories, colors, size, EUR, USD, availability, created_at, English name
    ("S01", "acme", ("shoes", "running"), ("Red",), "42", "50.00", "55.00", "in_stock", 100, "Trail Runner"),
    ("S02", "acme", ("shoes", "running"), ("Blue",), "43", "60.00", "66.00", "low_stock", 200, "Road Runner"),
    ("S03", "zeta", ("shoes", "running"), ("Red", "Blue"), "42", "70.00", None, "sold_out", 300, "Marathon Racer"),
    ("S04", "zeta", ("shoes",), ("Green",), "44", "50.00", "52.00", "in_stock", 300, "Hiking Boot"),
    ("S05", "bolt", ("shoes",), ("Red",), "44", "80.00", "88.00", "in_stock", 50, "leather shoe"),
    ("S06", "bolt", ("shirts",), ("Red",), "M", "20.00", "22.00", "in_stock", 400, "Cotton Shirt"),
]


def catalog_docs():
    for sku, brand, cats, colors, size, eur, usd, avail, created, name in CATALOG:
        attrs = {"color": colors, "size": (size,)}
        if sku == "S06":
            attrs["material"] = ("Cotton",)
        prices = {"EUR": Decimal(eur)} | ({"USD": Decimal(usd)} if usd else {})
        yield doc(
            sku,
            brand=brand,
            category_paths=cats,
            attributes=attrs,
            prices=prices,
            availability=avail,
            created_at=created,
            names={"en_US": name, "de_DE": f"{name} (de)"},
            descriptions={"en_US": f"A fine {name.lower()} by {brand}."},
        )
    # Hidden: matches everything, must never be seen (not in hits, facets or suggestions).
    yield doc(
        "H01",
        visible=False,
        brand="acme",
        category_paths=("shoes", "running"),
        attributes={"color": ("Red", "Purple"), "size": ("42",), "heel": ("high",)},
        prices={"EUR": Decimal("55"), "USD": Decimal("55")},
        created_at=999,
        names={"en_US": "Trail Runner"},
    )


@pytest.fixture
def shop(ix):
    load(ix, catalog_docs())
    return ix


def values(facet: Facet) -> list[tuple]:
    return [(v.value, v.count, v.selected) for v in facet.values]


def test_category_filters_and_disjunctive_facets(shop):
    r = shop.query(q(category="shoes", filters={"brand": ("acme", "zeta"), "color": ("Red",)}))
    assert r.skus == ("S03", "S01") and r.total == 2  # newest first without text
    assert [f.name for f in r.facets] == ["brand", "color", "size"]
    brand, color, size = r.facets
    # brand counts apply color=Red only; color counts apply the brands only; size applies both
    assert values(brand) == [("acme", 1, True), ("bolt", 1, False), ("zeta", 1, True)]
    assert values(color) == [("Blue", 2, False), ("Red", 2, True), ("Green", 1, False)]
    assert values(size) == [("42", 2, False)]


def test_attribute_facets_are_the_names_among_the_matches(shop):
    assert [f.name for f in shop.query(q(category="shirts")).facets] == ["brand", "color", "material", "size"]
    r = shop.query(q(category="shoes", filters={"size": ("44",)}))
    assert r.skus == ("S04", "S05")
    assert [f.name for f in r.facets] == ["brand", "color", "size"]
    assert values(r.facets[2]) == [("42", 2, False), ("44", 2, True), ("43", 1, False)]


def test_selected_values_are_listed_even_without_matches(shop):
    r = shop.query(q(category="shoes", filters={"color": ("Purple",), "heel": ("high",)}))
    assert r.total == 0 and r.skus == ()
    facets = {f.name: values(f) for f in r.facets}
    assert facets == {"color": [("Purple", 0, True)], "heel": [("high", 0, True)]}


def test_at_most_fifty_facet_values_selected_ones_kept(ix):
    docs = [doc(f"C{i:03d}", attributes={"color": (f"c{i % 60:02d}",)}) for i in range(120 + 1)]
    load(ix, docs)  # c00 has 3 documents, every other colour 2
    (color,) = [f for f in ix.query(q()).facets if f.name == "color"]
    assert len(color.values) == 50
    assert color.values[0] == FacetValue("c00", 3, False)
    assert [v.value for v in color.values[1:]] == [f"c{i:02d}" for i in range(1, 50)]
    (color,) = [f for f in ix.query(q(filters={"color": ("c59", "nope")})).facets if f.name == "color"]
    assert len(color.values) == 50
    assert FacetValue("c59", 2, True) in color.values and color.values[-1] == FacetValue("nope", 0, True)
    assert "c47" in [v.value for v in color.values] and "c48" not in [v.value for v in color.values]


def test_hidden_documents_never_match(es, shop):
    assert "H01" not in shop.query(q(per_page=96)).skus
    assert shop.query(q(text="trail runner")).skus == ("S01",)
    r = shop.query(q(category="running"))
    assert r.total == 3 and "heel" not in [f.name for f in r.facets]
    assert "Purple" not in [v.value for f in r.facets for v in f.values]
    assert [s.sku for s in shop.suggest("Trail", "en_US")] == ["S01"]
    assert shop.suggest("H0", "en_US") == []
    # Hiding is a newer version like any other change.
    load(shop, [replace(next(catalog_docs()), version=2, visible=False)])
    assert shop.query(q(text="trail runner")).total == 0


def test_price_range_per_currency_inclusive(shop):
    def skus(**kw):
        return set(shop.query(q(category="shoes", **kw)).skus)

    assert skus(price_min=Decimal("50"), price_max=Decimal("60")) == {"S01", "S02", "S04"}
    assert skus(currency="USD", price_min=Decimal("50"), price_max=Decimal("60")) == {"S01", "S04"}
    assert skus(price_min=Decimal("50.01")) == {"S02", "S03", "S05"}
    assert skus(price_max=Decimal("49.999")) == set()
    assert skus(currency="USD", price_min=Decimal("0")) == {"S01", "S02", "S04", "S05"}  # S03 has no USD price
    assert skus(currency="CHF", price_min=Decimal("0")) == set()


def test_in_stock_counts_low_stock_as_available(shop):
    r = shop.query(q(category="shoes", in_stock=True, filters={"brand": ("zeta",)}))
    assert r.skus == ("S04",)
    assert values(r.facets[0]) == [("acme", 2, False), ("bolt", 1, False), ("zeta", 1, True)]


@pytest.mark.parametrize(
    "sort, currency, expected",
    [
        ("price_asc", "EUR", ["S01", "S04", "S02", "S03", "S05"]),  # S01/S04 tie at 50: by SKU
        ("price_desc", "EUR", ["S05", "S03", "S02", "S01", "S04"]),
        ("price_asc", "USD", ["S04", "S01", "S02", "S05", "S03"]),  # no USD price: last
        ("price_desc", "USD", ["S05", "S02", "S01", "S04", "S03"]),
        ("name", "EUR", ["S04", "S05", "S03", "S02", "S01"]),  # case-insensitive
        ("newest", "EUR", ["S03", "S04", "S02", "S01", "S05"]),  # S03/S04 created together: by SKU
        ("relevance", "EUR", ["S03", "S04", "S02", "S01", "S05"]),  # without text: newest
    ],
)
def test_sorts_break_ties_by_sku(shop, sort, currency, expected):
    assert list(shop.query(q(category="shoes", sort=sort, currency=currency)).skus) == expected


def test_name_order_is_the_shared_folded_key(ix):
    names = {
        "N1": "Zebra",
        "N2": "écran",
        "N3": "Ecran",
        "N4": "Øresund",
        "N5": "Quokka",
        "N6": "Straße",
        "N7": "Strasse",
        "N8": "Кроссовки",
        "N9": "apple",
    }
    load(ix, [doc(sku, names={"en_US": name}) for sku, name in names.items()] + [doc("N0", names={})])
    # no name first; é folds to e, ß to ss, ø stays (after q), Cyrillic after Latin; ties by SKU
    assert ix.query(q(sort="name")).skus == ("N0", "N9", "N2", "N3", "N5", "N6", "N7", "N1", "N4", "N8")


def test_sort_by_name_in_another_locale_and_for_an_unknown_one(shop):
    assert shop.query(q(category="shoes", sort="name", locale="de_DE")).skus[0] == "S04"
    assert shop.query(q(category="shoes", sort="name", locale="xx_XX")).skus == ("S01", "S02", "S03", "S04", "S05")


def test_paging_is_stable_and_complete(shop):
    pages = [shop.query(q(category="shoes", sort="price_asc", page=p, per_page=2)) for p in (1, 2, 3, 4)]
    assert [r.skus for r in pages] == [("S01", "S04"), ("S02", "S03"), ("S05",), ()]
    assert {r.total for r in pages} == {5}


def test_text_is_typo_tolerant_and_needs_every_word(shop):
    assert shop.query(q(text="shoo")).skus == ("S05",)
    assert set(shop.query(q(text="runer")).skus) == {"S01", "S02"}
    assert shop.query(q(text="trail runner")).skus == ("S01",)
    assert shop.query(q(text="trail runner", filters={"brand": ("zeta",)})).total == 0
    assert shop.query(q(text="xylophone")).total == 0
    # every word in one field: the descriptions name the brand
    assert set(shop.query(q(text="runner acme")).skus) == {"S01", "S02"}
    assert shop.query(q(text="Marathon", locale="de_DE")).skus == ("S03",)


def test_relevance_ranks_name_matches_first(ix):
    load(
        ix,
        [
            doc("R1", names={"en_US": "Socks"}, descriptions={"en_US": "Warm wool for boots"}),
            doc("R2", names={"en_US": "Wool boots"}, descriptions={"en_US": "Winter footwear"}),
        ],
    )
    assert ix.query(q(text="wool")).skus == ("R2", "R1")


def test_suggest_name_and_sku_prefixes(shop):
    # ranked by score (shorter names first with edge n-grams), then SKU
    assert sorted((s.sku, s.name) for s in shop.suggest("Run", "en_US")) == [
        ("S01", "Trail Runner"),
        ("S02", "Road Runner"),
    ]
    assert [s.sku for s in shop.suggest("trail ru", "en_US")] == ["S01"]
    assert [s.name for s in shop.suggest("hiking", "de_DE")] == ["Hiking Boot (de)"]
    assert [s.sku for s in shop.suggest("s0", "en_US", limit=3)] == ["S01", "S02", "S03"]
    assert [s.name for s in shop.suggest("S06", "fr_FR")] == ["Cotton Shirt"]  # no French name: another
    assert shop.suggest("  ", "en_US") == []


def test_suggest_word_starts_in_any_order_grouped_then_by_sku(shop):
    load(
        shop,
        [
            doc("RUN-9", names={"en_US": "Zebra Mat"}),
            doc("A9", names={"en_US": "Runner Deluxe"}),
            doc("S00", names={"en_US": "Supercalifragilisticexpialidocious Mug"}),
        ],
    )
    # every typed word starts a name word, in any order (the index's mode does not matter)
    assert [s.sku for s in shop.suggest("runner trail", "en_US")] == ["S01"]
    assert [s.sku for s in shop.suggest("rac mar", "en_US")] == ["S03"]
    # the SKU first, then the name that starts with the text, then the others; each group by SKU
    assert [s.sku for s in shop.suggest("run", "en_US")] == ["RUN-9", "A9", "S01", "S02"]
    assert [s.sku for s in shop.suggest("run", "en_US", limit=2)] == ["RUN-9", "A9"]
    # typed words count with their first 20 characters, as many as the edge n-grams hold
    assert [s.sku for s in shop.suggest("supercalifragilisticXYZ m", "en_US")] == ["S00"]


def test_suggest_matches_words_not_stems(lang_ix):
    load(lang_ix, [doc("P1", names={"en_US": "Pony saddle"})])
    assert lang_ix.query(q(text="ponies")).skus == ("P1",)  # "pony" is indexed as the stem "poni"
    assert lang_ix.suggest("poni", "en_US") == []
    assert [s.sku for s in lang_ix.suggest("sad po", "en_US")] == ["P1"]


# ------------------------------------------------------------------------------------------------
# Language analysis (the analysis plugin): stemming, umlauts, accents, folded sorting


def test_english_stemming(lang_ix):
    load(lang_ix, [doc("L1", names={"en_US": "Running shoes"}), doc("L2", names={"en_US": "Pony saddle"})])
    assert lang_ix.query(q(text="runs")).skus == ("L1",)  # run: 3 edits from "running", no fuzzy rescue
    assert lang_ix.query(q(text="ponies")).skus == ("L2",)


def test_german_stemming_and_umlauts(lang_ix):
    load(lang_ix, [doc("D1", names={"de_DE": "Häuser aus Holz"}), doc("D2", names={"de_DE": "Fußball"})])
    assert lang_ix.query(q(text="Haus", locale="de_DE")).skus == ("D1",)
    assert lang_ix.query(q(text="fussball", locale="de_DE")).skus == ("D2",)
    tokens = lang_ix.client.indices.analyze(index=lang_ix.index_name(1), field="name.de_DE", text="Häuser")
    assert [t["token"] for t in tokens["tokens"]] == ["haus"]


def test_accents_fold_in_search_and_suggest(lang_ix):
    load(
        lang_ix,
        [
            doc("F1", names={"fr_FR": "Élève modèle", "en_US": "Écran"}),
            doc("F2", names={"en_US": "Zebra"}),
            doc("F3", names={"en_US": "apple"}),
        ],
    )
    assert lang_ix.query(q(text="eleve", locale="fr_FR")).skus == ("F1",)  # 2 edits in 5 letters
    assert [s.sku for s in lang_ix.suggest("ecr", "en_US")] == ["F1"]
