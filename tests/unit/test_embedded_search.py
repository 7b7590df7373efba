"""The pure parts of the embedded search index: text analysis, name ranks, memberships, plans.

The adapter itself runs Lua on a real Redis: tests/integration/test_embedded_search.py.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from dataclasses import replace
from decimal import Decimal
from typing import NamedTuple

from hypothesis import given
from hypothesis import strategies as st

from search.documents import COMBINING_BELOW, SearchDocument, VariantDocument, fold, name_sort_key
from search.embedded_docs import REGISTER, VOCABULARY, Memberships, memberships
from search.embedded_query import Lookup, plan
from search.embedded_scripts import write_args, write_call
from search.embedded_text import MAX_WORD, RANK_CHARS, Term, name_rank, terms, words
from search.query import MAX_FACET_VALUES, Facet, FacetValue, Query
from vocab.keys import KeyScheme

KEYS = KeyScheme("t")
#: What embedded_write.lua does with a membership: SADD, SETBIT, ZADD, HSET.
SADD, SETBIT, ZADD, HSET = "S", "B", "Z", "H"


class Entry(NamedTuple):
    op: str
    key: str
    member: str
    score: str = "0"  # ZADD score, or HSET value


def flat(m: Memberships, sku: str, gen: int = 1) -> list[Entry]:
    """Every membership as the script writes it into generation ``gen``: one (op, whole key,
    member, score), registries (REGISTER, VOCABULARY) too."""
    p = KEYS.search_index(gen)

    def tuples(values: list[str], size: int) -> list[tuple[str, ...]]:
        return [(p + values[i], *values[i + 1 : i + size]) for i in range(0, len(values), size)]

    out = [Entry(SADD, p + k, sku) for k in m.sets] + [Entry(SETBIT, p + k, sku) for k in m.bits]
    out += [Entry(ZADD, k, sku, score) for k, score in tuples(m.scores, 2)]
    out += [Entry(HSET, k, sku, value) for k, value in tuples(m.fields, 2)]
    out += [Entry(SADD, k, member) for k, member in tuples(m.members, 2)]
    out += [Entry(ZADD, k, member, score) for k, member, score in tuples(m.ranked, 3)]
    out += [Entry(REGISTER, KEYS.search_facet_registry(gen), f) for f in m.facets]
    out += [Entry(VOCABULARY, KEYS.search_vocabulary(gen, loc), w) for loc, ws in m.vocabulary.items() for w in ws]
    return out


def entries(d: SearchDocument, locales: list[str]) -> list[Entry]:
    return flat(memberships(d, locales), d.sku)


def stems(text: str, locale: str) -> set[str]:
    return {t.stem for t in terms(text, locale)}


# -- text ----------------------------------------------------------------------------------------


def test_fold_drops_case_and_accents_but_keeps_other_scripts():
    assert fold("Crème Brûlée") == "creme brulee"
    assert fold("Straße") == "strasse"
    assert fold("Кроссовки Ёж") == "кроссовки еж"
    assert fold("Παπούτσια") == "παπουτσια"
    assert fold("ガ") == "カ"
    assert fold("a\u034fb") == "a\u034fb"  # the grapheme joiner is among the marks' code points, not a mark


def test_no_code_point_from_where_fold_stops_looking_is_a_combining_mark():
    assert not any(unicodedata.combining(chr(c)) for c in range(COMBINING_BELOW, sys.maxunicode + 1))


@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_fold_is_casefold_then_nfkd_without_combining_marks(text):
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    assert fold(text) == "".join(c for c in decomposed if not unicodedata.combining(c))


def test_english_stems_join_singular_plural_and_verb_forms():
    assert stems("running shoes", "en_US") == stems("Running Shoe", "en_US") == {"run", "shoe"}


def test_german_stems_join_umlaut_plurals():
    assert stems("Häuser", "de_DE") == stems("Haus", "de_DE") == stems("hauser", "de_DE")
    assert stems("Schuhe", "de_DE") == stems("Schuh", "de_DE")


def test_locales_without_a_stemmer_keep_the_folded_words():
    assert stems("Running Shoes", "xx_XX") == {"running", "shoes"}


def test_accented_and_plain_spellings_give_the_same_terms():
    assert terms("Crème", "en_US") == terms("creme", "en_US") == [Term("creme", "creme")]


def test_cyrillic_words_stay_words_and_cjk_characters_are_terms_of_their_own():
    assert words("Кроссовки Nova") == ["кроссовки", "nova"]
    assert words("ランニング靴 Glide") == ["ラ", "ン", "ニ", "ン", "ク", "靴", "glide"]
    assert words("Nova靴Glide・x") == ["nova", "靴", "glide", "x"]  # a CJK character inside a word splits it


def test_words_longer_than_anyone_types_are_cut():
    assert words("a" * 70 + " Éb" + "c" * 70) == ["a" * MAX_WORD, "eb" + "c" * (MAX_WORD - 2)]
    assert words("short words stay") == ["short", "words", "stay"]


def test_terms_are_distinct_in_first_occurrence_order():
    assert [t.surface for t in terms("shoe Shoe SHOE boot", "en_US")] == ["shoe", "boot"]


# -- name ranks ----------------------------------------------------------------------------------

names = st.text(alphabet=st.sampled_from("aAbzZ 09-éøαωжя靴ラ"), max_size=12)


@given(names, names)
def test_name_ranks_never_contradict_the_name_order(a, b):
    ka, kb = name_sort_key(a), name_sort_key(b)
    if ka < kb:
        assert name_rank(ka) <= name_rank(kb)


def test_name_ranks_fit_a_double_and_separate_short_latin_names():
    assert RANK_CHARS >= 7
    assert name_rank("z" * 20) < 2**53
    assert name_rank("") < name_rank(" ") < name_rank("a") < name_rank("ab") < name_rank("b")
    assert name_rank("shoe") < name_rank("shoes") < name_rank("shop")
    # past an unknown character the rank cannot tell names apart: the query orders those
    assert name_rank("ø1") == name_rank("ø2")


# -- memberships ---------------------------------------------------------------------------------


def doc(**kw) -> SearchDocument:
    base = {
        "sku": "S1",
        "version": 3,
        "visible": True,
        "created_at": 1000,
        "brand": "Acme",
        "category_paths": ("shoes-running", "shoes"),
        "attributes": {"color": ("Red", "Red", "Blue")},
        "names": {"en_US": "Running Shoe"},
        "descriptions": {"en_US": "Light and fast"},
        "prices": {"EUR": Decimal("19.99")},
        "availability": "in_stock",
    }
    base.update(kw)
    return SearchDocument(**base)


def test_a_write_call_sends_each_registry_member_once_and_every_documents_memberships():
    first, second = doc(), doc(sku="S2", names={"en_US": "Running Boot"}, attributes={"color": ("Red",)})
    call = write_call([first, second], ["en_US"])
    keys, args = write_args([first, second], call, 7, KEYS)
    assert keys == [KEYS.search_ids(7), KEYS.search_id_seq(7), KEYS.search_doc(7, "S1"), KEYS.search_doc(7, "S2")]
    assert args == ["t:7:idx:{t:7}:", *call]  # the prefix the script puts before every key of the call
    decoded = json.loads(call[0])
    registry = [(op, KEYS.search_index(1) + key, member) for op, key, members in decoded["r"] for member in members]
    assert len(set(registry)) == len(registry)  # "running" and color Red: once each
    wanted = {e[:3] for d in (first, second) for e in entries(d, ["en_US"]) if e.op in (REGISTER, VOCABULARY)}
    assert set(registry) == wanted and (VOCABULARY, "t:1:idx:{t:1}:vocab:en_US", "running\x00run") in registry
    assert decoded["d"] == [[d.sku, str(d.version), *memberships(d, ["en_US"])[:6]] for d in (first, second)]
    # then each document's undo list, stored as it comes: every key it is in, without the SKU
    undo = json.loads(call[2])
    assert set(undo) == {"S", "B", "Z", "H", "M"}  # no variants, so no "N"
    assert set(undo["S"]) >= {"visible", "f:color:Red", "tn:en_US:run", "tn:en_US:boot"} and "S2" not in undo["S"]
    assert undo["B"] == ["fb:brand:Acme", "fb:color:Red"] and "price:EUR" in undo["Z"]
    assert undo["H"] == ["names:en_US"] and ["name_lex:en_US", "running boot\x00S2"] in undo["M"]
    every = {(e.op, e.key.removeprefix(KEYS.search_index(1)), e.member) for e in entries(second, ["en_US"])}
    taken_back = {(op, k, "S2") for op in ("S", "B", "Z", "H") for k in undo[op]} | {("Z", k, m) for k, m in undo["M"]}
    assert taken_back == {e for e in every if e[0] not in (REGISTER, VOCABULARY)}


def test_a_hidden_document_has_no_memberships():
    assert entries(doc(visible=False), ["en_US"]) == []


def test_a_visible_document_is_in_every_set_it_matches():
    got = {(e.op, e.key, e.member, e.score) for e in entries(doc(), ["en_US", "de_DE"])}
    p = "t:1:idx:{t:1}:"
    for key in (
        "visible",
        "in_stock",
        "cat:shoes-running",
        "cat:shoes",
        "f:brand:Acme",
        "f:color:Red",
        "f:color:Blue",
        "tn:en_US:run",
        "tn:en_US:shoe",
        "td:en_US:light",
        "td:en_US:fast",
    ):
        assert (SADD, p + key, "S1", "0") in got, key
    assert (SETBIT, p + "fb:color:Red", "S1", "0") in got  # the bit is the product's id
    assert (REGISTER, p + "facets", "color\x1fRed", "0") in got
    assert (ZADD, p + "price:EUR", "S1", "19.99") in got
    assert (ZADD, p + "created", "S1", "-1000") in got  # newest first is ascending
    assert (HSET, p + "names:en_US", "S1", "Running Shoe") in got
    assert (ZADD, p + "name_lex:en_US", "running shoe\x00S1", "0") in got
    assert (VOCABULARY, p + "vocab:en_US", "running\x00run", "0") in got
    # no German name: ranked like the empty name (first), and nothing to suggest or find
    assert (ZADD, p + "name_rank:de_DE", "S1", "0") in got
    assert not any(e[1].startswith(p + "names:de_DE") or e[1].startswith(p + "tn:de_DE") for e in got)


def test_a_simple_product_has_no_variant_level_memberships():
    got = {e.key for e in entries(doc(), ["en_US"])}
    variant_level = ("vf:", "vin_stock", "vprice:", "variants", "with_variants")
    assert not any(k.startswith(tuple(f"t:1:idx:{{t:1}}:{k}" for k in variant_level)) for k in got)


def test_a_product_with_variants_is_in_the_product_sets_of_any_variant_and_each_variant_in_its_own():
    variants = (
        VariantDocument("S1-BS", {"color": "Blue", "size": "S"}, {"EUR": Decimal("50")}, "sold_out"),
        VariantDocument("S1-M", {"size": "M"}, {"EUR": Decimal("40"), "USD": Decimal("45")}, "low_stock"),
    )
    d = doc(attributes={"color": ("Grey",), "material": ("Wool",)}, variants=variants, prices={})
    got = {(e.op, e.key, e.member, e.score) for e in entries(d, ["en_US"])}
    p = "t:1:idx:{t:1}:"
    # product level: any variant (Grey comes from the M, which has no color of its own)
    for key in ("with_variants", "in_stock", "f:color:Blue", "f:color:Grey", "f:size:S", "f:size:M", "f:material:Wool"):
        assert (SADD, p + key, "S1", "0") in got, key
    assert (ZADD, p + "price:EUR", "S1", "40.0") in got and (ZADD, p + "price:USD", "S1", "45.0") in got
    # variant level: one member per variant, "product U+001F variant"
    bs, m = "S1\x1fS1-BS", "S1\x1fS1-M"
    assert {(e[1], e[2]) for e in got if e[1].startswith(p + "vf:")} == {
        (p + "vf:color:Blue", bs),
        (p + "vf:size:S", bs),
        (p + "vf:material:Wool", bs),
        (p + "vf:color:Grey", m),
        (p + "vf:size:M", m),
        (p + "vf:material:Wool", m),
    }
    assert (ZADD, p + "variants", bs, "0") in got and (ZADD, p + "variants", m, "0") in got
    assert {e[2] for e in got if e[1] == p + "vin_stock"} == {m}  # low stock is in stock
    assert (ZADD, p + "vprice:EUR", bs, "50.0") in got and (ZADD, p + "vprice:USD", m, "45.0") in got
    assert not any(e[1] == p + "vprice:USD" and e[2] == bs for e in got)
    # the values it has on sold-out variants only, and its cheapest in-stock prices
    assert {e[1] for e in got if e[2] == "S1" and e[1].startswith((p + "fo:", p + "fob:"))} == {
        p + "fo:color:Blue",
        p + "fo:size:S",
        p + "fob:color:Blue",
        p + "fob:size:S",
    }
    assert (ZADD, p + "sprice:EUR", "S1", "40.0") in got and (ZADD, p + "sprice:USD", "S1", "45.0") in got
    sold_out = replace(d, variants=tuple(replace(v, availability="sold_out") for v in variants))
    assert (ZADD, p + "sprice:EUR", "S1", "inf") in entries(sold_out, ["en_US"])


def test_sold_out_documents_and_empty_brands_are_left_out_of_their_sets():
    got = {e.key for e in entries(doc(availability="sold_out", brand=""), ["en_US"])}
    assert "t:1:idx:{t:1}:in_stock" not in got
    assert not any(k.startswith("t:1:idx:{t:1}:f:brand:") for k in got)


# -- query plans and results ---------------------------------------------------------------------


def test_a_word_found_nowhere_stands_for_the_words_it_starts():
    words_ = [Term("runn", "runn"), Term("shoe", "shoe"), Term("x", "x")]
    lookup = Lookup.parse([b"color\x1fRed"], words_, [0, 2, 0], [[b"runner\x00runner", b"running\x00run"], [], []])
    assert lookup.stems == [["runner", "run"], ["shoe"], ["x"]]  # too short to expand: itself
    assert lookup.registry == {"color": {"Red"}}


def test_the_plan_names_keys_once_and_reserves_enough_temporaries():
    q = Query(
        locale="en_US",
        currency="EUR",
        text="shoe",
        category="shoes",
        filters={"color": ("Red", "Blue"), "size": ("M",)},
        price_max=Decimal("50"),
        sort="price_desc",
    )
    lookup = Lookup({"color": {"Red", "Green"}, "brand": {"Acme"}}, [["shoe"]])
    p = plan(q, lookup, KEYS, 4, "n")
    spec = json.loads(p.argv)
    assert len(p.keys) == len(set(p.keys))
    assert [name for name, _ in p.facets] == ["brand", "color", "size"]
    assert p.facets[1] == ("color", ["Blue", "Green", "Red"])  # selected values are counted too
    assert spec["sort"] == [p.keys.index("t:4:idx:{t:4}:price:EUR") + 1, -1] and spec["missing"]
    assert spec["price"][1:] == ["-inf", "50.0"]
    temporaries = [k for k in p.keys if ":tmp:n:" in k]
    assert len(temporaries) >= 3 * (1 + 2 + 3 + 2 + 1) and p.keys[spec["tmp"] - 1] == temporaries[0]


def test_a_plan_has_a_variant_level_only_with_variant_level_conditions():
    lookup = Lookup({"color": {"Red", "Blue"}, "brand": {"Acme"}}, [], with_variants=True)

    def spec(with_variants=True, **kw):
        return json.loads(
            plan(
                Query(locale="en_US", currency="EUR", **kw), replace(lookup, with_variants=with_variants), KEYS, 2, "n"
            ).argv
        )

    assert "v" not in spec(filters={"brand": ("Acme",)}, category="c", sort="price_asc")
    assert "v" not in spec(with_variants=False, filters={"color": ("Red",)}, in_stock=True)  # a simple catalog
    for kw in ({"filters": {"color": ("Red",)}}, {"in_stock": True}, {"price_min": Decimal("1")}):
        assert "v" in spec(**kw), kw
    q = Query(
        locale="en_US",
        currency="USD",
        filters={"brand": ("Acme",), "color": ("Red", "Blue"), "size": ("M",)},
        in_stock=True,
        price_max=Decimal("50"),
        sort="price_asc",
    )
    p = plan(q, lookup, KEYS, 2, "n")
    v = json.loads(p.argv)["v"]
    key = p.keys.__getitem__
    assert key(v["multi"] - 1) == "t:2:idx:{t:2}:with_variants" and key(v["all"] - 1) == "t:2:idx:{t:2}:variants"
    assert key(v["stock"] - 1) == "t:2:idx:{t:2}:vin_stock" and key(v["sort"] - 1) == "t:2:idx:{t:2}:vprice:USD"
    assert key(v["price"][0] - 1) == "t:2:idx:{t:2}:vprice:USD" and v["price"][1:] == ["-inf", "50.0"]
    assert [(pos, [key(k - 1) for k in keys]) for pos, keys in v["filters"]] == [
        (2, ["t:2:idx:{t:2}:vf:color:Red", "t:2:idx:{t:2}:vf:color:Blue"]),
        (3, ["t:2:idx:{t:2}:vf:size:M"]),
    ]  # not the brand: it is product-level
    assert v["facets"][0] == [] and [key(k - 1) for k in v["facets"][2]] == ["t:2:idx:{t:2}:vf:size:M"]
    assert len(p.keys) == len(set(p.keys))


def _plan(**kw):
    q = Query(locale="en_US", currency="EUR", **kw)
    return plan(q, Lookup({"color": {"Red", "Blue"}}, []), KEYS, 1, "n")


def test_a_name_sorted_page_is_cut_from_its_tie_groups_in_full_name_order():
    p = _plan(sort="name", page=2, per_page=2)  # offset 2; the window starts at rank 1
    window = [b"B", b"A", b"C", b"D"]
    names = [b"Shoe b", b"Shoe a", b"shoe a", "Shoé c".encode()]
    result = p.result([9, window, names, 1, 1, [], [[0, 0], [0, 0]]])
    assert result.skus == ("C", "B")  # order: A, C (same key, SKU), B, D; ranks 1..4


def test_a_price_page_ends_with_the_products_without_price():
    p = _plan(sort="price_desc", page=1, per_page=4)
    result = p.result([5, [b"X", b"Y"], [b"10", b"12.5"], 0, -1, [b"A", b"B", b"C"], [[], [0, 0]]])
    assert result.skus == ("Y", "X", "A", "B") and result.total == 5


def test_facets_keep_selected_values_and_cut_the_rest_by_count():
    values = {f"v{i:02d}" for i in range(60)}
    q = Query(locale="en_US", currency="EUR", filters={"color": ("v59", "zz")})
    p = plan(q, Lookup({"color": values}, []), KEYS, 1, "n")
    counts = [[]] + [[0 if v == "zz" else int(v[1:]) for v in p.facets[1][1]]]
    facet = p.result([0, [], [], 0, 1, [], counts]).facets
    assert facet[0].name == "color" and len(facet[0].values) == MAX_FACET_VALUES
    assert facet[0].values[0] == FacetValue("v59", 59, True)
    assert facet[0].values[-1] == FacetValue("zz", 0, True)
    assert [v.count for v in facet[0].values[1:-1]] == list(range(58, 10, -1))
    assert Facet("brand", ()) not in facet  # a facet without values is left out
