"""Listing, search and suggest pages over HTTP, on both search adapters."""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tests.processes import wait_until

pytestmark = pytest.mark.e2e
API = "/admin/api/v1"
PRODUCTS = {  # sku: (name, brand, color, EUR price, stock, category)
    "L-1": ("Trail Bag", "Luma", ["Red"], "30.00", 10, "l-bags"),
    "L-2": ("City Bag", "Luma", ["Blue"], "20.00", 0, "l-bags"),
    "L-3": ("Hiking Backpack", "Aurora", ["Red", "Black"], "55.00", 3, "l-packs"),
    "L-4": ("Running Shoes", "Aurora", ["Blue"], "80.00", 20, "l-shoes"),
    "L-5": ("Shoe Bag", "Nordkap", ["Green"], "12.50", 5, "l-bags"),
}


def api(shop, method, path, body=None):
    r = requests.request(method, shop.admin + API + path, json=body, headers=shop.auth(), timeout=10)
    assert r.status_code in (200, 201), r.text
    return r


def page(shop, path, **params):
    return requests.get(shop.edge + path, params=params, timeout=10)


def item_list(html: str) -> dict:
    for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S):
        data = json.loads(block)
        if data.get("@type") == "ItemList":
            return data
    raise AssertionError("no ItemList JSON-LD")


def skus(html: str) -> list[str]:
    return [e["item"]["sku"] for e in item_list(html)["itemListElement"]]


def facets(html: str) -> dict[tuple[str, str], int]:
    return {
        (f, v): int(c) for f, v, c in re.findall(r'data-facet="([^"]+)" data-value="([^"]+)" data-count="(\d+)"', html)
    }


@pytest.fixture(scope="module")
def catalog(shop):
    api(shop, "PUT", "/categories/l-gear", {"parent": None, "name": {"en_US": "Gear", "de_DE": "Ausrüstung"}})
    for key, name in (("l-bags", "Bags"), ("l-packs", "Backpacks"), ("l-shoes", "Shoes")):
        api(shop, "PUT", f"/categories/{key}", {"parent": "l-gear", "name": {"en_US": name}})
    for sku, (name, brand, colors, price, stock, cat) in PRODUCTS.items():
        api(
            shop,
            "PUT",
            f"/products/{sku}",
            {
                "name": {"en_US": name},
                "brand": brand,
                "categories": [cat],
                "attributes": {"color": colors},
                "description": {"en_US": f"<p>{name}</p>"},
            },
        )
        api(shop, "PUT", f"/prices/{sku}/EUR", {"amount": price})
        api(shop, "PUT", f"/stock/{sku}", {"quantity": stock})

    def ready():
        r = page(shop, "/c/l-gear", sort="price_asc")
        return (
            r.status_code == 200
            and skus(r.text) == ["L-5", "L-2", "L-1", "L-3", "L-4"]
            and "schema.org" in r.text
            and facets(r.text).get(("brand", "Luma")) == 2
        )

    wait_until(ready, timeout=30, what="projected listing")
    return PRODUCTS


def test_category_lists_its_subcategories_with_facets(shop, catalog):
    r = page(shop, "/c/l-gear", sort="price_asc")
    data = item_list(r.text)
    assert data["numberOfItems"] == 5
    f = facets(r.text)
    assert f[("brand", "Luma")] == 2 and f[("brand", "Aurora")] == 2 and f[("color", "Red")] == 2
    assert '<h1 class="category-name">Gear</h1>' in r.text
    assert skus(page(shop, "/c/l-bags").text) and set(skus(page(shop, "/c/l-bags").text)) == {"L-1", "L-2", "L-5"}


def test_filters_or_within_and_across_facets_and_disjunctive_counts(shop, catalog):
    r = page(shop, "/c/l-gear", brand=["Luma", "Nordkap"], color="Red", sort="price_asc")
    assert skus(r.text) == ["L-1"]
    f = facets(r.text)
    # brand counts ignore the brand selection but respect color=Red: Luma 1, Aurora 1
    assert f[("brand", "Luma")] == 1 and f[("brand", "Aurora")] == 1
    # color counts ignore the color selection but respect the brands: Red 1, Blue 1, Green 1
    assert f[("color", "Blue")] == 1 and f[("color", "Green")] == 1
    assert 'class="selected" aria-current="true" data-facet="brand" data-value="Luma"' in r.text


