"""The outbox: one row per accepted write, committed in the write's own transaction.

Topics name what changed; keys are the natural ids of the changed things. The relay
(:mod:`projector.relay`) turns each row into one Celery task carrying those ids.
"""
from __future__ import annotations

from enum import Enum
from typing import Iterable

import psycopg


class Topic(str, Enum):
    CATEGORY = "category"  # keys: category keys; the navigation and breadcrumbs change
    PRODUCT = "product"  # keys: SKUs; text, categories, attributes or active flag changed
    PRICE = "price"  # keys: SKUs; a price or offer changed
    STOCK = "stock"  # keys: SKUs; a stock level changed


def record(conn: psycopg.Connection, topic: Topic, keys: Iterable[str]) -> int:
    """Add an outbox row inside the caller's transaction; return its id."""
    row = conn.execute(
        "INSERT INTO outbox (topic, keys) VALUES (%s, %s) RETURNING id", (topic.value, list(keys))
    ).fetchone()
    assert row is not None
    return int(row[0])
