"""Filter navigation, controls and the ItemList JSON-LD of listing pages (pure string work)."""

import json
import re
from html import unescape
from urllib.parse import parse_qs, urlparse

from search.query import Facet, FacetValue, Result, parse
from vocab.i18n import messages
from web.edge import listing

T = messages("en_US")


def links(html: str) -> dict[str, dict]:
    """data-value → (href query, attributes) for each facet link."""
    out = {}
    for tag in re.findall(r"<a ([^>]*)>", html):
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', tag))
        if "data-value" in attrs:
            out[unescape(attrs["data-value"])] = {"query": parse_qs(urlparse(unescape(attrs["href"])).query), **attrs}
    return out


def test_facet_links_keep_other_filters_and_toggle_their_value():
    params = {"brand": ["Luma"], "color": ["Red"], "page": ["3"]}
    result = Result(
        ("A",),
        1,
        (
            Facet("brand", (FacetValue("Luma", 4, True), FacetValue("Aurora <x>", 2, False))),
            Facet("color", (FacetValue("Red", 1, True),)),
        ),
    )
    html = listing.facet_nav(result, params, T)
    found = links(html)
    assert found["Aurora <x>"]["query"] == {"brand": ["Luma", "Aurora <x>"], "color": ["Red"]}  # page reset
    assert found["Luma"]["query"] == {"color": ["Red"]}  # unselect
    assert found["Luma"]["data-count"] == "4" and found["Luma"]["data-facet"] == "brand"
    assert 'class="selected"' in html and "Aurora &lt;x&gt;" in html and "<x>" not in html


def test_item_list_names_the_page_skus_in_order_and_the_total():
    query = parse({"page": ["2"], "per_page": ["2"]}, locale="en_US", currency="EUR", facet_names={"brand"})
    html = listing.item_list(query, Result(("B", "A"), 17))
    data = json.loads(html.split(">", 1)[1].rsplit("</script>", 1)[0])
    assert data["numberOfItems"] == 17
    assert [e["item"]["sku"] for e in data["itemListElement"]] == ["B", "A"]
    assert [e["position"] for e in data["itemListElement"]] == [3, 4]


def test_pager_and_empty_page():
    query = parse(
        {"page": ["2"], "per_page": ["10"], "color": ["Red"]},
        locale="en_US",
        currency="EUR",
        facet_names={"brand", "color"},
    )
    pager = listing.pager(query, 35, {"color": ["Red"], "page": ["2"]}, T)
    assert 'rel="prev"' in pager and 'rel="next"' in pager and 'aria-current="page">2<' in pager
    body = listing.listing_body("<h1>X</h1>", query, Result((), 0), [], {"color": ["Red"]}, T)
    assert "No products match" in body and 'data-total="0"' in body


def test_tiles_skip_missing_snippets_and_prefer_the_offer():
    raw = [
        b"1\n<a>T1</a>",
        b'1\n<div>12</div>\x1e"price":"12"',
        b'1\n<div>9</div>\x1e"price":"9"',
        b"1\n<p>in</p>\x1e",
        None,
        None,
        None,
        None,
    ]
    html = listing.tiles(raw, ["A", "B"])
    assert html == ['<li class="tile" data-sku="A"><a>T1</a><div>9</div><p>in</p></li>']


def test_the_pager_stops_at_the_result_window_and_past_it_the_page_asks_to_refine():
    names = {"brand"}
    query = parse({"page": ["104"], "per_page": ["96"]}, locale="en_US", currency="EUR", facet_names=names)
    pager = listing.pager(query, 50_000, {}, T)
    assert 'aria-current="page">104<' in pager and 'rel="next"' not in pager and "page=105" not in pager
    deep = parse({"page": ["1000"], "per_page": ["96"]}, locale="en_US", currency="EUR", facet_names=names)
    body = listing.listing_body("<h1>X</h1>", deep, Result(("A",), 50_000), ["<li>A</li>"], {}, T)
    assert 'class="refine"' in body and "10,000" in body and "<li>A</li>" not in body


def _query(args, names=("brand", "color", "size")):
    return parse(args, locale="en_US", currency="EUR", facet_names=set(names))


def chip_links(html: str) -> dict[str, dict]:
    """Chip label (without the hidden "Remove filter: ") → href query; plus "*" for the remove-all link."""
    out = {}
    for attrs, text in re.findall(r'<a ([^>]*class="(?:chip|clear-all)"[^>]*)>(.*?)</a>', html):
        href = parse_qs(urlparse(unescape(re.search(r'href="([^"]*)"', attrs).group(1))).query)
        label = unescape(re.sub(r"<span class=\"(?:visually-hidden|chip-x)\"[^>]*>.*?</span>", "", text))
        out["*" if "clear-all" in attrs else label] = href
    return out


