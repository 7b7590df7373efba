"""End to end over HTTP: admin API → PostgreSQL → outbox → Celery → Redis → edge."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import requests

from tests.processes import wait_until
from tools.magento_to_feed import Product, write_placeholders
from tools.staticserver import StaticServer
from vocab.images import Image

pytestmark = pytest.mark.e2e
API = "/admin/api/v1"


def put(shop, path, body, role="admin"):
    return requests.put(shop.admin + API + path, json=body, headers=shop.auth(role), timeout=10)


def page(shop, path, **kw):
    return requests.get(shop.edge + path, timeout=10, **kw)


def json_ld(html: str) -> dict:
    return json.loads(html.split('<script type="application/ld+json">')[1].split("</script>")[0])


@pytest.fixture(scope="module")
def bag(shop):
    assert put(shop, "/categories/gear", {"parent": None, "name": {"en_US": "Gear"}, "position": 1}).status_code == 200
    assert (
        put(
            shop, "/categories/bags", {"parent": "gear", "name": {"en_US": "Bags", "de_DE": "Taschen"}, "position": 1}
        ).status_code
        == 200
    )
    r = put(
        shop,
        "/products/E2E-1",
        {
            "name": {"en_US": "Field bag", "de_DE": "Feldtasche"},
            "description": {"en_US": "<p>Sturdy</p>"},
            "brand": "Luma",
            "categories": ["bags"],
            "attributes": {"color": ["Red", "Blue"]},
            "active": True,
        },
    )
    assert r.status_code == 200, r.text
    assert put(shop, "/prices/E2E-1/EUR", {"amount": "49.00"}, "pricing").status_code == 200
    assert put(shop, "/stock/E2E-1", {"quantity": 40}, "stock").status_code == 200
    wait_until(
        lambda: all(text in page(shop, "/p/E2E-1").text for text in ("€49.00", "schema.org/InStock")),
        timeout=15,
        what="product page with price and stock",
    )
    return "E2E-1"


def test_product_page_from_snippets(shop, bag):
    r = page(shop, f"/p/{bag}")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    ld = json_ld(r.text)
    assert ld["@type"] == "Product" and ld["sku"] == bag and ld["name"] == "Field bag"
    assert ld["brand"]["name"] == "Luma"
    assert ld["offers"] == {
        "@type": "Offer",
        "price": "49.00",
        "priceCurrency": "EUR",
        "availability": "https://schema.org/InStock",
    }
    assert 'href="/c/bags">Bags</a>' in r.text  # breadcrumb
    de = page(shop, f"/p/{bag}?locale=de_DE&currency=USD")
    assert "Feldtasche" in de.text and "Preis auf Anfrage" in de.text
    assert de.cookies.get("locale") == "de_DE"
    # The home page's featured list is projected by the product's task right after the product
    # page, so it may trail the page the fixture waited for by that task's last write.
    home = wait_until(
        lambda: (r := page(shop, "/")).status_code == 200 and "Field bag" in r.text and r,
        timeout=10,
        interval=0.01,
        what="the home page featuring the bag",
    )
    assert home.headers["Cache-Control"].startswith("public")


def test_price_change_reaches_the_page_within_a_bounded_wait(shop, bag):
    timings = []
    for amount in ("47.00", "45.50", "44.00"):
        started = time.monotonic()
        assert put(shop, f"/prices/{bag}/EUR", {"amount": amount}, "pricing").status_code == 200
        shown = f"€{amount}"
        wait_until(lambda shown=shown: shown in page(shop, f"/p/{bag}").text, timeout=5, interval=0.01, what=shown)
        timings.append(time.monotonic() - started)
    print(f"\nchange-to-visible (admin PUT → edge page), seconds: {[round(t, 3) for t in timings]}")
    assert json_ld(page(shop, f"/p/{bag}").text)["offers"]["price"] == "44.00"


def test_unknown_sku_and_route_are_404_pages(shop, bag):
    for path in ("/p/NOPE-404", "/p/..%2Fetc", "/no/such/page"):
        r = page(shop, path)
        assert r.status_code == 404 and "Not found" in r.text, path
    assert page(shop, "/healthz").json() == {"status": "ok"}


def test_markup_in_catalog_text_is_escaped_on_the_page(shop, bag):
    r = put(
        shop,
        "/products/E2E-XSS",
        {
            "name": {"en_US": "<script>alert('x')</script>"},
            "description": {"en_US": "<img src=x onerror=alert(1)><p>ok</p>"},
            "brand": "<b>Evil</b>",
            "categories": ["bags"],
            "active": True,
        },
        "editor",
    )
    assert r.status_code == 200
    html = wait_until(lambda: (p := page(shop, "/p/E2E-XSS")).status_code == 200 and p.text, timeout=15)
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "onerror" not in html and "<b>Evil</b>" not in html


def test_images_come_from_a_static_web_server_that_the_page_names(shop, bag):
    """The page's <img> URLs lead to a real static server (nginx, as ./dev demo runs it) serving
    the converter's placeholder; the edge's Content-Security-Policy allows that server."""
    base = Path(tempfile.mkdtemp(prefix="snipshop-e2e-images-"))
    base.chmod(0o755)  # as root nginx's worker runs as nobody
    root = base / "images"
    camera = Product(
        "E2E-IMG",
        "Trail Camera",
        "",
        Decimal(0),
        [],
        {},
        "Luma",
        [Image("/e/2/e2e-img-front.jpg", 400, 500), Image("/e/2/e2e-img-back.jpg", 400, 500)],
    )
    assert write_placeholders([camera], root) == 2
    server = StaticServer(root, shop.image_port, base / "nginx", content_type="image/svg+xml").start()
    try:
        body = {
            "name": {"en_US": camera.name},
            "categories": ["bags"],
            "brand": "Luma",
            "images": [{"src": i.src, "width": i.width, "height": i.height} for i in camera.images],
        }
        assert put(shop, "/products/E2E-IMG", body, "editor").status_code == 200
        r = wait_until(
            lambda: (p := page(shop, "/p/E2E-IMG")).status_code == 200 and "<img" in p.text and p,
            timeout=15,
            what="the product page with its images",
        )
        first, second = re.findall(r"<img ([^>]*)>", r.text)
        src = re.search(r'src="([^"]+)"', first).group(1)
        assert src == f"{server.url}/e/2/e2e-img-front.jpg"
        assert 'width="400" height="500"' in first and 'alt="Trail Camera"' in first and "loading" not in first
        assert 'loading="lazy"' in second and 'decoding="async"' in second
        image = requests.get(src, timeout=10)
        assert image.status_code == 200 and image.headers["Content-Type"] == "image/svg+xml"
        assert image.text.startswith("<svg ") and ">TC</text>" in image.text
        assert f"img-src 'self' data: https: {server.url};" in r.headers["Content-Security-Policy"]
        assert json_ld(r.text)["image"] == [src, f"{server.url}/e/2/e2e-img-back.jpg"]
        tile = wait_until(
            lambda: (p := page(shop, "/c/bags")) and f'src="{src}"' in p.text and p,
            timeout=15,
            what="the tile with its image",
        )
        assert re.search(
            rf'<img class="tile-image" src="{re.escape(src)}" width="400" height="500" '
            r'alt="Trail Camera" loading="lazy" decoding="async">',
            tile.text,
        )
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


# What a write sets. The outbox's dispatched_at, sends and projected_at are the relay's and the
# tasks' bookkeeping, stamped asynchronously for earlier writes while a test runs.
SNAPSHOT = {
    t: f"(SELECT * FROM {t}) x"
    for t in ("products", "product_texts", "prices", "stock", "stock_movements", "categories")
}
SNAPSHOT["outbox"] = "(SELECT id, topic, keys, created_at FROM outbox) x"


def _snapshot(shop):
    with psycopg.connect(shop.database_url) as conn:
        return {
            t: conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM {q}"
            ).fetchone()
            for t, q in SNAPSHOT.items()
        }


@pytest.mark.parametrize(
    "method,path,body,role,status",
    [
        ("PUT", "/prices/E2E-1/EUR", {"amount": 12.5}, "pricing", 422),  # wrong type: number, not string
        ("PUT", "/stock/E2E-1", {"quantity": "7"}, "stock", 422),
        ("PUT", "/stock/E2E-1", {"quantity": -1}, "stock", 422),
        ("PUT", "/products/E2E-2", {"name": {"en_US": "X"}, "categories": ["nope"]}, "editor", 422),
        ("PUT", "/prices/E2E-1/EUR", {"amount": "1.00"}, "stock", 403),
        ("PUT", "/prices/E2E-1/EUR", {"amount": "1.00"}, None, 401),
        ("PUT", "/prices/E2E-1/EUR", {"amount": "1.00"}, "bad", 401),
        ("POST", "/stock/E2E-1/movements", {"movement_id": "m-x", "delta": -1000, "reason": "sale"}, "stock", 409),
        (
            "PUT",
            "/products/E2E-3",
            {"name": {"en_US": "x" * 10}, "description": {"en_US": "y" * 2_000_000}},
            "editor",
            413,
        ),
    ],
)
def test_bad_requests_get_4xx_and_change_nothing(shop, bag, method, path, body, role, status):
    before = _snapshot(shop)
    page_before = page(shop, f"/p/{bag}").text
    headers = {} if role is None else ({"Authorization": "Bearer nope"} if role == "bad" else shop.auth(role))
    r = requests.request(method, shop.admin + API + path, json=body, headers=headers, timeout=10)
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert r.json()["detail"]
    assert _snapshot(shop) == before
    assert page(shop, f"/p/{bag}").text == page_before


def test_pages_survive_a_stopped_database(shop, bag):
    """Runs last in this module: it stops PostgreSQL."""
    before = {path: page(shop, path) for path in (f"/p/{bag}", "/")}
    shop.pg.stop("immediate")
    try:
        for path, r in before.items():
            after = page(shop, path)
            assert after.status_code == 200 and after.text == r.text, path
        down = put(shop, f"/prices/{bag}/EUR", {"amount": "1.00"}, "pricing")
        assert down.status_code == 503 and down.headers["Content-Type"].startswith("application/problem+json")
    finally:
        shop.pg.start()
