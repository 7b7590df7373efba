"""Bearer tokens (RFC 6750) checked against the write side's token table, and roles.

Roles: ``editor`` (categories, products), ``pricing`` (prices, offers), ``stock`` (stock),
``admin`` (everything). A route that needs no particular role takes any valid token.

Checking a token is cheap for the app and costs an attacker more than it costs the database:

1. a token that cannot be one by its form (``catalog.tokens.create_token`` makes ``sst_`` and
   43 characters of the URL-safe alphabet) is refused without any database access;
2. a token checked recently is answered from :class:`TokenCache`: a known one for
   :data:`TOKEN_CACHE_SECONDS` (never past its expiry), an unknown one for
   :data:`UNKNOWN_TOKEN_CACHE_SECONDS`; the cache holds at most :data:`TOKEN_CACHE_ENTRIES`;
3. otherwise one lookup, on a pooled connection held for that lookup only. At most
   :class:`Lookups` ``.limit`` lookups run at once (half the pool), so that tokens nobody knows
   can never take every connection the commands need; a lookup that cannot start within the
   wait is a 503 with ``Retry-After``.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from catalog.tokens import TOKEN_PREFIX, Principal, authenticate
from web.admin.problems import Problem, unavailable

REALM = "snipshop-admin"
#: How long an app trusts a token it has checked: a revoked token stops working within this.
TOKEN_CACHE_SECONDS = 5.0
#: How long an app remembers that a token is unknown (so a repeated bad token costs one lookup).
UNKNOWN_TOKEN_CACHE_SECONDS = 10.0
#: Most tokens a cache remembers (the oldest go first): a flood of random tokens cannot grow it.
TOKEN_CACHE_ENTRIES = 10_000
#: What a token looks like: the prefix, then ``secrets.token_urlsafe(32)`` (43 characters).
TOKEN_FORM = re.compile(re.escape(TOKEN_PREFIX) + r"[A-Za-z0-9_-]{43}")

_UNKNOWN = object()


def well_formed(token: str) -> bool:
    """Whether ``token`` could have been made by ``catalog.tokens.create_token`` at all."""
    return TOKEN_FORM.fullmatch(token) is not None


class TokenCache:
    """Recently checked tokens, so a busy client (or a repeated bad token) costs no lookup per request."""

    def __init__(
        self,
        seconds: float = TOKEN_CACHE_SECONDS,
        unknown_seconds: float = UNKNOWN_TOKEN_CACHE_SECONDS,
        entries: int = TOKEN_CACHE_ENTRIES,
    ) -> None:
        self.seconds = seconds
        self.unknown_seconds = unknown_seconds
        self.entries = entries
        self._checked: OrderedDict[str, tuple[Any, float]] = OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, token: str) -> tuple[bool, Principal | None]:
        """``(True, principal)`` or ``(True, None)`` for an unknown token if remembered; ``(False, None)`` if not."""
        with self._lock:
            hit = self._checked.get(token)
            if hit is None:
                return False, None
            if hit[1] < time.monotonic():
                del self._checked[token]
                return False, None
            return True, (None if hit[0] is _UNKNOWN else hit[0])

    def get(self, token: str) -> Principal | None:
        """The remembered principal of ``token`` (None: not remembered, or remembered as unknown)."""
        return self.lookup(token)[1]

    def put(self, token: str, principal: Principal | None) -> None:
        """Remember the result of a lookup: a principal, or None for an unknown token."""
        if principal is None:
            entry, seconds = _UNKNOWN, self.unknown_seconds
        else:
            entry, seconds = principal, self.seconds
            if principal.expires_at is not None:  # never trusted past its expiry
                seconds = min(seconds, (principal.expires_at - datetime.now(UTC)).total_seconds())
        with self._lock:
            self._checked[token] = (entry, time.monotonic() + seconds)
            self._checked.move_to_end(token)
            while len(self._checked) > self.entries:
                self._checked.popitem(last=False)


class Lookups:
    """Token lookups: at most ``limit`` at once, one per token at a time, each holding a pooled
    connection for its query only; a request that cannot start its lookup within ``wait`` is a 503."""

    def __init__(self, pool: Any, limit: int | None = None, wait: float = 2.0) -> None:
        self.pool = pool
        self.limit = limit if limit is not None else max(1, int(getattr(pool, "max_size", 2)) // 2)
        self.wait = wait
        self._slots = threading.BoundedSemaphore(self.limit)
        self._lock = threading.Lock()
        self._flights: dict[str, threading.Event] = {}

    def authenticate(self, token: str, cache: TokenCache) -> Principal | None:
        """The token's principal (None: unknown), remembered in ``cache``.

        Concurrent asks for one token share a lookup."""
        with self._lock:
            flight = self._flights.get(token)
            leader = flight is None
            if flight is None:
                flight = self._flights[token] = threading.Event()
        if not leader:
            flight.wait(self.wait)
            known, principal = cache.lookup(token)
            if not known:  # the shared lookup failed or is still waiting: as the database is
                raise unavailable("the token could not be checked in time; retry later")
            return principal
        try:
            principal = self._query(token)
            cache.put(token, principal)
            return principal
        finally:
            with self._lock:
                del self._flights[token]
            flight.set()

    def _query(self, token: str) -> Principal | None:
        started = time.monotonic()
        if not self._slots.acquire(timeout=self.wait):
            raise unavailable("too many token checks are waiting for the database; retry later")
        try:
            wait = max(0.05, self.wait - (time.monotonic() - started))
            with self.pool.connection(timeout=wait) as conn, conn.transaction():
                return authenticate(conn, token)
        finally:
            self._slots.release()


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


def authorize(token: str, role: str | None, cache: TokenCache, lookups: Lookups) -> Principal:
    """The token's principal if it may act as ``role`` (None: any role); 401 or 403 otherwise.

    The database is asked only for a well-formed token this app has not checked recently.
    """
    principal = None
    if well_formed(token):
        known, principal = cache.lookup(token)
        if not known:
            principal = lookups.authenticate(token, cache)
    if principal is None:
        raise _unauthorized("the token is unknown or revoked, or it expired", error="invalid_token")
    if role is not None and not principal.may(role):
        raise Problem(403, f"token {principal.name!r} has role {principal.role!r}; this call needs {role!r} or 'admin'")
    return principal
