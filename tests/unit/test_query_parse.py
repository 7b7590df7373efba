"""Shopper parameters become a Query; bad values are ignored or clamped, never an error."""

from decimal import Decimal

from search.query import MAX_FILTERED_FACETS, MAX_PER_PAGE, MAX_RESULT_WINDOW, MAX_SELECTED_VALUES, MAX_WORDS, parse

KNOWN = frozenset({"brand", "color", "size", "material", "4g", "shape"})


def q(known=KNOWN, **params):
    return parse(
        {k: v if isinstance(v, list) else [v] for k, v in params.items()},
        locale="en_US",
        currency="EUR",
        facet_names=known,
    )


def test_filters_repeat_for_or_and_reserved_names_are_not_facets():
    query = q(brand=["Luma", "Aurora", "Luma"], color="Red", sort="price_asc", locale="de_DE", q=" bag ")
    assert query.filters == {"brand": ("Luma", "Aurora"), "color": ("Red",)}
    assert query.sort == "price_asc" and query.text == "bag"


def test_bad_values_are_clamped_or_ignored():
    query = q(page="-3", per_page="5000", sort="random()", price="abc", in_stock="maybe")
    assert (query.page, query.per_page, query.sort) == (1, MAX_PER_PAGE, "relevance")
    assert (query.price_min, query.price_max, query.in_stock) == (None, None, False)
    assert q(page="x", per_page="0").per_page == 1
    assert q(page="99999999999999999999").page == MAX_RESULT_WINDOW // 24


def test_price_ranges():
    assert (q(price="10-50").price_min, q(price="10-50").price_max) == (Decimal(10), Decimal(50))
    assert (q(price="50-10").price_min, q(price="50-10").price_max) == (Decimal(10), Decimal(50))
    assert (q(price="-20").price_min, q(price="-20").price_max) == (None, Decimal(20))
    assert q(price="NaN-Infinity").price_min is None
    assert q(price="5.5-").price_min == Decimal("5.5")


def test_odd_facet_names_and_huge_values_are_dropped():
    query = q(**{"Color": "x", "a-b": "y", "size": "z" * 500, "material": ""})
    assert query.filters == {}


def test_only_facets_the_index_knows_filter_and_campaign_parameters_are_ignored():
    query = q(utm_source="news", gclid="abc", fbclid="x", a0="x", color="Red", **{"4g": "yes"})
    assert query.filters == {"4g": ("yes",), "color": ("Red",)}
    assert q(utm_source="news", gclid="abc", fbclid="x").filters == {}


def test_selections_are_capped_in_facets_and_in_values():
    names = frozenset(f"a{i:03}" for i in range(1000))
    query = q(known=names, **dict.fromkeys(names, "x"))
    assert len(query.filters) == MAX_FILTERED_FACETS
    query = q(color=[f"c{i}" for i in range(1000)], size=[f"s{i}" for i in range(1000)])
    assert sum(len(v) for v in query.filters.values()) == MAX_SELECTED_VALUES
    assert query.filters["color"] == tuple(f"c{i}" for i in range(MAX_SELECTED_VALUES))


def test_prices_follow_the_money_rule_and_anything_else_is_ignored():
    for bad in ("1e999990-", "-1e5", "1E3-2E3", "12.345-", "+5-", " - ", "0x10-", "1_000-", "١٢-"):
        assert (q(price=bad).price_min, q(price=bad).price_max) == (None, None), bad
    assert (q(price="9999999999.99-").price_min, q(price="12.3-45").price_max) == (
        Decimal("9999999999.99"),
        Decimal(45),
    )


def test_pages_past_the_result_window_are_clamped_and_flagged():
    deep = q(page="1000", per_page="96")
    assert deep.past_window and deep.offset + deep.per_page <= MAX_RESULT_WINDOW and deep.page == 104
    last = q(page="104", per_page="96")
    assert not last.past_window and last.offset == 9888


def test_search_text_keeps_at_most_the_word_cap():
    text = " ".join(f"w{i}" for i in range(100))
    assert q(q=text).text == " ".join(f"w{i}" for i in range(MAX_WORDS))
    assert q(q="t-shirt, red!").text == "t-shirt, red!"


def test_params_give_back_the_same_query():
    query = q(
        q="bag", color=["Red", "Blue"], price="5-", in_stock="1", sort="name", per_page="48", page="2", utm_source="x"
    )
    again = parse(query.params(), locale="en_US", currency="EUR", facet_names=KNOWN)
    assert again == q(q="bag", color=["Red", "Blue"], price="5-", in_stock="1", sort="name", per_page="48")
    assert "utm_source" not in query.params() and "page" not in query.params()
