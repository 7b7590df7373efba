"""Fixtures for the admin app against the real PostgreSQL of tests/conftest.py.

A plugin of tests/conftest.py, so every test module can ask for them; it holds no tests itself. The outbox
sender is a list-appending fake here: the relay and the broker are tested elsewhere.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from catalog import commands
from catalog.models import ROLES, CategoryIn, OfferIn, ProductIn
from catalog.relay import settle
from catalog.tokens import create_token
from tests.conftest import TABLES
from web.admin.app import create_app
from web.admin.routes import API_ROOT

API = API_ROOT
SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)


def dump(pool) -> dict[str, list[str]]:
    """Every row of every table (outbox and tokens included), in a stable order."""
    with pool.connection() as conn, conn.transaction():
        return {t: sorted(r[0] for r in conn.execute(f"SELECT row_to_json(t)::text FROM {t} t")) for t in TABLES}


def outbox(pool) -> list[tuple]:
    with pool.connection() as conn, conn.transaction():
        return conn.execute("SELECT id, topic, keys, dispatched_at IS NOT NULL FROM outbox ORDER BY id").fetchall()


@pytest.fixture
def sent() -> list[tuple[str, list[str]]]:
    return []


@pytest.fixture
def app(settings, pool, sent):
    return create_app(settings, pool=pool, send=lambda topic, keys, ids: sent.append((topic, keys)))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def tokens(pool) -> dict[str, dict[str, str]]:
    """Authorization headers by role."""
    with pool.connection() as conn:
        return {role: {"Authorization": f"Bearer {create_token(conn, role, f'test {role}')}"} for role in ROLES}


@pytest.fixture
def seeded(pool, sent):
    """Categories gear > bags, product B1 (with a EUR price, a future offer and stock 3), all dispatched."""
    with pool.connection() as conn:
        commands.put_categories(
            conn,
            [
                ("gear", CategoryIn(name={"en_US": "Gear"})),
                ("bags", CategoryIn(parent="gear", name={"en_US": "Bags"}, position=1)),
            ],
        )
        commands.put_products(
            conn, [("B1", ProductIn(name={"en_US": "Bag"}, categories=["bags"], attributes={"color": ["Red", "Blue"]}))]
        )
        commands.put_prices(conn, [("B1", "EUR", Decimal("12.50"))])
        offer = OfferIn.model_validate(
            {"amount": "9.99", "starts_at": SOON.isoformat(), "ends_at": (SOON + timedelta(days=7)).isoformat()}
        )
        commands.put_offers(conn, [("B1", "EUR", offer)])
        commands.set_stock(conn, [("B1", 3)])
        with conn.transaction():
            settle(conn)
    return "B1"
