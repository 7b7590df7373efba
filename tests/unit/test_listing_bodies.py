"""Listing bodies kept while their search result and snippet values are the very objects they
were built from (web/edge/listing_pages.py :class:`Assembled`)."""

from search.query import Result
from web.edge.listing_pages import Assembled


def test_a_body_is_reused_only_for_the_same_result_and_values():
    bodies = Assembled(max_entries=8)
    result = Result(("A", "B"), 2)
    raw = [b"1\nframe", b"1\nlabels", b"1\ntile A", None]
    bodies.keep("slot", result, raw, "<body>")
    assert bodies.get("slot", result, list(raw)) == "<body>"  # same objects, another list
    assert bodies.get("slot", Result(("A", "B"), 2), raw) is None  # an equal result, not the kept one
    assert bodies.get("slot", result, [*raw[:2], bytes(bytearray(raw[2])), None]) is None  # a value fetched anew
    assert bodies.get("slot", result, raw[:3]) is None
    assert bodies.get("other", result, raw) is None


def test_the_oldest_bodies_go_first():
    bodies = Assembled(max_entries=2)
    result, raw = Result((), 0), [b"x"]
    for slot in ("a", "b", "c"):
        bodies.keep(slot, result, raw, slot)
    assert [bodies.get(s, result, raw) for s in ("a", "b", "c")] == [None, "b", "c"]
