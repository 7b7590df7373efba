"""Listing bodies kept while their search result is the very object they were built from and the
near cache still holds the very entries (web/edge/listing_bodies.py)."""

import os

from search.query import Result
from web.edge.listing_bodies import ListingBodies
from web.edge.nearcache import NearCache

KEYS = ["frame", "labels", "tile:A"]


def near_holding(values: list[bytes]) -> NearCache:
    """A near cache listening (by hand: no thread, no Redis) with ``values`` under KEYS."""
    near = NearCache("redis://unused", "ss:invalidate", 2**20, 60)
    near._pid, near.listening = os.getpid(), True
    near._keep(near._seq, KEYS, values, [-1] * len(values), __import__("time").monotonic())
    return near


def test_a_body_is_reused_only_for_the_same_result_and_held_snippets():
    values = [b"1\nframe", b"1\nlabels", b"1\ntile A"]
    near = near_holding(values)
    bodies = ListingBodies(near)
    result = Result(("A",), 1)
    raw = near.fetch(None, KEYS)  # type: ignore[arg-type]  # all held: Redis is not asked
    bodies.keep("slot", result, KEYS, raw, "Bags", "<body>")
    kept = bodies.get("slot", result)
    assert kept is not None and (kept.html, kept.title, kept.frame) == ("<body>", "Bags", values[0])
    assert bodies.get("slot", Result(("A",), 1)) is None  # an equal result, not the kept one
    assert bodies.get("other", result) is None
    near.invalidate(["tile:A"])  # the projector changed a tile
    assert bodies.get("slot", result) is None


def test_values_not_from_the_near_cache_are_not_kept():
    near = near_holding([b"1\nframe", b"1\nlabels", b"1\ntile A"])
    bodies = ListingBodies(near)
    result = Result(("A",), 1)
    bodies.keep("slot", result, KEYS, [b"1\nframe", b"1\nlabels", bytes(bytearray(b"1\ntile A"))], "t", "<b>")
    assert bodies.get("slot", result) is None
    near.listening = False
    raw = [near._entries[k][0] for k in KEYS]
    bodies.keep("slot", result, KEYS, raw, "t", "<b>")
    assert bodies.get("slot", result) is None


def test_the_oldest_bodies_go_first():
    near = near_holding([b"1\nframe", b"1\nlabels", b"1\ntile A"])
    bodies = ListingBodies(near, max_entries=2)
    result = Result((), 0)
    raw = [near._entries[k][0] for k in KEYS]
    for slot in ("a", "b", "c"):
        bodies.keep(slot, result, KEYS, raw, slot, slot)
    assert [b.html if (b := bodies.get(s, result)) else None for s in ("a", "b", "c")] == [None, "b", "c"]
