"""The embedded search index (search.embedded) on a real Redis: what is specific to this adapter.

What both adapters must agree on (results against a brute-force computation) is the contract
suite's business; this module checks the version guard, hidden documents, generations, the text
analysis end to end, facets, price ranges, sort orders over both of the query's paging strategies
(reading a sorted set in order for big candidate sets, sorting the candidates for small ones),
suggestions and the clean-up of temporary keys.
"""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal

import pytest

from search.documents import SearchDocument, VariantDocument, name_sort_key
from search.embedded import EmbeddedIndex
from search.query import FacetValue, Query, Suggestion
from snipshop.redis_cluster import is_cluster
from tests import search_reference as ref
from tests.redis_support import scratch_store
from tests.search_data import aggregate
from vocab.keys import KeyScheme

pytestmark = pytest.mark.integration
LOCALES, CURRENCIES = ("en_US", "de_DE"), ("EUR", "USD")
IDX = KeyScheme("ss").search_index(1)  # where generation 1's index keys start


@pytest.fixture
def client(redis_base_url, redis_cluster_url):
    c = scratch_store(redis_base_url, redis_cluster_url, 5)
    yield c
    c.close()


@pytest.fixture
def ix(client) -> EmbeddedIndex:
    index = EmbeddedIndex(client, KeyScheme("ss"), LOCALES, CURRENCIES)
    index.ensure_generation(1)
    index.switch(1)
    return index


def doc(sku: str, name: str = "", **kw) -> SearchDocument:
    fields = {
        "version": 1,
        "visible": True,
        "created_at": 1000,
        "names": {"en_US": name, "de_DE": name},
        "prices": {"EUR": Decimal("10")},
        "availability": "in_stock",
    }
    fields.update(kw)
    return SearchDocument(sku=sku, **fields)


def q(**kw) -> Query:
    return Query(locale=kw.pop("locale", "en_US"), currency=kw.pop("currency", "EUR"), **kw)


def found(ix: EmbeddedIndex, text: str, locale: str = "en_US") -> set[str]:
    return set(ix.query(q(text=text, locale=locale, per_page=96)).skus)


# -- writes --------------------------------------------------------------------------------------


def test_an_older_version_is_ignored_and_the_same_version_rewritten(ix):
    ix.index([doc("V1", "Seven Boot", version=7, brand="New")], [1])
    ix.index([doc("V1", "Five Boot", version=5, brand="Old")], [1])
    assert found(ix, "seven") == {"V1"} and found(ix, "five") == set()
    assert ix.query(q(filters={"brand": ("Old",)})).total == 0

    ix.index([doc("V1", "Seven Shoe", version=7, brand="Newer")], [1])
    assert found(ix, "shoe") == {"V1"} and found(ix, "boot") == set()  # old memberships undone
    brands = ix.query(q()).facets[0]
    assert brands.values == (FacetValue("Newer", 1, False),)


def test_a_hidden_document_matches_nothing_but_keeps_its_version(ix):
    ix.index([doc("H1", "Ghost Lamp", version=2, brand="B")], [1])
    ix.index([doc("H1", "Ghost Lamp", version=3, visible=False, brand="B")], [1])
    ix.index([doc("H1", "Ghost Lamp", version=2, brand="B")], [1])  # late, older: still hidden
    assert ix.query(q()).total == 0 and ix.query(q()).facets == ()
    assert found(ix, "ghost") == set() and ix.suggest("gho", "en_US") == []


def test_a_write_registers_more_words_than_one_redis_call_takes(ix, client):
    # one call of 50 documents with 100 words each registers 5,000 words: more than Lua can unpack
    # into one ZADD (8,000 arguments), so the script registers them in chunks
    words = [f"w{n:04d}" for n in range(5000)]
    docs = [doc(f"W{i}", descriptions={"en_US": " ".join(words[100 * i : 100 * i + 100])}) for i in range(50)]
    ix.index(docs, [1])
    vocabulary = KeyScheme("ss").search_vocabulary(1, "en_US")
    assert client.zcard(vocabulary) == 5000 and found(ix, "w4999") == {"W49"}
    assert {s.decode().partition("\x00")[0] for s in client.zrange(vocabulary, 0, -1)} == set(words)


