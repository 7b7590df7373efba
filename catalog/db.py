"""The write side's connection pool: opened once at process start, closed at exit."""

from __future__ import annotations

from psycopg.rows import tuple_row
from psycopg_pool import ConnectionPool


def make_pool(database_url: str, *, min_size: int = 1, max_size: int = 10, name: str = "catalog") -> ConnectionPool:
    """A pool that is not yet open; the role's entry point opens it (``pool.open()``).

    Connections are in autocommit mode: every command opens its own ``conn.transaction()``.
    """
    return ConnectionPool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        open=False,
        name=name,
        kwargs={"row_factory": tuple_row, "connect_timeout": 5, "autocommit": True},
        timeout=5,
        # After a database restart every pooled connection is dead; checking on checkout (one
        # empty round trip) hands out a live one instead of failing the next few requests.
        check=ConnectionPool.check_connection,
    )
