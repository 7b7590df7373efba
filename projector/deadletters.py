"""Dead letters: projection tasks that failed for good, kept where an operator can see and replay them.

Projection tasks retry only transient errors (database or Redis away), with backoff; when the
retries are used up, or at once for any other error (a bug, bad data), :class:`DeadLetterTask`
pushes one JSON entry onto ``{prefix}:dead``: task name, args, kwargs, the exception, when it
failed, the task id and the retries made. ``projector dead-letters`` lists them, ``projector
replay`` sends them to the broker again with the same arguments and removes them; a replayed
task that fails again lands here again. Tasks re-read the database, so a replay is harmless.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import redis
from celery import Task

from vocab.keys import KeyScheme

log = logging.getLogger(__name__)

#: The list keeps the newest entries only; a flood of failures must not fill Redis.
MAX_ENTRIES = 10_000
ERROR_CHARS = 2000

# Remove exactly the entry at an index (LREM by value: a push meanwhile shifts indexes, and the
# value read first is the one removed). Returns the entry, or nil when there is none.
TAKE_AT = """
local value = redis.call('LINDEX', KEYS[1], ARGV[1])
if value then redis.call('LREM', KEYS[1], 1, value) end
return value
"""

#: Celery's ``app.send_task(name, args=..., kwargs=...)``: how a replay sends a task again.
SendTask = Callable[..., object]


def letter(
    task: str, args: Any, kwargs: Any, exc: BaseException, task_id: str | None, retries: int = 0
) -> dict[str, Any]:
    """One dead-letter entry (JSON-serializable: the task's arguments came as JSON)."""
    return {
        "task": task,
        "args": list(args or []),
        "kwargs": dict(kwargs or {}),
        "error": f"{type(exc).__name__}: {exc}"[:ERROR_CHARS],
        "failed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "task_id": task_id,
        "retries": retries,
    }


class DeadLetters:
    """The dead-letter list in Redis, newest first."""

    def __init__(self, client: redis.Redis, keys: KeyScheme, max_entries: int = MAX_ENTRIES) -> None:
        self.client = client
        self.key = keys.dead_letters
        self.max_entries = max_entries
        self._take_at = client.register_script(TAKE_AT)

    def add(self, entry: dict[str, Any]) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.lpush(self.key, json.dumps(entry))
        pipe.ltrim(self.key, 0, self.max_entries - 1)
        pipe.execute()

    def count(self) -> int:
        return int(self.client.llen(self.key))

    def entries(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The newest ``limit`` entries (all when None), newest first; index 0 is the newest."""
        raw = self.client.lrange(self.key, 0, -1 if limit is None else limit - 1)
        return [json.loads(r) for r in raw]

    def take(self, index: int) -> dict[str, Any] | None:
        """Remove and return the entry at ``index`` (0 = newest), or None."""
        raw = self._take_at(keys=[self.key], args=[index])
        return json.loads(raw) if raw is not None else None

    def replay(self, send_task: SendTask, index: int | None = None) -> list[dict[str, Any]]:
        """Send the entry at ``index`` (or every entry, oldest first) again, then remove it.

        Each entry is sent before it is removed: a crash in between replays it twice, which a
        task that re-reads the database shrugs off; removing first could lose it.
        """
        if index is not None:
            raw_entries = [self.client.lindex(self.key, index)]
        else:
            raw_entries = list(reversed(self.client.lrange(self.key, 0, -1)))
        replayed = []
        for raw in raw_entries:
            if raw is None:
                continue
            entry = json.loads(raw)
            send_task(entry["task"], args=entry["args"], kwargs=entry["kwargs"])
            self.client.lrem(self.key, 1, raw)  # type: ignore[arg-type]  # redis takes bytes too; its stub says str
            replayed.append(entry)
        return replayed

    def status(self) -> dict[str, object]:
        """The lines ``projector status`` shows: the count and the newest entry."""
        newest = self.entries(1)
        out: dict[str, object] = {"dead letters": self.count()}
        if newest:
            e = newest[0]
            out["newest dead letter"] = f"{e['failed_at']} {e['task']}: {e['error'].splitlines()[0][:200]}"
        return out


class DeadLetterTask(Task):
    """Base of the projection tasks: a final failure (not a retry) becomes a dead letter.

    The list is the app's ``dead_letters`` setting: a callable returning this process's
    :class:`DeadLetters`, set when the tasks are registered (:func:`projector.tasks.register`)."""

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        entry = letter(self.name, args, kwargs, exc, task_id, self.request.retries)
        counts = getattr(self.app.conf, "pipeline_metrics", None)  # projector.pipeline_metrics
        if counts is not None:
            counts.dead_letter(self.name)
        try:
            self.app.conf.dead_letters().add(entry)
        except Exception:  # noqa: BLE001 - Redis may be what failed; the log line is the last record
            log.exception("dead letter could not be stored", extra={"dead_letter": entry})
            return
        log.error("dead-lettered", extra={"dead_letter": entry})
