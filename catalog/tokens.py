"""Admin API tokens: random, shown once, stored as SHA-256 hashes with a role."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import psycopg

from catalog.models import ROLES

TOKEN_PREFIX = "sst_"


@dataclass(frozen=True)
class Principal:
    token_id: int
    name: str
    role: str

    def may(self, role: str) -> bool:
        return self.role == "admin" or self.role == role


def _digest(token: str) -> bytes:
    # Tokens carry 256 random bits, so a plain hash is enough (no password stretching needed).
    return hashlib.sha256(token.encode()).digest()


def create_token(conn: psycopg.Connection, role: str, name: str) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with conn.transaction():
        conn.execute("INSERT INTO api_tokens (name, role, token_hash) VALUES (%s, %s, %s)", (name, role, _digest(token)))
    return token


def authenticate(conn: psycopg.Connection, token: str) -> Principal | None:
    row = conn.execute(
        "SELECT id, name, role FROM api_tokens WHERE token_hash = %s AND revoked_at IS NULL", (_digest(token),)
    ).fetchone()
    return Principal(*row) if row else None