def test_price_range_in_stock_sort_and_paging(shop, catalog):
    assert skus(page(shop, "/c/l-gear", price="15-60", sort="price_desc").text) == ["L-3", "L-1", "L-2"]
    assert "L-2" not in skus(page(shop, "/c/l-gear", in_stock="1").text)
    first = page(shop, "/c/l-gear", sort="name", per_page="2")
    second = page(shop, "/c/l-gear", sort="name", per_page="2", page="2")
    assert skus(first.text) == ["L-2", "L-3"] and skus(second.text) == ["L-4", "L-5"]
    assert 'rel="next"' in first.text


def test_search_with_stemming_and_filters(shop, catalog):
    r = page(shop, "/search", q="bags")
    assert {"L-1", "L-2", "L-5"} <= set(skus(r.text))
    assert set(skus(page(shop, "/search", q="shoe", brand="Aurora").text)) == {"L-4"}
    empty = page(shop, "/search", q="zzzxxyq")
    assert (
        empty.status_code == 200 and item_list(empty.text)["numberOfItems"] == 0 and "No products match" in empty.text
    )


def test_suggest(shop, catalog):
    found = requests.get(shop.edge + "/suggest", params={"q": "Hik"}, timeout=10).json()
    assert [s["sku"] for s in found] == ["L-3"] and found[0]["url"] == "/p/L-3"
    assert requests.get(shop.edge + "/suggest", timeout=10).json() == []


def test_price_change_moves_the_product_in_the_listing(shop, catalog):
    api(shop, "PUT", "/prices/L-4/EUR", {"amount": "1.00"})
    wait_until(
        lambda: skus(page(shop, "/c/l-gear", sort="price_asc").text)[0] == "L-4", timeout=15, what="re-sorted listing"
    )
    api(shop, "PUT", "/prices/L-4/EUR", {"amount": "80.00"})


@pytest.mark.parametrize(
    "params",
    [
        {"page": "-1"},
        {"per_page": "100000"},
        {"page": "abc", "per_page": "x"},
        {"price": "abc-"},
        {"sort": "drop table"},
        {"brand": "<script>"},
        {"in_stock": "2"},
        {"q": "x" * 1500},
    ],
)
def test_bad_parameters_are_clamped_never_500(shop, catalog, params):
    for path in ("/c/l-gear", "/search"):
        r = page(shop, path, **params)
        assert r.status_code == 200, (path, params, r.status_code)
        assert "<script>" not in r.text.split('<main id="main">')[1].split("application/ld+json")[0]


def test_unknown_category_is_404(shop, catalog):
    assert page(shop, "/c/no-such-category").status_code == 404
    assert page(shop, "/c/BAD..KEY").status_code == 404


BY_PRICE = ["L-5", "L-2", "L-1", "L-3", "L-4"]


def settled(shop):
    """The listing in its price order again (a test before may have moved a price and back)."""
    wait_until(
        lambda: skus(page(shop, "/c/l-gear", sort="price_asc").text) == BY_PRICE,
        timeout=15,
        what="listing in price order",
    )


def test_campaign_and_unknown_parameters_give_the_unfiltered_listing(shop, catalog):
    settled(shop)
    plain = page(shop, "/c/l-gear", sort="price_asc")
    tagged = page(
        shop,
        "/c/l-gear",
        sort="price_asc",
        utm_source="news",
        utm_campaign="x",
        gclid="abc",
        fbclid="def",
        nosuchfacet="1",
    )
    assert tagged.status_code == 200 and skus(tagged.text) == skus(plain.text) == BY_PRICE
    assert facets(tagged.text) == facets(plain.text)
    assert "utm_source" not in tagged.text and "gclid" not in tagged.text  # links carry only what filtered


