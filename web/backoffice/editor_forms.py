"""Back-office forms into the write side's input models (catalog/models.py), with every error
placed beside the field that caused it.

The models are the ones the admin API validates its JSON with, so a form accepts exactly what the
API accepts. Field names in a form are the model's, a locale's text suffixed with the locale
(``name.de_DE``); an error's key is that field name, so the editor shows it in the column of
the locale it concerns.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import MultiDict

from catalog.models import MovementIn, OfferIn, PriceIn, ProductIn
from vocab.images import FEED_IMAGE_RE, Image
from web.backoffice.translation import gettext, translate

Errors = dict[str, str]


@dataclass
class Parsed:
    """A validated model, or the errors by field (``""``: the form as a whole)."""

    model: Any = None
    errors: Errors = field(default_factory=dict)


#: pydantic's messages of the errors a form can cause, as messages to translate with the values of
#: the error's context (in English they read as pydantic's own).
PYDANTIC_MESSAGES = {
    "missing": "Field required",
    "string_too_long": "String should have at most %(max_length)s characters",
    "string_too_short": "String should have at least %(min_length)s characters",
    "too_long": "List should have at most %(max_length)s items after validation, not %(actual_length)s",
    "greater_than_equal": "Input should be greater than or equal to %(ge)s",
    "less_than_equal": "Input should be less than or equal to %(le)s",
    "greater_than": "Input should be greater than %(gt)s",
    "less_than": "Input should be less than %(lt)s",
    "decimal_parsing": "Input should be a valid decimal",
    "decimal_max_places": "Decimal input should have no more than %(decimal_places)s decimal places",
    "decimal_max_digits": "Decimal input should have no more than %(max_digits)s digits in total",
    "int_parsing": "Input should be a valid integer, unable to parse string as an integer",
    "string_pattern_mismatch": "String should match pattern '%(pattern)s'",
}


def _message(error: Mapping[str, Any]) -> str:
    """The error's message in the editor's language: a message of the models' own validators as
    written there (translated when the catalog has it), pydantic's by its type."""
    context = error.get("ctx", {})
    if error["type"] == "value_error" and "error" in context:
        return translate(str(context["error"]))
    known = PYDANTIC_MESSAGES.get(error["type"])
    if known is not None:
        try:
            return gettext(known, **{k: str(v) for k, v in context.items()})
        except (KeyError, ValueError, TypeError):  # a context this table did not expect
            pass
    return str(error["msg"])


def _field_errors(error: ValidationError, fields: Mapping[str, str] | None = None, default: str = "") -> Errors:
    """pydantic's errors by form field: ``("name", "de_DE")`` is ``name.de_DE``; the first error
    of a field wins; ``fields`` renames a model field to its form field."""
    out: Errors = {}
    for e in error.errors(include_url=False):
        loc = [str(part) for part in e["loc"]]
        if not loc:
            key = default
        elif loc[0] in ("name", "description") and len(loc) > 1:
            key = f"{loc[0]}.{loc[1]}"
        else:
            key = loc[0]
        key = (fields or {}).get(key, key)
        where = (
            gettext("line %(n)s: ", n=int(loc[1]) + 1) if key == "images" and len(loc) > 1 and loc[1].isdigit() else ""
        )
        out.setdefault(key, where + _message(e))
    return out


def _validate(model: type[BaseModel], data: dict[str, Any], context: dict[str, Any], **kwargs: Any) -> Parsed:
    try:
        return Parsed(model.model_validate(data, context=context))
    except ValidationError as error:
        return Parsed(errors=_field_errors(error, **kwargs))


