"""The rebuild lock: one full ``projector rebuild`` at a time.

A second rebuild would delete the first one's ``building`` pointer and hand out a generation of
its own, so a full rebuild holds a Redis lock (redis-py's :class:`redis.lock.Lock`) from before it
changes anything until after the switch. The lock's value says who holds it (host, pid, start
time). It lives for ``ttl`` seconds and a daemon thread renews it every ``ttl / 3`` while the
rebuild runs, so a rebuild that died (SIGKILL, lost machine) blocks the next one for at most
``ttl``. A holder that ran on this very machine (same host name and PID namespace) and whose
process is gone is not waited for: its lock is taken over at once.
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import redis
from redis.exceptions import LockError

from vocab.keys import KeyScheme

log = logging.getLogger(__name__)

#: How long the lock outlives a rebuild that stopped renewing it.
LOCK_TTL_SECONDS = 60.0

# Delete a key only if it still holds the value seen a moment ago.
DELETE_IF_EQUAL = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def delete_if_equal(client: redis.Redis, key: str, value: bytes | str) -> bool:
    return bool(client.eval(DELETE_IF_EQUAL, 1, key, value))


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:  # not Linux: a holder's process can't be checked, its lock only expires
        return ""


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, owned by someone else
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:  # a zombie has exited, only its parent hasn't reaped it
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


@dataclass(frozen=True)
class Holder:
    """Who holds the lock; stored as JSON in the lock key (also the lock's token)."""

    host: str
    pid: int
    pid_ns: str
    started_at: float
    nonce: str

    @classmethod
    def me(cls) -> Holder:
        return cls(socket.gethostname(), os.getpid(), _pid_namespace(), time.time(), uuid.uuid4().hex)

    def encode(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def decode(cls, raw: bytes | str | None) -> Holder | None:
        if raw is None:
            return None
        try:
            return cls(**json.loads(raw))
        except (ValueError, TypeError):
            return None

    def describe(self) -> str:
        started = datetime.fromtimestamp(self.started_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"started at {started}, by host/pid {self.host}/{self.pid}"

    def is_gone(self) -> bool:
        """True only if this holder provably ran on this machine and its process has exited."""
        here = self.host == socket.gethostname() and self.pid_ns and self.pid_ns == _pid_namespace()
        return bool(here) and _process_gone(self.pid)


class RebuildRunning(Exception):
    """Another full rebuild holds the lock; nothing was changed."""

    def __init__(self, holder: Holder | None, expires_in: float | None) -> None:
        self.holder, self.expires_in = holder, expires_in
        who = holder.describe() if holder else "holder unknown"
        within = f"within {math.ceil(expires_in)} s" if expires_in else "in a moment"
        super().__init__(
            f"a rebuild is already running ({who}); wait for it or, if that process is gone, "
            f"run the rebuild again once its lock expires ({within})"
        )


class RebuildLockLost(Exception):
    """The rebuild's lock expired or was taken while it ran (it stalled longer than the lock's TTL)."""


def current_holder(client: redis.Redis, keys: KeyScheme) -> tuple[Holder | None, float | None]:
    """The running rebuild's holder (None if none runs) and the seconds until its lock expires."""
    pipe = client.pipeline(transaction=False)
    pipe.get(keys.rebuild_lock)
    pipe.pttl(keys.rebuild_lock)
    raw, ttl_ms = pipe.execute()
    if raw is None:
        return None, None
    return Holder.decode(raw), (ttl_ms / 1000 if ttl_ms >= 0 else None)


class RebuildLock:
    """``with RebuildLock(client, keys):`` raises :class:`RebuildRunning` if another rebuild holds it."""

    def __init__(self, client: redis.Redis, keys: KeyScheme, ttl: float = LOCK_TTL_SECONDS) -> None:
        self.client, self.keys, self.ttl = client, keys, ttl
        self.holder = Holder.me()
        # Not thread-local: the renewing thread uses the token the rebuild's thread acquired with.
        self._lock = client.lock(keys.rebuild_lock, timeout=ttl, thread_local=False)
        self._stop = threading.Event()
        self._lost: Exception | None = None
        self._renewer: threading.Thread | None = None

    def __enter__(self) -> RebuildLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def acquire(self) -> None:
        token = self.holder.encode()
        if not self._lock.acquire(blocking=False, token=token):
            raw = self.client.get(self.keys.rebuild_lock)
            other = Holder.decode(raw)
            if (
                raw is not None
                and other is not None
                and other.is_gone()
                and delete_if_equal(self.client, self.keys.rebuild_lock, raw)
            ):
                log.warning("taking over the rebuild lock of a process that is gone (%s)", other.describe())
            if not self._lock.acquire(blocking=False, token=token):
                holder, expires_in = current_holder(self.client, self.keys)
                raise RebuildRunning(holder or other, expires_in)
        self._renewer = threading.Thread(target=self._renew, name="rebuild-lock", daemon=True)
        self._renewer.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                self._lock.reacquire()  # the TTL starts again
            except LockError as exc:
                self._lost = exc
                return
            except redis.RedisError as exc:  # try again; once the TTL has passed, reacquire fails for good
                log.warning("could not renew the rebuild lock: %s", exc)

    def check(self, ask_redis: bool = False) -> None:
        """Raise :class:`RebuildLockLost` if the lock is no longer ours; ``ask_redis``: look in Redis
        rather than trust what the renewing thread last found."""
        if self._lost is None and ask_redis and not self._lock.owned():
            self._lost = LockError("the lock key no longer holds this rebuild's token")
        if self._lost is not None:
            raise RebuildLockLost(
                f"the rebuild lock was lost while rebuilding ({self._lost}); another rebuild may have started"
            ) from self._lost

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        try:
            self._lock.release()
        except LockError:
            log.warning("the rebuild lock had already expired or been taken when the rebuild ended")
