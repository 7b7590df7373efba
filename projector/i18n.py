"""Interface words of the snippets, per language, and money per locale (Babel)."""
from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency

MESSAGES = {
    "en": {
        "home": "Home", "shop": "Snippet Shop", "search": "Search", "search_placeholder": "Search products",
        "in_stock": "In stock", "low_stock": "Only a few left", "sold_out": "Sold out",
        "price_on_request": "Price on request", "instead_of": "instead of", "offer": "Special offer",
        "featured": "New in the shop", "categories": "Categories", "currency": "Currency", "language": "Language",
        "attributes": "Details", "brand": "Brand",
    },
    "de": {
        "home": "Startseite", "shop": "Snippet Shop", "search": "Suchen", "search_placeholder": "Produkte suchen",
        "in_stock": "Auf Lager", "low_stock": "Nur noch wenige", "sold_out": "Ausverkauft",
        "price_on_request": "Preis auf Anfrage", "instead_of": "statt", "offer": "Sonderangebot",
        "featured": "Neu im Shop", "categories": "Kategorien", "currency": "Währung", "language": "Sprache",
        "attributes": "Details", "brand": "Marke",
    },
}


def messages(locale: str) -> dict[str, str]:
    return MESSAGES.get(locale.split("_")[0], MESSAGES["en"])


def money(amount: Decimal, currency: str, locale: str) -> str:
    """``12,34 €`` in de_DE, ``€12.34`` in en_US: the way the locale writes money."""
    return format_currency(amount, currency, locale=locale)
