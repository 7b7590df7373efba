"""Read-repair, the projector's side: re-project what the edge found missing.

The edge records each miss as ``kind:id`` in the pending set (web/edge/repair_requests.py); the
``projector.repair`` task, scheduled every second, pops a batch and re-projects through the
normal writer, version-guarded like every other write. On a flushed Redis there is no live
pointer: the writer recreates generation 1 (``SnippetWriter.target_generations``), and the drain
lists it among the generations so a later rebuild collects it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from projector.service import Projector
from vocab.keys import PRODUCT_KINDS, SKU_RE
from vocab.repair_entries import (
    HOME,
    HOME_THING,
    LABELS,
    LABELS_THING,
    NAVIGATION,
    NAVIGATION_THING,
    PRODUCT,
    entry,
    parse_entry,
    product,
)

log = logging.getLogger(__name__)

#: Entries popped per run; the edge caps the set, so a few runs empty even a full one.
BATCH = 1000


@dataclass
class Repairs:
    """What one run found in the pending set, by kind."""

    skus: list[str] = field(default_factory=list)
    navigation: bool = False
    labels: bool = False
    home: bool = False
    ignored: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, entries: Sequence[bytes | str]) -> Repairs:
        found = cls()
        for raw in entries:
            text = raw.decode() if isinstance(raw, bytes) else raw
            kind, ident = parse_entry(text)
            if kind == PRODUCT and SKU_RE.fullmatch(ident):
                found.skus.append(ident)
            elif kind == NAVIGATION:
                found.navigation = True
            elif kind == LABELS:
                found.labels = True
            elif kind == HOME:
                found.home = True
            else:
                found.ignored.append(text)
        found.skus.sort()
        return found

    def entries(self) -> list[str]:
        return (
            [entry(product(s)) for s in self.skus]
            + ([entry(NAVIGATION_THING)] if self.navigation else [])
            + ([entry(LABELS_THING)] if self.labels else [])
            + ([entry(HOME_THING)] if self.home else [])
        )


def drain(projector: Projector, limit: int = BATCH, transient: tuple[type[BaseException], ...] = ()) -> int:
    """Pop up to ``limit`` pending repairs and re-project them; return the snippet keys written.

    On a ``transient`` error (database or Redis away) the entries go back for the next run; on
    any other error they are dropped (the pages ask again after their rate-limit window) so one
    bad entry cannot block the queue, and the error is re-raised.
    """
    client, keys = projector.writer.client, projector.keys
    popped = client.spop(keys.repair_pending, limit)
    if not popped:
        return 0
    todo = Repairs.parse(popped)  # type: ignore[arg-type]  # with a count SPOP answers a list; redis's stub says set
    if todo.ignored:
        log.warning("repair entries ignored", extra={"entries": todo.ignored[:20]})
    try:
        gens = projector.writer.target_generations()
        client.sadd(keys.generations, gens[0])  # a recreated generation 1 must be known to be collected
        written = 0
        if todo.navigation:
            written += projector.navigation(gens)
        if todo.labels and not todo.navigation:  # the navigation brings the labels too
            written += projector.labels(gens)
        if todo.skus:  # a variant's page misses its pointer under the variant's SKU: project its product
            written += projector.products(projector.product_skus(todo.skus), PRODUCT_KINDS, gens)
        if todo.home:
            written += projector.home(gens)
    except transient:
        again = todo.entries()
        if again:
            client.sadd(keys.repair_pending, *again)
        raise
    log.info(
        "repaired",
        extra={
            "skus": len(todo.skus),
            "navigation": todo.navigation,
            "labels": todo.labels,
            "home": todo.home,
            "keys_written": written,
        },
    )
    return written
