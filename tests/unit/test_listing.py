"""Filter navigation, controls and the ItemList JSON-LD of listing pages (pure string work)."""
import json
import re
from html import unescape
from urllib.parse import parse_qs, urlparse

from projector.i18n import messages
from search.query import Facet, FacetValue, Result, parse
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
    result = Result(("A",), 1, (Facet("brand", (FacetValue("Luma", 4, True), FacetValue("Aurora <x>", 2, False))),
                                Facet("color", (FacetValue("Red", 1, True),))))
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
    query = parse({"page": ["2"], "per_page": ["10"], "color": ["Red"]}, locale="en_US", currency="EUR",
                  facet_names={"brand", "color"})
    pager = listing.pager(query, 35, {"color": ["Red"], "page": ["2"]}, T)
    assert 'rel="prev"' in pager and 'rel="next"' in pager and 'aria-current="page">2<' in pager
    body = listing.listing_body("<h1>X</h1>", query, Result((), 0), [], {"color": ["Red"]}, T)
    assert "No products match" in body and 'data-total="0"' in body


def test_tiles_skip_missing_snippets_and_prefer_the_offer():
    raw = [b"1\n<a>T1</a>", b"1\n<div>12</div>\x1e\"price\":\"12\"", b"1\n<div>9</div>\x1e\"price\":\"9\"", b"1\n<p>in</p>\x1e",
           None, None, None, None]
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
