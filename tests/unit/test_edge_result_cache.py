"""The edge's search result cache (web/edge/result_cache.py), reused until told: with a counting fake
engine, fake epochs (the listener of web/edge/listing_epochs.py) and a fake clock."""

import os

from search.query import Query, Result
from web.edge.listing_epochs import ListingChanges
from web.edge.result_cache import SearchResultCache


class CountingSearch:
    def __init__(self, during=None) -> None:
        self.calls = 0
        self.during = during  # called while a query runs (a change arriving meanwhile)

    def query(self, query: Query) -> Result:
        self.calls += 1
        if self.during is not None:
            self.during()
        return Result(skus=(f"S{self.calls}",), total=self.calls)

    def facet_names(self) -> frozenset[str]:
        self.calls += 1
        return frozenset({"color", f"code{self.calls}"})


class FakeClock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def unused_connection():
    raise AssertionError("the listener is not started in these tests")


def listening(clock: FakeClock, visible_within: float = 0.0) -> ListingChanges:
    """The real epoch keeping, its subscription confirmed by hand (no thread, no Redis)."""
    changes = ListingChanges(unused_connection, "ss:listings:changed", visible_within, clock)
    changes._pid = os.getpid()  # as if its listener were started
    changes.changed()
    changes.listening = True
    return changes


def q(**kw) -> Query:
    return Query("en_US", "EUR", category="bags", **kw)


def test_the_same_query_is_answered_once_until_a_change():
    engine, clock = CountingSearch(), FakeClock()
    changes = listening(clock)
    results = SearchResultCache(engine, changes, seconds=60, clock=clock)
    first = results.query(q(filters={"color": ("Red",), "size": ("M",)}))
    again = results.query(q(filters={"size": ("M",), "color": ("Red",)}))  # same query, other order
    assert again is first and engine.calls == 1
    assert results.query(q(filters={"color": ("Red",)}, page=2)).total == 2
    assert results.query(q(filters={"color": ("Red",)}, in_stock=True)).total == 3
    assert engine.calls == 3
    clock.advance(30)
    assert results.query(q(filters={"color": ("Red",), "size": ("M",)})) is first  # no change: no waiting
    changes.changed()  # the projector announced a change
    assert results.query(q(filters={"color": ("Red",), "size": ("M",)})).total == 4
    assert results.query(q(filters={"color": ("Red",), "size": ("M",)})).total == 4  # kept anew
    assert engine.calls == 4


def test_a_query_running_when_a_change_arrives_keeps_nothing():
    clock = FakeClock()
    changes = listening(clock)
    engine = CountingSearch(during=changes.changed)
    results = SearchResultCache(engine, changes, seconds=60, clock=clock)
    results.query(q())
    engine.during = None
    results.query(q())
    assert engine.calls == 2  # the first answer was not kept
    results.query(q())
    assert engine.calls == 2


def test_nothing_is_reused_while_not_listening():
    engine, clock = CountingSearch(), FakeClock()
    changes = listening(clock)
    results = SearchResultCache(engine, changes, seconds=60, clock=clock)
    results.query(q())
    changes.listening = False  # the channel dropped
    results.query(q())
    results.query(q())
    assert engine.calls == 3
    assert SearchResultCache(engine, None, seconds=60).query(q()).total == 4


def test_after_a_change_results_are_kept_only_once_the_index_shows_it():
    """Elasticsearch shows a write after its refresh: queries right after a change are answered
    but not kept."""
    engine, clock = CountingSearch(), FakeClock()
    changes = listening(clock, visible_within=2.0)
    clock.advance(2.0)
    results = SearchResultCache(engine, changes, seconds=60, clock=clock)
    changes.changed()
    clock.advance(1.5)
    results.query(q())
    results.query(q())
    assert engine.calls == 2  # within the window: not kept
    clock.advance(0.5)
    results.query(q())
    results.query(q())
    assert engine.calls == 3


def test_a_result_expires_after_its_seconds_and_zero_turns_the_cache_off():
    engine, clock = CountingSearch(), FakeClock()
    changes = listening(clock)
    results = SearchResultCache(engine, changes, seconds=60, clock=clock)
    results.query(q())
    clock.advance(59.9)
    results.query(q())
    assert engine.calls == 1
    clock.advance(0.1)
    results.query(q())
    assert engine.calls == 2
    off = SearchResultCache(engine, changes, seconds=0)
    off.query(q())
    off.query(q())
    assert engine.calls == 4


def test_the_oldest_results_go_first():
    engine, clock = CountingSearch(), FakeClock()
    results = SearchResultCache(engine, listening(clock), seconds=60, max_entries=2, clock=clock)
    for page in (1, 2, 3):
        results.query(q(page=page))
    results.query(q(page=3))
    assert engine.calls == 3
    results.query(q(page=1))  # evicted
    assert engine.calls == 4


def test_facet_names_are_kept_like_a_result():
    engine, clock = CountingSearch(), FakeClock()
    changes = listening(clock)
    results = SearchResultCache(engine, changes, seconds=60, clock=clock)
    names = results.facet_names()
    clock.advance(30)
    assert results.facet_names() is names and engine.calls == 1
    changes.changed()
    assert results.facet_names() == {"color", "code2"} and engine.calls == 2