def test_many_parameters_within_the_limit_cost_no_more_than_a_plain_listing(shop, catalog):
    junk = {f"a{i}": "x" for i in range(400)}  # ~2.8 KB: under the limit, names the index does not know
    plain = page(shop, "/search", q="bag")
    r = page(shop, "/search", q="bag", **junk, color=[f"c{i}" for i in range(100)])
    assert r.status_code == 200 and "a399" not in r.text and len(r.text) < 64_000  # was 10 MB for 1000 names
    assert item_list(r.text)["numberOfItems"] == 0  # 32 colours no product has: nothing
    assert len(re.findall(r'data-facet="color" data-value="c\d+"', r.text)) == 32  # the cap, to unselect them
    assert plain.status_code == 200 and skus(plain.text)


def test_a_query_string_over_the_limit_is_414(shop, catalog):
    r = requests.get(shop.edge + "/search?" + "&".join(f"a{i}=x" for i in range(1000)), timeout=10)
    assert r.status_code == 414 and "at most 4096 characters" in r.text and r.headers["Cache-Control"] == "no-store"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_a_price_with_a_huge_exponent_is_ignored(shop, catalog):
    settled(shop)
    for price in ("1e999990-", "-1e999990", "1e99999999999-", "NaN-"):
        r = page(shop, "/c/l-gear", price=price, sort="price_asc")
        assert r.status_code == 200 and skus(r.text) == BY_PRICE, price


def test_a_page_past_the_result_window_asks_to_refine(shop, catalog):
    r = page(shop, "/c/l-gear", page="1000", per_page="96")
    assert r.status_code == 200 and 'class="refine"' in r.text and "10,000" in r.text
    assert item_list(r.text)["numberOfItems"] == 5 and 'class="tiles"' not in r.text
    if shop.search == "elasticsearch":  # the index keeps Elasticsearch's default window
        from elasticsearch import Elasticsearch

        es = Elasticsearch(shop.es_url)
        settings = es.indices.get_settings(index=f"{shop.key_prefix}-products", include_defaults=True)
        (index,) = settings.values()
        assert "max_result_window" not in index["settings"]["index"]
        assert index["defaults"]["index"]["max_result_window"] == "10000"


def test_suggest_varies_by_cookie_and_pages_carry_security_headers(shop, catalog):
    suggest = requests.get(shop.edge + "/suggest", params={"q": "Hik"}, timeout=10)
    assert "Cookie" in suggest.headers["Vary"]
    for path in ("/c/l-gear", "/search?q=bag", "/p/L-1", "/p/L-1", "/", "/p/NO-SUCH", "/suggest?q=b"):
        headers = requests.get(shop.edge + path, timeout=10).headers
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin", path
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path


def chip_hrefs(html: str) -> dict[str, str]:
    """The selection's chips above the results: label → link ("*": the link that removes all)."""
    out = {}
    for attrs, text in re.findall(r'<a ([^>]*class="(?:chip|clear-all)"[^>]*)>(.*?)</a>', html):
        label = re.sub(r'<span class="(?:visually-hidden|chip-x)"[^>]*>.*?</span>', "", text)
        out["*" if "clear-all" in attrs else unescape(label)] = unescape(re.search(r'href="([^"]*)"', attrs).group(1))
    return out


