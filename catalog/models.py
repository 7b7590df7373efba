"""Validated write-side inputs, shared by the admin API and the feed import.

Each model is the body of one admin call and the row of one feed kind. Checks that depend on
the shop's configuration (known locales and currencies) read them from the validation context:
``Model.model_validate(data, context={"locales": ..., "currencies": ...})``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonDict

from vocab.attributes import ATTRIBUTE_CODE_PATTERN, canonical_attribute_code
from vocab.images import MAX_IMAGES, MAX_SIDE, MAX_SRC, SRC_PATTERN, check_src
from vocab.keys import CATEGORY_KEY_RE, SKU_RE
from vocab.money import MAX_AMOUNT, MONEY_PATTERN, parse_amount

LOCALE_RE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
ROLES = ("editor", "pricing", "stock", "admin")
#: Largest stock level (PostgreSQL keeps it in a 32-bit integer, which ends at 2,147,483,647), and
#: the largest size of one movement either way. A level that would pass it is refused, never stored.
MAX_STOCK = 1_000_000_000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


#: PostgreSQL text cannot hold a NUL character: such a string is refused here (a 422, a row error),
#: not by the database at the write (a 500); the JSON schema states it as this pattern.
NO_NUL = r"^[^\x00]*$"


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


def _text(min_length: int, max_length: int) -> tuple[StringConstraints, AfterValidator, WithJsonSchema]:
    """The ``Annotated`` metadata of a string of ``min_length`` to ``max_length`` characters (after
    trimming) that PostgreSQL can store."""
    schema: JsonDict = {"type": "string", "maxLength": max_length, "pattern": NO_NUL}
    if min_length:
        schema["minLength"] = min_length
    return (
        StringConstraints(min_length=min_length, max_length=max_length),
        AfterValidator(_no_nul),
        WithJsonSchema(schema),
    )


Text = Annotated[str, *_text(1, 500)]
Html = Annotated[str, *_text(0, 100_000)]
AttrValue = Annotated[str, *_text(1, 200)]
Brand = Annotated[str, *_text(0, 200)]
MovementId = Annotated[str, *_text(1, 100)]
Reason = Annotated[str, *_text(0, 200)]
Label = Annotated[str, *_text(1, 100)]
#: JSON schema of a map keyed by locale (the admin API's OpenAPI document narrows it to the shop's locales).
LOCALE_KEYS: JsonDict = {"propertyNames": {"pattern": LOCALE_RE.pattern}}


def _check_key(value: str, pattern: re.Pattern[str], what: str) -> str:
    # The whole value, nothing trimmed: with ``match``, ``$`` would also accept a trailing newline.
    if not pattern.fullmatch(value):
        raise ValueError(f"{what} {value!r} must match {pattern.pattern}")
    return value


def valid_sku(value: str) -> str:
    return _check_key(value, SKU_RE, "SKU")


def valid_category_key(value: str) -> str:
    return _check_key(value, CATEGORY_KEY_RE, "category key")


def valid_currency(value: str, info: ValidationInfo) -> str:
    _check_key(value, CURRENCY_RE, "currency")
    known = (info.context or {}).get("currencies")
    if known and value not in known:
        raise ValueError(f"currency {value!r} is not one of the shop's currencies {list(known)}")
    return value


def _check_locales(texts: Any, info: ValidationInfo) -> Any:
    """Locale keys, checked as sent (a "before" validator: the models trim whitespace from strings)."""
    if not isinstance(texts, dict):
        return texts  # the type check that follows refuses it
    known = (info.context or {}).get("locales")
    for locale in texts:
        if not LOCALE_RE.fullmatch(locale):
            raise ValueError(f"locale {locale!r} must look like en_US")
        if known and locale not in known:
            raise ValueError(f"locale {locale!r} is not one of the shop's locales {list(known)}")
    return texts


def _as_sent(check: Any) -> BeforeValidator:
    """Check a key as it was sent, before the models trim whitespace from strings: a key with a
    line break or a blank around it is refused, not silently repaired."""
    return BeforeValidator(lambda value: check(value) if isinstance(value, str) else value)


def _currency_as_sent(value: Any, info: ValidationInfo) -> Any:
    # pydantic passes the validation context only to a validator whose ``info`` is required.
    return valid_currency(value, info) if isinstance(value, str) else value


def valid_attribute_code(value: str) -> str:
    """The canonical (lower-case) form of an attribute code as sent (:mod:`vocab.attributes`)."""
    code = canonical_attribute_code(value)
    if code is None:
        raise ValueError(
            f"attribute code {value!r} must be 1 to 40 letters, digits or underscores, "
            f"starting with a letter or a digit ({ATTRIBUTE_CODE_PATTERN})"
        )
    return code


Sku = Annotated[str, _as_sent(valid_sku)]
CategoryKey = Annotated[
    str, _as_sent(valid_category_key), WithJsonSchema({"type": "string", "pattern": CATEGORY_KEY_RE.pattern})
]
Currency = Annotated[str, BeforeValidator(_currency_as_sent)]
AttributeCode = Annotated[
    str, _as_sent(valid_attribute_code), WithJsonSchema({"type": "string", "pattern": f"^{ATTRIBUTE_CODE_PATTERN}$"})
]


class CategoryIn(Strict):
    parent: CategoryKey | None = None
    name: dict[str, Text] = Field(min_length=1, json_schema_extra=LOCALE_KEYS)
    position: int = Field(default=0, ge=0, le=1_000_000)

    _locales = field_validator("name", mode="before")(_check_locales)


class ImageIn(Strict):
    """An image of a product (vocab/images.py): a path below IMAGE_BASE_URL or an https URL, and
    the size of the image file in pixels."""

    src: Annotated[
        str,
        _as_sent(check_src),
        WithJsonSchema(
            {
                "type": "string",
                "maxLength": MAX_SRC,
                "pattern": f"^{SRC_PATTERN}$",
                "examples": ["/m/b/mb01-blue-0.jpg", "https://img.example.com/mb01.jpg"],
                "description": "a path relative to the image base URL, or an https URL; no '..' or '.' segments",
            }
        ),
    ]
    width: int = Field(ge=1, le=MAX_SIDE, description="pixels")
    height: int = Field(ge=1, le=MAX_SIDE, description="pixels")


class ProductIn(Strict):
    name: dict[str, Text] = Field(min_length=1, json_schema_extra=LOCALE_KEYS)
    description: dict[str, Html] = Field(default_factory=dict, json_schema_extra=LOCALE_KEYS)
    brand: Brand = ""
    categories: list[CategoryKey] = Field(default_factory=list, max_length=50)
    attributes: dict[str, AttrValue | list[AttrValue]] = Field(
        default_factory=dict,
        max_length=100,
        json_schema_extra={"propertyNames": {"pattern": f"^{ATTRIBUTE_CODE_PATTERN}$"}},
    )
    images: list[ImageIn] = Field(
        default_factory=list, max_length=MAX_IMAGES, description="the first is the product's main image (tiles show it)"
    )
    active: bool = True

    _locales = field_validator("name", "description", mode="before")(_check_locales)

    @field_validator("categories")
    @classmethod
    def _unique_categories(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("categories must not repeat")
        return value

    @field_validator("attributes", mode="before")
    @classmethod
    def _codes_as_sent(cls, value: Any) -> Any:
        """Attribute codes (:mod:`vocab.attributes`), checked before the models trim whitespace."""
        for code in value if isinstance(value, dict) else ():
            if not isinstance(code, str):
                raise ValueError(f"attribute code {code!r} must be a string")
            valid_attribute_code(code)
        return value

    @field_validator("attributes")
    @classmethod
    def _canonical_codes(cls, value: dict[str, Any]) -> dict[str, Any]:
        """Codes in their canonical, lower-case form; codes that differ only in case are one
        attribute, their values merged in order, each value once."""
        groups: dict[str, list[Any]] = {}
        for code, values in value.items():
            groups.setdefault(code.lower(), []).append(values)
        return {
            code: found[0]
            if len(found) == 1
            else list(dict.fromkeys(v for values in found for v in (values if isinstance(values, list) else [values])))
            for code, found in groups.items()
        }

    def attribute_rows(self) -> list[tuple[str, str, int]]:
        """(name, value, position) rows, multi-values kept in order, duplicates dropped."""
        rows: list[tuple[str, str, int]] = []
        for name, value in self.attributes.items():
            values = value if isinstance(value, list) else [value]
            for position, v in enumerate(dict.fromkeys(values)):
                rows.append((name, v, position))
        return rows


MAX_OPTIONS = 20


class VariantIn(Strict):
    """One variant of a product (docs/variants.md): its option values, its place in the product's
    picker and whether it is for sale. An existing variant keeps its position when none is given;
    a new one comes after the product's other variants."""

    options: dict[str, AttrValue] = Field(
        default_factory=dict,
        max_length=MAX_OPTIONS,
        description="option name (an attribute code: size, color) to the variant's value",
        json_schema_extra={"propertyNames": {"pattern": f"^{ATTRIBUTE_CODE_PATTERN}$"}},
    )
    position: int | None = Field(default=None, ge=0, le=1_000_000)
    active: bool = True

    @field_validator("options", mode="before")
    @classmethod
    def _canonical_names(cls, value: Any) -> Any:
        """Option names are attribute codes (:mod:`vocab.attributes`), checked as sent and kept in
        their canonical lower-case form; two names that differ only in case are one option."""
        if not isinstance(value, dict):
            return value
        out: dict[Any, Any] = {}
        for name, option in value.items():
            if not isinstance(name, str):
                raise ValueError(f"option name {name!r} must be a string")
            code = canonical_attribute_code(name)
            if code is None:
                raise ValueError(
                    f"option name {name!r} must be an attribute code: 1 to 40 letters, digits or "
                    f"underscores, starting with a letter or a digit ({ATTRIBUTE_CODE_PATTERN})"
                )
            if code in out:
                raise ValueError(f"option {code!r} is given twice")
            out[code] = option
        return out


