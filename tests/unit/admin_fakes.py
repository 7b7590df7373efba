"""Fakes for the admin app's unit tests (no services): a pool whose one connection knows one token.

Imported by the other test_admin_* unit modules; it holds no tests itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from flask.testing import FlaskClient

from snipshop.config import Settings
from web.admin.admin_state import EXTENSION
from web.admin.app import create_app

TOKEN = "sst_" + "t" * 43  # well-formed (catalog.tokens.create_token), so the app looks it up
SETTINGS = Settings(locales=("en_US", "de_DE"), currencies=("EUR", "USD"))


class FakeCursor:
    def __init__(self, row: Any) -> None:
        self._row = row

    def fetchone(self) -> Any:
        return self._row


class FakeConn:
    """Answers the token lookup with ``role`` (None: unknown token); any other SQL raises ``error``."""

    def __init__(self, role: str | None, error: Exception | None = None) -> None:
        self.role = role
        self.error = error or AssertionError("this unit test must not reach the database")
        self.statements: list[str] = []

    def execute(self, sql: str, params: Any = None) -> FakeCursor:
        self.statements.append(sql)
        if "FROM api_tokens" in sql:
            return FakeCursor((1, "tester", self.role) if self.role else None)
        raise self.error

    def transaction(self) -> nullcontext[None]:
        return nullcontext()


class FakePool:
    """Hands out ``conn``, or raises ``error`` when a connection is asked for."""

    def __init__(self, conn: FakeConn | None = None, error: Exception | None = None) -> None:
        self.conn, self.error, self.checkouts = conn, error, 0

    @contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[FakeConn]:
        self.checkouts += 1
        if self.error is not None:
            raise self.error
        assert self.conn is not None
        yield self.conn


def make_client(
    role: str | None = "admin", *, pool: FakePool | None = None, settings: Settings = SETTINGS
) -> tuple[FlaskClient, list[tuple[str, list[str]]]]:
    """A test client of an admin app on fakes, and the list its outbox sender appends to."""
    sent: list[tuple[str, list[str]]] = []
    app = create_app(
        settings,
        pool=pool or FakePool(FakeConn(role)),  # type: ignore[arg-type]
        send=lambda task, keys, ids: sent.append((task, keys)),
    )
    # The audit entry of a write reads and writes tables these fakes do not have; it is tested
    # against PostgreSQL (tests/integration/test_backoffice.py).
    app.extensions[EXTENSION].audit_writes = False
    return app.test_client(), sent


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
