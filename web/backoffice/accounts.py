"""Back-office users and their sessions in PostgreSQL (tables from migration 0007).

Signing in checks the password and the lockout in one transaction holding the user's row:
:data:`MAX_FAILED_ATTEMPTS` wrong passwords in a row lock the account for
:data:`LOCKOUT_SECONDS`; while it is locked even the right password is refused (and not checked),
and a success resets the count. A session is a random 256-bit value in the cookie; the table keeps
only its SHA-256 hash, its CSRF token and its expiry (:data:`SESSION_SECONDS` from sign-in).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import psycopg

from catalog.models import ROLES
from web.backoffice.passwords import hash_password, verify_password

MAX_FAILED_ATTEMPTS = 5
LOCKOUT_SECONDS = 15 * 60
SESSION_SECONDS = 8 * 3600
USERNAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    #: The language the back office speaks to this user (None: the browser's, among the shop's).
    locale: str | None = None

    def may(self, role: str) -> bool:
        """Roles as for API tokens: ``admin`` may do everything."""
        return self.role == "admin" or self.role == role


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: a new session's cookie value, or why not."""

    cookie: str | None = None
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.cookie is not None


class UserExists(ValueError):
    """A user with that name exists already."""


def valid_username(username: str) -> str:
    if not USERNAME_RE.fullmatch(username):
        raise ValueError(
            "a username is 1 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return username


def create_user(conn: psycopg.Connection, username: str, role: str, password: str) -> User:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    valid_username(username)
    digest = hash_password(password)
    with conn.transaction():
        row = conn.execute(
            """INSERT INTO backoffice_users (username, role, password_hash) VALUES (%s, %s, %s)
               ON CONFLICT (username) DO NOTHING RETURNING id""",
            (username, role, digest),
        ).fetchone()
    if row is None:
        raise UserExists(f"user {username!r} exists already")
    return User(row[0], username, role)


def set_password(conn: psycopg.Connection, username: str, password: str) -> bool:
    """Replace a user's password, unlock the account and end its sessions; False if no such user."""
    digest = hash_password(password)
    with conn.transaction():
        row = conn.execute(
            """UPDATE backoffice_users SET password_hash = %s, failed_attempts = 0, locked_until = NULL
               WHERE username = %s RETURNING id""",
            (digest, username),
        ).fetchone()
        if row:
            conn.execute("DELETE FROM backoffice_sessions WHERE user_id = %s", (row[0],))
    return row is not None


def unlock(conn: psycopg.Connection, username: str) -> bool:
    with conn.transaction():
        cur = conn.execute(
            "UPDATE backoffice_users SET failed_attempts = 0, locked_until = NULL WHERE username = %s", (username,)
        )
    return cur.rowcount == 1


def list_users(conn: psycopg.Connection) -> list[tuple[str, str, int, datetime | None]]:
    """(username, role, failed attempts, locked until) of every user."""
    with conn.transaction():
        return conn.execute(
            "SELECT username, role, failed_attempts, locked_until FROM backoffice_users ORDER BY username"
        ).fetchall()


def _digest(cookie: str) -> bytes:
    return hashlib.sha256(cookie.encode()).digest()


def sign_in(conn: psycopg.Connection, username: str, password: str) -> SignIn:
    """Check the password (unless the account is locked) and start a session."""
    with conn.transaction():
        row = conn.execute(
            """SELECT id, role, password_hash, failed_attempts,
                      CASE WHEN locked_until > now() THEN locked_until END
               FROM backoffice_users WHERE username = %s AND disabled_at IS NULL FOR UPDATE""",
            (username,),
        ).fetchone()
        if row is None:
            verify_password(None, password)  # as slow as a wrong password
            return SignIn()
        user_id, _role, stored, failed, locked_until = row
        if locked_until is not None:
            return SignIn(locked_until=locked_until)
        if not verify_password(stored, password):
            failed += 1
            locked = conn.execute(
                """UPDATE backoffice_users SET failed_attempts = %s,
                       locked_until = CASE WHEN %s THEN now() + make_interval(secs => %s) END
                   WHERE id = %s RETURNING locked_until""",
                (
                    0 if failed >= MAX_FAILED_ATTEMPTS else failed,
                    failed >= MAX_FAILED_ATTEMPTS,
                    LOCKOUT_SECONDS,
                    user_id,
                ),
            ).fetchone()
            return SignIn(locked_until=locked[0] if locked else None)
        conn.execute("UPDATE backoffice_users SET failed_attempts = 0, locked_until = NULL WHERE id = %s", (user_id,))
        cookie = secrets.token_urlsafe(32)
        conn.execute(
            """INSERT INTO backoffice_sessions (id_hash, user_id, csrf_token, expires_at)
               VALUES (%s, %s, %s, now() + make_interval(secs => %s))""",
            (_digest(cookie), user_id, secrets.token_urlsafe(32), SESSION_SECONDS),
        )
        # Expired sessions go when anyone signs in: the table stays small without a scheduled job.
        conn.execute("DELETE FROM backoffice_sessions WHERE expires_at < now()")
    return SignIn(cookie=cookie)


def session(conn: psycopg.Connection, cookie: str) -> Session | None:
    """The live session of a cookie value, or None (unknown, expired, or its user disabled)."""
    row = conn.execute(
        """SELECT u.id, u.username, u.role, s.csrf_token, u.locale FROM backoffice_sessions s
           JOIN backoffice_users u ON u.id = s.user_id
           WHERE s.id_hash = %s AND s.expires_at > now() AND u.disabled_at IS NULL""",
        (_digest(cookie),),
    ).fetchone()
    return Session(User(row[0], row[1], row[2], row[4]), row[3]) if row else None


def set_locale(conn: psycopg.Connection, user_id: int, locale: str) -> None:
    conn.execute("UPDATE backoffice_users SET locale = %s WHERE id = %s", (locale, user_id))


def sign_out(conn: psycopg.Connection, cookie: str) -> None:
    conn.execute("DELETE FROM backoffice_sessions WHERE id_hash = %s", (_digest(cookie),))
