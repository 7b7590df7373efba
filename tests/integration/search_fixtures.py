"""Session fixtures for the search contract suite: both adapters loaded with the test catalog.

``index`` is parametrized over ``embedded`` (a real Redis from tests/conftest.py's
``redis_base_url``, database 7, flushed) and ``elasticsearch`` (a real node started once per
session with tools.elasticsearch, unless ELASTICSEARCH_URL points at a running one; a node that
cannot start is an error, never a skip). Each adapter gets the catalog of tests/search_data.py in
generation 1 (stale versions before and after the current ones, bulk and single writes), then
switch and refresh.

tests/conftest.py registers this module as a plugin, so every test module can ask for the fixtures.
"""

from __future__ import annotations

import contextlib
import uuid

import pytest
import redis

from tests.search_data import CURRENCIES, LOCALES, catalog

REDIS_DB = 7
KINDS = ["embedded", "elasticsearch"]
#: Text tolerance each adapter is expected to have unless it declares ``text_tolerance`` itself
#: (a set of "typo" - edit distance like fuzziness AUTO - and "prefix" - a query word may be the
#: beginning of a name word).
DEFAULT_TOLERANCE = {"embedded": frozenset({"prefix"}), "elasticsearch": frozenset({"typo"})}


@pytest.fixture(scope="session")
def search_redis(redis_base_url):
    client = redis.Redis.from_url(f"{redis_base_url}/{REDIS_DB}")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


class _Factory:
    """Makes fresh, empty adapters of one kind (own prefix each) and drops what they created."""

    def __init__(self, kind: str, request):
        self.kind = kind
        self.request = request
        self.made: list[tuple[object, set[int]]] = []
        self._es = None

    def __call__(self, tag: str = "t"):
        prefix = f"sc{tag}{uuid.uuid4().hex[:8]}".lower()
        if self.kind == "embedded":
            from search.embedded import EmbeddedIndex
            from vocab.keys import KeyScheme

            idx = EmbeddedIndex(self.request.getfixturevalue("search_redis"), KeyScheme(prefix), LOCALES, CURRENCIES)
        else:
            from elasticsearch import Elasticsearch

            from search.elastic import ElasticIndex

            if self._es is None:
                self._es = Elasticsearch(self.request.getfixturevalue("es_url"), request_timeout=30)
            idx = ElasticIndex(self._es, prefix, LOCALES, CURRENCIES)
        self.made.append((idx, set()))
        return idx

    def close(self):
        for idx, _ in self.made:
            for gen in (1, 2, 3):
                with contextlib.suppress(Exception):  # best-effort cleanup
                    idx.drop(gen)
        if self._es is not None:
            self._es.close()


def load(idx, generation: int = 1) -> None:
    """The catalog into ``generation`` of ``idx``: stale versions before and after the current
    ones (so only a working version guard yields the current data), in bulks and singly."""
    cat = catalog()
    idx.ensure_generation(generation)
    idx.ensure_generation(generation)  # idempotent
    idx.index(list(cat.stale_before), [generation])
    docs = list(cat.documents)
    for start in range(0, len(docs), 100):
        idx.index(docs[start : start + 100], [generation])
    half = len(cat.stale_after) // 2
    idx.index(list(cat.stale_after[:half]), [generation])
    for doc in cat.stale_after[half:]:
        idx.index([doc], [generation])


@pytest.fixture(
    scope="session",
    params=[pytest.param(kind, marks=[pytest.mark.elasticsearch] if kind == "elasticsearch" else []) for kind in KINDS],
)
def index_kind(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def index(index_kind, request):
    """An adapter of ``index_kind`` with the whole catalog in its live generation 1."""
    factory = _Factory(index_kind, request)
    idx = factory("main")
    assert idx.live_generation() is None
    load(idx, 1)
    idx.switch(1)
    idx.refresh()
    assert idx.live_generation() == 1
    yield idx
    factory.close()


@pytest.fixture
def make_index(index_kind, request):
    """A factory of fresh empty adapters of the current kind (cleaned up after the test)."""
    factory = _Factory(index_kind, request)
    yield factory
    factory.close()


@pytest.fixture
def text_tolerance(index, index_kind) -> frozenset[str]:
    return frozenset(getattr(index, "text_tolerance", DEFAULT_TOLERANCE[index_kind]))
