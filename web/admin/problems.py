"""Errors as ``application/problem+json`` (RFC 9457): every error the admin app returns.

A problem carries ``type``, ``title``, ``status`` and a human-readable ``detail``; validation
problems add ``errors``, a list of ``{"loc": [...], "msg": ...}`` (a batch's bad rows add ``row``
and ``field``). ``type`` is ``about:blank``
throughout, so ``title`` is the HTTP status phrase and clients switch on ``status``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import psycopg
from flask import Flask, Response, current_app, request
from psycopg_pool import PoolTimeout
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from catalog.errors import CatalogError, Conflict, Invalid, NotFound, RowsRejected, Unavailable

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
#: Seconds a client should wait before retrying when the database is unreachable.
RETRY_AFTER_SECONDS = 5
#: The HTTP status of each write-side error (catalog/errors.py); any other CatalogError is a 400.
CATALOG_STATUS: dict[type[CatalogError], int] = {
    NotFound: 404,
    Invalid: 422,
    Conflict: 409,
    Unavailable: 503,
    RowsRejected: 422,
}


class Problem(Exception):
    """Raised anywhere in a request to answer with a problem document."""

    def __init__(self, status: int, detail: str, *, headers: Mapping[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra


def problem_response(status: int, detail: str, *, headers: Mapping[str, str] | None = None, **extra: Any) -> Response:
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail, **extra}
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    response.headers.update(headers or {})
    return response


def _unavailable_headers() -> dict[str, str]:
    return {"Retry-After": str(RETRY_AFTER_SECONDS)}


def unavailable(detail: str) -> Problem:
    """A 503 problem with ``Retry-After``: the database is out of reach or busy, nothing was written."""
    return Problem(503, detail, headers=_unavailable_headers())


def _http_detail(error: HTTPException) -> str:
    """Werkzeug's stock descriptions talk about browsers; say what happened to this call."""
    if error.code == 404:
        return f"{request.path} is not an admin API route"
    if isinstance(error, MethodNotAllowed):
        allowed = ", ".join(sorted(error.valid_methods or ()))
        return f"{request.method} is not allowed on {request.path}; allowed: {allowed}"
    if error.code == 413:
        return f"the body is larger than the limit of {current_app.config['MAX_CONTENT_LENGTH']} bytes"
    return error.description or HTTPStatus(error.code or 500).phrase


def _on_problem(error: Problem) -> Response:
    return problem_response(error.status, error.detail, headers=error.headers, **error.extra)


def _on_http(error: HTTPException) -> Response:
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    return problem_response(error.code or 500, _http_detail(error), headers=headers)


def catalog_status(error: CatalogError) -> int:
    """The status of a write-side error: its class's (or nearest base's) in :data:`CATALOG_STATUS`, else 400."""
    return next((CATALOG_STATUS[c] for c in type(error).__mro__ if c in CATALOG_STATUS), 400)


def _on_catalog(error: CatalogError) -> Response:
    status = catalog_status(error)
    headers = _unavailable_headers() if status == 503 else None
    return problem_response(status, str(error), headers=headers)


def _on_database_down(error: psycopg.OperationalError) -> Response:
    # PoolTimeout is an OperationalError too: no connection came within the pool's timeout.
    log.warning("database unavailable: %s", error)
    what = "busy or unavailable" if isinstance(error, PoolTimeout) else "unavailable"
    return problem_response(
        503, f"the catalog database is {what}; nothing was written, retry later", headers=_unavailable_headers()
    )


def _on_integrity(error: psycopg.IntegrityError) -> Response:
    # The commands check what they write first; a constraint still failing means a concurrent write
    # got there first (two writes taking one SKU at once).
    log.warning("write refused by a constraint: %s", error)
    detail = (str(error).strip().splitlines() or ["a constraint"])[0]
    return problem_response(409, f"the write conflicts with the catalog's state, nothing was written: {detail}")


def _on_unexpected(error: Exception) -> Response:
    log.exception("unhandled error in %s %s", request.method, request.path)
    return problem_response(500, "internal error; the server log has the details")


def _no_store(response: Response) -> Response:
    # Admin answers carry catalog data and credentials' effects: no cache may keep any of them.
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Register the handlers that turn every error into a problem document; every answer is no-store."""
    app.after_request(_no_store)
    app.register_error_handler(Problem, _on_problem)
    app.register_error_handler(HTTPException, _on_http)
    app.register_error_handler(CatalogError, _on_catalog)
    app.register_error_handler(psycopg.OperationalError, _on_database_down)
    app.register_error_handler(psycopg.IntegrityError, _on_integrity)
    app.register_error_handler(Exception, _on_unexpected)
