"""Bearer token parsing and role checks of the admin app, on fakes (no services)."""

from __future__ import annotations

import pytest

from catalog.models import ROLES
from tests.unit.admin_fakes import FakeConn, FakePool, auth, make_client
from web.admin.auth import bearer_token
from web.admin.routes import API_ROOT, ROUTES

# Path values that fail validation, so an authorized call stops at 422 before any command.
BAD_PARAMS = {"sku": "-x", "variant_sku": "-x", "key": "-x", "currency": "XXX", "code": "-x"}


@pytest.mark.parametrize(
    "header, token",
    [
        ("Bearer sst_abc", "sst_abc"),
        ("bearer  sst_abc ", "sst_abc"),
        ("BEARER sst_abc", "sst_abc"),
        (None, None),
        ("", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("Basic dXNlcjpwYXNz", None),
        ("sst_abc", None),
        ("Bearer two words", None),
    ],
)
def test_bearer_token_parsing(header, token):
    assert bearer_token(header) == token


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}])
def test_missing_token_is_401_without_touching_the_database(headers):
    pool = FakePool(error=AssertionError("no connection may be taken"))
    client, _ = make_client(pool=pool)
    response = client.put(f"{API_ROOT}/stock/A1", json={"quantity": 1}, headers=headers)
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert pool.checkouts == 0


def test_unknown_token_is_401_invalid_token():
    client, _ = make_client(role=None)
    response = client.put(f"{API_ROOT}/stock/A1", json={"quantity": 1}, headers=auth("sst_wrong"))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert "unknown or revoked" in response.get_json(force=True)["detail"]


def test_wrong_role_is_403_before_the_body_is_read():
    client, _ = make_client(role="stock")
    response = client.put(f"{API_ROOT}/prices/A1/EUR", data="not json", content_type="text/plain", headers=auth())
    assert response.status_code == 403
    assert "'pricing'" in response.get_json(force=True)["detail"]


def _call(route, role):
    client, _ = make_client(role=role)
    path = API_ROOT + route.path.format(**{p: BAD_PARAMS[p] for p in route.params})
    return client.open(path, method=route.method, headers=auth(), json={} if route.body else None)


@pytest.mark.parametrize("route", [r for r in ROUTES if not r.public], ids=lambda r: r.name)
@pytest.mark.parametrize("role", ROLES)
def test_each_route_admits_exactly_its_role_and_admin(route, role):
    allowed = role == "admin" or route.role in (None, role)
    response = _call(route, role)
    assert response.status_code == (422 if allowed else 403), response.get_data(as_text=True)


def test_public_route_needs_no_token():
    pool = FakePool(error=AssertionError("no connection may be taken"))
    client, _ = make_client(pool=pool)
    assert client.get(f"{API_ROOT}/openapi.json").status_code == 200
    assert pool.checkouts == 0


def test_the_token_is_looked_up_once_per_request():
    conn = FakeConn("admin")
    client, _ = make_client(pool=FakePool(conn))
    client.put(f"{API_ROOT}/stock/-x", json={"quantity": 1}, headers=auth())
    assert len(conn.statements) == 1 and "api_tokens" in conn.statements[0]
