"""Product images: the reference rule (feed and JSON), what tiles, product pages and JSON-LD show,
the edge's image base URL and Content-Security-Policy, and the demo's placeholders (no services)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from catalog.models import ProductIn
from projector.readmodel import ProductView
from projector.render import Renderer
from snipshop.config import load
from tests.unit.feed_rows import CONTEXT, parse_feed
from vocab.images import Image, check_src, image_base, origin
from vocab.keys import IMAGE_BASE, Kind
from web.edge.page_responses import security_headers
from web.edge.personalize import fill, values_from

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
R = Renderer(("en_US",), ("EUR",), low_stock_threshold=5)


@pytest.mark.parametrize(
    "src",
    [
        "/m/b/mb01-blue-0.jpg",
        "m/b/mb01.jpg",
        "/2/4/24-mb01.jpg",
        "https://img.example.com/catalog/mb01.jpg",
        "https://cdn.example.com:8443/a/b.png?w=400&h=500",
    ],
)
def test_paths_below_the_base_and_https_urls_are_image_references(src):
    assert check_src(src) == src


@pytest.mark.parametrize(
    "src, message",
    [
        ("javascript:alert(1)", "no javascript: URLs"),
        ("JavaScript:alert(1)", "no javascript: URLs"),
        ("data:image/svg+xml;base64,PHN2Zz4=", "no data: URLs"),
        ("http://img.example.com/a.jpg", "no http: URLs"),
        ("/m/../../etc/passwd", "must not contain '..'"),
        ("https://img.example.com/a/../b.jpg", "must not contain '..'"),
        ("//evil.example.com/a.jpg", "empty path segment"),
        ('/a.jpg" onerror="alert(1)', "only letters, digits"),
        ("/a b.jpg", "only letters, digits"),
        ("/a%2e%2e/b.jpg", "only letters, digits"),
        ("/" + "a" * 500, "at most 500 characters"),
    ],
)
def test_other_references_are_refused_with_a_clear_message(src, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        check_src(src)


def product_in(images) -> ProductIn:
    return ProductIn.model_validate({"name": {"en_US": "Bag"}, "images": images}, context=CONTEXT)


def test_the_json_body_carries_src_width_and_height_bounded():
    p = product_in(
        [
            {"src": "/m/b/mb01.jpg", "width": 400, "height": 500},
            {"src": "https://img.example.com/mb01-back.jpg", "width": 1, "height": 10_000},
        ]
    )
    assert [(i.src, i.width, i.height) for i in p.images] == [
        ("/m/b/mb01.jpg", 400, 500),
        ("https://img.example.com/mb01-back.jpg", 1, 10_000),
    ]
    with pytest.raises(ValidationError) as bad:
        product_in(
            [
                {"src": "javascript:alert(1)", "width": 0, "height": 10_001},
                {"src": " /m/b/mb01.jpg", "width": 1, "height": 1},
            ]
        )
    errors = {".".join(map(str, e["loc"])): e["msg"] for e in bad.value.errors()}
    assert "no javascript: URLs" in errors["images.0.src"]
    assert "greater than or equal to 1" in errors["images.0.width"]
    assert "less than or equal to 10000" in errors["images.0.height"]
    assert "images.1.src" in errors  # checked as sent: no blank trimmed away
    with pytest.raises(ValidationError, match="at most 20 items"):
        product_in([{"src": f"/p/{i}.jpg", "width": 1, "height": 1} for i in range(21)])
    with pytest.raises(ValidationError, match="alt"):
        product_in([{"src": "/a.jpg", "width": 1, "height": 1, "alt": "x"}])  # nothing else


def test_the_feeds_images_column_is_path_and_size_separated_by_bars():
    rows = parse_feed(
        "products",
        "sku,name.en_US,images\n"
        "P1,Bag,/m/b/mb01-blue-0.jpg 400x500 | https://img.example.com/b.jpg 800X1000\n"
        "P2,Cap,\n"
        "P3,Hat,/m/h/hat.jpg\n"
        "P4,Tie,javascript:alert(1) 10x10\n"
        "P5,Box,/m/../x.jpg 10x10\n"
        "P6,Mug,/m/m/mug.jpg 10x20000\n",
    )
    images = rows[0].item[1].images
    assert [(i.src, i.width, i.height) for i in images] == [
        ("/m/b/mb01-blue-0.jpg", 400, 500),
        ("https://img.example.com/b.jpg", 800, 1000),
    ]
    assert rows[1].item[1].images == []
    assert rows[2] == (
        4,
        "P3",
        "images: image '/m/h/hat.jpg' must be 'PATH WIDTHxHEIGHT', e.g. '/m/b/mb01.jpg 400x500'",
    )
    assert rows[3][:2] == (5, "P4") and "images.0.src: image src 'javascript:alert(1)'" in rows[3][2]
    assert rows[4][:2] == (6, "P5") and "must not contain '..'" in rows[4][2]
    assert rows[5][:2] == (7, "P6") and "images.0.height: Input should be less than or equal to 10000" in rows[5][2]


def view(*images: Image) -> ProductView:
    return ProductView("B1", "Luma", True, False, NOW, 10, 11, 12, names={"en_US": 'Bag "<Big>"'}, images=list(images))


MAIN = Image("/m/b/mb01.jpg", 400, 500)
BACK = Image("https://img.example.com/mb01-back.jpg?w=2&h=3", 800, 1000)


def img_tags(html: str) -> list[dict[str, str]]:
    return [dict(re.findall(r'([\w-]+)="([^"]*)"', tag)) | {"bare": tag} for tag in re.findall(r"<img ([^>]*)>", html)]


def test_a_tile_shows_the_first_image_lazily_with_its_size_and_the_name_as_alt():
    [tile] = R.product(view(MAIN, BACK), {}, NOW, [Kind.TILE])
    [img] = img_tags(fill_images(tile.body, "http://img.test:8002"))
    assert img["src"] == "http://img.test:8002/m/b/mb01.jpg"
    assert (img["width"], img["height"], img["loading"], img["decoding"]) == ("400", "500", "lazy", "async")
    assert img["alt"] == "Bag &#34;&lt;Big&gt;&#34;"
    [plain] = R.product(view(), {}, NOW, [Kind.TILE])
    assert "<img" not in plain.body


def test_the_product_page_shows_every_image_and_loads_only_the_first_at_once():
    [detail] = R.product(view(MAIN, BACK), {}, NOW, [Kind.DETAIL])
    first, second = img_tags(fill_images(detail.body, "/media"))
    assert first["src"] == "/media/m/b/mb01.jpg" and "loading" not in first and first["decoding"] == "async"
    assert (first["width"], first["height"], first["alt"]) == ("400", "500", "Bag &#34;&lt;Big&gt;&#34;")
    assert second["src"] == "https://img.example.com/mb01-back.jpg?w=2&amp;h=3" and second["loading"] == "lazy"


def test_json_ld_names_the_images_as_urls():
    [ld] = R.product(view(MAIN, BACK), {}, NOW, [Kind.LD])
    data = json.loads(fill_images(ld.body, "https://img.example.com/catalog") + "}")
    assert data["image"] == [
        "https://img.example.com/catalog/m/b/mb01.jpg",
        "https://img.example.com/mb01-back.jpg?w=2&h=3",
    ]
    [none] = R.product(view(), {}, NOW, [Kind.LD])
    assert "image" not in json.loads(none.body + "}")


def test_snippets_leave_the_base_to_the_edge_and_catalog_text_cannot_fake_it():
    p = view(MAIN)
    p.names["en_US"] = IMAGE_BASE + "evil"  # a name holding the marker stays text
    for snippet in R.product(p, {}, NOW, [Kind.TILE, Kind.DETAIL, Kind.LD]):
        filled = fill_images(snippet.body, "https://base.test")
        assert filled.count("https://base.test") == 1, snippet.kind  # the one image, not the name
        assert "https://base.test/m/b/mb01.jpg" in filled and "evil" in filled


def fill_images(page: str, image_base_url: str) -> str:
    """The page as the edge answers it: the image base is one of the personalization values."""
    return fill(page, values_from({}, "EUR", image_base_url))


def test_the_image_base_url_is_read_once_and_checked():
    assert load({}).image_base_url == "/media"
    assert load({"IMAGE_BASE_URL": "http://127.0.0.1:8002/"}).image_base_url == "http://127.0.0.1:8002"
    for bad in ("javascript:alert(1)", "//img.example.com", "https://img.example.com/?x=1", 'http://a"b'):
        with pytest.raises(ValueError, match="IMAGE_BASE_URL"):
            load({"IMAGE_BASE_URL": bad})
    assert image_base("https://img.example.com/catalog/") == "https://img.example.com/catalog"
    assert origin("https://img.example.com:8443/catalog") == "https://img.example.com:8443" and origin("/media") is None


def test_the_content_security_policy_allows_the_image_servers_origin():
    policy = security_headers("http://127.0.0.1:8002")["Content-Security-Policy"]
    assert "img-src 'self' data: https: http://127.0.0.1:8002;" in policy
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "img-src 'self' data: https:;" in security_headers("/media")["Content-Security-Policy"]