@pytest.mark.parametrize("newer_first", [False, True])
def test_a_call_with_two_versions_of_a_document_leaves_the_newer(ix, newer_first):
    versions = [doc("D1", "Red Boot", version=1, brand="Old"), doc("D1", "Blue Shoe", version=2, brand="New")]
    ix.index([doc("D0", "Boot"), *(versions[::-1] if newer_first else versions), doc("D2", "Boot")], [1])
    assert found(ix, "boot") == {"D0", "D2"} and found(ix, "shoe") == {"D1"}
    assert ix.query(q(filters={"brand": ("Old",)})).total == 0
    assert ix.query(q(filters={"brand": ("New",)})).skus == ("D1",)


def test_generations_are_separate_and_switch_and_drop_work(ix, client):
    assert ix.live_generation() == 1
    ix.ensure_generation(2)
    ix.index([doc("A", "Alpha")], [1])
    ix.index([doc("B", "Beta")], [1, 2])
    client.set("ss:1:detail:en_US:{A}", "1\nsnippet")  # a snippet of generation 1
    assert ix.query(q()).skus == ("A", "B")
    ix.switch(2)
    assert ix.live_generation() == 2 and ix.query(q()).skus == ("B",)
    ix.drop(1)
    assert list(client.scan_iter(match="ss:1:idx:*")) == []
    assert client.get("ss:1:detail:en_US:{A}") == b"1\nsnippet"
    ix.switch(1)
    assert ix.query(q()).total == 0


def test_a_switch_by_another_process_is_seen_by_the_next_query(ix, client):
    ix.ensure_generation(2)
    ix.index([doc("A", "Alpha")], [1])
    ix.index([doc("B", "Beta")], [2])
    assert ix.query(q()).skus == ("A",)
    EmbeddedIndex(client, KeyScheme("ss"), LOCALES, CURRENCIES).switch(2)
    assert ix.query(q()).skus == ("B",)


def test_no_live_generation_finds_nothing(client):
    index = EmbeddedIndex(client, KeyScheme("other"), LOCALES, CURRENCIES)
    assert index.live_generation() is None
    assert index.query(q()).total == 0 and index.suggest("a", "en_US") == []


# -- text ----------------------------------------------------------------------------------------


@pytest.fixture
def texts(ix):
    ix.index(
        [
            doc("EN1", "Running Shoe", names={"en_US": "Running Shoe", "de_DE": "Laufschuh"}),
            doc("EN2", "Trail Boots", descriptions={"en_US": "Boots for running on rough trails"}),
            doc("DE1", names={"en_US": "House", "de_DE": "Haus"}),
            doc("DE2", names={"en_US": "Houses", "de_DE": "Häuser"}),
            doc("DE3", names={"en_US": "Shoe", "de_DE": "Schuh"}),
            doc("DE4", names={"en_US": "Shoes", "de_DE": "Schuhe"}),
            doc("FR1", "Crème Brûlée Dish"),
            doc("RU1", "Кроссовки Nova"),
            doc("JA1", "ランニング靴 Glide"),
            doc("JA2", "靴 Delta"),
        ],
        [1],
    )
    return ix


def test_english_stemming(texts):
    assert found(texts, "running shoes") == {"EN1"}
    assert found(texts, "shoe") == {"EN1", "DE3", "DE4"}


def test_german_stemming(texts):
    assert found(texts, "Häuser", "de_DE") == found(texts, "haus", "de_DE") == {"DE1", "DE2"}
    assert found(texts, "Schuhe", "de_DE") == found(texts, "Schuh", "de_DE") == {"DE3", "DE4"}


