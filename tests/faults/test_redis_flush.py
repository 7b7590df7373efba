"""The snippet Redis loses everything (FLUSHDB): ``projector rebuild`` restores it all."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from catalog import commands
from catalog.models import OfferIn
from tests import store_dump
from tests.conftest import REPO
from tests.faults.conftest import seed
from vocab.keys import KeyScheme

pytestmark = pytest.mark.faults
PRODUCTS = 300


def offer(amount: str, starts: datetime, ends: datetime) -> OfferIn:
    return OfferIn.model_validate({"amount": amount, "starts_at": starts.isoformat(), "ends_at": ends.isoformat()})


def test_a_flushed_store_is_restored_by_a_rebuild(rig):
    skus = seed(rig, PRODUCTS, dispatched=False)
    now = datetime.now(UTC).replace(microsecond=0)
    with rig.pool.connection() as conn:
        commands.put_offers(
            conn,
            [  # one live offer (its own TTL) and one that starts later (a timer)
                (skus[1], "EUR", offer("5.00", now - timedelta(hours=1), now + timedelta(hours=2))),
                (skus[2], "USD", offer("6.00", now + timedelta(hours=1), now + timedelta(hours=3))),
            ],
        )
        commands.delete_product(conn, skus[3])  # a tombstone
        commands.apply_movement(conn, skus[4], "m-1", -1, "sale")
    rig.start_worker()
    rig.dispatch()  # projected by the worker, the way a running shop got there
    rig.wait_drained()
    keys = KeyScheme(rig.settings.key_prefix)
    before = rig.dump()
    timers_before = rig.client.zrange(keys.timers, 0, -1, withscores=True)
    assert before.size > PRODUCTS * 18 and not before.without_ttl
    assert store_dump.diff(before, rig.fresh()) == []  # the starting point is right

    rig.client.flushdb()
    assert rig.dump().size == 0
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "entrypoints.projector_cli", "rebuild", "--quiet"],
        env=rig.env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    after = rig.dump()

    differing = store_dump.diff(after, before, state_only_lag=False)
    timers_after = rig.client.zrange(keys.timers, 0, -1, withscores=True)
    print(
        f"\nFIGURE redis-flush: {len(before.snippets)} snippets + {len(before.documents)} search documents "
        f"flushed, restored by `projector rebuild` in {seconds:.1f}s; differing keys = {len(differing)}; "
        f"offer timers {len(timers_after)}/{len(timers_before)}"
    )
    assert differing == [], store_dump.describe(differing)
    assert not after.without_ttl
    assert timers_after == timers_before
    assert after.generation is not None and after.search_generation == after.generation
