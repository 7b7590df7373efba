"""Request inputs: path parameters and JSON bodies, checked completely before any write.

Order of checks for a body: media type (415), size (413), well-formed JSON object (400), for a
batch the number of rows (413), then the path parameters and the body model together (422, every
bad field listed at once; a field of a batch's row names the row: ``row``, ``field``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import request
from pydantic import BaseModel, ValidationError

from catalog.models import valid_attribute_code, valid_category_key, valid_sku
from snipshop.config import Settings
from vocab.attributes import ATTRIBUTE_CODE_PATTERN
from vocab.keys import CATEGORY_KEY_RE, SKU_RE
from web.admin.problems import Problem

JSON = "application/json"


def _currency(value: str, settings: Settings) -> str:
    if value not in settings.currencies:
        raise ValueError(f"currency {value!r} is not one of the shop's currencies {list(settings.currencies)}")
    return value


@dataclass(frozen=True)
class PathParam:
    """A path parameter: how to check it and how the OpenAPI document describes it."""

    description: str
    check: Callable[[str, Settings], object]  # raises ValueError with a readable message
    schema: Callable[[Settings], dict[str, Any]]


PATH_PARAMS: Mapping[str, PathParam] = {
    "sku": PathParam(
        "product SKU; for prices, offers and stock the SKU of a variant (a simple product's SKU names its one variant)",
        lambda v, _: valid_sku(v),
        lambda _: {"type": "string", "pattern": SKU_RE.pattern},
    ),
    "variant_sku": PathParam(
        "the variant's SKU", lambda v, _: valid_sku(v), lambda _: {"type": "string", "pattern": SKU_RE.pattern}
    ),
    "key": PathParam(
        "category key",
        lambda v, _: valid_category_key(v),
        lambda _: {"type": "string", "pattern": CATEGORY_KEY_RE.pattern},
    ),
    "code": PathParam(
        "attribute code, in either case (stored in lower case)",
        lambda v, _: valid_attribute_code(v),
        lambda _: {"type": "string", "pattern": f"^{ATTRIBUTE_CODE_PATTERN}$"},
    ),
    "currency": PathParam(
        "ISO 4217 currency code, one of the shop's currencies",
        _currency,
        lambda s: {"type": "string", "enum": list(s.currencies)},
    ),
}


@dataclass(frozen=True)
class Rows:
    """A batch body: the list field holding its rows and the most rows one request may carry."""

    field: str
    most: int


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def read_json_object() -> dict[str, Any]:
    """The request body as a JSON object; 415 for another media type, 400 if not an object."""
    if request.mimetype != JSON:
        got = request.mimetype or "no Content-Type"
        raise Problem(415, f"the body must be sent as {JSON}, got {got}")
    raw = request.get_data(cache=False)  # 413 here if larger than MAX_CONTENT_LENGTH
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise Problem(400, f"the body is not well-formed JSON: {error}") from None
    if not isinstance(data, dict):
        raise Problem(400, f"the body must be a JSON object, got {type(data).__name__}")
    return data


def _message(error: Mapping[str, Any]) -> str:
    # pydantic prefixes our own messages with "Value error, "; the bare message reads better.
    if error["type"] == "value_error" and "error" in error.get("ctx", {}):
        return str(error["ctx"]["error"])
    return str(error["msg"])


def validation_problem(errors: list[dict[str, Any]]) -> Problem:
    detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
    return Problem(422, f"invalid request: {detail}", errors=errors)


def row_error(rows: Rows, row: int, field: str, msg: str) -> dict[str, Any]:
    """The ``errors`` entry of a bad row of a batch: where (``loc``), the row's index from 0, the
    field of the row (empty when the row as a whole is wrong) and why."""
    return {"loc": ["body", rows.field, row, *([field] if field else [])], "msg": msg, "row": row, "field": field}


def _with_rows(error: dict[str, Any], rows: Rows | None) -> dict[str, Any]:
    loc = error["loc"]
    if rows is None or len(loc) < 3 or loc[:2] != ["body", rows.field] or not isinstance(loc[2], int):
        return error
    return row_error(rows, loc[2], ".".join(map(str, loc[3:])), error["msg"])


def _count_rows(data: dict[str, Any], rows: Rows) -> None:
    found = data.get(rows.field)
    if isinstance(found, list) and len(found) > rows.most:
        raise Problem(413, f"at most {rows.most:,} {rows.field} per request, got {len(found):,}: split the batch")


def validate(
    params: Mapping[str, str], model: type[BaseModel] | None, settings: Settings, rows: Rows | None = None
) -> BaseModel | None:
    """Check the path parameters and (if ``model``) the JSON body; one 422 listing every error.
    A batch (``rows``) of more rows than it may carry is a 413."""
    errors: list[dict[str, Any]] = []
    for name, value in params.items():
        try:
            PATH_PARAMS[name].check(value, settings)
        except ValueError as error:
            errors.append({"loc": ["path", name], "msg": str(error)})
    body = None
    if model is not None:
        data = read_json_object()
        if rows is not None:
            _count_rows(data, rows)
        context = {"locales": settings.locales, "currencies": settings.currencies}
        try:
            body = model.model_validate(data, context=context)
        except ValidationError as error:
            errors += [
                _with_rows({"loc": ["body", *e["loc"]], "msg": _message(e)}, rows)
                for e in error.errors(include_url=False)
            ]
    if errors:
        raise validation_problem(errors)
    return body
