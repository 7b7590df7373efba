"""Bulk stock movements: a batch of movements of many SKUs, all or nothing, in one transaction.

The rules are those of a single movement (:func:`catalog.commands.apply_movement`), applied row
by row in the batch's order: a movement id is applied once (a row whose id was applied before, in
an earlier request or earlier in this batch with the same SKU and delta, is a replay and changes
nothing); a movement may not take its SKU's level below 0 nor above :data:`MAX_STOCK`; the SKU
names a variant (a simple product's SKU names its one variant; a product sold in variants must be
named by one of them). Every row is checked before anything is kept: a batch with any bad row
raises :class:`~catalog.errors.RowsRejected`, listing every bad row, and the transaction rolls
back.

The work is set-based, a handful of statements whatever the batch's size: lock the products (in
SKU order, as every stock write does), read the SKUs' variants and levels, insert the movements
(one INSERT over arrays), read back the earlier use of ids that were there already, add each SKU's
net change to its level (one statement), move the stock versions on and record one outbox row with
every SKU that moved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from catalog.commands import lock_sellers, touch_stock
from catalog.errors import RowError, RowsRejected
from catalog.models import MAX_STOCK


@dataclass(frozen=True)
class Movement:
    sku: str
    movement_id: str
    delta: int
    reason: str = ""


@dataclass(frozen=True)
class MovementsApplied:
    applied: int  # movements applied now
    replayed: list[str]  # ids of the rows applied before (in an earlier request or earlier in the batch)
    levels: dict[str, int]  # the level of every SKU named, after the batch
    outbox_id: int | None  # None when nothing was applied


def _sellable(conn: psycopg.Connection, skus: list[str]) -> tuple[dict[str, int], dict[str, str]]:
    """The level of each SKU that names a variant of a product not deleted, and what is wrong with
    each other SKU."""
    levels: dict[str, int] = {}
    wrong: dict[str, str] = {}
    for sku, ok, quantity, named in conn.execute(
        """SELECT s.sku, v.sku IS NOT NULL AND p.deleted_at IS NULL, COALESCE(st.quantity, 0),
                  (SELECT string_agg(x.sku, ', ' ORDER BY x.position, x.sku)
                   FROM variants x JOIN products q ON q.sku = x.product AND q.deleted_at IS NULL
                   WHERE x.product = s.sku AND v.sku IS NULL)
           FROM unnest(%s::text[]) s(sku) LEFT JOIN variants v ON v.sku = s.sku
                LEFT JOIN products p ON p.sku = v.product LEFT JOIN stock st ON st.sku = v.sku""",
        (skus,),
    ):
        if ok:
            levels[sku] = quantity
        elif named:
            wrong[sku] = f"product {sku} is sold in variants, name one of them: {named}"
        else:
            wrong[sku] = f"unknown product or variant: {sku}"
    return levels, wrong


def _repeats(rows: Sequence[Movement]) -> tuple[dict[int, int], list[RowError]]:
    """Rows that repeat an earlier row's movement id: the same change (a replay within the batch,
    row → first row) or another one (an error)."""
    first: dict[str, int] = {}
    same: dict[int, int] = {}
    errors: list[RowError] = []
    for i, row in enumerate(rows):
        j = first.setdefault(row.movement_id, i)
        if j == i:
            continue
        if (rows[j].sku, rows[j].delta) == (row.sku, row.delta):
            same[i] = j
        else:
            errors.append(
                RowError(i, "movement_id", f"movement {row.movement_id!r} is used by row {j} for another change")
            )
    return same, errors


def _insert(conn: psycopg.Connection, rows: list[tuple[int, Movement]]) -> set[str]:
    """Insert the movements whose ids are new; return those ids. In id order, so two batches that
    share ids wait for each other's ids in one order."""
    rows = sorted(rows, key=lambda r: r[1].movement_id)
    inserted = conn.execute(
        """INSERT INTO stock_movements (movement_id, sku, delta, reason)
           SELECT * FROM unnest(%s::text[], %s::text[], %s::integer[], %s::text[])
           ON CONFLICT (movement_id) DO NOTHING RETURNING movement_id""",
        (
            [m.movement_id for _, m in rows],
            [m.sku for _, m in rows],
            [m.delta for _, m in rows],
            [m.reason for _, m in rows],
        ),
    ).fetchall()
    return {r[0] for r in inserted}


