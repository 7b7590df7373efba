"""The OpenAPI 3.1 document, generated from the route table the app registers.

Request and response bodies are the pydantic models' JSON schemas; path parameters are
described by :data:`web.admin.inputs.PATH_PARAMS`; error responses follow from what a route
does (token, path parameters, body) plus the errors its command may raise. Maps keyed by locale
are narrowed to the shop's locales. Every response documents its headers: ``Cache-Control:
no-store`` always, ``WWW-Authenticate`` on a 401, ``Retry-After`` on a 503. A test checks the
running app against this document with generated requests (tests/integration/test_admin_schema.py).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from catalog.models import LOCALE_RE
from snipshop.config import Settings
from web.admin.inputs import JSON, PATH_PARAMS
from web.admin.problems import PROBLEM_JSON
from web.admin.routes import API_ROOT, ROUTES, Route

REF = "#/components/schemas/{model}"

# Amounts are validated as decimal strings (catalog.models.PriceIn), but pydantic describes a
# Decimal as "number or string"; the document states what is accepted.
PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "validation problems and rejected batches only: every bad field or row",
            "items": {
                "type": "object",
                "required": ["loc", "msg"],
                "properties": {
                    "loc": {
                        "type": "array",
                        "items": {"type": ["string", "integer"]},
                        "description": '"path" or "body", then the field',
                    },
                    "msg": {"type": "string"},
                    "row": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "batch routes: the index (from 0) of the bad row",
                    },
                    "field": {
                        "type": "string",
                        "description": "batch routes: the row's field (empty when the row as a whole is wrong)",
                    },
                },
            },
        },
    },
}

_COMMON_ERRORS = {
    "token": {
        401: "missing, malformed, unknown, revoked or expired token",
        403: "the token's role may not make this call",
        503: "the database is unavailable or busy; nothing was written; retry after Retry-After seconds",
    },
    "params": {404: "no such URL: a path parameter held a '/'"},
    "inputs": {422: "invalid path parameter or body; `errors` lists each bad field"},
    "body": {
        400: "the body is not a well-formed JSON object",
        413: "the body is too large",
        415: "the body is not application/json",
    },
}


def error_statuses(route: Route) -> dict[int, str]:
    """Every error status ``route`` can answer with (beyond 404/405 for URLs it does not serve)."""
    kinds = ([] if route.public else ["token"]) + (["params"] if route.params else [])
    kinds += ["inputs"] if route.params or route.body else []
    kinds += ["body"] if route.body else []
    errors = {status: text for kind in kinds for status, text in _COMMON_ERRORS[kind].items()}
    for status, text in route.errors.items():
        errors[status] = f"{errors[status]}; or {text}" if status in errors else text
    return dict(sorted(errors.items()))


def _schemas(routes: Iterable[Route]) -> tuple[dict[Any, Any], dict[str, Any]]:
    models: set[tuple[type[BaseModel], Literal["validation", "serialization"]]] = set()
    models |= {(r.body, "validation") for r in routes if r.body}
    models |= {(r.result, "serialization") for r in routes if r.result}
    refs, top = models_json_schema(sorted(models, key=lambda m: (m[0].__name__, m[1])), ref_template=REF)
    schemas = top.get("$defs", {})
    return refs, {**schemas, "Problem": PROBLEM}


def for_shop(schema: Any, settings: Settings) -> Any:
    """``schema`` with what depends on the shop's configuration filled in: locale keys (a map's
    ``propertyNames`` with the models' locale pattern) become one of the shop's locales."""
    if isinstance(schema, list):
        return [for_shop(item, settings) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("propertyNames") == {"pattern": LOCALE_RE.pattern}:
        schema = {**schema, "propertyNames": {"enum": list(settings.locales)}}
    return {key: for_shop(value, settings) for key, value in schema.items()}


_NO_STORE = {
    "description": "no cache may keep an admin answer",
    "required": True,
    "schema": {"type": "string", "const": "no-store"},
}
_ERROR_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "the Bearer challenge (RFC 6750)",
            "required": True,
            "schema": {"type": "string", "pattern": "^Bearer "},
        }
    },
    503: {
        "Retry-After": {
            "description": "seconds to wait before retrying",
            "required": True,
            "schema": {"type": "string", "pattern": "^[0-9]+$"},
        }
    },
}


def _headers(status: int) -> dict[str, Any]:
    return {"Cache-Control": _NO_STORE, **_ERROR_HEADERS.get(status, {})}


def _operation(route: Route, refs: dict[Any, Any], settings: Settings) -> dict[str, Any]:
    result = refs[(route.result, "serialization")] if route.result else {"type": "object"}
    responses: dict[str, Any] = {
        str(status): {"description": text, "headers": _headers(status), "content": {JSON: {"schema": result}}}
        for status, text in route.success.items()
    }
    problem = {PROBLEM_JSON: {"schema": {"$ref": REF.format(model="Problem")}}}
    responses.update(
        {
            str(status): {"description": text, "headers": _headers(status), "content": problem}
            for status, text in error_statuses(route).items()
        }
    )
    operation: dict[str, Any] = {
        "operationId": route.name,
        "summary": route.summary,
        "tags": [route.path.split("/")[1].split(".")[0]],
        "parameters": [
            {
                "name": name,
                "in": "path",
                "required": True,
                "description": PATH_PARAMS[name].description,
                "schema": PATH_PARAMS[name].schema(settings),
            }
            for name in route.params
        ],
        "responses": responses,
    }
    if route.body:
        operation["requestBody"] = {"required": True, "content": {JSON: {"schema": refs[(route.body, "validation")]}}}
    if route.public:
        operation["security"] = []
    else:
        operation["x-required-role"] = route.role or "any"
    return operation


def build(settings: Settings, routes: Iterable[Route] = ROUTES) -> dict[str, Any]:
    routes = tuple(routes)
    refs, schemas = _schemas(routes)
    schemas = for_shop(copy.deepcopy(schemas), settings)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(API_ROOT + route.path, {})[route.method.lower()] = _operation(route, refs, settings)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "snipshop admin API",
            "version": "1",
            "description": "Write side of the shop. Send `Authorization: Bearer <token>` (`snipshop token create`); "
            "roles: editor (categories, products, variants, attributes), pricing (prices, offers), stock (stock), "
            "admin (everything). Prices, offers and stock belong to a variant: a simple product's SKU names its "
            "one variant, a product sold in variants is named by its variants' SKUs. "
            "Errors are application/problem+json; a rejected request writes "
            "nothing. Every accepted write returns the id of its outbox row. The token is checked before "
            "anything else (401/403), then the body (415, 413, 400, 422), and only then does the "
            "call reach the catalog; every answer is `Cache-Control: no-store`.",
        },
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    }