def test_filters_sit_in_a_sidebar_beside_the_results_with_the_count_on_top():
    query = _query({"q": ["bag"]})
    result = Result(("A",), 1, (Facet("brand", (FacetValue("Luma", 1, False),)),))
    body = listing.listing_body("<h1>X</h1>", query, result, ['<li class="tile">A</li>'], query.params(), T)
    aside = re.search(r'<aside class="filters" aria-label="Filters">(.*?)</aside>', body, re.S)
    assert aside and 'data-facet="brand"' in aside.group(1)  # the facets are in the sidebar
    results = body[body.index("</aside>") :]
    assert results.index('class="result-count"') < results.index('class="tiles"')  # the count first
    assert '<h2 class="result-count" id="result-count" data-total="1">1 product</h2>' in results
    # each facet a collapsible group with a heading: closed, so a narrow screen shows products first
    assert '<details class="facet" data-facet-name="brand"><summary><h3>Brand</h3></summary>' in aside.group(1)
    assert '<nav class="pager"' not in body and 'class="chips"' not in body  # one page, nothing selected


def test_the_price_range_input_has_a_label_and_keeps_the_other_parameters():
    query = _query({"brand": ["Luma"], "price": ["10-50"], "sort": ["name"]})
    body = listing.listing_body("", query, Result((), 0), [], query.params(), T)
    form = re.search(r'<form class="price-range" method="get">(.*?)</form>', body).group(1)
    field = re.search(r"<input id=\"([^\"]+)\" name=\"price\" value=\"10-50\"", form)
    assert field and f'<label for="{field.group(1)}">' in form
    assert '<input type="hidden" name="brand" value="Luma">' in form and 'name="sort" value="name"' in form


def test_a_facet_with_many_values_shows_eight_and_folds_the_rest():
    values = tuple(FacetValue(f"V{i:02d}", 50 - i, i == 15) for i in range(20))
    query = _query({"color": ["V15"]})
    html = listing.facet_nav(Result((), 0, (Facet("color", values), Facet("size", values[:9]))), query.params(), T)
    color, size = html.split('data-facet-name="size"')
    shown, folded = color.split('<details class="more"')
    assert re.findall(r'data-value="(V\d+)"', shown) == [f"V{i:02d}" for i in range(8)]
    assert folded.startswith(" open><summary>Show 12 more</summary>")  # opened: a selected value is in it
    assert (
        len(re.findall(r'data-value="V\d+"', folded)) == 12
        and '<h3>Color <span class="picked">(1)</span></h3>' in color
    )
    assert '<details class="more"' not in size and len(re.findall("data-value=", size)) == 9  # few: all shown


def test_the_selection_shows_as_chips_each_removing_one_value():
    query = _query(
        {
            "q": ["bag"],
            "brand": ["Luma", "Aurora"],
            "color": ["Red"],
            "price": ["10-50"],
            "in_stock": ["1"],
            "sort": ["name"],
            "page": ["2"],
        }
    )
    result = Result(
        ("A",),
        1,
        (
            Facet("brand", (FacetValue("Luma", 4, True), FacetValue("Aurora", 2, True))),
            Facet("color", (FacetValue("Red", 1, True),)),
        ),
    )
    body = listing.listing_body("", query, result, ["<li>A</li>"], query.params(), T)
    chips = body[body.index('<nav class="chips" aria-label="Selected filters">') : body.index("<li>A</li>")]
    found = chip_links(chips)
    keep = {"q": ["bag"], "sort": ["name"]}
    assert found == {
        "Brand: Luma": {**keep, "brand": ["Aurora"], "color": ["Red"], "price": ["10-50"], "in_stock": ["1"]},
        "Brand: Aurora": {**keep, "brand": ["Luma"], "color": ["Red"], "price": ["10-50"], "in_stock": ["1"]},
        "Color: Red": {**keep, "brand": ["Luma", "Aurora"], "price": ["10-50"], "in_stock": ["1"]},
        "Price: €10.00 – €50.00": {**keep, "brand": ["Luma", "Aurora"], "color": ["Red"], "in_stock": ["1"]},
        "In stock only": {**keep, "brand": ["Luma", "Aurora"], "color": ["Red"], "price": ["10-50"]},
        "*": keep,
    }
    assert '<span class="visually-hidden">Remove filter: </span>' in chips
    assert "data-facet=" not in chips  # the contract's facet links stay the navigation's alone
    assert (
        body.index('class="result-count"') < body.index('class="chip"') < body.index('class="tiles"')
    )  # above the results


def test_chips_for_a_one_sided_price_range_in_german():
    de = messages("de_DE")
    query = parse({"price": ["-40"]}, locale="de_DE", currency="EUR", facet_names={"brand"})
    assert "Preis: bis 40,00\xa0€" in chip_links(listing.chips(query, query.params(), de))
    query = parse({"price": ["15-"]}, locale="de_DE", currency="EUR", facet_names={"brand"})
    assert "Preis: ab 15,00\xa0€" in chip_links(listing.chips(query, query.params(), de))
