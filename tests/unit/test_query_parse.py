"""Shopper parameters become a Query; bad values are ignored or clamped, never an error."""
from decimal import Decimal

from search.query import MAX_PER_PAGE, parse


def q(**params):
    return parse({k: v if isinstance(v, list) else [v] for k, v in params.items()}, locale="en_US", currency="EUR")


def test_filters_repeat_for_or_and_reserved_names_are_not_facets():
    query = q(brand=["Luma", "Aurora", "Luma"], color="Red", sort="price_asc", locale="de_DE", q=" bag ")
    assert query.filters == {"brand": ("Luma", "Aurora"), "color": ("Red",)}
    assert query.sort == "price_asc" and query.text == "bag"


def test_bad_values_are_clamped_or_ignored():
    query = q(page="-3", per_page="5000", sort="random()", price="abc", in_stock="maybe")
    assert (query.page, query.per_page, query.sort) == (1, MAX_PER_PAGE, "relevance")
    assert (query.price_min, query.price_max, query.in_stock) == (None, None, False)
    assert q(page="x", per_page="0").per_page == 1
    assert q(page="99999999999999999999").page == 1000


def test_price_ranges():
    assert (q(price="10-50").price_min, q(price="10-50").price_max) == (Decimal(10), Decimal(50))
    assert (q(price="50-10").price_min, q(price="50-10").price_max) == (Decimal(10), Decimal(50))
    assert (q(price="-20").price_min, q(price="-20").price_max) == (None, Decimal(20))
    assert q(price="NaN-Infinity").price_min is None
    assert q(price="5.5-").price_min == Decimal("5.5")


def test_odd_facet_names_and_huge_values_are_dropped():
    query = q(**{"Color": "x", "a-b": "y", "size": "z" * 500, "material": ""})
    assert query.filters == {}