def test_accents_and_case_do_not_matter(texts):
    assert found(texts, "creme") == found(texts, "CRÈME brulee") == {"FR1"}


def test_non_latin_text_is_found(texts):
    assert found(texts, "Кроссовки") == found(texts, "кроссовки") == {"RU1"}
    assert found(texts, "靴") == {"JA1", "JA2"}


def test_a_word_found_nowhere_matches_the_words_it_starts(texts):
    assert found(texts, "runn") == {"EN1", "EN2"}
    assert found(texts, "brul") == {"FR1"}
    assert found(texts, "runx") == set() and found(texts, "running zzz") == set()


def test_relevance_puts_words_in_the_name_first_then_the_sku(texts):
    assert texts.query(q(text="running", per_page=96)).skus == ("EN1", "EN2")
    assert texts.query(q(text="shoe", per_page=96)).skus == ("DE3", "DE4", "EN1")


# -- facets, price, sorting, paging --------------------------------------------------------------


def catalog(n: int = 400) -> list[SearchDocument]:
    rng = random.Random(5)
    words = ["Alpha", "alpha", "Álpha", "Beta", "Ωmega", "Жук", "zeta", "Zeta 2", "", "éclair", "Éclair"]
    docs = []
    for i in range(n):
        prices = {"EUR": Decimal(rng.choice(["5", "9.99", "10", "19.99", "20"]))} if rng.random() < 0.9 else {}
        docs.append(
            doc(
                f"{rng.choice('Aab')}{i:04d}",
                created_at=rng.randrange(5) * 100,
                names={"en_US": f"{rng.choice(words)} {rng.choice(words)}".strip()},
                brand=rng.choice(["B1", "B2", "B3", ""]),
                category_paths=rng.choice([("c",), ("c", "d"), ("e",)]),
                attributes={"color": tuple(rng.sample(["Red", "Blue", "Green"], rng.randint(1, 2)))},
                prices=prices,
                availability=rng.choice(["in_stock", "sold_out"]),
                visible=rng.random() < 0.95,
            )
        )
    return docs


def expected(docs, query: Query) -> list[str]:
    def price(d):
        return d.prices.get("EUR")

    def match(d):
        return (
            d.visible
            and (query.category is None or query.category in d.category_paths)
            and all(
                (set(d.attributes.get(f, ())) | ({d.brand} if f == "brand" else set())) & set(v)
                for f, v in query.filters.items()
            )
            and (query.price_min is None or (price(d) is not None and price(d) >= query.price_min))
            and (query.price_max is None or (price(d) is not None and price(d) <= query.price_max))
        )

    keys = {
        "name": lambda d: (name_sort_key(d.names.get("en_US")), d.sku),
        "newest": lambda d: (-d.created_at, d.sku),
        "price_asc": lambda d: (price(d) is None, price(d) or 0, d.sku),
        "price_desc": lambda d: (price(d) is None, -(price(d) or 0), d.sku),
    }
    return [d.sku for d in sorted(filter(match, docs), key=keys[query.sort])]


