"""Admin API tokens: random, shown once, stored as SHA-256 hashes with a role and an optional expiry.

A token authenticates while it is neither revoked nor expired (``expires_at`` in the past, by
the database's clock). Revoking stamps ``revoked_at``; rows are kept, so ``snipshop token list``
shows what existed and when it stopped working. The secret itself is never stored or shown again.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from catalog.models import ROLES

TOKEN_PREFIX = "sst_"
_DURATION_RE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class Principal:
    token_id: int
    name: str
    role: str
    #: When the token stops working (None: never); callers caching a principal must not outlive it.
    expires_at: datetime | None = None

    def may(self, role: str) -> bool:
        return self.role == "admin" or self.role == role


@dataclass(frozen=True)
class TokenInfo:
    """What ``snipshop token list`` shows of a token: everything but the secret."""

    id: int
    name: str
    role: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    expired: bool

    @property
    def status(self) -> str:
        return "revoked" if self.revoked_at else "expired" if self.expired else "active"


class TokenNotFound(LookupError):
    """No token has that id or name."""


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``2w``, ``45s`` as a positive timedelta; ValueError otherwise."""
    match = _DURATION_RE.match(text)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration like 30d, 12h, 90m, 2w or 45s")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _digest(token: str) -> bytes:
    # Tokens carry 256 random bits, so a plain hash is enough (no password stretching needed).
    return hashlib.sha256(token.encode()).digest()


def create_token(conn: psycopg.Connection, role: str, name: str, expires_in: timedelta | None = None) -> str:
    """A new token for ``role``; with ``expires_in`` it stops working that long from now."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if expires_in is not None and expires_in <= timedelta(0):
        raise ValueError("expires_in must be positive")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with conn.transaction():
        conn.execute(
            "INSERT INTO api_tokens (name, role, token_hash, expires_at) VALUES (%s, %s, %s, now() + %s)",
            (name, role, _digest(token), expires_in),
        )
    return token


def authenticate(conn: psycopg.Connection, token: str) -> Principal | None:
    """The token's principal, or None if it is unknown, revoked or expired."""
    row = conn.execute(
        "SELECT id, name, role, expires_at FROM api_tokens WHERE token_hash = %s AND revoked_at IS NULL"
        " AND (expires_at IS NULL OR expires_at > now())",
        (_digest(token),),
    ).fetchone()
    return Principal(*row) if row else None


_INFO = (
    "SELECT id, name, role, created_at, expires_at, revoked_at, coalesce(expires_at <= now(), false) FROM api_tokens"
)


def list_tokens(conn: psycopg.Connection) -> list[TokenInfo]:
    """Every token, oldest first (revoked and expired ones included)."""
    with conn.transaction():
        return [TokenInfo(*row) for row in conn.execute(f"{_INFO} ORDER BY id").fetchall()]


def revoke_token(conn: psycopg.Connection, id_or_name: str) -> tuple[list[TokenInfo], list[TokenInfo]]:
    """Revoke the token with that id (all digits), or every token with that name.

    Returns the tokens revoked now and those that already were; raises :class:`TokenNotFound` if
    none matches."""
    by_id = id_or_name.isdigit()
    where, key = ("id = %s", int(id_or_name)) if by_id else ("name = %s", id_or_name)
    with conn.transaction():
        revoked = {
            row[0]
            for row in conn.execute(
                f"UPDATE api_tokens SET revoked_at = now() WHERE {where} AND revoked_at IS NULL RETURNING id", (key,)
            )
        }
        rows = [TokenInfo(*row) for row in conn.execute(f"{_INFO} WHERE {where} ORDER BY id", (key,))]
    if not rows:
        raise TokenNotFound(f"no token has the {'id' if by_id else 'name'} {id_or_name!r}")
    return [t for t in rows if t.id in revoked], [t for t in rows if t.id not in revoked]
