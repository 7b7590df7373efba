"""Product images on real services: admin API and feed import validate them, the projector renders
them, the edge builds their URLs from IMAGE_BASE_URL and allows that origin in its CSP."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from catalog.importer import import_files
from projector.rebuild import rebuild
from projector.service import Projector
from search.factory import make_search
from tests.integration.admin_support import API, dump
from tests.redis_support import store_client
from vocab.keys import IMAGE_BASE
from web.edge.app import create_app

pytestmark = pytest.mark.integration
BASE = "http://images.test:8002"
GOOD = [
    {"src": "/m/b/mb01-blue-0.jpg", "width": 400, "height": 500},
    {"src": "https://cdn.example.com/mb01-back.jpg", "width": 800, "height": 1000},
]
PRODUCT = {"name": {"en_US": "Joust Duffle Bag"}, "categories": ["bags"]}


@pytest.mark.parametrize(
    "image, message",
    [
        ({"src": "javascript:alert(1)", "width": 10, "height": 10}, "no javascript: URLs"),
        ({"src": "/m/../../etc/passwd", "width": 10, "height": 10}, "must not contain '..'"),
        ({"src": "//evil.example.com/x.jpg", "width": 10, "height": 10}, "empty path segment"),
        ({"src": "/m/b/x.jpg", "width": 10, "height": 10_001}, "less than or equal to 10000"),
        ({"src": "/m/b/x.jpg", "width": 0, "height": 10}, "greater than or equal to 1"),
        ({"src": "/m/b/x.jpg"}, "Field required"),
    ],
)
def test_the_admin_api_refuses_bad_images_with_a_clear_message(client, pool, tokens, seeded, sent, image, message):
    before = dump(pool)
    r = client.put(f"{API}/products/B1", json={**PRODUCT, "images": [GOOD[0], image]}, headers=tokens["editor"])
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert message in r.get_json()["detail"] and "images.1" in r.get_json()["detail"]
    assert dump(pool) == before


def test_the_admin_api_stores_images_in_order_and_a_product_write_replaces_them(client, tokens, seeded, sent):
    assert (
        client.put(f"{API}/products/B1", json={**PRODUCT, "images": GOOD}, headers=tokens["editor"]).status_code == 200
    )
    assert client.get(f"{API}/products/B1", headers=tokens["editor"]).get_json()["images"] == GOOD
    assert client.put(f"{API}/products/B1", json=PRODUCT, headers=tokens["editor"]).status_code == 200
    assert client.get(f"{API}/products/B1", headers=tokens["editor"]).get_json()["images"] == []


FEED = {
    "categories.csv": "key,parent,position,name.en_US\nbags,,1,Bags\n",
    "products.csv": (
        "sku,categories,name.en_US,images,attr.color\n"
        "B1,bags,Joust <Duffle> Bag,/m/b/mb01-blue-0.jpg 400x500|https://cdn.example.com/mb01-back.jpg 800x1000,Blue\n"
        "B2,bags,Strive Pack,,Red\n"
        "B3,bags,Bad,javascript:alert(1) 10x10,Red\n"
        "B4,bags,Worse,/m/b/x.jpg,Red\n"
    ),
}


def tags(html: str, pattern: str = r"<img ([^>]*)>") -> list[dict[str, str]]:
    return [dict(re.findall(r'([\w-]+)="([^"]*)"', tag)) for tag in re.findall(pattern, html)]


def test_imported_images_show_in_tiles_product_pages_and_json_ld_below_the_base_url(
    settings, pool, tmp_path: Path, capsys
):
    feed = tmp_path / "feed"
    feed.mkdir()
    for name, text in FEED.items():
        (feed / name).write_text(text, encoding="utf-8")
    assert import_files(settings, sorted(feed.iterdir()), progress=False, send=lambda *args: None) == 2
    err = capsys.readouterr().err
    assert "products.csv:4: B3: images.0.src: image src 'javascript:alert(1)' must be a path relative" in err
    assert "products.csv:5: B4: images: image '/m/b/x.jpg' must be 'PATH WIDTHxHEIGHT'" in err

    settings = replace(settings, image_base_url=BASE)
    client = store_client(settings)
    rebuild(Projector(settings, pool, client, make_search(settings, client)), progress=False)
    edge = create_app(settings).test_client()

    listing = edge.get("/c/bags?sort=name")
    [tile] = tags(listing.text)  # B2 has no image
    assert tile["src"] == f"{BASE}/m/b/mb01-blue-0.jpg" and tile["alt"] == "Joust &lt;Duffle&gt; Bag"
    assert (tile["width"], tile["height"], tile["loading"], tile["decoding"]) == ("400", "500", "lazy", "async")
    csp = listing.headers["Content-Security-Policy"]
    assert f"img-src 'self' data: https: {BASE};" in csp and "default-src 'none'" in csp

    page = edge.get("/p/B1")
    first, second = tags(page.text)
    assert first["src"] == f"{BASE}/m/b/mb01-blue-0.jpg" and "loading" not in first
    assert (first["width"], first["height"], first["decoding"], first["alt"]) == (
        "400",
        "500",
        "async",
        "Joust &lt;Duffle&gt; Bag",
    )
    assert second["src"] == "https://cdn.example.com/mb01-back.jpg" and second["loading"] == "lazy"
    ld = json.loads(page.text.split('<script type="application/ld+json">')[1].split("</script>")[0])
    assert ld["image"] == [f"{BASE}/m/b/mb01-blue-0.jpg", "https://cdn.example.com/mb01-back.jpg"]
    assert IMAGE_BASE not in page.text and IMAGE_BASE not in listing.text
    assert f"img-src 'self' data: https: {BASE};" in page.headers["Content-Security-Policy"]
    home = edge.get("/")
    assert f'src="{BASE}/m/b/mb01-blue-0.jpg"' in home.text