@pytest.mark.parametrize("sort", ["name", "newest", "price_asc", "price_desc"])
@pytest.mark.parametrize("narrow", [False, True], ids=["broad", "narrow"])
def test_every_page_of_every_sort_order(ix, sort, narrow):
    docs = catalog()
    ix.index(docs, [1])
    base = q(sort=sort, category="d" if narrow else None, filters={"color": ("Red",)} if narrow else {})
    want = expected(docs, base)
    for per_page in (7, 24, 96):
        pages = [ix.query(replace(base, page=p, per_page=per_page)) for p in range(1, len(want) // per_page + 3)]
        assert [s for page in pages for s in page.skus] == want, per_page
        assert {page.total for page in pages} == {len(want)}


def test_a_price_range_is_inclusive_and_excludes_products_without_price(ix):
    docs = catalog()
    ix.index(docs, [1])
    ranged = q(price_min=Decimal("9.99"), price_max=Decimal("19.99"), sort="price_asc", per_page=96)
    got = [s for p in range(1, 6) for s in ix.query(replace(ranged, page=p)).skus]
    assert got == expected(docs, ranged) and got
    assert ix.query(q(price_min=Decimal("1000"))).total == 0
    assert ix.query(q(currency="USD", price_max=Decimal("1000"))).total == 0  # nobody has USD


def test_facet_counts_leave_out_their_own_selection(ix):
    ix.index(
        [
            doc("1", brand="A", attributes={"color": ("Red",)}),
            doc("2", brand="A", attributes={"color": ("Blue",)}),
            doc("3", brand="B", attributes={"color": ("Red",)}),
            doc("4", brand="C", attributes={"color": ("Red", "Blue")}),
            doc("5", brand="C", attributes={"size": ("M",)}, visible=False),
        ],
        [1],
    )
    result = ix.query(q(filters={"brand": ("A", "Z"), "color": ("Red",)}))
    assert result.skus == ("1",) and result.total == 1
    brand, color = result.facets
    # brand counts: color=Red only; color counts: brand A (or Z) only
    assert brand.values == (
        FacetValue("A", 1, True),
        FacetValue("B", 1, False),
        FacetValue("C", 1, False),
        FacetValue("Z", 0, True),
    )
    assert color.values == (FacetValue("Blue", 1, False), FacetValue("Red", 1, True))


def test_in_stock_and_category(ix):
    ix.index(
        [
            doc("1", category_paths=("c",)),
            doc("2", category_paths=("c",), availability="sold_out"),
            doc("3", category_paths=("d",)),
        ],
        [1],
    )
    assert ix.query(q(category="c")).skus == ("1", "2")
    assert ix.query(q(category="c", in_stock=True)).skus == ("1",)
    assert ix.query(q(category="nope")).total == 0


def test_suggestions_by_sku_start_then_name_start_then_word_starts(ix):
    ix.index(
        [
            doc("CM-1", "Café Mug"),
            doc("CM-2", "cafe mug XL"),
            doc("X-9", "Hidden Café", visible=False),
            doc("cafe-3", "Tea Pot"),
            doc("BM-1", "Big Café Mug"),
            doc("BM-0", "Mug for the café"),
        ],
        [1],
    )
    assert ix.suggest("CAFE", "en_US") == [
        Suggestion("cafe-3", "Tea Pot"),
        Suggestion("CM-1", "Café Mug"),
        Suggestion("CM-2", "cafe mug XL"),
        Suggestion("BM-0", "Mug for the café"),
        Suggestion("BM-1", "Big Café Mug"),
    ]
    assert ix.suggest("Café m", "en_US") == [
        Suggestion("CM-1", "Café Mug"),
        Suggestion("CM-2", "cafe mug XL"),
        Suggestion("BM-0", "Mug for the café"),
        Suggestion("BM-1", "Big Café Mug"),
    ]
    assert [s.sku for s in ix.suggest("mug big", "en_US")] == ["BM-1"]
    assert [s.sku for s in ix.suggest("xl", "en_US")] == ["CM-2"]
    assert ix.suggest("cm-", "en_US", limit=1) == [Suggestion("CM-1", "Café Mug")]
    assert [s.sku for s in ix.suggest("mug", "en_US", limit=0)] == ["BM-0"]  # limits are clamped to 1..20
    assert ix.suggest("  ", "en_US") == [] and ix.suggest("hidden", "en_US") == []


def test_a_renamed_or_hidden_product_leaves_no_word_behind(ix, client):
    words = KeyScheme("ss").search_name_words(1, "en_US")
    ix.index([doc("R-1", "Juno Jacket", names={"en_US": "Juno Jacket", "de_DE": "Juno Jacke"})], [1])
    assert client.zrange(words, 0, -1) == [b"jacket\x00R-1", b"juno\x00R-1"]
    assert [s.sku for s in ix.suggest("jac", "en_US")] == ["R-1"]
    ix.index([doc("R-1", "Juno Parka", version=2)], [1])
    assert client.zrange(words, 0, -1) == [b"juno\x00R-1", b"parka\x00R-1"]
    assert ix.suggest("jac", "en_US") == [] and [s.sku for s in ix.suggest("par", "de_DE")] == ["R-1"]
    ix.index([doc("R-1", "Juno Parka", version=3, visible=False)], [1])
    assert client.zrange(words, 0, -1) == [] and ix.suggest("juno", "en_US") == []


def test_suggestion_cost_is_bounded(ix, client, monkeypatch):
    """Each range is read up to SUGGEST_CANDIDATES members; what is read is still checked."""
    monkeypatch.setattr("search.embedded.SUGGEST_CANDIDATES", 5)
    ix.index([doc(f"W{i:02d}", f"Alpha Widget {i}" if i % 2 else f"Beta Widget {i}") for i in range(20)], [1])
    assert [s.sku for s in ix.suggest("wid", "en_US")] == ["W00", "W01", "W02", "W03", "W04"]
    found = ix.suggest("widget alp", "en_US")  # candidates: the range of "widget", then checked
    assert found and all(s.name.startswith("Alpha Widget") for s in found)
    # ten names start with "alpha": a full range of five, read in name order, is all there is
    assert [s.sku for s in ix.suggest("alpha", "en_US", limit=20)] == ["W01", "W11", "W13", "W15", "W17"]
    client.config_resetstat()
    ix.suggest("w" * 500, "en_US")
    hmget = client.info("commandstats").get("cmdstat_hmget", {}).get("calls", 0)
    assert hmget == 0  # the text is cut to 100 characters: no candidates, no second read


def test_queries_leave_no_temporary_keys(ix, client):
    ix.index(catalog(100), [1])
    ix.query(
        q(
            text="alpha",
            category="c",
            filters={"color": ("Red", "Blue"), "brand": ("B1",)},
            price_min=Decimal("5"),
            sort="price_desc",
        )
    )
    ix.query(q(sort="name", page=3))
    assert list(client.scan_iter(match=f"{IDX}tmp:*")) == []


def test_broad_facet_counts_by_bitmap_agree_with_the_sets(ix, client):
    """Facets whose values each hold most candidates are counted with bitmaps of product ids."""
    rng = random.Random(9)
    tags = [f"t{i}" for i in range(12)]
    docs = [
        doc(
            f"P{i:03d}",
            version=1,
            category_paths=("c",) if i % 3 else ("d",),
            attributes={"tag": tuple(t for t in tags if rng.random() < 0.8)},
        )
        for i in range(240)
    ]
    ix.index(docs, [1])
    # then: some hidden, some re-tagged: their old bits must be cleared
    changed = [replace(d, version=2, visible=False) for d in docs[:20]]
    changed += [replace(d, version=2, attributes={"tag": ("t0",)}) for d in docs[20:40]]
    ix.index(changed, [1])
    current = {d.sku: d for d in docs} | {d.sku: d for d in changed}
    client.config_resetstat()
    result = ix.query(q(category="c", filters={"tag": ("t1", "t2")}))
    assert client.info("commandstats").get("cmdstat_bitcount", {}).get("calls", 0) >= len(tags)
    in_c = [d for d in current.values() if d.visible and "c" in d.category_paths]
    want = {t: sum(t in d.attributes["tag"] for d in in_c) for t in tags}
    assert {v.value: v.count for v in result.facets[0].values} == {t: n for t, n in want.items() if n}
    assert result.total == sum(1 for d in in_c if {"t1", "t2"} & set(d.attributes["tag"]))


# -- products with variants ----------------------------------------------------------------------


def variant_doc(sku: str, variants, version: int = 1, **kw) -> SearchDocument:
    """A product sold in ``variants`` ((options, EUR price, availability), ...), aggregated."""
    sellables = tuple(
        VariantDocument(f"{sku}-{n}", options, {"EUR": Decimal(price)}, state)
        for n, (options, price, state) in enumerate(variants)
    )
    return aggregate(doc(sku, version=version, variants=sellables, **kw))


def variant_keys(client) -> dict[str, int]:
    """Every variant-level key of generation 1 with its size (members, or bits set: a bitmap whose
    bits were all cleared stays, empty, like the facet bitmaps)."""
    out = {}
    for key in client.scan_iter(match="ss:1:idx:*"):
        name = key.decode().removeprefix(IDX)
        if name.startswith(("vf:", "vin_stock", "vprice:", "variants", "with_variants", "fo:", "fob:")):
            kind = client.type(key)
            size = (
                client.zcard(key) if kind == b"zset" else client.scard(key) if kind == b"set" else client.bitcount(key)
            )
            if size:
                out[name] = size
    return out


def test_variant_memberships_follow_rewrites_and_hiding(ix, client):
    first = [({"color": "Blue", "size": "S"}, "50", "in_stock"), ({"color": "Red", "size": "M"}, "60", "sold_out")]
    ix.index([variant_doc("P1", first, attributes={"material": ("Wool",)})], [1])
    assert variant_keys(client) == {
        "with_variants": 1,
        "variants": 2,
        "vf:color:Blue": 1,
        "vf:color:Red": 1,
        "vf:size:S": 1,
        "vf:size:M": 1,
        "vf:material:Wool": 2,
        "vin_stock": 1,
        "vprice:EUR": 2,
        "fo:color:Red": 1,  # only on a sold-out variant
        "fo:size:M": 1,
        "fob:color:Red": 1,
        "fob:size:M": 1,
    }
    assert client.zrange(f"{IDX}variants", 0, -1) == [b"P1\x1fP1-0", b"P1\x1fP1-1"]
    ix.index([variant_doc("P1", [({"color": "Green"}, "30", "sold_out")], version=2)], [1])
    assert variant_keys(client) == {
        "with_variants": 1,
        "variants": 1,
        "vf:color:Green": 1,
        "vprice:EUR": 1,
        "fo:color:Green": 1,
        "fob:color:Green": 1,
    }
    assert ix.query(q(filters={"color": ("Blue",)})).total == 0
    assert ix.query(q(filters={"color": ("Green",)})).skus == ("P1",)
    ix.index([variant_doc("P1", first, version=1)], [1])  # older: ignored
    assert ix.query(q(filters={"color": ("Blue",)})).total == 0
    ix.index([doc("P1", version=3, attributes={"color": ("Blue",)})], [1])  # simple now
    assert variant_keys(client) == {}
    assert ix.query(q(filters={"color": ("Blue",)}, in_stock=True)).skus == ("P1",)
    ix.index([variant_doc("P1", first, version=4)], [1])
    ix.index([variant_doc("P1", first, version=5, visible=False)], [1])
    assert variant_keys(client) == {}


def test_a_simple_catalog_never_looks_at_variants(ix, client):
    ix.index(catalog(200), [1])
    client.config_resetstat()
    ix.query(q(category="c", filters={"color": ("Red", "Blue"), "brand": ("B1",)}, in_stock=True, sort="price_asc"))
    stats = client.info("commandstats")
    for command in ("sdiffstore", "zrangebylex", "sinter", "zinter"):
        assert f"cmdstat_{command}" not in stats, command


def variant_catalog(n: int = 300) -> list[SearchDocument]:
    """Simple products and products with variants in colors and sizes, in categories c and d."""
    rng = random.Random(11)
    docs = []
    for i in range(n):
        paths = ("c",) if i % 10 else ("d",)  # d: a tenth of the catalog
        colors = rng.sample(["Red", "Blue", "Green", "Black"], rng.randint(1, 3))
        if i % 3:
            combos = [{"color": c, "size": s} for c in colors for s in rng.sample(["S", "M", "L"], rng.randint(1, 3))]
            variants = [(o, rng.choice(["5", "10", "20", "40"]), rng.choice(["in_stock", "sold_out"])) for o in combos]
            docs.append(variant_doc(f"V{i:03d}", variants, category_paths=paths, created_at=i))
        else:
            price = {"EUR": Decimal(rng.choice(["5", "10", "20", "40"]))}
            attributes = {"color": tuple(colors), "size": ("M",)}
            docs.append(doc(f"S{i:03d}", category_paths=paths, attributes=attributes, prices=price, created_at=i))
    docs.append(variant_doc("V999", [({"color": "Teal", "size": "XL"}, "7", "in_stock")], category_paths=("c",)))
    return docs


@pytest.mark.parametrize(
    "query,from_products",
    [
        # few candidate products: their variants are read (a lex range each)
        (q(category="d", filters={"color": ("Red",), "size": ("M",)}, sort="price_asc"), True),
        (q(category="d", in_stock=True, price_max=Decimal("10"), sort="price_desc"), True),
        # a rare value: its variants are checked against the candidate products
        (q(filters={"color": ("Teal",)}, in_stock=True), False),
        (q(category="c", filters={"size": ("XL",)}, sort="price_asc"), False),
    ],
)
def test_matching_variants_come_from_the_cheaper_side(ix, client, query, from_products):
    docs = variant_catalog()
    ix.index(docs, [1])
    client.config_resetstat()
    got = ix.query(replace(query, per_page=96))
    ranges = client.info("commandstats").get("cmdstat_zrangebylex", {}).get("calls", 0)
    assert (ranges > 0) is from_products
    want = ref.search(docs, replace(query, per_page=96))
    assert got == want and got.total > 0
    assert list(client.scan_iter(match=f"{IDX}tmp:*")) == []


# ------------------------------------------------------------------------------------------------
# The scripts by SHA (docs/search-sharing.md): what the PHP front end does, step by step


def test_scripts_are_called_by_their_documented_sha_and_loaded_again_after_a_flush(ix, client):
    from search.embedded_scripts import script_sha

    ix.index([doc("A-1", "Red Shoe", attributes={"color": ("Red",)}), doc("B-2", "Blue Shoe")], [1])
    client.script_flush()
    assert client.script_exists(script_sha("query"), script_sha("write")) == [False, False]
    ix.index([doc("C-3", "Green Shoe", created_at=2000)], [1])  # NOSCRIPT, loaded, written
    assert ix.query(q(sort="newest")).skus == ("C-3", "A-1", "B-2")
    loaded = client.script_exists(script_sha("query"), script_sha("write"))
    if is_cluster(client):  # a cluster pipeline sends a script whole (snipshop/redis_cluster.py): never NOSCRIPT
        assert loaded[0] is True
    else:
        assert loaded == [True, True]


def test_a_raw_evalsha_of_the_documented_call_answers_what_the_adapter_does(ix, client):
    from search.embedded_query import plan
    from search.embedded_scripts import script_sha
    from search.embedded_text import terms

    ix.index([doc(f"S-{i}", f"Shoe {i}", attributes={"color": (("Red", "Blue")[i % 2],)}) for i in range(6)], [1])
    query = q(text="shoe", filters={"color": ("Red",)}, sort="name", per_page=2, page=2)
    expected = ix.query(query)
    found = ix._lookup(query, terms(query.text, query.locale))
    assert found is not None
    gen, lookup = found
    call = plan(query, lookup, KeyScheme("ss"), gen, "0123456789ab")
    ix.query(q())  # the script is loaded
    reply = client.evalsha(script_sha("query"), len(call.keys), *call.keys, call.argv)
    assert call.result(reply) == expected
    assert expected.skus == ("S-4",) and expected.total == 3
