"""Response bodies of the admin API; their JSON schemas go into the OpenAPI document.

``outbox_id`` is the id of the outbox row the write committed: the projection of the change
is on its way once that row is dispatched.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class CategoryWritten(BaseModel):
    key: str
    outbox_id: int


class ProductWritten(BaseModel):
    sku: str
    outbox_id: int


class PriceWritten(BaseModel):
    sku: str
    currency: str
    outbox_id: int


class StockWritten(BaseModel):
    sku: str
    quantity: int = Field(description="the stock level now")
    outbox_id: int


class MovementResult(BaseModel):
    sku: str
    quantity: int = Field(description="the stock level after the movement")
    applied: bool = Field(description="false when this movement_id had been applied before")
    outbox_id: int | None = Field(description="null when nothing changed")


class MovementsResult(BaseModel):
    applied: int = Field(description="movements applied by this request")
    replayed: list[str] = Field(
        description="movement ids of the rows applied before (by an earlier request, or earlier in this batch): "
        "nothing changed for them"
    )
    levels: dict[str, int] = Field(description="the stock level of every SKU of the batch, after it")
    outbox_id: int | None = Field(description="null when nothing changed")


class OfferOut(BaseModel):
    currency: str
    amount: str
    starts_at: datetime
    ends_at: datetime


class ImageOut(BaseModel):
    src: str
    width: int
    height: int


class VariantWritten(BaseModel):
    product: str
    sku: str = Field(description="the variant's SKU")
    outbox_id: int


class VariantOut(BaseModel):
    """A variant as stored: its options, prices, current and future offers, and stock level."""

    sku: str
    product: str
    position: int
    active: bool
    options: dict[str, str] = Field(description="option name (an attribute code) to value, in the variant's order")
    prices: dict[str, str] = Field(description="regular prices by currency, decimal strings")
    offers: list[OfferOut]
    quantity: int
    price_version: int
    stock_version: int


class VariantList(BaseModel):
    product: str
    variants: list[VariantOut] = Field(description="in position order")


class ProductOut(BaseModel):
    """A product as stored, with its prices, current and future offers, stock level and variants."""

    sku: str
    name: dict[str, str]
    description: dict[str, str]
    brand: str
    categories: list[str]
    attributes: dict[str, list[str]]
    images: list[ImageOut] = Field(description="in order; the first is the main image")
    active: bool
    prices: dict[str, str] = Field(description="regular prices by currency, decimal strings")
    offers: list[OfferOut]
    quantity: int
    version: int
    price_version: int
    stock_version: int
    variants: list[VariantOut] = Field(
        description="every variant in position order; a simple product has one, its default variant, whose SKU "
        "is the product's and which has no options (prices, offers and quantity above are its own); a product "
        "sold in variants has none of its own"
    )


class CategoryOut(BaseModel):
    key: str
    parent: str | None
    name: dict[str, str]
    position: int
    children: list[str] = Field(description="keys of the direct subcategories, in display order")
    version: int


class AttributeWritten(BaseModel):
    code: str = Field(description="the attribute code in its canonical, lower-case form")
    outbox_id: int


class AttributeOut(BaseModel):
    """An attribute's labels as stored, and what the shop shows for it in each of its locales."""

    code: str = Field(description="the attribute code in its canonical, lower-case form")
    label: dict[str, str] = Field(description="the stored labels by locale")
    shown: dict[str, str] = Field(
        description="the label shown in each of the shop's locales, falling back "
        "to common words and to the readable code"
    )
    version: int | None = Field(description="null when no labels were ever stored")
