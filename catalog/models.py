"""Validated write-side inputs, shared by the admin API and the feed import.

Each model is the body of one admin call and the row of one feed kind. Checks that depend on
the shop's configuration (known locales and currencies) read them from the validation context:
``Model.model_validate(data, context={"locales": ..., "currencies": ...})``.
"""
from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, StringConstraints,
                      ValidationInfo, WithJsonSchema, field_validator, model_validator)

from projector.keys import CATEGORY_KEY_RE, SKU_RE
from vocab.money import MAX_AMOUNT, MONEY_PATTERN, parse_amount

LOCALE_RE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
ATTRIBUTE_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
ROLES = ("editor", "pricing", "stock", "admin")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


Text = Annotated[str, StringConstraints(min_length=1, max_length=500)]
Html = Annotated[str, StringConstraints(max_length=100_000)]
AttrValue = Annotated[str, StringConstraints(min_length=1, max_length=200)]


def _check_key(value: str, pattern: re.Pattern[str], what: str) -> str:
    if not pattern.match(value):
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


def _check_locales(texts: dict[str, str], info: ValidationInfo) -> dict[str, str]:
    known = (info.context or {}).get("locales")
    for locale in texts:
        if not LOCALE_RE.match(locale):
            raise ValueError(f"locale {locale!r} must look like en_US")
        if known and locale not in known:
            raise ValueError(f"locale {locale!r} is not one of the shop's locales {list(known)}")
    return texts


CategoryKey = Annotated[str, AfterValidator(valid_category_key)]
# pydantic passes the validation context only to a validator whose ``info`` is required.
Currency = Annotated[str, AfterValidator(valid_currency)]


class CategoryIn(Strict):
    parent: CategoryKey | None = None
    name: dict[str, Text] = Field(min_length=1)
    position: int = Field(default=0, ge=0, le=1_000_000)

    _locales = field_validator("name")(_check_locales)


class ProductIn(Strict):
    name: dict[str, Text] = Field(min_length=1)
    description: dict[str, Html] = Field(default_factory=dict)
    brand: Annotated[str, StringConstraints(max_length=200)] = ""
    categories: list[CategoryKey] = Field(default_factory=list, max_length=50)
    attributes: dict[str, AttrValue | list[AttrValue]] = Field(default_factory=dict, max_length=100)
    active: bool = True

    _locales = field_validator("name", "description")(_check_locales)

    @field_validator("categories")
    @classmethod
    def _unique_categories(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("categories must not repeat")
        return value

    @field_validator("attributes")
    @classmethod
    def _attribute_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not ATTRIBUTE_NAME_RE.match(name):
                raise ValueError(f"attribute name {name!r} must match {ATTRIBUTE_NAME_RE.pattern}")
        return value

    def attribute_rows(self) -> list[tuple[str, str, int]]:
        """(name, value, position) rows, multi-values kept in order, duplicates dropped."""
        rows: list[tuple[str, str, int]] = []
        for name, value in self.attributes.items():
            values = value if isinstance(value, list) else [value]
            for position, v in enumerate(dict.fromkeys(values)):
                rows.append((name, v, position))
        return rows


Money = Annotated[
    Decimal,
    Field(ge=0, le=MAX_AMOUNT, decimal_places=2),
    WithJsonSchema({"type": "string", "pattern": f"^{MONEY_PATTERN}$", "examples": ["12.34"],
                    "description": "a non-negative decimal string with at most two places"}, mode="validation"),
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
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            raise ValueError("must carry a UTC offset, e.g. 2026-11-25T08:00:00+01:00")
        return parsed

    @model_validator(mode="after")
    def _window(self) -> "OfferIn":
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class StockIn(Strict):
    quantity: int = Field(ge=0, le=1_000_000_000)


class MovementIn(Strict):
    movement_id: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    delta: int = Field(ge=-1_000_000_000, le=1_000_000_000)
    reason: Annotated[str, StringConstraints(max_length=200)] = ""

    @field_validator("delta")
    @classmethod
    def _nonzero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("delta must not be zero")
        return value
