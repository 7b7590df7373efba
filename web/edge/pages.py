"""Page assembly: stored snippet values in, one HTML string out. Pure string work, no rendering.

See vocab.keys for the value format (version line, FIELD and SLOT separators).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import escape

from vocab.keys import FIELD, LABEL_OPEN, LABEL_RE, SLOT, VARIANT_KINDS, split_value


class MissingSnippet(Exception):
    """A snippet the page cannot do without is not in the store."""


@dataclass(frozen=True)
class Frame:
    head: str
    middle: str
    tail: str

    def wrap(self, title: str, body: str) -> str:
        """``title`` must already be HTML-escaped."""
        return f"{self.head}{title}{self.middle}{body}{self.tail}"

    def with_canonical(self, path: str) -> Frame:
        """The frame with ``<link rel="canonical">`` to ``path`` (a shop path, no escaping needed) in its head."""
        link = f'<link rel="canonical" href="{escape(path)}">\n'
        return Frame(self.head, self.middle.replace("</head>", f"{link}</head>", 1), self.tail)


def body_of(raw: bytes | None) -> str | None:
    """The snippet body, or None when missing; a tombstone gives ''."""
    value = split_value(raw)
    return None if value is None else value[1]


@lru_cache(maxsize=64)  # a few frames (locales × generations); a near-cache hit is the same bytes object
def frame_of(raw: bytes | None) -> Frame:
    body = body_of(raw)
    if not body:
        raise MissingSnippet("frame")
    head, middle, tail = body.split(SLOT, 2)
    return Frame(head, middle, tail)


@lru_cache(maxsize=64)  # one per locale and labels version; a near-cache hit is the same bytes object
def labels_of(raw: bytes | None) -> Mapping[str, str]:
    """The attribute labels of a LABELS snippet (code → label); empty when it is missing."""
    body = body_of(raw)
    return json.loads(body) if body else {}


def fill_labels(html: str, labels: Mapping[str, str]) -> str:
    """Put each attribute label of ``labels`` (escaped) in place of its marker; a code it does not
    name keeps the fallback the snippet carries."""
    if LABEL_OPEN not in html:
        return html
    return LABEL_RE.sub(lambda m: str(escape(labels[m.group(1)])) if m.group(1) in labels else m.group(2), html)


def _parts(body: str) -> tuple[str, str]:
    html, _, fragment = body.partition(FIELD)
    return html, fragment


def product_page(
    frame: Frame,
    detail: str,
    crumb: str | None,
    price: str | None,
    offer: str | None,
    avail: str | None,
    ld: str | None,
    labels: Mapping[str, str] | None = None,
) -> str:
    """The product page; ``detail`` must be a live (non-empty) snippet body; ``labels`` those of
    the LABELS snippet (:func:`labels_of`)."""
    title, detail_html = _parts(detail)
    detail_html = fill_labels(detail_html, labels or {})
    price_html, price_ld, avail_html, avail_ld = _buy(price, offer, avail)
    script = f'<script type="application/ld+json">{ld}{_offer_ld(price_ld, avail_ld)}}}</script>' if ld else ""
    body = (
        f'{crumb or ""}<div class="product-page">{detail_html}'
        f'<aside class="buy">{price_html}{avail_html}</aside></div>{script}'
    )
    return frame.wrap(title, body)


# --- a product with variants (docs/variants.md) -----------------------------------------------

#: A variant's own parts: its PRICE, OFFER and AVAIL bodies (None where missing), as fetched.
Parts = tuple[str | None, str | None, str | None]


def variant_skus(detail: str) -> list[str] | None:
    """The visible variants a DETAIL body lists, or None for a simple product (no such part)."""
    parts = detail.split(FIELD)
    if len(parts) < 3:
        return None
    return parts[2].split(",") if parts[2] else []


@dataclass(frozen=True)
class Picker:
    """A product's VARIANTS snippet: the picker html (one SLOT per variant) and its variants."""

    html: str
    variants: tuple[tuple[str, Mapping[str, str]], ...]

    def options(self, sku: str) -> Mapping[str, str] | None:
        return next((options for s, options in self.variants if s == sku), None)

    def choose(self, chosen: Mapping[str, str]) -> str | None:
        """The first variant with every option value of ``chosen`` (option name to value)."""
        return next((s for s, options in self.variants if all(options.get(n) == v for n, v in chosen.items())), None)


@lru_cache(maxsize=1024)  # one per product and locale seen; a near-cache hit is the same bytes object
def picker_of(raw: bytes | None) -> Picker | None:
    """The picker of a VARIANTS snippet; None when it is missing or a tombstone."""
    body = body_of(raw)
    if not body:
        return None
    html, _, data = body.partition(FIELD)
    variants = json.loads(data)["variants"]
    return Picker(html, tuple((sku, options) for sku, options in variants))


