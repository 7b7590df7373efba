"""What an edge process hears of listing changes: the invalidation of its search results.

The projector publishes on ``{prefix}:listings:changed`` whenever the search answers of a
generation shoppers read may have changed, and after every switch of the live or the canary
search generation (projector/listing_changes.py). A daemon thread per process listens; every
message starts a new **epoch**. A search result (web/edge/result_cache.py) is reused only within
the epoch its query began in, so:

* **Never after a change.** A result is kept with the epoch its query began in and answers only
  while that is still the current epoch: from the moment a message arrives, everything kept before
  it is out.
* **No stale insert.** A query that was running when a message arrived keeps nothing.
* **Visible first.** Elasticsearch shows a write only after its next refresh (each second), so
  after a message results are not kept for ``visible_within`` seconds (the adapter's, 0 for the
  embedded index, whose writes are visible when their script returns): a query in that window
  may still read the index as it was. Such queries are answered, only not kept.
* **Only while listening.** Until the subscription is confirmed, and from the moment the
  connection drops, nothing is kept or reused; the listener reconnects with backoff (like the
  near cache, web/edge/nearcache.py).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

import redis

from web.edge import subscription

log = logging.getLogger(__name__)


class ListingChanges:
    def __init__(
        self,
        connect: Callable[[], redis.Redis],
        channel: str,
        visible_within: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        #: Makes the listener's own connection (snipshop.redis_clients), again after each loss.
        self.connect = connect
        self.channel = channel
        self.visible_within = visible_within
        self.clock = clock
        self.epoch = 0
        self.listening = False
        self._quiet_until = 0.0
        self._lock = threading.Lock()
        self._pid: int | None = None
        self.messages = 0

    def current(self) -> int | None:
        """The epoch results may be reused in and kept for, or None when nothing may be (not
        listening). Starts the listener in a process that has none yet (after a server's fork)."""
        if self._pid != os.getpid():
            self._start_listener()
        return self.epoch if self.listening else None

    def may_keep(self, began: int, began_at: float) -> bool:
        """Whether a result whose query began in epoch ``began`` at ``began_at`` (``clock``) may
        be kept: still listening, no message since, and the index showed every announced write."""
        return self.listening and self.epoch == began and began_at >= self._quiet_until

    def changed(self) -> None:
        """A message arrived (or the subscription began or ended): a new epoch."""
        with self._lock:
            self.epoch += 1
            self._quiet_until = self.clock() + self.visible_within
            self.messages += 1

    def _start_listener(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self.listening = False
        self.changed()
        threading.Thread(target=self._listen, name="listing-changes", daemon=True).start()

    def _listen(self) -> None:
        subscription.listen(self.connect, self.channel, self._subscribed, lambda _data: self.changed(), self._lost)

    def _subscribed(self) -> None:
        self.changed()
        self.listening = True

    def _lost(self, exc: Exception) -> None:
        if self.listening:
            log.warning("listing changes: channel lost (%s); search results not reused", exc)
        self.listening = False
        self.changed()

    def stats(self) -> dict[str, int | bool]:
        return {"listening": self.listening, "epoch": self.epoch, "messages": self.messages}