class AttributeIn(Strict):
    """The labels of one attribute code by locale; they replace the code's labels. An empty map
    removes them (the shop then shows the code's fallback label)."""

    label: dict[str, Label] = Field(json_schema_extra=LOCALE_KEYS)

    _locales = field_validator("label", mode="before")(_check_locales)


Money = Annotated[
    Decimal,
    Field(ge=0, le=MAX_AMOUNT, decimal_places=2),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"^{MONEY_PATTERN}$",
            "examples": ["12.34"],
            "description": "a non-negative decimal string with at most two places",
        },
        mode="validation",
    ),
]


class PriceIn(Strict):
    # Amounts travel as strings ("12.34") so no float ever touches money.
    amount: Money

    @field_validator("amount", mode="before")
    @classmethod
    def _amount_is_string(cls, value: Any) -> Any:
        amount = parse_amount(value) if isinstance(value, str) else None
        if amount is None:
            raise ValueError('amount must be a non-negative decimal string with at most two places, e.g. "12.34"')
        return amount


class OfferIn(PriceIn):
    starts_at: datetime
    ends_at: datetime

    @field_validator("starts_at", "ends_at", mode="before")
    @classmethod
    def _aware(cls, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError("must be an ISO 8601 date-time string with a UTC offset")
        # RFC 3339 allows a lower-case "t" and "z".
        parsed = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            raise ValueError("must carry a UTC offset, e.g. 2026-11-25T08:00:00+01:00")
        try:  # stored and read back in UTC: it must be a date there too (9999-12-31T23:00-05:00 is not)
            parsed.astimezone(UTC)
        except OverflowError:
            raise ValueError("must lie within the years 1 to 9999 in UTC") from None
        return parsed

    @model_validator(mode="after")
    def _window(self) -> OfferIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class StockIn(Strict):
    quantity: int = Field(ge=0, le=MAX_STOCK, description=f"absolute stock level, 0 to {MAX_STOCK:,}")


class MovementIn(Strict):
    movement_id: MovementId
    delta: int = Field(
        ge=-MAX_STOCK,
        le=MAX_STOCK,
        description=(
            f"change of the level, -{MAX_STOCK:,} to {MAX_STOCK:,}, not 0; the level after it must stay "
            f"within 0 to {MAX_STOCK:,}"
        ),
        json_schema_extra={"not": {"const": 0}},
    )
    reason: Reason = ""

    @field_validator("delta")
    @classmethod
    def _nonzero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("delta must not be zero")
        return value


#: Most movements in one bulk request (``POST /admin/api/v1/stock/movements``); a larger batch is a
#: 413 (split it). With the longest fields a row is about 400 bytes, so a full batch stays well
#: under the admin app's body limit (``ADMIN_MAX_BODY_BYTES``, 1 MiB by default).
MAX_BULK_MOVEMENTS = 1000


class BulkMovementIn(MovementIn):
    """One movement of a bulk request: a movement and the variant SKU it moves."""

    sku: Annotated[str, _as_sent(valid_sku), WithJsonSchema({"type": "string", "pattern": SKU_RE.pattern})]


class MovementsIn(Strict):
    """A batch of stock movements, applied in order, all or nothing."""

    movements: list[BulkMovementIn] = Field(
        min_length=1,
        max_length=MAX_BULK_MOVEMENTS,
        description=(
            f"1 to {MAX_BULK_MOVEMENTS:,} movements, applied in this order (each must leave its SKU's level "
            "within bounds, as a single movement must); a movement_id seen before is not applied again"
        ),
    )
