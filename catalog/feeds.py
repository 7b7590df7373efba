"""Feed files for ``snipshop import`` (the contract, "Feed files"): CSV rows of each kind, read as
a stream and validated by the admin API's models into the items of the kind's batch command in
:mod:`catalog.commands`. No database here: :mod:`catalog.importer` batches and applies the rows."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, NamedTuple

from pydantic import BaseModel, ValidationError

from catalog.models import (
    AttributeCode,
    AttributeIn,
    CategoryIn,
    CategoryKey,
    Currency,
    OfferIn,
    PriceIn,
    ProductIn,
    Sku,
    StockIn,
    VariantIn,
)
from vocab.images import parse_feed_image

# column prefix: model field
PREFIXES = {"name": "name", "description": "description", "attr": "attributes", "label": "label", "opt": "options"}
COLUMN_PREFIX = {"attributes": "attr", "options": "opt"}  # model field: its columns' prefix
# What is trimmed from a cell: CSV padding. A line break or another control character stays, so a
# key (SKU, category key, currency) that carries one is refused rather than quietly repaired.
BLANKS = " \t"


class FeedError(Exception):
    """The file as a whole cannot be imported (unknown kind, bad header)."""


class RowError(Exception):
    """One row is invalid; ``key`` names it in the report as well as the row allows."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class AttributeRow(AttributeIn):
    code: AttributeCode


class CategoryRow(CategoryIn):  # each row: the admin model plus the key the admin URL carries
    key: CategoryKey


class ProductRow(ProductIn):
    sku: Sku


class VariantRow(VariantIn):
    sku: Sku
    product: Sku


class PriceRow(PriceIn):
    sku: Sku
    currency: Currency


class OfferRow(OfferIn):
    sku: Sku
    currency: Currency


class StockRow(StockIn):
    sku: Sku


@dataclass(frozen=True)
class FeedKind:
    name: str
    model: type[BaseModel]
    keys: tuple[str, ...]  # what identifies a row: its name in reports; a later row replaces an earlier one
    required: tuple[str, ...]  # "name.*": at least one name.<locale> column
    optional: tuple[str, ...]
    item: Callable[[Any], tuple]  # validated row -> element of the argument of the kind's batch command


KINDS: dict[str, FeedKind] = {
    k.name: k
    for k in (  # in dependency order, the order of import
        FeedKind("attributes", AttributeRow, ("code",), ("code", "label.*"), (), item=lambda r: (r.code, r)),
        FeedKind(
            "categories", CategoryRow, ("key",), ("key", "name.*"), ("parent", "position"), item=lambda r: (r.key, r)
        ),
        FeedKind(
            "products",
            ProductRow,
            ("sku",),
            ("sku", "name.*"),
            ("brand", "categories", "active", "description.*", "attr.*", "images"),
            item=lambda r: (r.sku, r),
        ),
        FeedKind(
            "variants",
            VariantRow,
            ("sku",),
            ("sku", "product"),
            ("position", "active", "opt.*"),
            item=lambda r: (r.product, r.sku, r),
        ),
        FeedKind(
            "prices",
            PriceRow,
            ("sku", "currency"),
            ("sku", "currency", "amount"),
            (),
            item=lambda r: (r.sku, r.currency, r.amount),
        ),
        FeedKind(
            "offers",
            OfferRow,
            ("sku", "currency", "starts_at"),
            ("sku", "currency", "amount", "starts_at", "ends_at"),
            (),
            item=lambda r: (r.sku, r.currency, r),
        ),
        FeedKind("stock", StockRow, ("sku",), ("sku", "quantity"), (), item=lambda r: (r.sku, r.quantity)),
    )
}


class Header(NamedTuple):
    kind: FeedKind
    columns: tuple[tuple[str, str | None], ...]  # per column: (field or prefix, locale or attribute name)


def parse_header(kind: FeedKind, names: list[str]) -> Header:
    """Check the header row against the kind's columns; raise :class:`FeedError` if it does not fit."""
    names = [n.strip() for n in names]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise FeedError(f"duplicate column(s): {', '.join(duplicates)}")
    allowed = kind.required + kind.optional
    columns: list[tuple[str, str | None]] = []
    for name in names:
        prefix, dot, sub = name.partition(".")
        if not (f"{prefix}.*" in allowed if dot and sub else name in allowed):
            raise FeedError(f"unknown column {name!r} for {kind.name} (expected {', '.join(allowed)})")
        columns.append((prefix, sub) if dot else (name, None))
    present = {f"{field}.*" if sub else field for field, sub in columns}
    missing = [r for r in kind.required if r not in present]
    if missing:
        raise FeedError(f"missing column(s) for {kind.name}: {', '.join(missing)}")
    return Header(kind, tuple(columns))


