"""The admin API's variant routes and variant-SKU writes (docs/variants.md, "Admin API") against
the real PostgreSQL: roles, answers, outbox rows, and refusals that write nothing."""

from __future__ import annotations

import pytest

from tests.integration.admin_support import API, dump
from vocab.topics import Topic

pytestmark = pytest.mark.integration

JACKET = {"name": {"en_US": "Jacket"}, "categories": ["gear"]}


def _put(client, tokens, product: str, sku: str, body: dict, role: str = "editor"):
    return client.put(f"{API}/products/{product}/variants/{sku}", json=body, headers=tokens[role])


@pytest.fixture
def jacket(client, tokens, seeded, sent):
    """Product J1 sold in J1-M (Blue M) and J1-L (Blue L), priced and stocked; ``sent`` emptied."""
    assert client.put(f"{API}/products/J1", json=JACKET, headers=tokens["editor"]).status_code == 200
    for sku, size in (("J1-M", "M"), ("J1-L", "L")):
        assert _put(client, tokens, "J1", sku, {"options": {"size": size, "color": "Blue"}}).status_code == 200
        assert (
            client.put(f"{API}/prices/{sku}/EUR", json={"amount": "30.00"}, headers=tokens["pricing"]).status_code
            == 200
        )
        assert client.put(f"{API}/stock/{sku}", json={"quantity": 2}, headers=tokens["stock"]).status_code == 200
    sent.clear()
    return "J1"


def test_a_simple_product_reads_back_with_its_default_variant(client, tokens, seeded):
    got = client.get(f"{API}/products/B1", headers=tokens["stock"]).get_json()
    assert got["prices"] == {"EUR": "12.50"} and got["quantity"] == 3
    [default] = got["variants"]
    assert default | {"price_version": 0, "stock_version": 0} == {
        "sku": "B1",
        "product": "B1",
        "position": 0,
        "active": True,
        "options": {},
        "prices": {"EUR": "12.50"},
        "offers": got["offers"],
        "quantity": 3,
        "price_version": 0,
        "stock_version": 0,
    }
    assert client.get(f"{API}/products/B1/variants/B1", headers=tokens["stock"]).get_json() == default
    assert client.get(f"{API}/products/B1/variants", headers=tokens["stock"]).get_json() == {
        "product": "B1",
        "variants": [default],
    }


def test_put_list_read_and_delete_variants(client, tokens, seeded, sent):
    assert client.put(f"{API}/products/J1", json=JACKET, headers=tokens["editor"]).status_code == 200
    body = {"options": {"Size": "M", "color": "Blue"}, "position": 2, "active": True}
    response = _put(client, tokens, "J1", "J1-M", body)
    assert response.status_code == 200
    assert response.get_json() | {"outbox_id": 0} == {"product": "J1", "sku": "J1-M", "outbox_id": 0}
    assert (
        _put(client, tokens, "J1", "J1-S", {"options": {"size": "S", "color": "Blue"}, "position": 1}).status_code
        == 200
    )
    assert (
        _put(client, tokens, "J1", "J1-L", {"options": {"size": "L", "color": "Blue"}}, role="admin").status_code == 200
    )
    listed = client.get(f"{API}/products/J1/variants", headers=tokens["pricing"]).get_json()
    assert [(v["sku"], v["position"], v["options"]) for v in listed["variants"]] == [
        ("J1-S", 1, {"size": "S", "color": "Blue"}),
        ("J1-M", 2, {"size": "M", "color": "Blue"}),
        ("J1-L", 3, {"size": "L", "color": "Blue"}),
    ]
    product = client.get(f"{API}/products/J1", headers=tokens["editor"]).get_json()
    assert product["variants"] == listed["variants"]
    assert product["prices"] == {} and product["quantity"] == 0
    one = client.get(f"{API}/products/J1/variants/J1-M", headers=tokens["stock"]).get_json()
    assert one == listed["variants"][1]

    assert client.delete(f"{API}/products/J1/variants/J1-M", headers=tokens["editor"]).status_code == 200
    assert client.get(f"{API}/products/J1/variants/J1-M", headers=tokens["editor"]).status_code == 404
    for sku in ("J1-S", "J1-L"):
        assert client.delete(f"{API}/products/J1/variants/{sku}", headers=tokens["editor"]).status_code == 200
    assert [
        v["sku"] for v in client.get(f"{API}/products/J1/variants", headers=tokens["editor"]).get_json()["variants"]
    ] == ["J1"]
    assert sent == [(Topic.PRODUCT, ["J1"])] * 7


