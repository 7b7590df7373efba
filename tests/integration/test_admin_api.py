"""Every admin route's happy path against real PostgreSQL, and the outbox dispatch after commit."""

from __future__ import annotations

import psycopg
import pytest

from tests.integration.admin_support import API, outbox
from vocab.topics import Topic

pytestmark = pytest.mark.integration


def test_put_and_read_back_categories(client, tokens, sent):
    response = client.put(
        f"{API}/categories/gear", json={"name": {"en_US": "Gear", "de_DE": "Ausrüstung"}}, headers=tokens["editor"]
    )
    assert response.status_code == 200 and response.get_json() == {"key": "gear", "outbox_id": 1}
    client.put(
        f"{API}/categories/bags",
        json={"parent": "gear", "name": {"en_US": "Bags"}, "position": 2},
        headers=tokens["admin"],
    )
    got = client.get(f"{API}/categories/gear", headers=tokens["stock"]).get_json()
    assert got["name"] == {"en_US": "Gear", "de_DE": "Ausrüstung"} and got["children"] == ["bags"]
    assert got["parent"] is None and got["position"] == 0
    assert sent == [(Topic.CATEGORY, ["gear"]), (Topic.CATEGORY, ["bags"])]


def test_put_read_and_delete_a_product(client, tokens, seeded, sent):
    product = {
        "name": {"en_US": "Tent"},
        "description": {"en_US": "<p>Dry</p>"},
        "brand": "Acme",
        "categories": ["gear", "bags"],
        "attributes": {"size": "L", "color": ["Green", "Grey"]},
    }
    response = client.put(f"{API}/products/T-1", json=product, headers=tokens["editor"])
    assert response.status_code == 200 and response.get_json()["sku"] == "T-1"
    got = client.get(f"{API}/products/T-1", headers=tokens["pricing"]).get_json()
    assert got["name"] == {"en_US": "Tent"} and got["brand"] == "Acme" and got["active"] is True
    assert got["categories"] == ["gear", "bags"] and got["attributes"] == {"color": ["Green", "Grey"], "size": ["L"]}
    assert got["prices"] == {} and got["offers"] == [] and got["quantity"] == 0

    assert client.delete(f"{API}/products/T-1", headers=tokens["editor"]).status_code == 200
    assert client.get(f"{API}/products/T-1", headers=tokens["editor"]).status_code == 404
    assert sent == [(Topic.PRODUCT, ["T-1"])] * 2


def test_prices_and_offers(client, tokens, seeded, sent):
    response = client.put(f"{API}/prices/B1/USD", json={"amount": "14.00"}, headers=tokens["pricing"])
    assert response.status_code == 200 and response.get_json()["currency"] == "USD"
    offer = {"amount": "7.50", "starts_at": "2030-01-01T00:00:00+01:00", "ends_at": "2030-01-31T00:00:00Z"}
    assert client.put(f"{API}/offers/B1/USD", json=offer, headers=tokens["pricing"]).status_code == 200
    got = client.get(f"{API}/products/B1", headers=tokens["pricing"]).get_json()
    assert got["prices"] == {"EUR": "12.50", "USD": "14.00"}
    assert [(o["currency"], o["amount"]) for o in got["offers"]] == [("EUR", "9.99"), ("USD", "7.50")]
    assert got["offers"][1]["starts_at"].startswith("2029-12-31T23:00:00")

    assert client.delete(f"{API}/offers/B1/EUR", headers=tokens["admin"]).status_code == 200
    assert [o["currency"] for o in client.get(f"{API}/products/B1", headers=tokens["stock"]).get_json()["offers"]] == [
        "USD"
    ]
    assert sent == [(Topic.PRICE, ["B1"])] * 3


def test_stock_levels_and_movements(client, tokens, seeded, sent, pool):
    response = client.put(f"{API}/stock/B1", json={"quantity": 5}, headers=tokens["stock"])
    assert response.status_code == 200 and response.get_json()["quantity"] == 5
    move = {"movement_id": "order-17", "delta": -2, "reason": "sale"}
    first = client.post(f"{API}/stock/B1/movements", json=move, headers=tokens["stock"])
    assert first.status_code == 201
    assert first.get_json() | {"outbox_id": None} == {"sku": "B1", "quantity": 3, "applied": True, "outbox_id": None}
    again = client.post(f"{API}/stock/B1/movements", json=move, headers=tokens["stock"])
    assert again.status_code == 200
    assert again.get_json() == {"sku": "B1", "quantity": 3, "applied": False, "outbox_id": None}
    assert client.get(f"{API}/products/B1", headers=tokens["stock"]).get_json()["quantity"] == 3
    # Stock writes are high-rate: the relay's sweep sends them in batches, not the request.
    assert sent == []
    stock_rows = [row for row in outbox(pool) if row[1] == "stock"]
    assert [(topic, keys, dispatched) for _, topic, keys, dispatched in stock_rows[-2:]] == [
        ("stock", ["B1"], False)
    ] * 2


def test_the_outbox_row_is_dispatched_after_its_commit(app, client, tokens, seeded, sent, settings):
    seen_committed = []

    def send(topic, keys, ids):
        # Another connection sees the row only if the write has committed before the send.
        with psycopg.connect(settings.database_url) as other:
            row = other.execute("SELECT count(*) FROM outbox WHERE dispatched_at IS NULL").fetchone()
            seen_committed.append(row[0] if row else None)
        sent.append((topic, keys))

    app.extensions["snipshop.admin"].send = send
    response = client.put(f"{API}/prices/B1/EUR", json={"amount": "11.00"}, headers=tokens["pricing"])
    oid = response.get_json()["outbox_id"]
    assert sent == [(Topic.PRICE, ["B1"])] and seen_committed == [1]
    assert outbox(app.extensions["snipshop.admin"].pool)[-1] == (oid, "price", ["B1"], True)


def test_a_failing_send_keeps_the_write_and_leaves_the_row_for_the_sweep(app, client, tokens, seeded):
    def send(task, keys):
        raise ConnectionError("broker down")

    app.extensions["snipshop.admin"].send = send
    response = client.put(f"{API}/stock/B1", json={"quantity": 9}, headers=tokens["stock"])
    assert response.status_code == 200
    pool = app.extensions["snipshop.admin"].pool
    assert outbox(pool)[-1] == (response.get_json()["outbox_id"], "stock", ["B1"], False)
    assert client.get(f"{API}/products/B1", headers=tokens["stock"]).get_json()["quantity"] == 9


def test_openapi_document_is_public(client):
    assert client.get(f"{API}/openapi.json").get_json()["openapi"] == "3.1.0"
