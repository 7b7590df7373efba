"""The back office's German: a complete catalog whose translations keep their placeholders, and
form errors (the forms', pydantic's, the write side's) in the editor's language."""

from __future__ import annotations

import re

import pytest
from flask import Flask, g
from werkzeug.datastructures import MultiDict

from catalog.errors import Invalid
from tools.backoffice_messages import messages, missing
from web.backoffice.editor_forms import parse_movement, parse_product
from web.backoffice.translation import catalog, gettext, refusal

LOCALES = ("en_US", "de_DE")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


@pytest.fixture
def german():
    app = Flask(__name__)
    with app.test_request_context():
        g.backoffice_locale = "de_DE"
        yield


def test_every_message_has_a_german_translation():
    assert len(messages()) > 250
    assert missing("de_DE") == []


def test_translations_keep_their_placeholders():
    for message, translated in catalog("de_DE").items():
        pairs = zip(message, translated, strict=True) if isinstance(message, tuple) else [(message, translated)]
        for english, german in pairs:
            assert sorted(PLACEHOLDER.findall(english)) == sorted(PLACEHOLDER.findall(german)), english


def test_outside_a_request_the_messages_are_english():
    assert gettext("Save") == "Save" and gettext("line %(n)s: ", n=2) == "line 2: "


def test_form_errors_in_german(german):
    form = MultiDict({"name.en_US": "", "name.de_DE": "x" * 501, "images": "kein Bild", "active": "on"})
    errors = parse_product(form, LOCALES).errors
    assert errors["name.de_DE"] == "Höchstens 500 Zeichen"  # pydantic's string_too_long
    assert errors["images"].startswith("Zeile 1: schreiben Sie ein Bild als")
    assert parse_movement(MultiDict({"delta": "x"})).errors["reason"] == "sagen Sie, warum sich der Bestand ändert"
    assert gettext("Save") == "Speichern" and gettext("Unknown sentence") == "Unknown sentence"


def test_write_side_refusals_in_german(german):
    assert refusal(Invalid("unknown categories: a, b")) == "unbekannte Kategorie: a, b"
    both = refusal(Invalid("SKU X1 is a product's SKU; SKU X2 is a variant of product P"))
    assert both == "SKU X1 ist die SKU eines Produkts; SKU X2 ist eine Variante von Produkt P"
    assert refusal(Invalid("something new")) == "something new"  # a refusal of unknown shape stays as it came