def _bounds(rows: list[tuple[int, Movement]], levels: dict[str, int]) -> tuple[dict[str, int], list[RowError]]:
    """Walk the new movements in order from the levels now: each SKU's net change, and the first
    movement of each SKU that would leave the level out of bounds."""
    level = dict(levels)
    net: dict[str, int] = {}
    broken: set[str] = set()
    errors: list[RowError] = []
    for i, m in rows:
        if m.sku in broken:
            continue
        before, after = level[m.sku], level[m.sku] + m.delta
        if after < 0:
            errors.append(
                RowError(
                    i, "delta", f"movement of {m.delta} would make the stock of {m.sku} negative (from {before})", True
                )
            )
        elif after > MAX_STOCK:
            errors.append(
                RowError(
                    i,
                    "delta",
                    f"movement of +{m.delta} would raise the stock of {m.sku} from {before} to {after}, "
                    f"above the largest level {MAX_STOCK}",
                )
            )
        else:
            level[m.sku] = after
            net[m.sku] = net.get(m.sku, 0) + m.delta
            continue
        broken.add(m.sku)
    return net, errors


def apply_movements(conn: psycopg.Connection, rows: Sequence[Movement]) -> MovementsApplied:
    """Apply a batch of movements in order, all or nothing (see the module's docstring)."""
    same, errors = _repeats(rows)
    skus = sorted({m.sku for m in rows})
    with conn.transaction():
        lock_sellers(conn, skus)
        levels, wrong = _sellable(conn, skus)
        errors += [RowError(i, "sku", wrong[m.sku]) for i, m in enumerate(rows) if m.sku in wrong]
        bad = {e.row for e in errors}
        candidates = [(i, m) for i, m in enumerate(rows) if i not in bad and i not in same]
        inserted = _insert(conn, candidates) if candidates else set()
        earlier = [m.movement_id for _, m in candidates if m.movement_id not in inserted]
        used: dict[str, tuple[str, int]] = {}
        if earlier:
            found = conn.execute(
                "SELECT movement_id, sku, delta FROM stock_movements WHERE movement_id = ANY(%s)", (earlier,)
            )
            used = {movement_id: (sku, delta) for movement_id, sku, delta in found}
        replayed = {i for i, m in candidates if m.movement_id not in inserted}
        errors += [
            RowError(i, "movement_id", f"movement {rows[i].movement_id!r} was already used for another change", True)
            for i in sorted(replayed)
            if used.get(rows[i].movement_id) != (rows[i].sku, rows[i].delta)
        ]
        new = [(i, m) for i, m in candidates if m.movement_id in inserted]
        net, out_of_bounds = _bounds(new, levels)
        errors += out_of_bounds
        if errors:
            raise RowsRejected(errors)  # the transaction rolls back: nothing is kept
        replays = sorted(replayed | set(same))
        if not new:
            return MovementsApplied(0, [rows[i].movement_id for i in replays], levels, None)
        moved = sorted(net)
        for sku, quantity in conn.execute(
            # Not an upsert: PostgreSQL checks the row to insert (a net change below 0) before it
            # finds the conflict. A SKU without a stock row starts from 0, so its net change is >= 0.
            """WITH d(sku, delta) AS (SELECT * FROM unnest(%s::text[], %s::integer[])),
                    up AS (UPDATE stock s SET quantity = s.quantity + d.delta, updated_at = now() FROM d
                           WHERE s.sku = d.sku RETURNING s.sku, s.quantity),
                    ins AS (INSERT INTO stock (sku, quantity)
                            SELECT sku, delta FROM d WHERE NOT EXISTS (SELECT 1 FROM stock s WHERE s.sku = d.sku)
                            RETURNING sku, quantity)
               SELECT sku, quantity FROM up UNION ALL SELECT sku, quantity FROM ins""",
            (moved, [net[sku] for sku in moved]),
        ):
            levels[sku] = quantity
        return MovementsApplied(len(new), [rows[i].movement_id for i in replays], levels, touch_stock(conn, moved))
