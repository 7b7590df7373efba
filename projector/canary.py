"""Canary generations: generation N+1 served to a share of shoppers beside the live N.

``projector rebuild --canary PERCENT`` builds N+1 as a full rebuild does, then, instead of
switching, writes the canary record (``vocab.keys.CanaryRecord`` under ``KeyScheme.canary``) and
points the search engine's canary alias at N+1. Tasks write to both generations while it runs
(``SnippetWriter.target_generations``). The edge and the PHP front end send each shopper to one
of the two by a sticky bucket (web/edge/shopper_buckets.py). ``projector promote`` switches everyone to
N+1 atomically (the live pointer and the end of the canary in one transaction, the search alias
first, as ``projector switch`` does); ``projector abort`` ends the canary and deletes N+1.
docs/canary.md is the operator's page.
"""

from __future__ import annotations

import time

from projector.service import Projector
from projector.store import delete_generation
from snipshop.redis_cluster import is_cluster
from vocab.keys import CanaryRecord

#: Percent bounds of ``--canary`` (0 would serve nobody, 100 is a switch).
MIN_PERCENT, MAX_PERCENT = 1, 99


class CanaryRunning(Exception):
    """A canary runs: promote or abort it before another full rebuild or a switch."""

    def __init__(self, record: CanaryRecord) -> None:
        self.record = record
        super().__init__(
            f"canary generation {record.generation} serves {record.percent} % of shoppers "
            f"(beside {record.base}); run `projector promote` or `projector abort` first"
        )


class NoCanary(Exception):
    """No canary runs: nothing to promote, abort or compare."""


def current_canary(projector: Projector) -> CanaryRecord | None:
    return CanaryRecord.decode(projector.writer.client.get(projector.keys.canary))


def refuse_if_running(projector: Projector) -> None:
    record = current_canary(projector)
    if record is not None:
        raise CanaryRunning(record)


def begin(projector: Projector, gen: int, percent: int) -> CanaryRecord:
    """Serve ``gen`` (fully built, ``building`` pointing at it) to ``percent`` % of shoppers.

    The record and the end of the rebuild are one transaction, so tasks never stop writing to
    ``gen`` in between (they write to live, building and canary)."""
    client, keys = projector.writer.client, projector.keys
    live = client.get(keys.live)
    record = CanaryRecord(
        gen, int(live) if live is not None else gen, percent, time.time(), projector.settings.templates_dir
    )
    if projector.search is not None:
        projector.search.point_canary(gen)  # before shoppers are sent there
    if is_cluster(client):  # the pointers are in different slots: no MULTI; in this order
        client.set(keys.canary, record.encode())
        client.delete(keys.building, keys.building_templates)
        return record
    pipe = client.pipeline(transaction=True)
    pipe.set(keys.canary, record.encode())
    pipe.delete(keys.building, keys.building_templates)
    pipe.execute()
    projector.listings.switched()
    return record


def promote(projector: Projector) -> CanaryRecord:
    """Switch everyone to the canary generation; the replaced one is kept for a rollback."""
    from projector.generations import switch_to  # generations imports this module

    record = current_canary(projector)
    if record is None:
        raise NoCanary("no canary runs: nothing to promote")
    switch_to(projector, record.generation, ending_canary=True)
    if projector.search is not None:
        projector.search.point_canary(None)
    projector.listings.switched()
    return record


def abort(projector: Projector) -> CanaryRecord:
    """Send everyone back to the live generation and delete the canary's generation."""
    client, keys = projector.writer.client, projector.keys
    record = current_canary(projector)
    if record is None:
        raise NoCanary("no canary runs: nothing to abort")
    client.delete(keys.canary)  # first: from the next pointer read on, nobody is sent there
    # Edges keep the record they read for up to POINTER_CACHE_SECONDS: until then, a shopper may
    # still be sent to the canary, whose snippets must still be there.
    time.sleep(projector.settings.pointer_cache_seconds)
    if projector.search is not None:
        projector.search.point_canary(None)
        projector.listings.switched()
        projector.search.drop(record.generation)
    if client.get(keys.live) != str(record.generation).encode():  # never the live one (promoted meanwhile)
        delete_generation(client, keys, record.generation)
        client.srem(keys.generations, record.generation)
    return record


__all__ = [
    "MAX_PERCENT",
    "MIN_PERCENT",
    "CanaryRunning",
    "NoCanary",
    "abort",
    "begin",
    "current_canary",
    "promote",
    "refuse_if_running",
]