def test_prices_offers_and_stock_name_the_variant(client, tokens, jacket, sent):
    offer = {"amount": "25.00", "starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-31T00:00:00Z"}
    assert client.put(f"{API}/prices/J1-L/USD", json={"amount": "33.00"}, headers=tokens["pricing"]).status_code == 200
    assert client.put(f"{API}/offers/J1-L/EUR", json=offer, headers=tokens["pricing"]).status_code == 200
    move = {"movement_id": "order-1", "delta": -1, "reason": "sale"}
    moved = client.post(f"{API}/stock/J1-M/movements", json=move, headers=tokens["stock"])
    assert moved.status_code == 201 and moved.get_json()["quantity"] == 1 and moved.get_json()["sku"] == "J1-M"
    variants = {
        v["sku"]: v for v in client.get(f"{API}/products/J1/variants", headers=tokens["stock"]).get_json()["variants"]
    }
    assert variants["J1-L"]["prices"] == {"EUR": "30.00", "USD": "33.00"}
    assert [o["amount"] for o in variants["J1-L"]["offers"]] == ["25.00"]
    assert (variants["J1-M"]["quantity"], variants["J1-L"]["quantity"]) == (1, 2)
    assert client.delete(f"{API}/offers/J1-L/EUR", headers=tokens["pricing"]).status_code == 200
    assert sent == [(Topic.PRICE, ["J1-L"])] * 3  # stock goes by the relay's sweep


def test_naming_a_product_sold_in_variants_is_a_422_that_lists_them(client, pool, tokens, jacket):
    before = dump(pool)
    offer = {"amount": "25.00", "starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-31T00:00:00Z"}
    calls = [
        ("PUT", "/prices/J1/EUR", "pricing", {"amount": "1.00"}),
        ("PUT", "/offers/J1/EUR", "pricing", offer),
        ("DELETE", "/offers/J1/EUR", "pricing", None),
        ("PUT", "/stock/J1", "stock", {"quantity": 1}),
        ("POST", "/stock/J1/movements", "stock", {"movement_id": "m", "delta": 1}),
    ]
    for method, path, role, body in calls:
        response = client.open(API + path, method=method, json=body, headers=tokens[role])
        assert response.status_code == 422, (path, response.get_json())
        assert response.get_json()["detail"] == "product J1 is sold in variants, name one of them: J1-M, J1-L"
    assert dump(pool) == before


REFUSED = {
    "unknown product": ("NOPE", "NOPE-1", {"options": {"size": "M"}}, 404, "unknown product(s): NOPE"),
    "own SKU": ("J1", "J1", {"options": {"size": "XS"}}, 422, "the product's own SKU"),
    "a product's SKU": ("J1", "B1", {"options": {"size": "XS"}}, 409, "SKU B1 is a product's SKU"),
    "another product's variant": ("B1", "J1-M", {"options": {"size": "M"}}, 409, "SKU J1-M is a variant of product J1"),
    "same options": ("J1", "J1-M2", {"options": {"color": "Blue", "size": "M"}}, 422, "have the same options"),
    "bad option name": ("J1", "J1-X", {"options": {"si ze": "M"}}, 422, "option name 'si ze' must be"),
    "option twice": ("J1", "J1-X", {"options": {"size": "M", "SIZE": "L"}}, 422, "option 'size' is given twice"),
    "empty value": ("J1", "J1-X", {"options": {"size": " "}}, 422, "body.options.size"),
    "not a string": ("J1", "J1-X", {"options": {"size": 3}}, 422, "body.options.size"),
    "negative position": ("J1", "J1-X", {"position": -1}, 422, "body.position"),
    "unknown field": ("J1", "J1-X", {"price": "1.00"}, 422, "body.price"),
    "bad variant SKU": ("J1", "J1 X", {}, 422, "path.variant_sku"),
}