def _split(value: str) -> list[str]:  # multi-values: categories, attribute values
    return [v.strip(BLANKS) for v in value.split("|") if v.strip()]


def row_input(header: Header, values: list[str]) -> dict[str, Any]:
    """The model input of one row. Empty optional cells are left out: the model's defaults apply.
    Attribute columns whose codes differ only in case are merged by the model (:class:`ProductIn`)."""
    data: dict[str, Any] = {}
    for (field, sub), value in zip(header.columns, values, strict=True):
        value = value.strip(BLANKS) if value.strip() else ""
        if field == "label":  # every label column counts: a row of empty cells removes the labels
            data.setdefault("label", {})
        if sub is not None:
            parts = _split(value) if field == "attr" else [value] if value else []
            if parts:
                data.setdefault(PREFIXES[field], {})[sub] = parts[0] if len(parts) == 1 else parts
        elif field == "categories":
            data[field] = _split(value)
        elif field == "images":  # "src WIDTHxHEIGHT|...": a cell that is not that is a ValueError
            try:
                data[field] = [parse_feed_image(image) for image in _split(value)]
            except ValueError as exc:
                raise ValueError(f"images: {exc}") from None
        elif value or field in header.kind.required:
            data[field] = value
    return data


class FeedRow(NamedTuple):
    line: int
    key: str
    ident: Hashable
    item: tuple


def parse_row(
    header: Header, line: int, values: list[str], context: dict[str, Any], error: str | None = None
) -> FeedRow:
    """Validate one row (``error``: what reading it went wrong); raise :class:`RowError` if invalid."""
    if error or len(values) != len(header.columns):
        key = values[0].strip() if values else ""
        raise RowError(key, error or f"expected {len(header.columns)} fields, found {len(values)}")
    kind = header.kind
    try:
        data = row_input(header, values)
    except ValueError as exc:
        raise RowError(values[0].strip(), str(exc)) from None
    key = "/".join(str(data.get(k, "")) for k in kind.keys)
    try:
        row = kind.model.model_validate(data, strict=False, context=context)
    except ValidationError as exc:
        raise RowError(key, describe(exc)) from None
    return FeedRow(line, key, tuple(getattr(row, k) for k in kind.keys), kind.item(row))


def describe(exc: ValidationError) -> str:
    """``column: message`` for each problem, in the feed's column names."""
    errors = exc.errors(include_url=False)
    # A CSV cell is always a string: a type error only comes from the losing branch of a union.
    errors = [e for e in errors if e["type"] not in ("string_type", "list_type")] or errors
    parts = []
    for e in errors:  # drop pydantic's union branch names ("list[constrained-str]") from the location
        loc = [str(p) for p in e["loc"] if isinstance(p, int) or not any(c in p for c in "[-")]
        loc[:1] = [COLUMN_PREFIX.get(loc[0], loc[0])] if loc else loc
        message = e["msg"].removeprefix("Value error, ")
        parts.append(f"{'.'.join(loc)}: {message}" if loc else message)
    return "; ".join(dict.fromkeys(parts))


class RawRow(NamedTuple):
    line: int  # the physical line the row starts on
    values: list[str]
    error: str | None  # why the row could not be read (not UTF-8, broken quoting)


def csv_rows(stream: BinaryIO) -> Iterator[RawRow]:
    """The rows of a binary CSV stream (header included, blank lines skipped), one at a time; a row
    that is not UTF-8 or not well-formed CSV comes with ``error`` set instead of ending the file."""
    bad_lines: list[int] = []

    def lines() -> Iterator[str]:
        for number, raw in enumerate(stream, 1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                bad_lines.append(number)
                yield raw.decode("utf-8", "replace")

    reader, start = csv.reader(lines(), strict=True), 1
    while True:
        try:
            values, error = next(reader), None
        except StopIteration:
            return
        except csv.Error as exc:  # the reader starts afresh on the next line
            values, error = [], f"broken CSV: {exc}"
        line, start = start, reader.line_num + 1
        if bad_lines:
            error = f"not valid UTF-8 (line {bad_lines[0]})"
            bad_lines.clear()
        if values or error:
            yield RawRow(line, values, error)
