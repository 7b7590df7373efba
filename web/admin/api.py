"""The admin API blueprint: one view per entry of the route table, all run the same way.

A view checks, in this order, and takes a database connection only where it says so:

1. a bearer token is present (401; no database);
2. the token: one that cannot be a token by its form is a 401 without any database access; one
   checked recently is answered from the app's cache (known or unknown); otherwise one lookup on
   a pooled connection held for the lookup only (401 unknown, revoked or expired; 403 the role
   may not make this call); see :mod:`web.admin.auth`;
3. the inputs, with no connection held: media type (415), size (413), well-formed JSON object
   (400), a batch's number of rows (413), path parameters and body together (422);
4. only then a connection for the command: the handler runs one committed command and the
   command's outbox row is dispatched. A write commits with its audit entry (who, what, the
   state before and after: :mod:`web.backoffice.audit`).

A request that gets no connection within ``CONNECTION_WAIT_SECONDS`` (the lookup's or the
command's) is a 503 with ``Retry-After``, never a hang or a 500. So a flood of bad tokens holds
no connection at all, and even well-formed unknown ones hold at most half the pool, for a
query each. A request rejected anywhere writes nothing. Every answer is ``Cache-Control:
no-store`` (:mod:`web.admin.problems`).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, jsonify, request

from catalog.relay import dispatch_quietly
from web.admin import admin_state
from web.admin.api_audit import api_change
from web.admin.auth import authorize, require_token
from web.admin.handlers import Call, Outcome
from web.admin.inputs import validate
from web.admin.routes import ROUTES, Route
from web.backoffice.audit import Change, audited


def _respond(outcome: Outcome) -> Response:
    payload = outcome.payload
    body = payload if isinstance(payload, dict) else payload.model_dump(mode="json")
    response = jsonify(body)
    response.status_code = outcome.status
    return response


def _run(route: Route, params: dict[str, str]) -> Outcome:
    shared = admin_state.current()
    if route.public:
        return route.handler(Call(None, params, validate(params, route.body, shared.settings)))
    token = require_token(request.headers.get("Authorization"))
    principal = authorize(token, route.role, shared.tokens, shared.lookups)
    body = validate(params, route.body, shared.settings, route.rows)
    with shared.connection() as conn:
        outcome = _handle(
            route, Call(conn, params, body), api_change(route.name, params, principal) if shared.audit_writes else None
        )
        if outcome.outbox_id is not None and not route.swept and shared.send is not None:
            # The command has committed; a failed send leaves the row for the relay's sweep.
            dispatch_quietly(conn, shared.send, [outcome.outbox_id])
    return outcome


def _handle(route: Route, call: Call, change: Change | None) -> Outcome:
    """Run the handler; a write together with its audit entry, in one transaction."""
    if change is None:
        return route.handler(call)
    done: list[Outcome] = []

    def command() -> int | None:
        done.append(route.handler(call))
        return done[0].outbox_id

    audited(call.db, change, command)
    return done[0]


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
