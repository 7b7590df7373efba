"""What the admin app's views share: settings, the pool, the outbox sender, the OpenAPI document."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from flask import current_app
from psycopg_pool import ConnectionPool

from catalog.relay import Send
from snipshop.config import Settings
from web.admin.auth import Lookups, TokenCache

EXTENSION = "snipshop.admin"
#: Longest a request waits for a pooled connection (a token lookup or its command); then 503.
CONNECTION_WAIT_SECONDS = 2.0


@dataclass
class AdminState:
    settings: Settings
    pool: ConnectionPool
    send: Send | None
    openapi: dict[str, Any] = field(default_factory=dict)
    tokens: TokenCache = field(default_factory=TokenCache)
    wait_seconds: float = CONNECTION_WAIT_SECONDS
    #: Record every write in the audit log (web/backoffice/audit.py); off only for unit tests on fakes.
    audit_writes: bool = True
    lookups: Lookups = field(init=False)  # token lookups: at most half the pool at once

    def __post_init__(self) -> None:
        self.lookups = Lookups(self.pool, wait=self.wait_seconds)

    def connection(self) -> AbstractContextManager[psycopg.Connection]:
        """A pooled connection for one command; PoolTimeout (a 503) if none comes free within the wait."""
        return self.pool.connection(timeout=self.wait_seconds)


def current() -> AdminState:
    state: AdminState = current_app.extensions[EXTENSION]
    return state
