"""The admin API blueprint: one view per entry of the route table, all run the same way.

A view checks, in order: a bearer token is present (401), the token and its role (401/403,
one database read), the inputs (415/400/422); then it runs the handler (one committed
command) and dispatches the command's outbox row. A request rejected anywhere writes nothing.
"""
from __future__ import annotations

from typing import Callable

from flask import Blueprint, Response, jsonify, request

from projector.relay import dispatch_quietly
from web.admin import state
from web.admin.auth import authorize, require_token
from web.admin.handlers import Call, Outcome
from web.admin.inputs import validate
from web.admin.routes import ROUTES, Route


def _respond(outcome: Outcome) -> Response:
    payload = outcome.payload
    body = payload if isinstance(payload, dict) else payload.model_dump(mode="json")
    response = jsonify(body)
    response.status_code = outcome.status
    return response


def _run(route: Route, params: dict[str, str]) -> Outcome:
    shared = state.current()
    if route.public:
        return route.handler(Call(None, params, validate(params, route.body, shared.settings)))
    token = require_token(request.headers.get("Authorization"))
    with shared.pool.connection() as conn:
        authorize(conn, token, route.role, shared.tokens)
        body = validate(params, route.body, shared.settings)
        outcome = route.handler(Call(conn, params, body))
        if outcome.outbox_id is not None and not route.swept:
            # The command has committed; a failed send leaves the row for the relay's sweep.
            dispatch_quietly(conn, shared.send, [outcome.outbox_id])
    return outcome


def _view(route: Route) -> Callable[..., Response]:
    def view(**params: str) -> Response:
        return _respond(_run(route, params))

    view.__name__ = route.name
    view.__doc__ = route.summary
    return view


def make_blueprint() -> Blueprint:
    blueprint = Blueprint("admin_api", __name__)
    for route in ROUTES:
        blueprint.add_url_rule(route.rule, endpoint=route.name, view_func=_view(route), methods=[route.method])
    return blueprint
