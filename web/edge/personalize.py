"""Personalization: fill the variables of an assembled page in one linear pass.

Values come from cookies (and the shopper's context); each is validated, then HTML-escaped.
A variable without a valid value, or one this module does not know, keeps its default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from markupsafe import escape

from vocab.keys import VAR_OPEN, VAR_RE
from web.edge.pages import Frame

MAX_NAME = 40
CART_COUNT = re.compile(r"\d{1,4}")
#: Variables whose value is about the person (their presence makes a response private).
PERSONAL = ("customer_name", "cart_count")


def values_from(cookies: Mapping[str, str], currency: str, image_base: str = "") -> dict[str, str]:
    """The variable values for one request, already escaped; invalid cookies are ignored.
    ``image_base`` is the shop's IMAGE_BASE_URL (:data:`vocab.keys.IMAGE_BASE`)."""
    values = {"currency": str(escape(currency)), "image_base": str(escape(image_base))}
    name = " ".join(cookies.get("customer_name", "").split())[:MAX_NAME]
    if name:
        values["customer_name"] = str(escape(name))
    count = cookies.get("cart_count", "")
    if CART_COUNT.fullmatch(count):
        values["cart_count"] = str(int(count))
    return values


def fill(page: str, values: Mapping[str, str]) -> str:
    if VAR_OPEN not in page:  # a fast scan; most snippets but the frame have no variables
        return page
    return VAR_RE.sub(lambda m: values.get(m.group(1), m.group(2)), page)


def frame(frame: Frame, values: Mapping[str, str]) -> Frame:
    """The frame with its variables filled. Anonymous shoppers share a handful of combinations
    (one per currency), so theirs are remembered and the page's largest part is filled once;
    a personal frame is filled per request, so no shopper's values stay in memory."""
    if is_personal(values):
        return _fill_frame(frame, values)
    return _anonymous_frame(frame, tuple(sorted(values.items())))


def _fill_frame(frame: Frame, values: Mapping[str, str]) -> Frame:
    return Frame(fill(frame.head, values), fill(frame.middle, values), fill(frame.tail, values))


@lru_cache(maxsize=64)
def _anonymous_frame(frame: Frame, items: tuple[tuple[str, str], ...]) -> Frame:
    return _fill_frame(frame, dict(items))


def is_personal(values: Mapping[str, str]) -> bool:
    return any(name in values for name in PERSONAL)
