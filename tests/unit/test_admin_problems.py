"""Every error of the admin app is application/problem+json (RFC 9457); no services needed."""

from __future__ import annotations

import time
from dataclasses import replace

import psycopg
import pytest
from psycopg_pool import PoolTimeout

from catalog.errors import CatalogError, Conflict, Invalid, NotFound, Unavailable
from entrypoints.bootstrap import admin_app
from tests.unit.admin_fakes import SETTINGS, FakeConn, FakePool, auth, make_client
from web.admin import handlers
from web.admin.admin_state import EXTENSION
from web.admin.problems import PROBLEM_JSON, problem_response

API = "/admin/api/v1"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_JSON
    body = response.get_json(force=True)
    assert body["status"] == status and body["type"] == "about:blank"
    assert body["title"] and body["detail"]
    return body


def test_problem_response_has_the_rfc_9457_members():
    from flask import Flask

    with Flask(__name__).app_context():
        response = problem_response(409, "stock would go negative", headers={"X-A": "1"}, hint="x")
    assert response.status_code == 409 and response.headers["X-A"] == "1"
    assert response.get_json(force=True) == {
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "stock would go negative",
        "hint": "x",
    }


def test_unknown_route_and_method_are_problems():
    client, _ = make_client()
    assert "not an admin API route" in assert_problem(client.get(f"{API}/nope"), 404)["detail"]
    response = client.delete(f"{API}/stock/A1")
    assert "PUT" in assert_problem(response, 405)["detail"] and "PUT" in response.headers["Allow"]


@pytest.mark.parametrize(
    "data, content_type, status, words",
    [
        ('{"quantity": 1}', "text/plain", 415, "application/json"),
        ('{"quantity": 1}', None, 415, "no Content-Type"),
        ('{"quantity": 1', "application/json", 400, "not well-formed JSON"),
        ("[1, 2]", "application/json", 400, "JSON object, got list"),
        ('{"quantity": NaN}', "application/json", 400, "NaN"),
        (b'{"quantity": "\xff"}', "application/json", 400, "not well-formed"),
        ("[" * 100_000 + "]" * 100_000, "application/json", 400, "not well-formed"),
    ],
)
def test_body_must_be_a_json_object(data, content_type, status, words):
    client, _ = make_client()
    response = client.put(f"{API}/stock/A1", data=data, content_type=content_type, headers=auth())
    assert words in assert_problem(response, status)["detail"]


def test_oversized_body_is_413():
    client, _ = make_client(settings=replace(SETTINGS, max_body_bytes=100))
    response = client.put(f"{API}/stock/A1", json={"quantity": 1, "pad": "x" * 200}, headers=auth())
    assert "limit of 100 bytes" in assert_problem(response, 413)["detail"]


def test_validation_errors_name_every_bad_field():
    client, _ = make_client()
    response = client.put(f"{API}/prices/-bad/XXX", json={"amount": 12.5, "colour": "red"}, headers=auth())
    body = assert_problem(response, 422)
    locs = [e["loc"] for e in body["errors"]]
    assert locs == [["path", "sku"], ["path", "currency"], ["body", "amount"], ["body", "colour"]]
    assert all(isinstance(e["msg"], str) and not e["msg"].startswith("Value error") for e in body["errors"])
    for field in ("path.sku", "path.currency", "body.amount", "body.colour"):
        assert field in body["detail"]
    assert "EUR" in body["errors"][1]["msg"] and "decimal string" in body["errors"][2]["msg"]


def test_model_level_errors_are_located_at_the_body():
    client, _ = make_client()
    offer = {"amount": "1.00", "starts_at": "2030-01-02T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z"}
    body = assert_problem(client.put(f"{API}/offers/A1/EUR", json=offer, headers=auth()), 422)
    assert body["errors"] == [{"loc": ["body"], "msg": "ends_at must be after starts_at"}]


class DeadConn(FakeConn):
    def execute(self, sql, params=None):
        raise psycopg.OperationalError("server closed the connection unexpectedly")


@pytest.mark.parametrize(
    "pool",
    [FakePool(error=PoolTimeout("couldn't get a connection after 5.00 sec")), FakePool(DeadConn("admin"))],
    ids=["pool-timeout", "connection-lost"],
)
def test_database_down_is_503_with_retry_after(pool):
    client, _ = make_client(pool=pool)
    response = client.put(f"{API}/stock/A1", json={"quantity": 1}, headers=auth())
    assert "unavailable" in assert_problem(response, 503)["detail"]
    assert int(response.headers["Retry-After"]) > 0


def test_app_starts_with_the_database_down_and_answers_503():
    dead = replace(SETTINGS, database_url="postgresql://127.0.0.1:9/nothing?connect_timeout=1")
    app = admin_app(dead)  # the pool as `snipshop serve admin` opens it: without waiting
    pool = app.extensions[EXTENSION].pool
    try:
        pool.timeout = 0.5
        started = time.monotonic()
        response = app.test_client().put(f"{API}/stock/A1", json={"quantity": 1}, headers=auth())
        assert_problem(response, 503)
        assert time.monotonic() - started < 5
    finally:
        pool.close()


@pytest.mark.parametrize(
    "error, status",
    [
        (Conflict("stock of A1 would go negative"), 409),
        (NotFound("unknown product: A1"), 404),
        (Invalid("unknown category: hats"), 422),
        (Unavailable("the database is away"), 503),
        (CatalogError("something else"), 400),
    ],
)
def test_catalog_errors_get_their_status_at_the_http_edge_and_keep_their_message(monkeypatch, error, status):
    def fail(conn, items):
        raise error

    monkeypatch.setattr(handlers.commands, "set_stock", fail)
    client, sent = make_client()
    response = client.put(f"{API}/stock/A1", json={"quantity": 1}, headers=auth())
    assert assert_problem(response, status)["detail"] == str(error)
    assert sent == []


def test_unexpected_errors_are_a_500_problem(monkeypatch):
    monkeypatch.setattr(handlers.commands, "set_stock", lambda conn, items: 1 / 0)
    client, _ = make_client()
    assert_problem(client.put(f"{API}/stock/A1", json={"quantity": 1}, headers=auth()), 500)


def test_the_write_side_knows_no_http_status():
    import catalog.errors

    assert not any(hasattr(cls, "status") for cls in vars(catalog.errors).values() if isinstance(cls, type))
