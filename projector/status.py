"""What ``projector status`` reports: the state of the read models and the pipeline to them."""
from __future__ import annotations

import psycopg
import redis

from projector.deadletters import DeadLetters
from projector.keys import KeyScheme
from projector.rebuildlock import current_holder
from projector.relay import MAX_SENDS
from snipshop.config import Settings


def collect(settings: Settings) -> dict[str, object]:
    client = redis.Redis.from_url(settings.redis_url)
    keys = KeyScheme(settings.key_prefix)
    broker = redis.Redis.from_url(settings.broker_url)
    out: dict[str, object] = {
        "live generation": (client.get(keys.live) or b"none").decode(),
        "building generation": (client.get(keys.building) or b"none").decode(),
        "rebuild running": _running_rebuild(client, keys),
        "generations": sorted(int(g) for g in client.smembers(keys.generations)) or "none",
        "queue depth": broker.llen("projection"),
    }
    for topic in ("product", "price", "stock", "category"):
        samples = sorted(int(v) for v in client.lrange(keys.lag(topic), 0, -1))
        if samples:
            p50, p99 = samples[len(samples) // 2], samples[min(len(samples) - 1, int(len(samples) * 0.99))]
            out[f"{topic} lag p50/p99"] = f"{p50} ms / {p99} ms ({len(samples)} samples)"
    out["offer timers pending"] = client.zcard(keys.timers)
    out["repairs pending"] = client.scard(keys.repair_pending)
    out.update(DeadLetters(client, keys).status())
    try:
        with psycopg.connect(settings.database_url, connect_timeout=3) as conn:
            backlog, oldest = conn.execute(
                "SELECT count(*), now() - min(created_at) FROM outbox WHERE dispatched_at IS NULL").fetchone()
            out["outbox backlog"] = backlog
            out["oldest undispatched"] = oldest or "-"
            unacked, unacked_oldest, given_up = conn.execute(
                """SELECT count(*), now() - min(dispatched_at), count(*) FILTER (WHERE sends >= %s)
                   FROM outbox WHERE projected_at IS NULL AND dispatched_at IS NOT NULL""", (MAX_SENDS,)).fetchone()
            out["outbox unacknowledged"] = (f"{unacked} (oldest dispatched {unacked_oldest}; {given_up} no longer "
                                            f"re-sent, see dead letters)" if unacked else 0)
            lag = conn.execute(
                """SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY dispatched_at - created_at)
                   FROM outbox WHERE created_at > now() - interval '5 minutes' AND dispatched_at IS NOT NULL"""
            ).fetchone()[0]
            out["dispatch lag p99 (5 min)"] = lag or "-"
    except psycopg.OperationalError as exc:
        out["database"] = f"unreachable: {exc}".splitlines()[0]
    return out


def _running_rebuild(client: redis.Redis, keys: KeyScheme) -> str:
    holder, expires_in = current_holder(client, keys)
    if holder is None and expires_in is None:
        return "no"
    who = holder.describe() if holder else "holder unknown"
    return f"yes ({who}; its lock expires in {expires_in or 0:.0f} s unless renewed)"
