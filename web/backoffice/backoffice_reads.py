"""What the back office's pages read from PostgreSQL (the write side's tables; the shop itself
reads only snippets): the product list, offers, stock movements and an outbox row's progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import psycopg

PAGE_SIZE = 25


@dataclass(frozen=True)
class ProductFilter:
    query: str = ""
    category: str = ""
    brand: str = ""
    active: str = ""  # "", "yes" or "no"
    page: int = 1


@dataclass(frozen=True)
class ProductRow:
    sku: str
    name: str
    brand: str
    active: bool
    categories: list[str]
    updated_at: datetime


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def product_page(conn: psycopg.Connection, f: ProductFilter, locale: str) -> tuple[list[ProductRow], int]:
    """One page of products matching the filter (by SKU order) and the number of all matches."""
    where = ["p.deleted_at IS NULL"]
    params: dict[str, object] = {"locale": locale, "limit": PAGE_SIZE, "offset": (f.page - 1) * PAGE_SIZE}
    if f.query:
        where.append(
            """(p.sku ILIKE %(q)s OR EXISTS (SELECT 1 FROM product_texts t WHERE t.sku = p.sku AND t.name ILIKE %(q)s)
                OR EXISTS (SELECT 1 FROM variants v WHERE v.product = p.sku AND v.sku ILIKE %(q)s))"""
        )
        params["q"] = _like(f.query)
    if f.category:
        where.append("EXISTS (SELECT 1 FROM product_categories c WHERE c.sku = p.sku AND c.category = %(category)s)")
        params["category"] = f.category
    if f.brand:
        where.append("p.brand = %(brand)s")
        params["brand"] = f.brand
    if f.active in ("yes", "no"):
        where.append("p.active = %(active)s")
        params["active"] = f.active == "yes"
    clause = " AND ".join(where)
    with conn.transaction():
        total = conn.execute(f"SELECT count(*) FROM products p WHERE {clause}", params).fetchone()
        rows = conn.execute(
            f"""SELECT p.sku,
                       coalesce((SELECT name FROM product_texts t WHERE t.sku = p.sku AND t.locale = %(locale)s),
                                (SELECT min(name) FROM product_texts t WHERE t.sku = p.sku), ''),
                       p.brand, p.active,
                       coalesce(ARRAY(SELECT category FROM product_categories c WHERE c.sku = p.sku
                                      ORDER BY position), '{{}}'),
                       p.updated_at
                FROM products p WHERE {clause} ORDER BY p.sku LIMIT %(limit)s OFFSET %(offset)s""",
            params,
        ).fetchall()
    return [ProductRow(*row) for row in rows], int(total[0]) if total else 0


def brands(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute("SELECT DISTINCT brand FROM products WHERE deleted_at IS NULL AND brand <> '' ORDER BY 1")
    return [r[0] for r in rows]


@dataclass(frozen=True)
class OfferRow:
    product: str
    sku: str
    currency: str
    amount: Decimal
    starts_at: datetime
    ends_at: datetime
    live: bool


def current_offers(conn: psycopg.Connection, limit: int = 200) -> list[OfferRow]:
    """Offers that are live or still to come, soonest first."""
    rows = conn.execute(
        """SELECT v.product, o.sku, o.currency, o.amount, o.starts_at, o.ends_at, o.starts_at <= now()
           FROM offers o JOIN variants v ON v.sku = o.sku JOIN products p ON p.sku = v.product
           WHERE o.ends_at > now() AND p.deleted_at IS NULL
           ORDER BY o.starts_at, o.sku, o.currency LIMIT %s""",
        (limit,),
    ).fetchall()
    return [OfferRow(*row) for row in rows]


@dataclass(frozen=True)
class Movement:
    movement_id: str
    sku: str
    delta: int
    reason: str
    created_at: datetime


def movements(conn: psycopg.Connection, skus: list[str], limit: int = 100) -> list[Movement]:
    rows = conn.execute(
        """SELECT movement_id, sku, delta, reason, created_at FROM stock_movements WHERE sku = ANY(%s)
           ORDER BY created_at DESC, movement_id LIMIT %s""",
        (skus, limit),
    ).fetchall()
    return [Movement(*row) for row in rows]


@dataclass(frozen=True)
class Progress:
    """How far one write has come: committed, handed to the projection, projected."""

    outbox_id: int
    created_at: datetime
    dispatched_at: datetime | None
    projected_at: datetime | None

    @property
    def seconds(self) -> float | None:
        """From the commit to the projection's acknowledgement."""
        if self.projected_at is None:
            return None
        return (self.projected_at - self.created_at).total_seconds()

    def as_json(self) -> dict[str, object]:
        return {
            "outbox_id": self.outbox_id,
            "committed_at": self.created_at.isoformat(),
            "dispatched_at": self.dispatched_at.isoformat() if self.dispatched_at else None,
            "projected_at": self.projected_at.isoformat() if self.projected_at else None,
            "seconds": self.seconds,
        }


def progress(conn: psycopg.Connection, outbox_id: int) -> Progress | None:
    """None when the row is unknown (or pruned long after its projection)."""
    row = conn.execute(
        "SELECT id, created_at, dispatched_at, projected_at FROM outbox WHERE id = %s", (outbox_id,)
    ).fetchone()
    return Progress(*row) if row else None
