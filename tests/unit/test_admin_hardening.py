"""The admin app authenticates before it holds a connection, remembers bad tokens, and answers no-store."""

from __future__ import annotations

import threading

import pytest

from catalog import tokens
from tests.unit.admin_fakes import TOKEN, FakeConn, FakePool, auth, make_client
from web.admin.auth import TokenCache, well_formed
from web.admin.routes import API_ROOT

NO_DB = AssertionError("no connection may be taken")
UNKNOWN = "sst_" + "u" * 43


class RecordingConn:
    def __init__(self) -> None:
        self.inserted: list[tuple] = []

    def transaction(self):
        from contextlib import nullcontext

        return nullcontext()

    def execute(self, sql, params=None):
        self.inserted.append(params)


def test_created_tokens_have_the_form_the_app_checks():
    conn = RecordingConn()
    made = {tokens.create_token(conn, "stock", "t") for _ in range(50)}  # type: ignore[arg-type]
    assert len(made) == 50 and all(well_formed(t) for t in made)


@pytest.mark.parametrize(
    "token",
    [
        "sst_test",
        "sst_not-a-token",
        "x" * 47,
        "sst_" + "a" * 42,
        "sst_" + "a" * 44,
        "sst_" + "a" * 42 + "!",
        "SST_" + "a" * 43,
        "sst_" + "é" * 43,
    ],
)
def test_a_token_that_cannot_be_one_is_401_without_the_database(token):
    pool = FakePool(error=NO_DB)
    client, _ = make_client(pool=pool)
    response = client.put(f"{API_ROOT}/stock/A1", json={"quantity": 1}, headers=auth(token))
    assert response.status_code == 401, response.get_data(as_text=True)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert pool.checkouts == 0


def test_an_unknown_well_formed_token_is_looked_up_once_then_remembered():
    conn = FakeConn(role=None)
    pool = FakePool(conn)
    client, _ = make_client(pool=pool)
    for _ in range(5):
        response = client.put(f"{API_ROOT}/stock/A1", json={"quantity": 1}, headers=auth(UNKNOWN))
        assert response.status_code == 401
    assert pool.checkouts == 1 and len(conn.statements) == 1


def test_the_lookup_connection_is_given_back_before_the_body_is_read():
    conn = FakeConn("admin")
    pool = FakePool(conn)
    client, _ = make_client(pool=pool)
    response = client.put(f"{API_ROOT}/stock/A1", data="{", content_type="application/json", headers=auth())
    assert response.status_code == 400 and pool.checkouts == 1  # the lookup only: no connection for a bad body
    response = client.put(f"{API_ROOT}/stock/A1", data="x", content_type="text/plain", headers=auth())
    assert response.status_code == 415 and pool.checkouts == 1  # the token is remembered now


def test_the_token_cache_is_bounded_and_forgets_the_oldest():
    cache = TokenCache(entries=3)
    for n in range(5):
        cache.put(f"t{n}", None)
    assert [cache.lookup(f"t{n}")[0] for n in range(5)] == [False, False, True, True, True]


def test_the_token_cache_is_safe_across_threads():
    cache = TokenCache(entries=100)

    def churn(k: int) -> None:
        for n in range(2000):
            cache.put(f"{k}-{n}", None)
            cache.lookup(f"{k}-{n // 2}")

    threads = [threading.Thread(target=churn, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache._checked) == 100


@pytest.mark.parametrize(
    "method, path, kwargs, status",
    [
        ("GET", "/openapi.json", {}, 200),
        ("PUT", "/stock/-x", {"json": {"quantity": 1}, "headers": auth()}, 422),
        ("PUT", "/stock/A1", {"json": {"quantity": 1}}, 401),
        ("PUT", "/stock/A1", {"data": "{", "content_type": "application/json", "headers": auth()}, 400),
        ("GET", "/nope", {}, 404),
        ("DELETE", "/stock/A1", {}, 405),
    ],
)
def test_every_answer_is_no_store(method, path, kwargs, status):
    client, _ = make_client()
    response = client.open(API_ROOT + path, method=method, **kwargs)
    assert response.status_code == status
    assert response.headers["Cache-Control"] == "no-store"


def test_a_write_and_a_server_error_are_no_store(monkeypatch):
    from web.admin import handlers

    client, _ = make_client()
    monkeypatch.setattr(handlers.commands, "set_stock", lambda conn, items: 7)
    ok = client.put(f"{API_ROOT}/stock/A1", json={"quantity": 1}, headers=auth(TOKEN))
    assert ok.status_code == 200 and ok.headers["Cache-Control"] == "no-store"
    monkeypatch.setattr(handlers.commands, "set_stock", lambda conn, items: 1 / 0)
    failed = client.put(f"{API_ROOT}/stock/A1", json={"quantity": 1}, headers=auth(TOKEN))
    assert failed.status_code == 500 and failed.headers["Cache-Control"] == "no-store"
