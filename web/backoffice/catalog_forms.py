"""Forms of the catalog's structure: variants (their options) and categories (their names),
into the write side's models (catalog/models.py), errors by field as in editor_forms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from werkzeug.datastructures import MultiDict

from catalog.models import CategoryIn, VariantIn, valid_category_key, valid_sku
from web.backoffice.editor_forms import Errors, Parsed, _validate
from web.backoffice.translation import gettext


def parse_options(text: str) -> tuple[dict[str, str], str | None]:
    """``name: value`` per line (``size: M``) into a variant's options; the first bad line's error."""
    options: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon or not value.strip() or not name.strip():
            return {}, gettext("line %(n)s: write an option as 'name: value' (size: M)", n=number)
        options[name.strip()] = value.strip()
    return options, None


def format_options(options: Mapping[str, str]) -> str:
    return "\n".join(f"{name}: {value}" for name, value in options.items())


def _key_error(check: Any, value: str) -> str | None:
    try:
        check(value)
    except ValueError as error:
        return str(error)
    return None


def parse_variant(form: MultiDict[str, str], new: bool) -> Parsed:
    """A variant's form (``options`` lines, ``active``; ``sku`` too when ``new``) as a :class:`VariantIn`."""
    errors: Errors = {}
    if new and (error := _key_error(valid_sku, form.get("sku", "").strip())):
        errors["sku"] = error
    options, option_error = parse_options(form.get("options", ""))
    if option_error:
        errors["options"] = option_error
    parsed = _validate(VariantIn, {"options": options, "active": form.get("active") == "on"}, {})
    parsed.errors = {**parsed.errors, **errors}
    if parsed.errors:
        parsed.model = None
    return parsed


def parse_category(form: MultiDict[str, str], locales: Sequence[str], position: int, new: bool) -> Parsed:
    """A category's form (names per locale, ``parent``; ``key`` too when ``new``) as a :class:`CategoryIn`."""
    errors: Errors = {}
    if new and (error := _key_error(valid_category_key, form.get("key", "").strip())):
        errors["key"] = error
    names = {loc: form.get(f"name.{loc}", "").strip() for loc in locales}
    if not any(names.values()):
        errors[f"name.{locales[0]}"] = gettext("a category needs a name in at least one language")
    data = {
        "parent": form.get("parent") or None,
        "name": {loc: name for loc, name in names.items() if name},
        "position": position,
    }
    parsed = _validate(CategoryIn, data, {"locales": tuple(locales)})
    parsed.errors = {**parsed.errors, **errors}
    if parsed.errors:
        parsed.model = None
    return parsed