def test_filters_in_a_sidebar_and_the_selection_as_chips_that_remove_one_value_each(shop, catalog):
    settled(shop)
    plain = page(shop, "/c/l-gear", sort="price_asc")
    aside = re.search(r'<aside class="filters" aria-label="Filters">(.*?)</aside>', plain.text, re.S).group(1)
    assert len(facets(aside)) == len(facets(plain.text)) >= 7  # every facet link in the sidebar
    assert '<details class="facet" data-facet-name="color">' in aside
    assert re.search(r'<label for="([^"]+)">.*<input id="\1" name="price"', aside)  # a labelled price input
    results = plain.text[plain.text.index("</aside>") :]
    assert results.index('data-total="5"') < results.index('class="tiles"')  # the count above the products
    assert 'class="chips"' not in plain.text and 'class="clear-all"' not in plain.text  # nothing selected

    r = page(shop, "/c/l-gear", brand=["Luma", "Aurora"], color="Red", price="10-60", in_stock="1", sort="price_asc")
    assert skus(r.text) == ["L-1", "L-3"]
    chips = chip_hrefs(r.text)
    assert set(chips) == {"Brand: Luma", "Brand: Aurora", "Color: Red", "Price: €10.00 – €60.00", "In stock only", "*"}
    follow = {
        label: skus(requests.get(shop.edge + "/c/l-gear" + href, timeout=10).text) for label, href in chips.items()
    }
    assert follow["Brand: Aurora"] == ["L-1"] and follow["Brand: Luma"] == ["L-3"]
    assert follow["Color: Red"] == ["L-1", "L-3"] and follow["In stock only"] == ["L-1", "L-3"]
    assert follow["*"] == BY_PRICE  # every filter gone, the sort kept
    assert parse_qs(urlparse(chips["Price: €10.00 – €60.00"]).query) == {
        "brand": ["Luma", "Aurora"],
        "color": ["Red"],
        "in_stock": ["1"],
        "sort": ["price_asc"],
    }
    assert 'class="selected" aria-current="true" data-facet="brand" data-value="Luma"' in r.text


def test_error_pages_speak_the_shoppers_language(shop, catalog):
    for path in ("/p/NO-SUCH?locale=de_DE", "/c/no-such-category?locale=de_DE", "/no/such/page?locale=de_DE"):
        r = requests.get(shop.edge + path, timeout=10)
        assert r.status_code == 404, path
        assert '<html lang="de">' in r.text and "<h1>Nicht gefunden</h1>" in r.text and "Not found" not in r.text, path
    remembered = requests.get(shop.edge + "/no/such/page", cookies={"locale": "de_DE"}, timeout=10)
    assert remembered.status_code == 404 and "<h1>Nicht gefunden</h1>" in remembered.text
    english = requests.get(shop.edge + "/p/NO-SUCH", timeout=10)
    assert english.status_code == 404 and '<html lang="en">' in english.text and "<h1>Not found</h1>" in english.text
    wrong = requests.post(shop.edge + "/p/L-1?locale=de_DE", timeout=10)
    assert wrong.status_code == 405 and 'lang="de"' in wrong.text and "Methode nicht erlaubt" in wrong.text
    too_long = requests.get(
        shop.edge + "/search?" + "&".join(f"a{i}=x" for i in range(1000)), cookies={"locale": "de_DE"}, timeout=10
    )
    assert too_long.status_code == 414 and 'lang="de"' in too_long.text and "höchstens 4096 Zeichen" in too_long.text


def facet_heading(html: str, name: str) -> str | None:
    found = re.search(rf'data-facet-name="{name}"><summary><h3>(.*?)(?: <span class="picked">.*?)?</h3>', html)
    return found.group(1) if found else None


def test_an_attribute_label_set_through_the_api_heads_the_facet_in_each_locale(shop, catalog):
    assert facet_heading(page(shop, "/c/l-gear").text, "color") == "Color"  # the fallback
    api(shop, "PUT", "/attributes/Color", {"label": {"en_US": "Colour <&>", "de_DE": "Farbton"}})
    wait_until(
        lambda: facet_heading(page(shop, "/c/l-gear").text, "color") == "Colour &lt;&amp;&gt;",
        timeout=15,
        what="the label on the listing",
    )
    assert facet_heading(page(shop, "/c/l-gear", locale="de_DE").text, "color") == "Farbton"
    assert "Colour &lt;&amp;&gt;: Red" in page(shop, "/search", q="bag", color="Red").text  # the chip
    wait_until(
        lambda: "<dt>Colour &lt;&amp;&gt;</dt>" in page(shop, "/p/L-1").text,
        timeout=10,
        what="the label on the product page",
    )
    api(shop, "PUT", "/attributes/color", {"label": {}})  # back to the fallback for the other tests
    wait_until(
        lambda: facet_heading(page(shop, "/c/l-gear").text, "color") == "Color", timeout=15, what="the fallback again"
    )
