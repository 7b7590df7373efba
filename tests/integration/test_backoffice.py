"""The back office in the admin app against the real PostgreSQL: sign-in, lockout, CSRF, roles,
the product editor, prices, offers, stock and the audit log (Flask's test client; the browser
tests are tests/e2e/test_backoffice_browser.py)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest

from tests.redis_support import store_client
from web.backoffice.accounts import LOCKOUT_SECONDS, MAX_FAILED_ATTEMPTS, create_user

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"
BACKOFFICE_TABLES = "audit_log, backoffice_sessions, backoffice_users, feed_jobs"


@pytest.fixture
def users(pool, seeded):
    with pool.connection() as conn:
        conn.execute(f"TRUNCATE {BACKOFFICE_TABLES} RESTART IDENTITY")
        for role in ("admin", "editor", "pricing", "stock"):
            create_user(conn, role, role, PASSWORD)


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:2000]
    return match.group(1)


def sign_in(client, username: str, password: str = PASSWORD):
    page = client.get("/backoffice/login")
    return client.post(
        "/backoffice/login", data={"username": username, "password": password, "csrf_token": csrf(page.text)}
    )


def signed_in(app, role: str):
    client = app.test_client()
    assert sign_in(client, role).status_code == 303
    return client


def row(pool, sql: str, *params):
    with pool.connection() as conn:
        return conn.execute(sql, params).fetchone()


def editor_form(client, sku: str = "B1", **changes) -> dict:
    html = client.get(f"/backoffice/products/{sku}").text
    form = {
        "csrf_token": csrf(html),
        "version": re.search(r'name="version" value="(\d+)"', html).group(1),
        "name.en_US": "Bag",
        "name.de_DE": "",
        "description.en_US": "",
        "description.de_DE": "",
        "brand": "",
        "categories": ["bags"],
        "attributes": "color: Red | Blue",
        "active": "on",
    }
    form.update(changes)
    return form


def test_pages_need_a_session_and_sign_in_works(app, users):
    client = app.test_client()
    response = client.get("/backoffice/products")
    assert response.status_code == 303 and "/backoffice/login" in response.headers["Location"]
    response = sign_in(client, "editor")
    assert response.status_code == 303
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("snipshop_backoffice="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/backoffice" in cookie
    assert "Secure" not in cookie  # plain http here; over https (or X-Forwarded-Proto: https) it is Secure
    page = client.get("/backoffice/products?q=bag")
    assert page.status_code == 200 and 'data-sku="B1"' in page.text and 'data-total="1"' in page.text
    assert 'data-total="0"' in client.get("/backoffice/products?q=nothing-like-it").text
    assert 'data-total="1"' in client.get("/backoffice/products?category=bags&active=yes").text
    assert 'data-total="0"' in client.get("/backoffice/products?active=no").text


def test_the_cookie_is_secure_behind_https(app, users):
    client = app.test_client()
    page = client.get("/backoffice/login", headers={"X-Forwarded-Proto": "https"})
    response = client.post(
        "/backoffice/login",
        data={"username": "editor", "password": PASSWORD, "csrf_token": csrf(page.text)},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert response.status_code == 303
    assert all("Secure" in c for c in response.headers.getlist("Set-Cookie"))


def test_a_wrong_password_five_times_locks_the_account(app, users, pool):
    client = app.test_client()
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        response = sign_in(client, "editor", "wrong password!")
        assert response.status_code == 401 and "Wrong username or password" in response.text
    response = sign_in(client, "editor", "wrong password!")
    assert response.status_code == 429 and "locked until" in response.text
    response = sign_in(client, "editor")  # the right password, while locked
    assert response.status_code == 429
    locked = row(pool, "SELECT locked_until - now() FROM backoffice_users WHERE username = 'editor'")[0]
    assert LOCKOUT_SECONDS - 60 < locked.total_seconds() <= LOCKOUT_SECONDS
    assert sign_in(app.test_client(), "pricing").status_code == 303  # other accounts are not touched


def test_a_success_resets_the_count(app, users, pool):
    client = app.test_client()
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        sign_in(client, "editor", "wrong password!")
    assert sign_in(client, "editor").status_code == 303
    assert row(pool, "SELECT failed_attempts FROM backoffice_users WHERE username = 'editor'")[0] == 0


def test_sign_in_without_its_token_is_refused(app, users):
    client = app.test_client()
    client.get("/backoffice/login")
    response = client.post("/backoffice/login", data={"username": "editor", "password": PASSWORD})
    assert response.status_code == 403 and "security token" in response.text


def test_a_post_without_csrf_token_changes_nothing(app, users, pool):
    client = signed_in(app, "editor")
    form = editor_form(client, **{"name.de_DE": "Tasche"})
    before = row(pool, "SELECT count(*) FROM outbox")[0]
    for bad in ({**form, "csrf_token": ""}, {k: v for k, v in form.items() if k != "csrf_token"}):
        response = client.post("/backoffice/products/B1", data=bad)
        assert response.status_code == 403 and "security token" in response.text
    response = client.post("/backoffice/products/B1", data=form, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert row(pool, "SELECT count(*) FROM outbox")[0] == before
    assert row(pool, "SELECT count(*) FROM product_texts WHERE locale = 'de_DE'")[0] == 0


def test_an_editor_saves_a_german_name_with_outbox_and_audit(app, users, pool, sent):
    client = signed_in(app, "editor")
    form = editor_form(client, **{"name.de_DE": "Tasche", "description.de_DE": "<p>Groß</p><script>x</script>"})
    response = client.post("/backoffice/products/B1", data=form)
    assert response.status_code == 303, response.text
    outbox_id = int(re.search(r"saved=(\d+)", response.headers["Location"]).group(1))
    assert row(pool, "SELECT name FROM product_texts WHERE sku = 'B1' AND locale = 'de_DE'") == ("Tasche",)
    assert row(pool, "SELECT topic, keys FROM outbox WHERE id = %s", outbox_id) == ("product", ["B1"])
    assert sent == [("product", ["B1"])]  # handed on right after the commit
    assert row(pool, "SELECT count(*) FROM product_images WHERE sku = 'B1'")[0] == 0
    actor, via, before, after, oid = row(
        pool, "SELECT actor, via, before, after, outbox_id FROM audit_log WHERE product = 'B1'"
    )
    assert (actor, via, oid) == ("user:editor", "backoffice", outbox_id)
    assert before["name"] == {"en_US": "Bag"} and after["name"] == {"en_US": "Bag", "de_DE": "Tasche"}
    page = client.get(response.headers["Location"])
    assert f'data-outbox="{outbox_id}"' in page.text and "/p/B1" in page.text
    assert "<script>x</script>" not in page.text.split("Preview")[-1]  # the preview is sanitized like the shop
    status = client.get(f"/backoffice/changes/{outbox_id}").get_json()
    assert status["outbox_id"] == outbox_id and status["projected_at"] is None  # no worker here
    assert "Tasche" in client.get("/backoffice/audit").text


def test_a_validation_error_stands_beside_its_field_and_saves_nothing(app, users, pool):
    client = signed_in(app, "editor")
    version = row(pool, "SELECT version FROM products WHERE sku = 'B1'")[0]
    outbox = row(pool, "SELECT count(*) FROM outbox")[0]
    form = editor_form(client, **{"name.de_DE": "x" * 501, "name.en_US": "Changed"})
    response = client.post("/backoffice/products/B1", data=form)
    assert response.status_code == 422
    german = response.text.split('data-locale="de_DE"')[1].split("</div>")[0]
    assert 'class="error"' in german and "500 characters" in german
    assert row(pool, "SELECT version FROM products WHERE sku = 'B1'")[0] == version
    assert row(pool, "SELECT count(*) FROM outbox")[0] == outbox
    assert row(pool, "SELECT name FROM product_texts WHERE sku = 'B1' AND locale = 'en_US'") == ("Bag",)
    response = client.post("/backoffice/products/B1", data=editor_form(client, categories=["nope"]))
    assert response.status_code == 422 and "unknown category" in response.text
    assert row(pool, "SELECT count(*) FROM audit_log")[0] == 0


def test_a_stale_form_does_not_overwrite_a_newer_save(app, users, pool):
    client = signed_in(app, "editor")
    stale = editor_form(client, **{"name.en_US": "First"})
    assert (
        client.post("/backoffice/products/B1", data=editor_form(client, **{"name.en_US": "Second"})).status_code == 303
    )
    response = client.post("/backoffice/products/B1", data=stale)
    assert response.status_code == 409 and "someone else saved" in response.text
    assert row(pool, "SELECT name FROM product_texts WHERE sku = 'B1' AND locale = 'en_US'") == ("Second",)


def test_a_pricing_user_cannot_edit_texts(app, users, pool):
    client = signed_in(app, "pricing")
    page = client.get("/backoffice/products/B1")
    assert page.status_code == 200 and 'id="read-only"' in page.text and "<fieldset disabled" in page.text
    response = client.post("/backoffice/products/B1", data=editor_form(client, **{"name.en_US": "Hacked"}))
    assert response.status_code == 403 and "needs the role 'editor'" in html.unescape(response.text)
    assert row(pool, "SELECT name FROM product_texts WHERE sku = 'B1' AND locale = 'en_US'") == ("Bag",)


def test_prices_and_offers_in_the_shop_time_zone(app, users, pool):
    client = signed_in(app, "pricing")
    token = csrf(client.get("/backoffice/products/B1/prices").text)
    response = client.post("/backoffice/prices/B1/EUR", data={"csrf_token": token, "amount": "11.00"})
    assert response.status_code == 303
    assert row(pool, "SELECT amount::text FROM prices WHERE sku = 'B1' AND currency = 'EUR'") == ("11.00",)
    response = client.post(
        "/backoffice/offers/B1/USD",
        data={"csrf_token": token, "amount": "8.50", "starts_at": "2031-07-01T10:00", "ends_at": "2031-07-02T10:00"},
    )
    assert response.status_code == 303
    starts = row(pool, "SELECT starts_at FROM offers WHERE sku = 'B1' AND currency = 'USD'")[0]
    assert starts == datetime(2031, 7, 1, 8, 0, tzinfo=UTC)  # 10:00 in Berlin, summer time
    response = client.post(
        "/backoffice/offers/B1/USD",
        data={"csrf_token": token, "amount": "-1", "starts_at": "2031-07-03T10:00", "ends_at": "2031-07-02T10:00"},
    )
    assert response.status_code == 422 and 'aria-invalid="true"' in response.text
    assert row(pool, "SELECT count(*) FROM offers WHERE sku = 'B1' AND currency = 'USD'")[0] == 1
    offers = client.get("/backoffice/offers").text
    assert "2031-07-01 10:00:00 CEST" in offers and 'class="upcoming"' in offers
    entries = row(pool, "SELECT count(*) FROM audit_log WHERE kind = 'pricing' AND actor = 'user:pricing'")[0]
    assert entries == 2
    editor = signed_in(app, "editor")
    assert editor.post("/backoffice/prices/B1/EUR", data={"csrf_token": token, "amount": "1.00"}).status_code == 403


def test_a_manual_stock_movement_with_its_reason(app, users, pool):
    client = signed_in(app, "stock")
    page = client.get("/backoffice/products/B1/stock").text
    form = {
        "csrf_token": csrf(page),
        "movement_id": re.search(r'name="movement_id" value="([^"]+)"', page).group(1),
        "delta": "4",
        "reason": "found in the back room",
    }
    assert client.post("/backoffice/stock/B1/movements", data=form).status_code == 303
    assert client.post("/backoffice/stock/B1/movements", data=form).status_code == 303  # sent twice: applied once
    assert row(pool, "SELECT quantity FROM stock WHERE sku = 'B1'") == (7,)
    page = client.get("/backoffice/products/B1/stock").text
    assert "found in the back room" in page and 'data-sku="B1">7<' in page
    response = client.post("/backoffice/stock/B1/movements", data={**form, "movement_id": "", "delta": "-100"})
    assert response.status_code == 409 and "negative" in response.text
    response = client.post("/backoffice/stock/B1/movements", data={**form, "movement_id": "", "reason": ""})
    assert response.status_code == 422 and "say why" in response.text
    assert row(pool, "SELECT before, after, product FROM audit_log WHERE kind = 'stock'") == (
        {"quantity": 3},
        {"quantity": 7},
        "B1",
    )


def test_unknown_things_are_html_404s(app, users):
    client = signed_in(app, "admin")
    for url in ("/backoffice/products/NOPE", "/backoffice/products/NOPE/prices", "/backoffice/changes/999999"):
        response = client.get(url)
        assert response.status_code == 404, url
    assert client.get("/backoffice/products?page=abc").status_code == 200


def test_sign_in_never_redirects_elsewhere(app, users):
    client = app.test_client()
    page = client.get("/backoffice/login?next=https://evil.example/")
    response = client.post(
        "/backoffice/login",
        data={"username": "admin", "password": PASSWORD, "csrf_token": csrf(page.text), "next": "//evil.example/"},
    )
    assert response.headers["Location"].endswith("/backoffice/products")


def test_sign_out_ends_the_session(app, users):
    client = signed_in(app, "admin")
    token = csrf(client.get("/backoffice/products").text)
    assert client.post("/backoffice/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/backoffice/products").status_code == 303


def test_api_writes_are_audited_with_their_token(client, tokens, users, pool):
    response = client.put("/admin/api/v1/prices/B1/USD", json={"amount": "14.00"}, headers=tokens["pricing"])
    assert response.status_code == 200
    actor, via, action, before, after = row(
        pool, "SELECT actor, via, action, before, after FROM audit_log WHERE product = 'B1' ORDER BY id DESC"
    )
    assert (actor, via, action) == ("token:test pricing", "api", "putPrice")
    assert before["prices"] == {"EUR": "12.50"} and after["prices"] == {"EUR": "12.50", "USD": "14.00"}
    refused = client.put("/admin/api/v1/prices/NOPE/USD", json={"amount": "1.00"}, headers=tokens["pricing"])
    assert refused.status_code == 404
    assert row(pool, "SELECT count(*) FROM audit_log")[0] == 1  # a refused write records nothing
    assert "token:test pricing" in signed_in(client.application, "admin").get("/backoffice/products/B1").text


def test_the_user_commands(service_env, pool, users):
    import subprocess
    import sys
    from pathlib import Path

    snipshop = str(Path(sys.executable).parent / "snipshop")

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([snipshop, "user", *args], input=stdin, env=service_env, capture_output=True, text=True)

    created = run("create", "--role", "stock", "warehouse", stdin="a long enough password\n")
    assert created.returncode == 0 and "user warehouse created with role stock" in created.stdout
    again = run("create", "--role", "stock", "warehouse", stdin="a long enough password\n")
    assert again.returncode == 1 and "exists already" in again.stderr
    short = run("create", "--role", "stock", "shorty", stdin="short\n")
    assert short.returncode == 1 and "at least 10 characters" in short.stderr
    bad_name = run("create", "--role", "stock", "Not A Name", stdin="a long enough password\n")
    assert bad_name.returncode == 1 and "username" in bad_name.stderr
    with pool.connection() as conn:
        conn.execute("UPDATE backoffice_users SET locked_until = now() + interval '1 hour' WHERE username = 'editor'")
    assert run("unlock", "editor").returncode == 0
    assert run("password", "warehouse", stdin="another long password\n").returncode == 0
    assert run("password", "nobody", stdin="another long password\n").returncode == 1
    listed = run("list").stdout
    assert "warehouse  stock  failed=0" in listed and "editor  editor  failed=0  locked_until=-" in listed


def test_an_unexpected_error_is_an_html_page(app, users, monkeypatch):
    from web.backoffice import catalog_views

    client = signed_in(app, "admin")
    monkeypatch.setattr(catalog_views, "product_page", lambda *args: 1 / 0)
    response = client.get("/backoffice/products")
    assert response.status_code == 500 and response.mimetype == "text/html"
    assert "server log" in response.text and "ZeroDivisionError" not in response.text


def test_api_stock_movements_leave_their_trail_in_stock_movements_only(client, tokens, users, pool):
    body = {"movement_id": "api-1", "delta": 2, "reason": "delivery"}
    assert client.post("/admin/api/v1/stock/B1/movements", json=body, headers=tokens["stock"]).status_code == 201
    assert row(pool, "SELECT delta, reason FROM stock_movements WHERE movement_id = 'api-1'") == (2, "delivery")
    assert row(pool, "SELECT count(*) FROM audit_log")[0] == 0
    assert client.put("/admin/api/v1/stock/B1", json={"quantity": 9}, headers=tokens["stock"]).status_code == 200
    assert row(pool, "SELECT actor, after FROM audit_log") == ("token:test stock", {"quantity": 9})


def test_the_status_page_reads_what_projector_status_prints(app, users, settings):

    store_client(settings).set("ss:live", "3")
    page = signed_in(app, "stock").get("/backoffice/status")
    assert page.status_code == 200
    assert re.search(r'data-line="live generation"><th scope="row">live generation</th><td>3</td>', page.text)
    assert 'data-line="outbox backlog"' in page.text and 'data-line="queue depth"' in page.text
