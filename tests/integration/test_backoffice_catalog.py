"""The back office's catalog structure against the real PostgreSQL: creating a product, its
images, deactivating it, its variants, and the category tree with its ordering buttons (the
browser test is in tests/e2e/test_backoffice_browser.py)."""

from __future__ import annotations

import html
import re

import pytest

from tests.integration.test_backoffice import csrf, editor_form, row, signed_in, users  # noqa: F401  (a fixture)

pytestmark = pytest.mark.integration


def rows(pool, sql: str, *params) -> list[tuple]:
    with pool.connection() as conn:
        return conn.execute(sql, params).fetchall()


def test_an_editor_creates_a_product_inactive_with_its_errors_beside_the_fields(app, users, pool):  # noqa: F811
    client = signed_in(app, "editor")
    token = csrf(client.get("/backoffice/products/new").text)
    bad = client.post("/backoffice/products/new", data={"csrf_token": token, "sku": "bad sku", "name.de_DE": ""})
    assert bad.status_code == 422
    assert re.search(r'id="sku-error">[^<]*SKU', bad.text) and 'id="name-en-US-error"' in bad.text
    taken = client.post("/backoffice/products/new", data={"csrf_token": token, "sku": "B1", "name.en_US": "Again"})
    assert taken.status_code == 422 and "B1 exists already" in taken.text
    made = client.post(
        "/backoffice/products/new",
        data={"csrf_token": token, "sku": "N1", "name.de_DE": "Neu", "categories": ["bags"]},
    )
    assert made.status_code == 303 and "/backoffice/products/N1?saved=" in made.headers["Location"]
    assert row(pool, "SELECT active FROM products WHERE sku = 'N1'") == (False,)
    assert row(pool, "SELECT category FROM product_categories WHERE sku = 'N1'") == ("bags",)
    assert row(pool, "SELECT action, before FROM audit_log WHERE subject = 'N1'") == ("create product", None)
    assert signed_in(app, "pricing").get("/backoffice/products/new").status_code == 403


def test_images_are_edited_as_the_api_takes_them(app, users, pool):  # noqa: F811
    client = signed_in(app, "editor")
    images = "/m/b/bag-front.jpg 400x500\nhttps://img.example.com/bag-back.jpg 800X600"
    assert client.post("/backoffice/products/B1", data=editor_form(client, images=images)).status_code == 303
    assert rows(pool, "SELECT src, width, height FROM product_images WHERE sku = 'B1' ORDER BY position") == [
        ("/m/b/bag-front.jpg", 400, 500),
        ("https://img.example.com/bag-back.jpg", 800, 600),
    ]
    assert "/m/b/bag-front.jpg 400x500" in client.get("/backoffice/products/B1").text  # shown as saved
    bad = client.post("/backoffice/products/B1", data=editor_form(client, images="/m/ok.jpg 1x1\n../etc 10x10"))
    assert bad.status_code == 422 and re.search(r'id="images-error">line 2: ', bad.text)
    assert row(pool, "SELECT count(*) FROM product_images WHERE sku = 'B1'")[0] == 2  # nothing half-saved


def test_deactivate_and_activate_keep_everything_else(app, users, pool):  # noqa: F811
    client = signed_in(app, "editor")
    page = client.get("/backoffice/products/B1").text
    version = re.search(
        r'class="switch-active">\s*<input[^>]+>\s*<input type="hidden" name="version" value="(\d+)"', page
    )
    off = {"csrf_token": csrf(page), "version": version.group(1), "active": "0"}
    assert client.post("/backoffice/products/B1/active", data=off).status_code == 303
    assert row(pool, "SELECT active FROM products WHERE sku = 'B1'") == (False,)
    assert row(pool, "SELECT count(*) FROM product_attributes WHERE sku = 'B1'")[0] == 2  # color: Red | Blue kept
    stale = client.post("/backoffice/products/B1/active", data=off | {"active": "1"})
    assert stale.status_code == 409 and "someone else saved" in stale.text
    page = client.get("/backoffice/products/B1").text
    version = re.search(r'name="version" value="(\d+)"', page.split('class="switch-active"')[1]).group(1)
    on = {"csrf_token": csrf(page), "version": version, "active": "1"}
    assert client.post("/backoffice/products/B1/active", data=on).status_code == 303
    assert row(pool, "SELECT active FROM products WHERE sku = 'B1'") == (True,)
    actions = rows(pool, "SELECT action FROM audit_log WHERE subject = 'B1' ORDER BY id")
    assert actions == [("deactivate product",), ("activate product",)]


