"""Interface words of the snippets, per language, attribute labels, and money per locale (Babel)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from babel.numbers import format_currency, format_decimal

from vocab.attributes import readable_attribute_code

MESSAGES = {
    "en": {
        "home": "Home",
        "shop": "Snippet Shop",
        "search": "Search",
        "search_placeholder": "Search products",
        "in_stock": "In stock",
        "low_stock": "Only a few left",
        "sold_out": "Sold out",
        "price_on_request": "Price on request",
        "instead_of": "instead of",
        "offer": "Special offer",
        "featured": "New in the shop",
        "categories": "Categories",
        "currency": "Currency",
        "language": "Language",
        "attributes": "Details",
        "brand": "Brand",
        "sort": "Sort",
        "relevance": "Relevance",
        "price_asc": "Price: low to high",
        "price_desc": "Price: high to low",
        "name": "Name",
        "newest": "Newest",
        "filters": "Filters",
        "in_stock_only": "In stock only",
        "price": "Price",
        "apply": "Apply",
        "no_results": "No products match your selection.",
        "reset": "Remove all filters",
        "previous": "Previous",
        "next": "Next",
        "results": "{total} products",
        "results_one": "{total} product",
        "refine": "Only the first {limit} results can be paged through. Please refine your search with the filters.",
        "search_results": "Search results for “{q}”",
        "not_found": "Not found",
        "not_found_text": "We could not find that page.",
        "hello": "Hello",
        "guest": "guest",
        "cart": "Cart",
        "more_values": "Show {n} more",
        "selected_filters": "Selected filters",
        "remove_filter": "Remove filter",
        "price_range": "From-to",
        "price_range_hint": "For example 20-50",
        "price_between": "{low} – {high}",
        "price_from": "from {low}",
        "price_up_to": "up to {high}",
        "skip_to_content": "Skip to content",
        "back_home": "Go to the home page",
        "unavailable": "Temporarily unavailable",
        "unavailable_restoring": "This page is being restored. Please try again in a moment.",
        "unavailable_preparing": "The shop is being prepared. Please try again in a moment.",
        "unavailable_search": "Search is not available right now. Please try again in a moment.",
        "unavailable_store": "The shop cannot reach its page store. Please try again in a moment.",
        "method_not_allowed": "Method not allowed",
        "method_not_allowed_text": "This address only answers GET.",
        "too_long": "Address too long",
        "too_long_text": "Addresses of this shop have at most {limit} characters after the question mark.",
        "from_price": "from",
        "variants": "Variants",
        "choose_variant": "Select",
    },
    "de": {
        "home": "Startseite",
        "shop": "Snippet Shop",
        "search": "Suchen",
        "search_placeholder": "Produkte suchen",
        "in_stock": "Auf Lager",
        "low_stock": "Nur noch wenige",
        "sold_out": "Ausverkauft",
        "price_on_request": "Preis auf Anfrage",
        "instead_of": "statt",
        "offer": "Sonderangebot",
        "featured": "Neu im Shop",
        "categories": "Kategorien",
        "currency": "Währung",
        "language": "Sprache",
        "attributes": "Details",
        "brand": "Marke",
        "sort": "Sortierung",
        "relevance": "Relevanz",
        "price_asc": "Preis aufsteigend",
        "price_desc": "Preis absteigend",
        "name": "Name",
        "newest": "Neueste",
        "filters": "Filter",
        "in_stock_only": "Nur verfügbare",
        "price": "Preis",
        "apply": "Anwenden",
        "no_results": "Keine Produkte entsprechen Ihrer Auswahl.",
        "reset": "Alle Filter entfernen",
        "previous": "Zurück",
        "next": "Weiter",
        "results": "{total} Produkte",
        "results_one": "{total} Produkt",
        "refine": "Nur die ersten {limit} Ergebnisse lassen sich durchblättern. Bitte verfeinern Sie Ihre Suche mit den Filtern.",
        "search_results": "Suchergebnisse für „{q}“",
        "not_found": "Nicht gefunden",
        "not_found_text": "Diese Seite gibt es nicht.",
        "hello": "Hallo",
        "guest": "Gast",
        "cart": "Warenkorb",
        "more_values": "{n} weitere anzeigen",
        "selected_filters": "Gewählte Filter",
        "remove_filter": "Filter entfernen",
        "price_range": "Von-bis",
        "price_range_hint": "Zum Beispiel 20-50",
        "price_between": "{low} – {high}",
        "price_from": "ab {low}",
        "price_up_to": "bis {high}",
        "skip_to_content": "Zum Inhalt springen",
        "back_home": "Zur Startseite",
        "unavailable": "Vorübergehend nicht verfügbar",
        "unavailable_restoring": "Diese Seite wird gerade wiederhergestellt. Bitte versuchen Sie es gleich noch einmal.",
        "unavailable_preparing": "Der Shop wird gerade vorbereitet. Bitte versuchen Sie es gleich noch einmal.",
        "unavailable_search": "Die Suche ist gerade nicht verfügbar. Bitte versuchen Sie es gleich noch einmal.",
        "unavailable_store": "Der Shop erreicht seinen Seitenspeicher nicht. Bitte versuchen Sie es gleich noch einmal.",
        "method_not_allowed": "Methode nicht erlaubt",
        "method_not_allowed_text": "Diese Adresse beantwortet nur GET-Anfragen.",
        "too_long": "Adresse zu lang",
        "too_long_text": "Adressen dieses Shops haben höchstens {limit} Zeichen nach dem Fragezeichen.",
        "from_price": "ab",
        "variants": "Varianten",
        "choose_variant": "Auswählen",
    },
}


#: Labels of common attribute codes per language: what a code shows when the catalog gives it no
#: label in the shopper's locale (docs/inputs.md, "Attribute labels").
ATTRIBUTE_NAMES = {
    "en": {
        "color": "Color",
        "size": "Size",
        "material": "Material",
        "climate": "Climate",
        "pattern": "Pattern",
        "style_general": "Style",
        "activity": "Activity",
        "gender": "Gender",
    },
    "de": {
        "color": "Farbe",
        "size": "Größe",
        "material": "Material",
        "climate": "Klima",
        "pattern": "Muster",
        "style_general": "Stil",
        "activity": "Aktivität",
        "gender": "Geschlecht",
    },
}


def messages(locale: str) -> dict[str, str]:
    return MESSAGES.get(locale.split("_")[0], MESSAGES["en"])


def attribute_label(
    code: str, locale: str, stored: Mapping[str, str] | None = None, locales: Sequence[str] = ()
) -> str:
    """The label an attribute code shows in ``locale``. ``stored`` holds the catalog's labels of
    the code by locale. In order: the catalog's label in ``locale``; the dictionary's word for the
    code in the locale's language (:data:`ATTRIBUTE_NAMES`); the catalog's label in the first of
    ``locales`` (the shop's, default first) that has one, or in any locale; the readable code
    (``features_bags`` → ``Features bags``)."""
    stored = stored or {}
    found = stored.get(locale) or ATTRIBUTE_NAMES.get(locale.split("_")[0], ATTRIBUTE_NAMES["en"]).get(code)
    if found:
        return found
    fallback = next((stored[other] for other in (*locales, *stored) if stored.get(other)), None)
    return fallback or readable_attribute_code(code)


@dataclass(frozen=True)
class AttributeLabels:
    """The labels one page shows: those of the labels snippet (code → label, resolved for the
    locale by the projector), and for a code it does not name, :func:`attribute_label`'s fallback."""

    locale: str
    stored: Mapping[str, str] = field(default_factory=dict)

    def __call__(self, code: str) -> str:
        return self.stored.get(code) or attribute_label(code, self.locale)


def money(amount: Decimal, currency: str, locale: str) -> str:
    """``12,34 €`` in de_DE, ``€12.34`` in en_US: the way the locale writes money."""
    return format_currency(amount, currency, locale=locale)


def number(value: int, locale: str) -> str:
    """``10,000`` in en_US, ``10.000`` in de_DE."""
    return format_decimal(value, locale=locale)
