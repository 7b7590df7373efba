"""The edge's near cache: snippet values kept in the worker process, correct by invalidation.

Most of a page's cost at the edge was the Redis round trip, not the string work. So each edge
process keeps the values it fetched and asks Redis only for those it lacks (one MGET plus a PTTL
per missing key, in one pipeline). Redis 7.0 has no server-assisted client-side caching, so the
projector publishes instead: its guarded write (projector/guarded_set.lua) sends, in the same
atomic script call, every key whose stored value it changed on ``{prefix}:invalidate``. A daemon
thread per process listens and drops those keys.

What keeps it correct:

* **No stale insert.** An invalidation can arrive while a fetch of the old value is in flight.
  Every invalidation gets a sequence number; a fetched value is kept only if its key was not
  invalidated since the fetch began.
* **Only while listening.** Until the subscription is confirmed, and from the moment the
  connection drops, the cache is empty and keeps nothing: a message missed while disconnected
  cannot leave a stale entry. The listener reconnects with backoff.
* **TTLs are kept.** An entry lives no longer than its key's TTL in Redis (a special offer dies
  on time) and at most ``max_age`` seconds (a bound on anything published outside the guarded
  write, such as an eviction or a key deleted by hand).
* **Generations.** The reader clears the cache whenever the live pointer changes.

Memory is bounded by ``max_bytes`` (values plus a per-entry overhead); the oldest entries go
first. ``EDGE_CACHE_MB=0`` turns the cache off.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import cast

import redis

from snipshop.redis_tools import slot_groups
from web.edge import subscription

log = logging.getLogger(__name__)

ENTRY_OVERHEAD = 200  # bytes per entry beyond its value: key string, tuple, dict slot
RECENT_LIMIT = 50_000  # invalidated keys remembered for in-flight fetches


class NearCache:
    def __init__(self, connect: Callable[[], redis.Redis], channel: str, max_bytes: int, max_age: float) -> None:
        #: Makes the listener's own connection (snipshop.redis_clients), again after each loss.
        self.connect = connect
        self.channel = channel
        self.max_bytes = max_bytes
        self.max_age = max_age
        self._entries: dict[str, tuple[bytes, float]] = {}  # key -> (value, expires at, monotonic)
        self._bytes = 0
        self._lock = threading.Lock()
        self._seq = 0  # invalidations so far
        self._floor = 0  # fetches that began before this sequence keep nothing
        self._recent: dict[str, int] = {}  # key -> sequence of its last invalidation
        self.listening = False
        self._pid: int | None = None
        self.hits = self.misses = 0
        #: ``count(hits, misses)``, if set, is told about every fetch it answers (metrics).
        self.count: Callable[[int, int], None] | None = None

    # --- reads ---------------------------------------------------------------------------

    def fetch(self, client: redis.Redis, keys: Sequence[str]) -> list[bytes | None]:
        """Values of ``keys`` (None where missing): from memory where possible, the rest in one
        round trip."""
        if self._pid != os.getpid():
            self._start_listener()
        if not self.listening:
            if self.count is not None:
                self.count(0, len(keys))  # all asked of Redis
            return cast("list[bytes | None]", client.mget(keys))  # the edge's client does not decode replies
        now = time.monotonic()
        out: list[bytes | None] = []
        missing: list[int] = []
        entries = self._entries
        for i, key in enumerate(keys):
            entry = entries.get(key)
            if entry is not None and entry[1] > now:
                out.append(entry[0])
            else:
                out.append(None)
                missing.append(i)
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        if self.count is not None:
            self.count(len(keys) - len(missing), len(missing))
        if missing:
            began = self._seq
            pipe = client.pipeline(transaction=False)
            wanted = [keys[i] for i in missing]
            groups = slot_groups(client, wanted)  # one MGET, or one per slot on a Redis Cluster
            for group in groups:  # (a cluster pipeline refuses its mget method: MGET by name)
                pipe.execute_command("MGET", *[wanted[i] for i in group])
            for key in wanted:
                pipe.pttl(key)
            replies = pipe.execute()
            values: list[bytes | None] = [None] * len(wanted)
            for group, got in zip(groups, replies[: len(groups)], strict=True):
                for i, value in zip(group, got, strict=True):
                    values[i] = value
            ttls = replies[len(groups) :]
            for i, value in zip(missing, values, strict=True):
                out[i] = value
            self._keep(began, wanted, values, ttls, now)
        return out

    def _keep(self, began: int, keys: list[str], values: list, ttls: list, now: float) -> None:
        with self._lock:
            if not self.listening or began < self._floor:
                return
            for key, value, ttl in zip(keys, values, ttls, strict=True):
                if value is None or self._recent.get(key, -1) > began:  # invalidated after the fetch began
                    continue
                lifetime = self.max_age if ttl < 0 else min(self.max_age, ttl / 1000)
                old = self._entries.pop(key, None)
                if old is not None:
                    self._bytes -= len(old[0]) + ENTRY_OVERHEAD
                self._entries[key] = (value, now + lifetime)
                self._bytes += len(value) + ENTRY_OVERHEAD
            while self._bytes > self.max_bytes and self._entries:
                _, (value, _) = self._pop_oldest()
                self._bytes -= len(value) + ENTRY_OVERHEAD

    def _pop_oldest(self) -> tuple[str, tuple[bytes, float]]:
        key = next(iter(self._entries))
        return key, self._entries.pop(key)

    # --- what a page was built from (web/edge/pagecache.py) ------------------------------

    def holding(self, keys: Sequence[str], values: Sequence[bytes | None]) -> tuple | None:
        """The entries now held for ``keys`` if each holds the very value given (the one a page
        was assembled from), else None. They serve as a token for :meth:`still_holds`."""
        if not self.listening or self._pid != os.getpid():
            return None
        entries = self._entries
        held = tuple(entries.get(key) for key in keys)
        if any(entry is None or entry[0] is not value for entry, value in zip(held, values, strict=True)):
            return None
        return held

    def still_holds(self, keys: Sequence[str], held: tuple[tuple[bytes, float], ...]) -> bool:
        """Whether every entry of ``held`` is still the live, unexpired entry of its key: nothing
        was invalidated, evicted, expired, refetched or cleared since."""
        if not self.listening:
            return False
        entries = self._entries
        now = time.monotonic()
        for key, entry in zip(keys, held, strict=True):
            if entries.get(key) is not entry or entry[1] <= now:
                return False
        return True

    # --- invalidation --------------------------------------------------------------------

    def invalidate(self, keys: Sequence[str]) -> None:
        with self._lock:
            self._seq += 1
            for key in keys:
                entry = self._entries.pop(key, None)
                if entry is not None:
                    self._bytes -= len(entry[0]) + ENTRY_OVERHEAD
                self._recent[key] = self._seq
            if len(self._recent) > RECENT_LIMIT:  # forget, and make older in-flight fetches keep nothing
                self._recent.clear()
                self._floor = self._seq + 1

    def clear(self) -> None:
        with self._lock:
            self._seq += 1
            self._floor = self._seq
            self._entries.clear()
            self._recent.clear()
            self._bytes = 0

    def _start_listener(self) -> None:
        """One listener per process, started in the process that reads (after a server's fork)."""
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self.listening = False
        self.clear()
        threading.Thread(target=self._listen, name="near-cache-invalidations", daemon=True).start()

    def _listen(self) -> None:
        subscription.listen(self.connect, self.channel, self._subscribed, self._message, self._lost)

    def _subscribed(self) -> None:
        self.clear()
        self.listening = True

    def _message(self, data: bytes) -> None:
        self.invalidate(data.decode().split("\n"))

    def _lost(self, exc: Exception) -> None:
        if self.listening:
            log.warning("near cache: invalidation channel lost (%s); caching paused", exc)
        self.listening = False
        self.clear()

    def stats(self) -> dict[str, int | bool]:
        return {
            "listening": self.listening,
            "entries": len(self._entries),
            "bytes": self._bytes,
            "hits": self.hits,
            "misses": self.misses,
        }
