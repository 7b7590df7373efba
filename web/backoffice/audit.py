"""The audit log: who changed what, when, and the state before and after.

:func:`audited` runs a write command inside an outer transaction that also reads the thing's
state before and after and inserts the ``audit_log`` row: the write and its record commit together
or not at all (the command's own transaction becomes a savepoint). The back office records every
write this way, and the admin API every write it accepts (``via`` tells them apart; the actor is
``user:NAME`` or ``token:NAME``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

Snapshot = dict[str, Any] | None


def _product(conn: psycopg.Connection, sku: str) -> Snapshot:
    # Plain queries, not the read model's loaders: those open a transaction of their own, and a
    # snapshot runs inside the write's.
    row = conn.execute("SELECT brand, active, deleted_at IS NOT NULL FROM products WHERE sku = %s", (sku,)).fetchone()
    if row is None:
        return None
    texts = conn.execute(
        "SELECT locale, name, description FROM product_texts WHERE sku = %s ORDER BY locale", (sku,)
    ).fetchall()
    attributes: dict[str, list[str]] = {}
    for name, value in conn.execute(
        "SELECT name, value FROM product_attributes WHERE sku = %s ORDER BY name, position", (sku,)
    ):
        attributes.setdefault(name, []).append(value)
    return {
        "name": {loc: name for loc, name, _ in texts},
        "description": {loc: text for loc, _, text in texts},
        "brand": row[0],
        "categories": _column(conn, "SELECT category FROM product_categories WHERE sku = %s ORDER BY position", sku),
        "attributes": attributes,
        "active": row[1],
        "deleted": row[2],
        "images": _column(conn, "SELECT src FROM product_images WHERE sku = %s ORDER BY position", sku),
        "variants": _column(
            conn, "SELECT sku FROM variants WHERE product = %s AND sku <> product ORDER BY position, sku", sku
        ),
    }


def _column(conn: psycopg.Connection, sql: str, key: str) -> list[Any]:
    return [r[0] for r in conn.execute(sql, (key,))]


def _pricing(conn: psycopg.Connection, sku: str) -> Snapshot:
    prices = conn.execute("SELECT currency, amount::text FROM prices WHERE sku = %s ORDER BY currency", (sku,))
    offers = conn.execute(
        "SELECT currency, amount::text, starts_at, ends_at FROM offers WHERE sku = %s ORDER BY currency, starts_at",
        (sku,),
    )
    return {
        "prices": dict(prices.fetchall()),
        "offers": [
            {"currency": c, "amount": a, "starts_at": s.isoformat(), "ends_at": e.isoformat()} for c, a, s, e in offers
        ],
    }


def _stock(conn: psycopg.Connection, sku: str) -> Snapshot:
    row = conn.execute("SELECT quantity FROM stock WHERE sku = %s", (sku,)).fetchone()
    return {"quantity": row[0] if row else 0}


def _category(conn: psycopg.Connection, key: str) -> Snapshot:
    row = conn.execute("SELECT parent, position FROM categories WHERE key = %s", (key,)).fetchone()
    if row is None:
        return None
    names = conn.execute("SELECT locale, name FROM category_names WHERE category = %s ORDER BY locale", (key,))
    return {"parent": row[0], "name": dict(names.fetchall()), "position": row[1]}


def _attribute(conn: psycopg.Connection, code: str) -> Snapshot:
    rows = conn.execute("SELECT locale, label FROM attribute_labels WHERE code = %s ORDER BY locale", (code,))
    return {"label": dict(rows.fetchall())}


#: How to read the state of each kind of thing a write changes.
SNAPSHOTS: dict[str, Callable[[psycopg.Connection, str], Snapshot]] = {
    "product": _product,
    "pricing": _pricing,
    "stock": _stock,
    "category": _category,
    "attribute": _attribute,
}


def owning_product(conn: psycopg.Connection, kind: str, subject: str) -> str | None:
    """The product an entry is listed under: a variant's product, a product's own SKU."""
    if kind in ("category", "attribute"):
        return None
    row = conn.execute("SELECT product FROM variants WHERE sku = %s", (subject,)).fetchone()
    return row[0] if row else subject


@dataclass(frozen=True)
class Change:
    actor: str  # "user:anna" or "token:feed-bot"
    via: str  # "backoffice" or "api"
    action: str  # what was done, e.g. "save product", "putPrice"
    kind: str  # a key of SNAPSHOTS
    subject: str  # the SKU, variant SKU, category key or attribute code


#: The state after a write, computed inside the audit row's INSERT for the kinds written at a high
#: rate (stock movements): the write's locks are held one statement less. ``%(subject)s`` names it.
AFTER_SQL: dict[str, str] = {
    "stock": "jsonb_build_object('quantity', coalesce((SELECT quantity FROM stock WHERE sku = %(subject)s), 0))",
}


def audited(conn: psycopg.Connection, change: Change, command: Callable[[], int | None]) -> int | None:
    """Run ``command`` (a write command returning its outbox id, or None when it changed nothing)
    and record the change, in one transaction.

    The state before is read before the command takes its locks; after it, one statement reads
    the product the entry belongs to and (for the kinds of :data:`AFTER_SQL`) the state after,
    and inserts the row."""
    snapshot = SNAPSHOTS[change.kind]
    with conn.transaction():
        before = snapshot(conn, change.subject)
        outbox_id = command()
        if outbox_id is None:
            return None
        params: dict[str, object] = {
            "actor": change.actor,
            "via": change.via,
            "action": change.action,
            "kind": change.kind,
            "subject": change.subject,
            "before": None if before is None else Jsonb(before),
            "outbox_id": outbox_id,
        }
        after_sql = AFTER_SQL.get(change.kind)
        if after_sql is None:
            after = snapshot(conn, change.subject)
            params["after"] = None if after is None else Jsonb(after)
            after_sql = "%(after)s::jsonb"
        product = (
            "NULL"
            if change.kind in ("category", "attribute")
            else "coalesce((SELECT product FROM variants WHERE sku = %(subject)s), %(subject)s)"
        )
        conn.execute(
            f"""INSERT INTO audit_log (actor, via, action, kind, subject, product, before, after, outbox_id)
                SELECT %(actor)s, %(via)s, %(action)s, %(kind)s, %(subject)s, {product}, %(before)s::jsonb,
                       {after_sql}, %(outbox_id)s""",
            params,
        )
    return outbox_id


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    actor: str
    via: str
    action: str
    kind: str
    subject: str
    product: str | None
    before: Snapshot
    after: Snapshot
    outbox_id: int | None

    def changes(self) -> list[tuple[str, Any, Any]]:
        """(field, before, after) of every field whose value differs."""
        before, after = self.before or {}, self.after or {}
        return [
            (k, before.get(k), after.get(k)) for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)
        ]


def entries(
    conn: psycopg.Connection, product: str | None = None, limit: int = 50, before_id: int | None = None
) -> list[Entry]:
    """The newest entries first (of one product if given), older than ``before_id`` if given."""
    where: list[str] = ["TRUE"]
    params: list[object] = []
    if product is not None:
        where.append("product = %s")
        params.append(product)
    if before_id is not None:
        where.append("id < %s")
        params.append(before_id)
    rows = conn.execute(
        f"""SELECT id, at, actor, via, action, kind, subject, product, before, after, outbox_id FROM audit_log
            WHERE {" AND ".join(where)} ORDER BY id DESC LIMIT %s""",
        (*params, limit),
    ).fetchall()
    return [Entry(*row) for row in rows]
