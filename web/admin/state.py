"""What the admin app's views share: settings, the pool, the outbox sender, the OpenAPI document."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from psycopg_pool import ConnectionPool

from projector.relay import Send
from web.admin.auth import TokenCache
from snipshop.config import Settings

EXTENSION = "snipshop.admin"


@dataclass
class AdminState:
    settings: Settings
    pool: ConnectionPool
    send: Send
    openapi: dict[str, Any] = field(default_factory=dict)
    tokens: TokenCache = field(default_factory=TokenCache)


def current() -> AdminState:
    state: AdminState = current_app.extensions[EXTENSION]
    return state
