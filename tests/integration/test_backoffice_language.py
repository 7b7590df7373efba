"""The back office in the editor's language against the real PostgreSQL: the browser's choice
among the shop's locales, a choice kept on the user, German pages and validation errors."""

from __future__ import annotations

import html

import pytest

from tests.integration.test_backoffice import csrf, editor_form, row, signed_in, users  # noqa: F401  (a fixture)

pytestmark = pytest.mark.integration


def test_the_sign_in_page_speaks_the_browsers_language(app):
    german = app.test_client().get("/backoffice/login", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert '<html lang="de">' in german.text and "Benutzername" in german.text
    other = app.test_client().get("/backoffice/login", headers={"Accept-Language": "fr-FR"})
    assert '<html lang="en">' in other.text and "Username" in other.text  # not a shop locale: the default


def test_a_chosen_language_is_kept_and_errors_are_german(app, users, pool):  # noqa: F811
    client = signed_in(app, "editor")
    page = client.get("/backoffice/products").text
    assert "<h1>Products</h1>" in page
    chosen = client.post(
        "/backoffice/language", data={"csrf_token": csrf(page), "locale": "de_DE", "next": "/backoffice/products/B1"}
    )
    assert chosen.status_code == 303 and chosen.headers["Location"] == "/backoffice/products/B1"
    assert row(pool, "SELECT locale FROM backoffice_users WHERE username = 'editor'") == ("de_DE",)
    editor = client.get("/backoffice/products/B1").text
    assert '<html lang="de">' in editor and "Texte, eine Spalte pro Sprache" in editor
    response = client.post("/backoffice/products/B1", data=editor_form(client, **{"name.de_DE": "x" * 501}))
    german = html.unescape(response.text.split('data-locale="de_DE"')[1].split("</div>")[0])
    assert response.status_code == 422 and "Höchstens 500 Zeichen" in german
    refused = client.post("/backoffice/products/B1", data=editor_form(client, categories=["nope"]))
    assert "unbekannte Kategorie: nope" in html.unescape(refused.text)
    again = signed_in(app, "editor")  # a new session of the same user
    assert "Produkte" in again.get("/backoffice/products").text
    odd = client.post("/backoffice/language", data={"csrf_token": csrf(page), "locale": "fr_FR"})
    assert odd.status_code == 400 and "keine Sprache des Shops" in html.unescape(odd.text)
    assert client.post("/backoffice/language", data={"locale": "en_US"}).status_code == 403  # CSRF
