"""Personalization: fill the variables of an assembled page in one linear pass.

Values come from cookies (and the shopper's context); each is validated, then HTML-escaped.
A variable without a valid value, or one this module does not know, keeps its default.

A personal page is filled in two steps so that its shared part can be kept: the *shared* values
(currency, image base: the same for every shopper of a context) are filled first, which leaves a
:data:`Template` holding the personal variables (:data:`PERSONAL`) as slots and no shopper's
value; :func:`render` then puts the shopper's escaped values (or the defaults) in the slots. The
page cache keeps such templates (web/edge/pagecache.py), so a signed-in shopper's page is a join.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import escape

from vocab.keys import VAR_OPEN, VAR_RE
from web.edge.pages import Frame

MAX_NAME = 40
CART_COUNT = re.compile(r"\d{1,4}")
#: Variables whose value is about the person (their presence makes a response private).
PERSONAL = ("customer_name", "cart_count")

#: A page with its personal variables as slots: literal html, then (name, default html) and
#: literal html alternately; it starts and ends with literal html.
Template = tuple[str | tuple[str, str], ...]


def values_from(cookies: Mapping[str, str], currency: str, image_base: str = "") -> dict[str, str]:
    """The variable values for one request, already escaped; invalid cookies are ignored.
    ``image_base`` is the shop's IMAGE_BASE_URL (:data:`vocab.keys.IMAGE_BASE`)."""
    return {"currency": str(escape(currency)), "image_base": str(escape(image_base)), **personal_values(cookies)}


def personal_values(cookies: Mapping[str, str]) -> dict[str, str]:
    """The :data:`PERSONAL` values of :func:`values_from` alone (what a :data:`Template` needs)."""
    values = {}
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


def fill_shared(page: str, values: Mapping[str, str]) -> str:
    """``page`` with every variable filled but the personal ones, which keep their markers."""
    if VAR_OPEN not in page:
        return page
    return VAR_RE.sub(lambda m: m.group(0) if m.group(1) in PERSONAL else values.get(m.group(1), m.group(2)), page)


def template(page: str) -> Template:
    """``page`` (its shared variables filled: :func:`fill_shared`) split at its personal variables."""
    parts: list[str | tuple[str, str]] = []
    at = 0
    for m in VAR_RE.finditer(page):
        parts.append(page[at : m.start()])
        parts.append((m.group(1), m.group(2)))
        at = m.end()
    parts.append(page[at:])
    return tuple(parts)


def render(template: Template, values: Mapping[str, str]) -> str:
    """The page of a :func:`template` with ``values`` (escaped, :func:`values_from`) in its slots."""
    return "".join(part if isinstance(part, str) else values.get(part[0], part[1]) for part in template)


@dataclass(frozen=True)
class Encoded:
    """A :data:`Template` as the bytes of a response: its literal html encoded once, so a page is
    a join of bytes and the shopper's few values."""

    literals: tuple[bytes, ...]  # one more than the slots
    slots: tuple[tuple[str, bytes], ...]  # (name, default html)

    @classmethod
    def of(cls, template: Template) -> Encoded:
        literals = tuple(part.encode() for part in template if isinstance(part, str))
        slots = tuple((part[0], part[1].encode()) for part in template if not isinstance(part, str))
        return cls(literals, slots)

    def render(self, values: Mapping[str, str]) -> bytes:
        """:func:`render` of the template, encoded."""
        literals = self.literals
        out = [literals[0]]
        for i, (name, default) in enumerate(self.slots, 1):
            value = values.get(name)
            out.append(default if value is None else value.encode())
            out.append(literals[i])
        return b"".join(out)

    @property
    def size(self) -> int:
        return sum(map(len, self.literals)) + sum(len(default) + 50 for _, default in self.slots)


def shared(values: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The values that are the same for every shopper of a context (no personal one)."""
    return tuple(sorted((k, v) for k, v in values.items() if k not in PERSONAL))


def frame(frame: Frame, values: Mapping[str, str]) -> Frame:
    """The frame with its variables filled; a personal frame keeps its personal variables, which
    :func:`fill` or :func:`render` fill with the rest of the page. Either way only shared values
    go into the frames remembered (a handful: one per currency), never a shopper's."""
    if is_personal(values):
        return _shared_frame(frame, shared(values))
    return _anonymous_frame(frame, tuple(sorted(values.items())))


def _fill_frame(frame: Frame, values: Mapping[str, str]) -> Frame:
    return Frame(fill(frame.head, values), fill(frame.middle, values), fill(frame.tail, values))


@lru_cache(maxsize=64)
def _anonymous_frame(frame: Frame, items: tuple[tuple[str, str], ...]) -> Frame:
    return _fill_frame(frame, dict(items))


@lru_cache(maxsize=64)
def _shared_frame(frame: Frame, items: tuple[tuple[str, str], ...]) -> Frame:
    values = dict(items)
    return Frame(fill_shared(frame.head, values), fill_shared(frame.middle, values), fill_shared(frame.tail, values))


def is_personal(values: Mapping[str, str]) -> bool:
    return any(name in values for name in PERSONAL)