def parse_attributes(text: str) -> tuple[dict[str, str | list[str]], str | None]:
    """``code: value | value`` per line into an attributes map; the error of the first bad line."""
    attributes: dict[str, str | list[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        code, colon, values = line.partition(":")
        if not colon:
            return {}, gettext(
                "line %(n)s: write an attribute as 'code: value' (several values separated by '|')", n=number
            )
        parts = [v.strip() for v in values.split("|") if v.strip()]
        if not parts:
            return {}, gettext("line %(n)s: attribute '%(code)s' has no value", n=number, code=code.strip())
        attributes[code.strip()] = parts if len(parts) > 1 else parts[0]
    return attributes, None


def format_attributes(attributes: Mapping[str, Sequence[str]]) -> str:
    return "\n".join(f"{code}: {' | '.join(values)}" for code, values in attributes.items())


def parse_images(text: str) -> tuple[list[dict[str, Any]], str | None]:
    """``src WIDTHxHEIGHT`` per line (a feed cell's form, vocab/images.py) into the API's image
    objects; the error of the first bad line. The first image is the product's main image."""
    images: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = FEED_IMAGE_RE.fullmatch(line.strip())
        if not line.strip():
            continue
        if not match:
            return [], gettext("line %(n)s: write an image as 'src WIDTHxHEIGHT' (/m/b/mb01.jpg 400x500)", n=number)
        images.append({"src": match[1], "width": int(match[2]), "height": int(match[3])})
    return images, None


def format_images(images: Sequence[Image]) -> str:
    return "\n".join(f"{i.src} {i.width}x{i.height}" for i in images)


def parse_product(form: MultiDict[str, str], locales: Sequence[str]) -> Parsed:
    """The product editor's form as a :class:`ProductIn`."""
    names = {loc: form.get(f"name.{loc}", "").strip() for loc in locales}
    descriptions = {loc: form.get(f"description.{loc}", "") for loc in locales}
    errors: Errors = {}
    for loc in locales:  # a description without a name would be dropped: say so instead
        if not names[loc] and descriptions[loc].strip():
            errors[f"name.{loc}"] = gettext("a description needs a name in the same language")
    if not any(names.values()):
        errors[f"name.{locales[0]}"] = gettext("a product needs a name in at least one language")
    attributes, attribute_error = parse_attributes(form.get("attributes", ""))
    if attribute_error:
        errors["attributes"] = attribute_error
    images, image_error = parse_images(form.get("images", ""))
    if image_error:
        errors["images"] = image_error
    data = {
        "name": {loc: text for loc, text in names.items() if text},
        "description": {loc: descriptions[loc] for loc in locales if names[loc]},
        "brand": form.get("brand", ""),
        "categories": form.getlist("categories"),
        "attributes": attributes,
        "images": images,
        "active": form.get("active") == "on",
    }
    parsed = _validate(ProductIn, data, {"locales": tuple(locales)})
    parsed.errors = {**parsed.errors, **errors}
    if parsed.errors:
        parsed.model = None
    return parsed


def parse_price(form: MultiDict[str, str], currencies: Sequence[str]) -> Parsed:
    return _validate(PriceIn, {"amount": form.get("amount", "").strip()}, {"currencies": tuple(currencies)})


def local_to_aware(text: str, zone: ZoneInfo) -> str | None:
    """A ``datetime-local`` value (the shop's wall clock) as ISO 8601 with its UTC offset."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.isoformat()


def parse_offer(form: MultiDict[str, str], zone: ZoneInfo) -> Parsed:
    errors: Errors = {}
    data: dict[str, Any] = {"amount": form.get("amount", "").strip()}
    for name in ("starts_at", "ends_at"):
        value = local_to_aware(form.get(name, ""), zone)
        if value is None:
            errors[name] = gettext("give a date and a time")
        data[name] = value or ""
    parsed = _validate(OfferIn, data, {}, default="ends_at")
    parsed.errors = {**parsed.errors, **errors}
    if parsed.errors:
        parsed.model = None
    return parsed


def parse_movement(form: MultiDict[str, str]) -> Parsed:
    errors: Errors = {}
    raw = form.get("delta", "").strip()
    try:
        delta: Any = int(raw)
    except ValueError:
        errors["delta"] = gettext("give a whole number: positive for goods in, negative for goods out")
        delta = 0
    reason = form.get("reason", "").strip()
    if not reason:
        errors["reason"] = gettext("say why the stock changes")
    # A new id per form: the form's own hidden id makes a resent form apply once.
    movement_id = form.get("movement_id", "") or f"bo-{uuid.uuid4()}"
    parsed = _validate(MovementIn, {"movement_id": movement_id, "delta": delta, "reason": reason}, {})
    parsed.errors = {**parsed.errors, **errors}
    if parsed.errors:
        parsed.model = None
    return parsed
