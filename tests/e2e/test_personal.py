"""Context switching, personalization from cookies, caching headers, concurrent stock movements."""

from __future__ import annotations

import concurrent.futures
import re

import pytest
import requests

from tests.processes import wait_until

pytestmark = pytest.mark.e2e
API = "/admin/api/v1"


@pytest.fixture(scope="module")
def product(shop):
    def put(path, body):
        r = requests.put(shop.admin + API + path, json=body, headers=shop.auth(), timeout=10)
        assert r.status_code == 200, r.text

    put("/categories/p-gear", {"parent": None, "name": {"en_US": "Gear", "de_DE": "Ausrüstung"}})
    put("/products/P-1", {"name": {"en_US": "Lamp", "de_DE": "Lampe"}, "categories": ["p-gear"]})
    put("/prices/P-1/EUR", {"amount": "1234.50"})
    put("/prices/P-1/USD", {"amount": "1333.26"})
    put("/stock/P-1", {"quantity": 100})
    wait_until(
        lambda: (
            "schema.org/InStock" in requests.get(shop.edge + "/p/P-1", timeout=10).text
            and "$1,333.26" in requests.get(shop.edge + "/p/P-1?currency=USD", timeout=10).text
        ),
        timeout=15,
    )
    return "P-1"


def test_locale_and_currency_from_query_then_cookie_then_default(shop, product):
    s = requests.Session()
    assert "€1,234.50" in s.get(shop.edge + "/p/P-1", timeout=10).text  # defaults: en_US, EUR
    de = s.get(shop.edge + "/p/P-1?locale=de_DE&currency=USD", timeout=10)
    assert "Lampe" in de.text and "1.333,26\xa0$" in de.text
    again = s.get(shop.edge + "/p/P-1", timeout=10)  # remembered by cookies
    assert "Lampe" in again.text and "1.333,26\xa0$" in again.text
    bad = s.get(shop.edge + "/p/P-1?locale=xx_XX&currency=XYZ", timeout=10)  # unknown values: ignored
    assert bad.status_code == 200 and "Lampe" in bad.text


def test_personal_values_are_filled_escaped_and_private(shop, product):
    # Quoted, so the cookie parser hands the whole hostile value to the edge.
    cookie = 'customer_name="<img src=x onerror=alert(1)>Ada"; cart_count=3'
    r = requests.get(shop.edge + "/p/P-1", headers={"Cookie": cookie}, timeout=10)
    assert "&lt;img src=x onerror=alert(1)&gt;Ada" in r.text and "<img src=x" not in r.text
    assert '<span class="cart-count">3</span>' in r.text
    assert "private" in r.headers["Cache-Control"] and "ETag" not in r.headers
    hostile = requests.get(shop.edge + "/p/P-1", cookies={"cart_count": "<b>9</b>"}, timeout=10)
    assert '<span class="cart-count">0</span>' in hostile.text


def test_the_header_shows_the_basket_count_and_links_only_to_pages_that_exist(shop, product):
    r = requests.get(shop.edge + "/p/P-1", headers={"Cookie": "cart_count=3"}, timeout=10)
    header = r.text.split('<header class="site-header">')[1].split("</header>")[0]
    assert '<p class="basket">Cart (<span class="cart-count">3</span>)</p>' in header  # a count, no link
    for href in set(re.findall(r'href="([^"]+)"', header)):
        url = shop.edge + (href if href.startswith("/") else "/p/P-1" + href)
        assert requests.get(url, timeout=10).status_code == 200, href


def test_anonymous_pages_are_briefly_cacheable_and_answer_304(shop, product):
    r = requests.get(shop.edge + "/p/P-1", timeout=10)
    assert "public" in r.headers["Cache-Control"] and "max-age=5" in r.headers["Cache-Control"]
    assert ", guest</p>" in r.text
    again = requests.get(shop.edge + "/p/P-1", headers={"If-None-Match": r.headers["ETag"]}, timeout=10)
    assert again.status_code == 304 and again.content == b""


def test_concurrent_movements_through_the_api_are_applied_exactly_once(shop, product):
    def move(i):
        body = {"movement_id": f"conc-{i % 40}", "delta": -1, "reason": "sale"}  # each id sent 3 times
        return requests.post(
            shop.admin + API + "/stock/P-1/movements", json=body, headers=shop.auth("stock"), timeout=30
        ).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(move, range(120)))
    assert codes.count(201) == 40 and codes.count(200) == 80
    stored = requests.get(shop.admin + API + "/products/P-1", headers=shop.auth(), timeout=10).json()
    assert stored["quantity"] == 60
