"""``POST /admin/api/v1/stock/movements`` (bulk stock movements) against the real PostgreSQL: the
role, the per-row report, all or nothing, idempotency by movement id, the limits, and variant SKUs
as the single movement route treats them."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from catalog import commands
from catalog.models import MAX_BULK_MOVEMENTS, ProductIn
from tests.integration.admin_support import API, dump, outbox

pytestmark = pytest.mark.integration

BULK = f"{API}/stock/movements"


def move(sku: str, movement_id: str, delta: int, reason: str = "") -> dict:
    return {"sku": sku, "movement_id": movement_id, "delta": delta, "reason": reason}


@pytest.fixture
def shop(pool, seeded, client, tokens, sent):
    """B1 (stock 3, from ``seeded``), B2 and B3 (stock 10 each), J1 sold in J1-M and J1-L (stock 2 each)."""
    with pool.connection() as conn:
        commands.put_products(conn, [(sku, ProductIn(name={"en_US": sku})) for sku in ("B2", "B3", "J1")])
        commands.set_stock(conn, [("B2", 10), ("B3", 10)])
    for sku, size in (("J1-M", "M"), ("J1-L", "L")):
        body = {"options": {"size": size}}
        assert client.put(f"{API}/products/J1/variants/{sku}", json=body, headers=tokens["editor"]).status_code == 200
        assert client.put(f"{API}/stock/{sku}", json={"quantity": 2}, headers=tokens["stock"]).status_code == 200
    sent.clear()


def levels(client, tokens, *skus: str) -> dict[str, int]:
    out = {}
    for sku in skus:
        product = "J1" if sku.startswith("J1-") else sku
        got = client.get(f"{API}/products/{product}", headers=tokens["stock"]).get_json()
        out[sku] = next(v["quantity"] for v in got["variants"] if v["sku"] == sku)
    return out


def test_a_batch_of_many_skus_is_applied_with_one_outbox_row(client, tokens, shop, pool, sent):
    before = len(outbox(pool))
    batch = [
        move("B1", "wms-1", -2, "order 17"),
        move("B2", "wms-2", 5),
        move("J1-M", "wms-3", -1),
        move("B1", "wms-4", 4, "return"),
        move("B2", "wms-5", -15),
    ]
    response = client.post(BULK, json={"movements": batch}, headers=tokens["stock"])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["applied"] == 5 and body["replayed"] == []
    assert body["levels"] == {"B1": 5, "B2": 0, "J1-M": 1}
    assert levels(client, tokens, "B1", "B2", "J1-M", "J1-L") == {"B1": 5, "B2": 0, "J1-M": 1, "J1-L": 2}
    rows = outbox(pool)[before:]
    assert [(oid, topic, sorted(keys), dispatched) for oid, topic, keys, dispatched in rows] == [
        (body["outbox_id"], "stock", ["B1", "B2", "J1-M"], False)
    ]
    assert sent == []  # stock rows wait for the relay's sweep, which batches them
    with pool.connection() as conn:
        stored = conn.execute("SELECT movement_id, sku, delta, reason FROM stock_movements ORDER BY movement_id")
        assert [r for r in stored if r[0].startswith("wms-")] == [
            ("wms-1", "B1", -2, "order 17"),
            ("wms-2", "B2", 5, ""),
            ("wms-3", "J1-M", -1, ""),
            ("wms-4", "B1", 4, "return"),
            ("wms-5", "B2", -15, ""),
        ]


def test_the_stock_role_or_admin_may_post_movements(client, tokens, shop):
    batch = {"movements": [move("B2", "role-1", 1)]}
    assert client.post(BULK, json=batch).status_code == 401
    assert client.post(BULK, json=batch, headers={"Authorization": "Bearer sst_" + "x" * 43}).status_code == 401
    for role in ("editor", "pricing"):
        denied = client.post(BULK, json=batch, headers=tokens[role])
        assert denied.status_code == 403 and denied.mimetype == "application/problem+json"
    assert client.post(BULK, json=batch, headers=tokens["admin"]).status_code == 201
    assert levels(client, tokens, "B2") == {"B2": 11}


def test_every_bad_row_is_reported_and_nothing_is_written(client, tokens, shop, pool):
    before = dump(pool)
    batch = [
        move("B1", "ok-1", 1),
        {"sku": "B2", "movement_id": "bad-1", "delta": 0},
        {"sku": "bad sku", "movement_id": "bad-2", "delta": 1},
        {"sku": "B2", "movement_id": "", "delta": "3"},
        {"sku": "B2", "movement_id": "bad-4", "delta": 1, "colour": "red"},
        "not a movement",
    ]
    response = client.post(BULK, json={"movements": batch}, headers=tokens["stock"])
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert {(e["row"], e["field"]) for e in errors} == {
        (1, "delta"),
        (2, "sku"),
        (3, "movement_id"),
        (3, "delta"),
        (4, "colour"),
        (5, ""),
    }
    assert all(e["loc"][:3] == ["body", "movements", e["row"]] and e["msg"] for e in errors)
    assert "delta must not be zero" in next(e["msg"] for e in errors if e["row"] == 1)
    assert dump(pool) == before


def test_rows_that_do_not_fit_the_catalog_are_reported_and_nothing_is_written(client, tokens, shop, pool):
    before = dump(pool)
    batch = [
        move("B2", "fit-1", -3),  # fine by itself
        move("NOPE", "fit-2", 1),
        move("J1", "fit-3", 1),  # sold in variants: name one of them
        move("B3", "fit-4", 1_000_000_000),  # past the largest level
        move("B2", "fit-1", 4),  # the id again, for another change
    ]
    response = client.post(BULK, json={"movements": batch}, headers=tokens["stock"])
    assert response.status_code == 422
    problem = response.get_json()
    by_row = {e["row"]: e for e in problem["errors"]}
    assert sorted(by_row) == [1, 2, 3, 4]
    assert by_row[1]["field"] == "sku" and "unknown product or variant: NOPE" in by_row[1]["msg"]
    assert by_row[2]["field"] == "sku" and "J1-M, J1-L" in by_row[2]["msg"]
    assert by_row[3]["field"] == "delta" and "above the largest level" in by_row[3]["msg"]
    assert by_row[4]["field"] == "movement_id" and "row 0" in by_row[4]["msg"]
    assert problem["detail"].startswith("nothing was applied: row 1: sku:")
    assert dump(pool) == before


def test_a_batch_that_would_take_a_level_below_zero_is_a_conflict_and_writes_nothing(client, tokens, shop, pool):
    before = dump(pool)
    # B1 holds 3: +1 then -5 goes below 0 at the second row, though the batch's net change (-1) would not.
    batch = [move("B2", "neg-0", -1), move("B1", "neg-1", 1), move("B1", "neg-2", -5), move("B1", "neg-3", 10)]
    response = client.post(BULK, json={"movements": batch}, headers=tokens["stock"])
    assert response.status_code == 409
    [error] = response.get_json()["errors"]
    assert (error["row"], error["field"]) == (2, "delta") and "negative" in error["msg"] and "from 4" in error["msg"]
    assert dump(pool) == before
    # In another order the same movements keep the level at 0 or above: applied.
    batch = [move("B1", "neg-3", 10), move("B1", "neg-1", 1), move("B1", "neg-2", -5)]
    response = client.post(BULK, json={"movements": batch}, headers=tokens["stock"])
    assert response.status_code == 201 and response.get_json()["levels"] == {"B1": 9}


def test_replayed_movement_ids_are_reported_and_not_applied_twice(client, tokens, shop, pool):
    single = client.post(f"{API}/stock/B3/movements", json={"movement_id": "r-0", "delta": -1}, headers=tokens["stock"])
    assert single.status_code == 201
    batch = [move("B2", "r-1", 2), move("B3", "r-0", -1), move("B2", "r-1", 2), move("B1", "r-2", 1)]
    first = client.post(BULK, json={"movements": batch}, headers=tokens["stock"])
    assert first.status_code == 201
    assert first.get_json() | {"outbox_id": 0} == {
        "applied": 2,
        "replayed": ["r-0", "r-1"],
        "levels": {"B1": 4, "B2": 12, "B3": 9},
        "outbox_id": 0,
    }
    rows = len(outbox(pool))
    again = client.post(BULK, json={"movements": batch}, headers=tokens["stock"])
    assert again.status_code == 200
    assert again.get_json() == {
        "applied": 0,
        "replayed": ["r-1", "r-0", "r-1", "r-2"],  # in row order
        "levels": {"B1": 4, "B2": 12, "B3": 9},
        "outbox_id": None,
    }
    assert len(outbox(pool)) == rows  # nothing changed: no outbox row
    # A replayed id sent for another change is a conflict; the single route agrees.
    other = client.post(BULK, json={"movements": [move("B3", "r-1", 2)]}, headers=tokens["stock"])
    assert other.status_code == 409 and other.get_json()["errors"][0]["field"] == "movement_id"
    single = client.post(f"{API}/stock/B2/movements", json={"movement_id": "r-2", "delta": 1}, headers=tokens["stock"])
    assert single.status_code == 409
    assert levels(client, tokens, "B1", "B2", "B3") == {"B1": 4, "B2": 12, "B3": 9}


def test_the_limits_are_a_clear_413(client, tokens, shop, pool, app):
    before = dump(pool)
    too_many = [move("B2", f"many-{i}", 1) for i in range(MAX_BULK_MOVEMENTS + 1)]
    response = client.post(BULK, json={"movements": too_many}, headers=tokens["stock"])
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    assert (
        f"at most {MAX_BULK_MOVEMENTS:,} movements per request, got {MAX_BULK_MOVEMENTS + 1:,}"
        in (response.get_json()["detail"])
    )
    limit = app.config["MAX_CONTENT_LENGTH"]
    huge = json.dumps({"movements": [move("B2", "big", 1, "x" * 200)] * (limit // 200)})
    response = client.post(BULK, data=huge, content_type="application/json", headers=tokens["stock"])
    assert response.status_code == 413 and f"limit of {limit} bytes" in response.get_json()["detail"]
    empty = client.post(BULK, json={"movements": []}, headers=tokens["stock"])
    assert empty.status_code == 422 and empty.get_json()["errors"][0]["loc"] == ["body", "movements"]
    assert client.post(BULK, json=[move("B2", "list", 1)], headers=tokens["stock"]).status_code == 400
    assert dump(pool) == before
    # The most a request may carry is applied, in a handful of statements.
    full = [move(f"B{1 + i % 3}", f"full-{i}", 1 if i % 2 else -1) for i in range(MAX_BULK_MOVEMENTS)]
    response = client.post(BULK, json={"movements": full}, headers=tokens["stock"])
    assert response.status_code == 201 and response.get_json()["applied"] == MAX_BULK_MOVEMENTS


def test_variant_skus_move_their_own_stock(client, tokens, shop, pool):
    batch = [move("J1-M", "v-1", 3), move("J1-L", "v-2", -2), move("B1", "v-3", -3)]
    response = client.post(BULK, json={"movements": batch}, headers=tokens["stock"])
    assert response.status_code == 201
    assert response.get_json()["levels"] == {"B1": 0, "J1-L": 0, "J1-M": 5}
    assert levels(client, tokens, "J1-M", "J1-L", "B1") == {"J1-M": 5, "J1-L": 0, "B1": 0}
    # A deleted product's SKU names nothing any more.
    assert client.delete(f"{API}/products/B3", headers=tokens["editor"]).status_code == 200
    gone = client.post(BULK, json={"movements": [move("B3", "v-4", 1)]}, headers=tokens["stock"])
    assert gone.status_code == 422 and "unknown product or variant: B3" in gone.get_json()["errors"][0]["msg"]


def test_the_same_batch_sent_at_once_from_several_clients_is_applied_once(app, tokens, shop, pool):
    batch = [move(sku, f"c-{sku}-{n}", 1 if n % 2 else -1) for n in range(50) for sku in ("B1", "B2", "B3", "J1-M")]
    batch.append(move("B2", "c-last", 5))

    def post(_: int):
        return app.test_client().post(BULK, json={"movements": batch}, headers=tokens["stock"])

    with ThreadPoolExecutor(4) as threads:
        answers = list(threads.map(post, range(4)))
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201]
    applied = next(a.get_json() for a in answers if a.status_code == 201)
    assert applied["applied"] == len(batch) and applied["levels"] == {"B1": 3, "B2": 15, "B3": 10, "J1-M": 2}
    assert all(a.get_json()["replayed"] == [m["movement_id"] for m in batch] for a in answers if a.status_code == 200)
    assert levels(app.test_client(), tokens, "B1", "B2", "B3", "J1-M") == applied["levels"]
    with pool.connection() as conn:
        assert conn.execute("SELECT count(*) FROM stock_movements WHERE movement_id LIKE 'c-%'").fetchone() == (
            len(batch),
        )
