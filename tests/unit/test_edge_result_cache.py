"""The edge's short-lived search result cache (web/edge/result_cache.py), with a counting fake engine
and a fake clock (the cache reads the time through its ``clock``)."""

from search.query import Query, Result
from web.edge.result_cache import SearchResultCache


class CountingSearch:
    def __init__(self) -> None:
        self.calls = 0

    def query(self, query: Query) -> Result:
        self.calls += 1
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


def q(**kw) -> Query:
    return Query("en_US", "EUR", category="bags", **kw)


def test_the_same_query_is_answered_once_within_its_seconds():
    engine = CountingSearch()
    results = SearchResultCache(engine, seconds=60)
    first = results.query(q(filters={"color": ("Red",), "size": ("M",)}))
    again = results.query(q(filters={"size": ("M",), "color": ("Red",)}))  # same query, other order
    assert again is first and engine.calls == 1
    assert results.query(q(filters={"color": ("Red",)}, page=2)).total == 2
    assert results.query(q(filters={"color": ("Red",)}, in_stock=True)).total == 3
    assert engine.calls == 3


def test_a_result_expires_and_zero_seconds_turns_the_cache_off():
    engine = CountingSearch()
    clock = FakeClock()
    results = SearchResultCache(engine, seconds=2, clock=clock)
    results.query(q())
    clock.advance(1.75)
    results.query(q())
    assert engine.calls == 1  # still within its seconds
    clock.advance(0.25)
    results.query(q())
    assert engine.calls == 2  # its seconds are over: asked again
    clock.advance(1.75)
    results.query(q())
    assert engine.calls == 2  # the new result is kept for its own seconds
    off = SearchResultCache(engine, seconds=0)
    off.query(q())
    off.query(q())
    assert engine.calls == 4


def test_the_oldest_results_go_first():
    engine = CountingSearch()
    results = SearchResultCache(engine, seconds=60, max_entries=2)
    for page in (1, 2, 3):
        results.query(q(page=page))
    results.query(q(page=3))
    assert engine.calls == 3
    results.query(q(page=1))  # evicted
    assert engine.calls == 4


def test_facet_names_are_kept_as_long_as_a_result():
    engine = CountingSearch()
    clock = FakeClock()
    results = SearchResultCache(engine, seconds=2, clock=clock)
    names = results.facet_names()
    clock.advance(1.75)
    assert results.facet_names() is names and engine.calls == 1
    clock.advance(0.25)
    assert results.facet_names() == {"color", "code2"} and engine.calls == 2