@pytest.mark.parametrize("product, sku, body, status, message", REFUSED.values(), ids=REFUSED.keys())
def test_a_refused_variant_writes_nothing(client, pool, tokens, jacket, sent, product, sku, body, status, message):
    before = dump(pool)
    response = _put(client, tokens, product, sku, body)
    assert response.status_code == status, response.get_json()
    assert message in response.get_json()["detail"]
    assert dump(pool) == before and sent == []


def test_a_product_may_not_take_a_variants_sku(client, pool, tokens, jacket):
    before = dump(pool)
    response = client.put(f"{API}/products/J1-M", json=JACKET, headers=tokens["editor"])
    assert response.status_code == 409 and response.get_json()["detail"] == "SKU J1-M is a variant of product J1"
    assert dump(pool) == before


def test_deleting_refusals(client, pool, tokens, jacket):
    before = dump(pool)
    cases = [
        ("/products/J1/variants/J1-X", 404, "unknown variant J1-X of product J1"),
        ("/products/B1/variants/J1-M", 404, "unknown variant J1-M of product B1"),
        ("/products/B1/variants/B1", 422, "the product's own SKU"),
        ("/products/NOPE/variants/N-1", 404, "unknown product(s): NOPE"),
    ]
    for path, status, message in cases:
        response = client.delete(API + path, headers=tokens["editor"])
        assert response.status_code == status and message in response.get_json()["detail"], path
    assert client.get(f"{API}/products/NOPE/variants", headers=tokens["editor"]).status_code == 404
    assert client.get(f"{API}/products/B1/variants/J1-M", headers=tokens["editor"]).status_code == 404
    assert dump(pool) == before


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("PUT", "/products/J1/variants/J1-XL", "editor"),
        ("DELETE", "/products/J1/variants/J1-L", "editor"),
        ("PUT", "/prices/J1-L/EUR", "pricing"),
        ("PUT", "/stock/J1-L", "stock"),
    ],
)
def test_roles(client, pool, tokens, jacket, method, path, allowed):
    bodies = {"variants": {"options": {"size": "XL"}}, "prices": {"amount": "1.00"}, "stock": {"quantity": 1}}
    body = None if method == "DELETE" else next(b for k, b in bodies.items() if k in path)
    before = dump(pool)
    for role in ("editor", "pricing", "stock"):
        if role != allowed:
            assert client.open(API + path, method=method, json=body, headers=tokens[role]).status_code == 403
    assert dump(pool) == before
    assert client.open(API + path, method=method, json=body, headers=tokens[allowed]).status_code == 200


def test_the_document_describes_the_variant_routes(client):
    doc = client.get(f"{API}/openapi.json").get_json()
    variant = doc["paths"][f"{API}/products/{{sku}}/variants/{{variant_sku}}"]
    assert set(variant) == {"put", "get", "delete"}
    assert variant["put"]["x-required-role"] == "editor" and variant["delete"]["x-required-role"] == "editor"
    assert {"404", "409", "422"} <= set(variant["put"]["responses"])
    assert doc["paths"][f"{API}/products/{{sku}}/variants"]["get"]["operationId"] == "listVariants"
    assert "422" in doc["paths"][f"{API}/prices/{{sku}}/{{currency}}"]["put"]["responses"]
    assert "variants" in doc["components"]["schemas"]["ProductOut"]["required"]