def variant_parts(skus: list[str], raw: list[bytes | None]) -> dict[str, Parts]:
    """Each variant's parts from a fetch of ``KeyScheme.variant_parts`` (in that order)."""
    width = len(VARIANT_KINDS)
    out: dict[str, Parts] = {}
    for i, sku in enumerate(skus):
        price, offer, avail = (body_of(r) for r in raw[i * width : (i + 1) * width])
        out[sku] = (price, offer, avail)
    return out


def _buy(price: str | None, offer: str | None, avail: str | None) -> tuple[str, str, str, str]:
    """(price html, price JSON-LD fragment, badge html, availability fragment) of one box."""
    price_html, price_ld = _parts(offer or price or "")
    avail_html, avail_ld = _parts(avail or "")
    return price_html, price_ld, avail_html, avail_ld


def _offer_ld(price_ld: str, avail_ld: str) -> str:
    if not price_ld:
        return ""
    return ',"offers":{"@type":"Offer",' + price_ld + ("," + avail_ld if avail_ld else "") + "}"


def _picker_html(picker: Picker, parts: Mapping[str, Parts], selected: str | None) -> str:
    """The picker with each variant's price and badge in its slot; the selected variant's options
    checked and its entry marked current."""
    pieces = picker.html.split(SLOT)
    out = [pieces[0]]
    for (sku, _), piece in zip(picker.variants, pieces[1:], strict=False):
        price_html, _, avail_html, _ = _buy(*parts.get(sku, (None, None, None)))
        out.append(f"{price_html}{avail_html}{piece}")
    html = "".join(out)
    options = picker.options(selected) if selected else None
    if selected and options is not None:
        for name, value in options.items():
            radio = f'<input type="radio" name="opt.{escape(name)}" value="{escape(value)}">'
            html = html.replace(radio, f"{radio[:-1]} checked>", 1)
        entry = f'<li class="variant" data-variant="{escape(selected)}">'
        html = html.replace(entry, f'{entry[:-1]} aria-current="true">', 1)
    return html


def product_group_page(
    frame: Frame,
    detail: str,
    crumb: str | None,
    price: str | None,
    offer: str | None,
    avail: str | None,
    ld: str | None,
    labels: Mapping[str, str] | None,
    picker: Picker | None,
    parts: Mapping[str, Parts],
    selected: str | None = None,
) -> str:
    """The page of a product with variants: the aggregate price and badge (the ``selected``
    variant's, if any), the picker with each variant's price and badge, and the JSON-LD
    ProductGroup with each variant's offer. ``frame`` should carry the canonical link."""
    title, detail_html, _ = detail.split(FIELD, 2)
    labels = labels or {}
    if selected is not None:
        price, offer, avail = parts.get(selected, (None, None, None))
    price_html, _, avail_html, _ = _buy(price, offer, avail)
    chooser = fill_labels(_picker_html(picker, parts, selected), labels) if picker else ""
    script = ""
    if ld:
        head, *pairs = ld.split(FIELD)
        variants = []
        for sku, data in zip(pairs[::2], pairs[1::2], strict=True):
            _, price_ld, _, avail_ld = _buy(*parts.get(sku, (None, None, None)))
            variants.append(data + _offer_ld(price_ld, avail_ld) + "}")
        script = f'<script type="application/ld+json">{head}{",".join(variants)}]}}</script>'
    body = (
        f'{crumb or ""}<div class="product-page">{fill_labels(detail_html, labels)}'
        f'<aside class="buy">{price_html}{avail_html}{chooser}</aside></div>{script}'
    )
    return frame.wrap(title, body)


def message_page(frame: Frame, title: str, message: str, home: str | None = None) -> str:
    """A short message (404 and the like) in the page frame, with a link home when ``home`` names it."""
    t = escape(title)
    link = f'<p><a href="/">{escape(home)}</a></p>' if home else ""
    return frame.wrap(str(t), f'<section class="message"><h1>{t}</h1><p>{escape(message)}</p>{link}</section>')


def bare_page(title: str, message: str, locale: str = "en_US") -> str:
    """When not even the frame is available; ``lang`` is the locale's language, as in the frame."""
    t = escape(title)
    lang = escape(locale.split("_")[0])
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{t}</title>'
        f'<link rel="stylesheet" href="/static/shop.css"></head>'
        f'<body><main class="message"><h1>{t}</h1><p>{escape(message)}</p></main></body></html>'
    )
