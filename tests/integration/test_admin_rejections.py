"""A rejected admin request answers a 4xx problem and writes nothing: every table and the outbox are unchanged."""

from __future__ import annotations

import json

import pytest

from tests.integration.admin_support import API, dump

pytestmark = pytest.mark.integration

PRODUCT = {"name": {"en_US": "Tent"}, "categories": ["gear"]}
MOVE = {"movement_id": "m-1", "delta": -1, "reason": "sale"}
OFFER = {"amount": "5.00", "starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-02-01T00:00:00Z"}

# id: (method, path, role or a raw Authorization header, body (dict: JSON; str: raw), content type, status)
CASES = {
    "amount as number": ("PUT", "/prices/B1/EUR", "pricing", {"amount": 12.5}, None, 422),
    "quantity as string": ("PUT", "/stock/B1", "stock", {"quantity": "5"}, None, 422),
    "delta as string": ("POST", "/stock/B1/movements", "stock", {**MOVE, "delta": "-1"}, None, 422),
    "unknown category": ("PUT", "/products/T1", "editor", {**PRODUCT, "categories": ["gear", "nope"]}, None, 422),
    "unknown parent category": (
        "PUT",
        "/categories/tents",
        "editor",
        {"parent": "nope", "name": {"en_US": "T"}},
        None,
        422,
    ),
    "category cycle": ("PUT", "/categories/gear", "editor", {"parent": "bags", "name": {"en_US": "G"}}, None, 422),
    "unknown locale": ("PUT", "/products/T1", "editor", {"name": {"fr_FR": "Tente"}}, None, 422),
    "negative stock quantity": ("PUT", "/stock/B1", "stock", {"quantity": -1}, None, 422),
    "movement below zero": ("POST", "/stock/B1/movements", "stock", {**MOVE, "delta": -4}, None, 409),
    "zero movement": ("POST", "/stock/B1/movements", "stock", {**MOVE, "delta": 0}, None, 422),
    "offer ends before it starts": (
        "PUT",
        "/offers/B1/EUR",
        "pricing",
        {**OFFER, "ends_at": "2029-01-01T00:00:00Z"},
        None,
        422,
    ),
    "offer without offset": (
        "PUT",
        "/offers/B1/EUR",
        "pricing",
        {**OFFER, "starts_at": "2030-01-01T00:00:00"},
        None,
        422,
    ),
    "oversized body": (
        "PUT",
        "/products/T1",
        "editor",
        {**PRODUCT, "description": {"en_US": "x" * (1024 * 1024)}},
        None,
        413,
    ),
    "missing token": ("PUT", "/stock/B1", None, {"quantity": 1}, None, 401),
    "bad token": ("PUT", "/stock/B1", "Bearer sst_not-a-token", {"quantity": 1}, None, 401),
    "not a bearer token": ("PUT", "/stock/B1", "Basic c3RvY2s6c3RvY2s=", {"quantity": 1}, None, 401),
    "wrong role": ("PUT", "/prices/B1/EUR", "stock", {"amount": "1.00"}, None, 403),
    "wrong role for delete": ("DELETE", "/products/B1", "pricing", None, None, 403),
    "unknown SKU for price": ("PUT", "/prices/NOPE/EUR", "pricing", {"amount": "1.00"}, None, 404),
    "unknown SKU for stock": ("PUT", "/stock/NOPE", "stock", {"quantity": 1}, None, 404),
    "unknown SKU for movement": ("POST", "/stock/NOPE/movements", "stock", MOVE, None, 404),
    "delete unknown product": ("DELETE", "/products/NOPE", "editor", None, None, 404),
    "delete missing offer": ("DELETE", "/offers/B1/USD", "pricing", None, None, 404),
    "unknown currency": ("PUT", "/prices/B1/GBP", "pricing", {"amount": "1.00"}, None, 422),
    "bad SKU in path": ("PUT", "/stock/-B1", "stock", {"quantity": 1}, None, 422),
    "malformed JSON": ("PUT", "/stock/B1", "stock", '{"quantity": 1', "application/json", 400),
    "JSON array": ("PUT", "/stock/B1", "stock", '[{"quantity": 1}]', "application/json", 400),
    "wrong content type": ("PUT", "/stock/B1", "stock", '{"quantity": 1}', "text/plain", 415),
    "form post": ("PUT", "/stock/B1", "stock", "quantity=1", "application/x-www-form-urlencoded", 415),
    "extra unknown fields": ("PUT", "/stock/B1", "stock", {"quantity": 1, "warehouse": "north"}, None, 422),
    "extra field in a product": ("PUT", "/products/T1", "editor", {**PRODUCT, "price": "9.99"}, None, 422),
}


def _headers(auth, tokens) -> dict[str, str]:
    if auth is None:
        return {}
    return tokens.get(auth, {"Authorization": auth})


@pytest.mark.parametrize("method, path, auth, body, content_type, status", CASES.values(), ids=CASES.keys())
def test_rejected_request_writes_nothing(
    client, pool, tokens, seeded, sent, method, path, auth, body, content_type, status
):
    before = dump(pool)
    data = json.dumps(body) if isinstance(body, dict) else body
    response = client.open(
        API + path,
        method=method,
        data=data,
        headers=_headers(auth, tokens),
        content_type=content_type or ("application/json" if data is not None else None),
    )
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem = response.get_json(force=True)
    assert problem["status"] == status and problem["detail"]
    assert dump(pool) == before
    assert sent == []


def test_a_movement_id_reused_for_another_change_is_a_conflict(client, pool, tokens, seeded, sent):
    assert client.post(f"{API}/stock/B1/movements", json=MOVE, headers=tokens["stock"]).status_code == 201
    before, sent[:] = dump(pool), []
    response = client.post(f"{API}/stock/B1/movements", json={**MOVE, "delta": -2}, headers=tokens["stock"])
    assert response.status_code == 409 and "already used" in response.get_json(force=True)["detail"]
    assert dump(pool) == before and sent == []
