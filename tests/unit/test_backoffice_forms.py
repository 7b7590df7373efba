"""The back office's pieces that need no services: forms into the write side's models with errors
by field, offer times in the shop's zone, passwords, CSRF checks, audit differences."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import Forbidden

from web.backoffice.accounts import User, valid_username
from web.backoffice.audit import Entry
from web.backoffice.editor_forms import (
    format_attributes,
    parse_attributes,
    parse_movement,
    parse_offer,
    parse_price,
    parse_product,
)
from web.backoffice.passwords import hash_password, verify_password
from web.backoffice.signin import check_csrf, tokens_match

LOCALES = ("en_US", "de_DE")
BERLIN = ZoneInfo("Europe/Berlin")


def product_form(**fields: str | list[str]) -> MultiDict:
    data: dict = {"name.en_US": "Bag", "name.de_DE": "Tasche", "categories": ["bags"], "active": "on"}
    data.update(fields)
    return MultiDict([(k, x) for k, v in data.items() for x in (v if isinstance(v, list) else [v])])


def test_a_product_form_becomes_the_api_model():
    parsed = parse_product(
        product_form(
            **{
                "description.de_DE": "<p>Groß</p>",
                "attributes": "color: Red | Blue\nsize: M",
                "images": "/m/b.jpg 10x10\n\nhttps://img.example.com/c.jpg 400X500",
            }
        ),
        LOCALES,
    )
    assert parsed.errors == {}
    model = parsed.model
    assert model.name == {"en_US": "Bag", "de_DE": "Tasche"} and model.description == {
        "en_US": "",
        "de_DE": "<p>Groß</p>",
    }
    assert model.attributes == {"color": ["Red", "Blue"], "size": "M"} and model.active is True
    assert [(i.src, i.width, i.height) for i in model.images] == [
        ("/m/b.jpg", 10, 10),
        ("https://img.example.com/c.jpg", 400, 500),
    ]


def test_image_lines_are_checked_and_their_errors_name_the_line():
    assert parse_product(product_form(images="/m/b.jpg"), LOCALES).errors == {
        "images": "line 1: write an image as 'src WIDTHxHEIGHT' (/m/b.jpg 400x500)".replace("b.jpg", "b/mb01.jpg")
    }
    bad = parse_product(product_form(images="/m/ok.jpg 1x1\njavascript:alert(1) 10x10"), LOCALES).errors["images"]
    assert bad.startswith("line 2: ")
    too_big = parse_product(product_form(images="/m/ok.jpg 1x1\n/m/big.jpg 99999x1"), LOCALES).errors["images"]
    assert too_big.startswith("line 2: ") and "10000" in too_big


def test_errors_stand_by_the_field_and_locale_that_caused_them():
    parsed = parse_product(product_form(**{"name.de_DE": "x" * 501, "brand": "b" * 201}), LOCALES)
    assert parsed.model is None
    assert set(parsed.errors) == {"name.de_DE", "brand"} and "500" in parsed.errors["name.de_DE"]
    orphan = parse_product(product_form(**{"name.de_DE": "", "description.de_DE": "<p>x</p>"}), LOCALES)
    assert "same language" in orphan.errors["name.de_DE"]
    nameless = parse_product(product_form(**{"name.en_US": "", "name.de_DE": ""}), LOCALES)
    assert "at least one language" in nameless.errors["name.en_US"]
    assert "categories" in parse_product(product_form(categories=["bags", "bags"]), LOCALES).errors
    assert "attributes" in parse_product(product_form(attributes="no colon here"), LOCALES).errors


def test_attributes_round_trip_through_their_text_form():
    attributes = {"color": ["Red", "Blue"], "size": ["M"]}
    parsed, error = parse_attributes(format_attributes(attributes))
    assert error is None and parsed == {"color": ["Red", "Blue"], "size": "M"}
    assert parse_attributes("color:")[1] == "line 1: attribute 'color' has no value"


def test_offer_times_are_the_shops_wall_clock_stored_in_utc():
    parsed = parse_offer(
        MultiDict({"amount": "9.99", "starts_at": "2031-01-10T08:00", "ends_at": "2031-07-10T08:00:30"}), BERLIN
    )
    assert parsed.errors == {}
    assert parsed.model.starts_at.astimezone(UTC) == datetime(2031, 1, 10, 7, 0, tzinfo=UTC)  # winter: +01:00
    assert parsed.model.ends_at.astimezone(UTC) == datetime(2031, 7, 10, 6, 0, 30, tzinfo=UTC)  # summer: +02:00
    wrong = parse_offer(MultiDict({"amount": "x", "starts_at": "", "ends_at": "2031-07-10T08:00"}), BERLIN)
    assert set(wrong.errors) == {"amount", "starts_at"}
    backwards = parse_offer(
        MultiDict({"amount": "1.00", "starts_at": "2031-07-10T08:00", "ends_at": "2031-07-09T08:00"}), BERLIN
    )
    assert "after starts_at" in backwards.errors["ends_at"]


def test_prices_and_movements():
    assert str(parse_price(MultiDict({"amount": "12.5"}), ("EUR",)).model.amount) == "12.5"
    assert "amount" in parse_price(MultiDict({"amount": "12.345"}), ("EUR",)).errors
    moved = parse_movement(MultiDict({"delta": "-3", "reason": "broken", "movement_id": "bo-1"}))
    assert (moved.model.delta, moved.model.reason, moved.model.movement_id) == (-3, "broken", "bo-1")
    assert set(parse_movement(MultiDict({"delta": "many", "reason": ""})).errors) == {"delta", "reason"}
    assert "zero" in parse_movement(MultiDict({"delta": "0", "reason": "count"})).errors["delta"]
    assert parse_movement(MultiDict({"delta": "1", "reason": "in"})).model.movement_id.startswith("bo-")


def test_passwords():
    stored = hash_password("a long enough password")
    assert stored.startswith("$argon2id$") and "a long enough" not in stored
    assert verify_password(stored, "a long enough password")
    assert not verify_password(stored, "a long enough passwort")
    assert not verify_password(None, "anything at all")
    assert not verify_password("not a hash", "anything at all")
    with pytest.raises(ValueError, match="at least 10"):
        hash_password("short")


def test_roles_and_usernames():
    assert User(1, "a", "admin").may("pricing") and User(1, "e", "editor").may("editor")
    assert not User(1, "p", "pricing").may("editor")
    assert valid_username("anna.k-1") == "anna.k-1"
    for bad in ("Anna", "", "-x", "a b", "x" * 65):
        with pytest.raises(ValueError):
            valid_username(bad)


def test_csrf_checks():
    assert tokens_match("abc", "abc") and not tokens_match("abc", "abd")
    assert not tokens_match("", "") and not tokens_match(None, None) and not tokens_match("abc", None)
    app = Flask(__name__)
    cases = [
        ({"csrf_token": "t"}, {}, True),
        ({"csrf_token": "t"}, {"Origin": "http://shop.test"}, True),
        ({"csrf_token": "t"}, {"Origin": "https://evil.example"}, False),
        ({"csrf_token": "t"}, {"Origin": "null"}, False),
        ({}, {}, False),
        ({"csrf_token": "u"}, {}, False),
    ]
    for form, headers, ok in cases:
        with app.test_request_context(
            "/backoffice/x", method="POST", data=form, headers=headers, base_url="http://shop.test"
        ):
            if ok:
                check_csrf("t")
            else:
                with pytest.raises(Forbidden):
                    check_csrf("t")


def test_an_audit_entry_lists_what_changed():
    entry = Entry(
        1, datetime.now(UTC), "user:a", "backoffice", "save product", "product", "B1", "B1",
        {"name": {"en_US": "Bag"}, "brand": "A"}, {"name": {"en_US": "Bag", "de_DE": "Tasche"}, "brand": "A"}, 7,
    )  # fmt: skip
    assert entry.changes() == [("name", {"en_US": "Bag"}, {"en_US": "Bag", "de_DE": "Tasche"})]
    created = Entry(2, datetime.now(UTC), "token:t", "api", "putCategory", "category", "c", None, None, {"a": 1}, 8)
    assert created.changes() == [("a", None, 1)]
