"""What the edge counts per generation while a canary runs, as ``projector compare`` reads it.

One hash per generation and minute (``KeyScheme.canary_stats``); every edge process adds its
counts to it about once a second (web/edge/canary_counts.py). Fields:

* ``requests``: responses served from the generation;
* ``status:NNN``: of them, with status NNN;
* ``degraded``: 200s with a part "currently unavailable" (a snippet missing);
* ``misses``: snippets asked for and missing;
* ``latency:BOUND``: responses that took at most BOUND ms and more than the bound before
  (``inf`` for the rest): a histogram whose quantiles are read as the bucket's bound.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

#: Latency buckets, milliseconds; the last one takes everything slower.
LATENCY_BOUNDS_MS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000)
#: How long a minute's hash is kept: longer than any window ``projector compare`` reads.
STATS_TTL_SECONDS = 3600

REQUESTS = "requests"
DEGRADED = "degraded"
MISSES = "misses"


def status_field(status: int) -> str:
    return f"status:{status}"


def latency_field(ms: float) -> str:
    """The histogram field a response of ``ms`` milliseconds is counted in."""
    for bound in LATENCY_BOUNDS_MS:
        if ms <= bound:
            return f"latency:{bound}"
    return "latency:inf"


@dataclass
class GenerationStats:
    """The counts of one generation summed over a window of minutes."""

    requests: int = 0
    degraded: int = 0
    misses: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latency: dict[float, int] = field(default_factory=dict)  # bound (ms, inf last) -> responses

    def add(self, fields: Mapping[bytes | str, bytes | str]) -> None:
        for raw_name, raw_value in fields.items():
            name = raw_name.decode() if isinstance(raw_name, bytes) else raw_name
            value = int(raw_value)
            if name == REQUESTS:
                self.requests += value
            elif name == DEGRADED:
                self.degraded += value
            elif name == MISSES:
                self.misses += value
            elif name.startswith("status:") and name[7:].isdigit():
                self.statuses[int(name[7:])] = self.statuses.get(int(name[7:]), 0) + value
            elif name.startswith("latency:"):
                bound = float(name[8:])
                self.latency[bound] = self.latency.get(bound, 0) + value

    @property
    def errors(self) -> int:
        """Server errors (5xx): what a canary must not add."""
        return sum(n for status, n in self.statuses.items() if status >= 500)

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def degraded_rate(self) -> float:
        return self.degraded / self.requests if self.requests else 0.0

    @property
    def misses_per_request(self) -> float:
        return self.misses / self.requests if self.requests else 0.0

    def latency_ms(self, quantile: float) -> float | None:
        """The bound of the bucket holding the ``quantile`` (0..1) response; None without any."""
        return bucket_quantile(self.latency.items(), quantile)


def bucket_quantile(buckets: Iterable[tuple[float, int]], quantile: float) -> float | None:
    ordered = sorted(buckets)
    total = sum(n for _, n in ordered)
    if not total:
        return None
    rank = quantile * total
    seen = 0
    for bound, n in ordered:
        seen += n
        if seen >= rank:
            return bound
    return ordered[-1][0]