def test_variants_are_added_edited_and_removed(app, users, pool):  # noqa: F811
    client = signed_in(app, "editor")
    token = csrf(client.get("/backoffice/products/B1/variants").text)
    url = "/backoffice/products/B1/variants"
    for sku, size in (("B1-S", "S"), ("B1-M", "M")):
        response = client.post(url, data={"csrf_token": token, "sku": sku, "options": f"size: {size}", "active": "on"})
        assert response.status_code == 303, response.text
    variants = """SELECT v.sku, o.value, v.active FROM variants v JOIN variant_options o ON o.variant = v.sku
                  WHERE product = 'B1' ORDER BY v.position"""
    assert rows(pool, variants) == [("B1-S", "S", True), ("B1-M", "M", True)]
    same = client.post(url, data={"csrf_token": token, "sku": "B1-X", "options": "size: M"})
    assert same.status_code == 409 and "same options" in html.unescape(same.text)
    bad = client.post(url, data={"csrf_token": token, "sku": "B1-Y", "options": "just words"})
    assert bad.status_code == 422 and 'id="new-options-error">line 1:' in bad.text
    edit = client.post(url, data={"csrf_token": token, "variant": "B1-S", "options": "size: XS"})
    assert edit.status_code == 303
    assert rows(pool, variants) == [("B1-S", "XS", False), ("B1-M", "M", True)]  # unchecked: not for sale
    page = client.get("/backoffice/products/B1/variants").text
    assert re.search(r'id="options-B1-S"[^>]*>size: XS</textarea>', page)
    assert client.post(f"{url}/B1-M/remove", data={"csrf_token": token}).status_code == 303
    assert rows(pool, "SELECT sku FROM variants WHERE product = 'B1'") == [("B1-S",)]
    assert client.post(f"{url}/B1-M/remove", data={"csrf_token": token}).status_code == 409  # gone already
    elsewhere = client.post(url, data={"csrf_token": token, "variant": "B1", "options": "size: L"})
    assert elsewhere.status_code == 404
    pricing = signed_in(app, "pricing")
    assert pricing.post(url, data={"csrf_token": csrf(pricing.get(url).text), "sku": "B1-Z"}).status_code == 403
    actions = rows(pool, "SELECT action FROM audit_log WHERE product = 'B1' ORDER BY id")
    assert actions == [("add variant",), ("add variant",), ("save variant",), ("remove variant",)]


def test_variants_move_up_and_down_keeping_their_options(app, users, pool):  # noqa: F811
    client = signed_in(app, "editor")
    url = "/backoffice/products/B1/variants"
    token = csrf(client.get(url).text)
    for size in ("S", "M", "L"):
        data = {"csrf_token": token, "sku": f"B1-{size}", "options": f"size: {size}", "active": "on"}
        assert client.post(url, data=data).status_code == 303
    order = """SELECT v.sku, v.position, o.value, v.active FROM variants v JOIN variant_options o ON o.variant = v.sku
               WHERE product = 'B1' ORDER BY v.position, v.sku"""
    assert client.post(f"{url}/B1-L/move", data={"csrf_token": token, "direction": "up"}).status_code == 303
    assert rows(pool, order) == [("B1-S", 0, "S", True), ("B1-L", 1, "L", True), ("B1-M", 2, "M", True)]
    page = client.get(url).text
    assert re.findall(r'<section class="variant" id="v-([^"]+)"', page) == ["B1-S", "B1-L", "B1-M"]
    outbox = row(pool, "SELECT count(*) FROM outbox")[0]
    assert client.post(f"{url}/B1-S/move", data={"csrf_token": token, "direction": "up"}).status_code == 303
    assert row(pool, "SELECT count(*) FROM outbox")[0] == outbox  # already first: nothing written
    assert client.post(f"{url}/B1-X/move", data={"csrf_token": token, "direction": "up"}).status_code == 404
    assert client.post(f"{url}/B1-S/move", data={"csrf_token": token, "direction": "left"}).status_code == 400


def tree_order(client) -> list[str]:
    return re.findall(r'<li id="c-[^"]+" data-key="([^"]+)"', client.get("/backoffice/categories").text)


def test_the_category_tree_with_its_ordering_buttons(app, users, pool):  # noqa: F811
    client = signed_in(app, "editor")
    token = csrf(client.get("/backoffice/categories/new").text)
    for key, parent in (("shoes", ""), ("boots", "gear"), ("belts", "gear")):
        data = {"csrf_token": token, "key": key, "parent": parent, "name.en_US": key.title(), "name.de_DE": ""}
        assert client.post("/backoffice/categories/new", data=data).status_code == 303
    assert tree_order(client) == ["gear", "bags", "boots", "belts", "shoes"]
    move = "/backoffice/categories/{}/move"
    assert client.post(move.format("belts"), data={"csrf_token": token, "direction": "up"}).status_code == 303
    assert client.post(move.format("belts"), data={"csrf_token": token, "direction": "up"}).status_code == 303
    assert tree_order(client) == ["gear", "belts", "bags", "boots", "shoes"]
    assert rows(pool, "SELECT key, position FROM categories WHERE parent = 'gear' ORDER BY position") == [
        ("belts", 0),
        ("bags", 1),
        ("boots", 2),
    ]
    outbox = row(pool, "SELECT count(*) FROM outbox")[0]
    assert client.post(move.format("belts"), data={"csrf_token": token, "direction": "up"}).status_code == 303
    assert row(pool, "SELECT count(*) FROM outbox")[0] == outbox  # already first: nothing written
    assert client.post(move.format("shoes"), data={"csrf_token": token, "direction": "up"}).status_code == 303
    assert tree_order(client) == ["shoes", "gear", "belts", "bags", "boots"]
    assert client.post(move.format("shoes"), data={"csrf_token": token, "direction": "sideways"}).status_code == 400
    cycle = {"csrf_token": token, "parent": "bags", "name.en_US": "Gear"}
    refused = client.post("/backoffice/categories/gear", data=cycle)
    assert refused.status_code == 422 and "inside itself" in refused.text
    renamed = {"csrf_token": token, "parent": "gear", "name.en_US": "Bags", "name.de_DE": "Taschen"}
    assert client.post("/backoffice/categories/bags", data=renamed).status_code == 303
    assert row(pool, "SELECT name FROM category_names WHERE category = 'bags' AND locale = 'de_DE'") == ("Taschen",)
    assert row(pool, "SELECT count(*) FROM audit_log WHERE kind = 'category'")[0] == 3 + 3 + 1
    assert client.get("/backoffice/categories/nope").status_code == 404
