"""``projector compare``: the running canary against the live generation, by the numbers.

The numbers are the edge's per-generation counts in Redis (web/edge/canary_counts.py, format in
vocab/canary_stats.py) over the last ``CANARY_WINDOW_MINUTES`` minutes. The verdict
(docs/canary.md, "Verdict"):

* ``too few requests``: either side served fewer than ``CANARY_MIN_REQUESTS``: no judgement yet;
* ``abort``: the canary's share of 5xx responses exceeds the live one's by more than
  ``CANARY_MAX_ERROR_INCREASE``, or its share of degraded pages by more than
  ``CANARY_MAX_DEGRADED_INCREASE`` (both absolute, 0.01 = one percentage point); the scheduler
  aborts such a canary by itself;
* ``warn``: latency p99 more than doubled (and by more than 50 ms), or more than 0.5 more snippet
  misses per request: for an operator to look at, never an abort (a cold canary misses more at
  first, and the latency buckets are coarse);
* ``ok`` otherwise.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis

from snipshop.config import Settings
from vocab.canary_stats import GenerationStats
from vocab.keys import CanaryRecord, KeyScheme

#: ``warn`` thresholds (see the module docstring).
LATENCY_FACTOR, LATENCY_MARGIN_MS, MISSES_MARGIN = 2.0, 50.0, 0.5


@dataclass(frozen=True)
class Thresholds:
    min_requests: int = 100
    max_error_increase: float = 0.01
    max_degraded_increase: float = 0.01

    @classmethod
    def of(cls, settings: Settings) -> Thresholds:
        return cls(
            settings.canary_min_requests, settings.canary_max_error_increase, settings.canary_max_degraded_increase
        )


@dataclass(frozen=True)
class Verdict:
    word: str  # ok, warn, abort, too few requests
    reasons: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.word + (f": {'; '.join(self.reasons)}" if self.reasons else "")


def window_stats(
    client: redis.Redis, keys: KeyScheme, gens: list[int], minutes: int, now: float | None = None
) -> dict[int, GenerationStats]:
    """Each generation's counts summed over the last ``minutes`` minutes (the current one included)."""
    last = int(time.time() if now is None else now) // 60
    pipe = client.pipeline(transaction=False)
    for gen in gens:
        for minute in range(last - minutes + 1, last + 1):
            pipe.hgetall(keys.canary_stats(gen, minute))
    replies = iter(pipe.execute())
    out = {}
    for gen in gens:
        stats = GenerationStats()
        for _ in range(minutes):
            stats.add(next(replies))
        out[gen] = stats
    return out


def verdict(live: GenerationStats, canary: GenerationStats, limits: Thresholds) -> Verdict:
    if min(live.requests, canary.requests) < limits.min_requests:
        return Verdict("too few requests", (f"each side needs {limits.min_requests}",))
    bad = []
    if canary.error_rate - live.error_rate > limits.max_error_increase:
        bad.append(f"5xx {canary.error_rate:.1%} against {live.error_rate:.1%}")
    if canary.degraded_rate - live.degraded_rate > limits.max_degraded_increase:
        bad.append(f"degraded pages {canary.degraded_rate:.1%} against {live.degraded_rate:.1%}")
    if bad:
        return Verdict("abort", tuple(bad))
    doubts = []
    live_p99, canary_p99 = live.latency_ms(0.99), canary.latency_ms(0.99)
    if (
        live_p99 is not None
        and canary_p99 is not None
        and canary_p99 > live_p99 * LATENCY_FACTOR
        and canary_p99 - live_p99 > LATENCY_MARGIN_MS
    ):
        doubts.append(f"latency p99 {canary_p99:g} ms against {live_p99:g} ms")
    if canary.misses_per_request - live.misses_per_request > MISSES_MARGIN:
        doubts.append(
            f"snippet misses {canary.misses_per_request:.2f} per request against {live.misses_per_request:.2f}"
        )
    return Verdict("warn", tuple(doubts)) if doubts else Verdict("ok")


@dataclass(frozen=True)
class Comparison:
    record: CanaryRecord
    live_generation: int
    minutes: int
    live: GenerationStats
    canary: GenerationStats
    verdict: Verdict

    def lines(self) -> list[str]:
        """The table ``projector compare`` prints."""
        rows = [
            ("", f"live {self.live_generation}", f"canary {self.record.generation}", "difference"),
            _row("requests", self.live.requests, self.canary.requests),
        ]
        for status in sorted(set(self.live.statuses) | set(self.canary.statuses)):
            rows.append(
                _row(f"status {status}", self.live.statuses.get(status, 0), self.canary.statuses.get(status, 0))
            )
        rows += [
            _rate("5xx rate", self.live.error_rate, self.canary.error_rate),
            _row("degraded pages", self.live.degraded, self.canary.degraded),
            _rate("degraded rate", self.live.degraded_rate, self.canary.degraded_rate),
            _ms("latency p50", self.live.latency_ms(0.5), self.canary.latency_ms(0.5)),
            _ms("latency p99", self.live.latency_ms(0.99), self.canary.latency_ms(0.99)),
            _row("snippet misses", self.live.misses, self.canary.misses),
        ]
        head = (
            f"canary generation {self.record.generation} for {self.record.percent} % of shoppers, "
            f"live {self.live_generation}; last {self.minutes} minutes"
        )
        return [head, *(f"{a:<16} {b:>12} {c:>12} {d:>12}" for a, b, c, d in rows), f"verdict: {self.verdict}"]


def _row(name: str, live: int, canary: int) -> tuple[str, str, str, str]:
    return name, str(live), str(canary), f"{canary - live:+d}"


def _rate(name: str, live: float, canary: float) -> tuple[str, str, str, str]:
    return name, f"{live:.2%}", f"{canary:.2%}", f"{(canary - live) * 100:+.2f} pt"


def _ms(name: str, live: float | None, canary: float | None) -> tuple[str, str, str, str]:
    def show(v: float | None) -> str:
        return "-" if v is None else f"<={v:g} ms"

    diff = "-" if live is None or canary is None or live == float("inf") else f"{canary - live:+g} ms"
    return name, show(live), show(canary), diff


def compare(client: redis.Redis, keys: KeyScheme, settings: Settings, minutes: int | None = None) -> Comparison | None:
    """The running canary compared with the live generation; None when no canary runs."""
    record = CanaryRecord.decode(client.get(keys.canary))
    raw_live = client.get(keys.live)
    if record is None or raw_live is None:
        return None
    live = int(raw_live)
    minutes = minutes or settings.canary_window_minutes
    stats = window_stats(client, keys, [live, record.generation], minutes)
    judged = verdict(stats[live], stats[record.generation], Thresholds.of(settings))
    return Comparison(record, live, minutes, stats[live], stats[record.generation], judged)
