"""What ``projector status`` reports: the state of the read models and the pipeline to them."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import psycopg
import redis

from catalog.relay import MAX_SENDS
from projector.broker import queue_depths
from projector.deadletters import DeadLetters
from projector.rebuildlock import current_holder
from vocab.keys import CanaryRecord, KeyScheme
from vocab.topics import Topic


def read_status(
    client: redis.Redis,
    broker: redis.Redis,
    keys: KeyScheme,
    connect: Callable[[], AbstractContextManager[psycopg.Connection]],
) -> dict[str, object]:
    """The lines of ``projector status``, by name. ``client`` is the snippet Redis, ``broker`` the
    broker's; ``connect`` opens a database connection (an unreachable database is one line)."""
    out: dict[str, object] = {
        "live generation": _text(client.get(keys.live) or b"none"),
        "building generation": _text(client.get(keys.building) or b"none"),
        "rebuild running": _running_rebuild(client, keys),
        "canary": _canary(client, keys),
        "generations": sorted(int(g) for g in client.smembers(keys.generations)) or "none",
    }
    depths = queue_depths(broker)
    out["queue depth"] = sum(depths.values())
    for queue, depth in depths.items():
        out[f"queue depth {queue}"] = depth
    for topic in (Topic.PRODUCT, Topic.PRICE, Topic.STOCK, Topic.CATEGORY):
        samples = sorted(int(v) for v in client.lrange(keys.lag(topic), 0, -1))
        if samples:
            p50, p99 = samples[len(samples) // 2], samples[min(len(samples) - 1, int(len(samples) * 0.99))]
            out[f"{topic} lag p50/p99"] = f"{p50} ms / {p99} ms ({len(samples)} samples)"
    out["offer timers pending"] = client.zcard(keys.timers)
    out["repairs pending"] = client.scard(keys.repair_pending)
    out["refresh batches queued"] = client.zcard(keys.refresh_pending)
    out.update(DeadLetters(client, keys).status())
    try:
        with connect() as conn:
            row = conn.execute(
                "SELECT count(*), now() - min(created_at) FROM outbox WHERE dispatched_at IS NULL"
            ).fetchone()
            assert row is not None  # an aggregate without GROUP BY answers one row
            backlog, oldest = row
            out["outbox backlog"] = backlog
            out["oldest undispatched"] = oldest or "-"
            row = conn.execute(
                """SELECT count(*), now() - min(dispatched_at), count(*) FILTER (WHERE sends >= %s)
                   FROM outbox WHERE projected_at IS NULL AND dispatched_at IS NOT NULL""",
                (MAX_SENDS,),
            ).fetchone()
            assert row is not None  # an aggregate without GROUP BY answers one row
            unacked, unacked_oldest, given_up = row
            out["outbox unacknowledged"] = (
                f"{unacked} (oldest dispatched {unacked_oldest}; {given_up} no longer re-sent, see dead letters)"
                if unacked
                else 0
            )
            row = conn.execute(
                """SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY dispatched_at - created_at)
                   FROM outbox WHERE created_at > now() - interval '5 minutes' AND dispatched_at IS NOT NULL"""
            ).fetchone()
            assert row is not None  # an aggregate without GROUP BY answers one row
            lag = row[0]
            out["dispatch lag p99 (5 min)"] = lag or "-"
    except psycopg.OperationalError as exc:
        out["database"] = f"unreachable: {exc}".splitlines()[0]
    return out


def _canary(client: redis.Redis, keys: KeyScheme) -> str:
    record = CanaryRecord.decode(client.get(keys.canary))
    if record is None:
        return "none"
    return f"generation {record.generation} for {record.percent} % of shoppers beside {record.base}"


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def _running_rebuild(client: redis.Redis, keys: KeyScheme) -> str:
    holder, expires_in = current_holder(client, keys)
    if holder is None and expires_in is None:
        return "no"
    who = holder.describe() if holder else "holder unknown"
    return f"yes ({who}; its lock expires in {expires_in or 0:.0f} s unless renewed)"
