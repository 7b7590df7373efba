"""Page assembly: stored snippet values in, one HTML string out. Pure string work, no rendering.

See vocab.keys for the value format (version line, FIELD and SLOT separators).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import escape

from vocab.keys import FIELD, LABEL_OPEN, LABEL_RE, SLOT, split_value


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
    price_html, price_ld = _parts(offer or price or "")
    avail_html, avail_ld = _parts(avail or "")
    offers = ""
    if price_ld:
        offers = ',"offers":{"@type":"Offer",' + price_ld + ("," + avail_ld if avail_ld else "") + "}"
    script = f'<script type="application/ld+json">{ld}{offers}}}</script>' if ld else ""
    body = (
        f'{crumb or ""}<div class="product-page">{detail_html}'
        f'<aside class="buy">{price_html}{avail_html}</aside></div>{script}'
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
