"""Bearer tokens (RFC 6750) checked against the write side's token table, and roles.

Roles: ``editor`` (categories, products), ``pricing`` (prices, offers), ``stock`` (stock),
``admin`` (everything). A route that needs no particular role takes any valid token.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone

import psycopg

from catalog.tokens import Principal, authenticate
from web.admin.problems import Problem

REALM = "snipshop-admin"
#: How long an app trusts a token it has checked: a revoked token stops working within this.
TOKEN_CACHE_SECONDS = 5.0


class TokenCache:
    """Principals of recently checked tokens, so a busy client costs no lookup per request."""

    def __init__(self, seconds: float = TOKEN_CACHE_SECONDS) -> None:
        self.seconds = seconds
        self._checked: dict[str, tuple[Principal, float]] = {}

    def get(self, token: str) -> Principal | None:
        hit = self._checked.get(token)
        if hit is None or hit[1] < time.monotonic():
            self._checked.pop(token, None)
            return None
        return hit[0]

    def put(self, token: str, principal: Principal) -> None:
        seconds = self.seconds
        if principal.expires_at is not None:  # never trusted past its expiry
            seconds = min(seconds, (principal.expires_at - datetime.now(timezone.utc)).total_seconds())
        self._checked[token] = (principal, time.monotonic() + seconds)


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None if there is none."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


def _unauthorized(detail: str, error: str | None = None) -> Problem:
    challenge = f'Bearer realm="{REALM}"' + (f', error="{error}"' if error else "")
    return Problem(401, detail, headers={"WWW-Authenticate": challenge})


def require_token(header: str | None) -> str:
    """The bearer token, checked for presence only (no database needed); 401 if absent."""
    token = bearer_token(header)
    if token is None:
        raise _unauthorized("send 'Authorization: Bearer <token>'; create one with 'snipshop token create'")
    return token


def authorize(conn: psycopg.Connection, token: str, role: str | None, cache: TokenCache) -> Principal:
    """The token's principal if it may act as ``role`` (None: any role); 401 or 403 otherwise."""
    principal = cache.get(token)
    if principal is None:
        with conn.transaction():  # a transaction of its own, so that the command's is the outermost
            principal = authenticate(conn, token)
        if principal is not None:
            cache.put(token, principal)
    if principal is None:
        raise _unauthorized("the token is unknown or revoked, or it expired", error="invalid_token")
    if role is not None and not principal.may(role):
        raise Problem(403, f"token {principal.name!r} has role {principal.role!r}; this call needs {role!r} or 'admin'")
    return principal
