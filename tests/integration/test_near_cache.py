"""The edge's near cache against a real Redis: served from memory, dropped on the projector's
invalidation, never re-filled by a fetch that raced an invalidation, paused without its channel."""

from __future__ import annotations

from functools import partial

import pytest
import redis

from projector.render import Snippet
from projector.store import SnippetWriter
from snipshop import redis_clients
from tests.processes import wait_until
from vocab.keys import Context, KeyScheme, Kind
from web.edge.nearcache import ENTRY_OVERHEAD, NearCache
from web.edge.snippets import SnippetReader

pytestmark = pytest.mark.integration
CTX = Context("en_US", "EUR")
KEYS = KeyScheme()


@pytest.fixture
def store(settings):
    client = redis.Redis.from_url(settings.redis_url)
    return client, SnippetWriter(client, KEYS, 3600)


def listening(settings, max_bytes: int = 2**20, max_age: float = 60) -> NearCache:
    cache = NearCache(partial(redis_clients.subscriber, settings), KEYS.invalidations, max_bytes, max_age)
    cache.fetch(redis.Redis.from_url(settings.redis_url), ["warm-up"])  # starts the listener
    wait_until(lambda: cache.listening, timeout=5, what="the invalidation subscription")
    return cache


def price(sku: str, version: int, amount: str, ttl: int | None = None) -> Snippet:
    return Snippet(Kind.PRICE, CTX, sku, version, f"<b>{amount}</b>", ttl)


def key(sku: str) -> str:
    return KEYS.snippet(1, Kind.PRICE, CTX, sku)


def test_values_come_from_memory_until_the_projector_changes_them(settings, store):
    client, writer = store
    writer.write([price("A", 1, "1.00")], [1])
    cache = listening(settings)
    assert cache.fetch(client, [key("A"), key("none")]) == [b"1\n<b>1.00</b>", None]
    client.set(key("A"), b"1\n<b>behind its back</b>")  # not through the guarded write: not announced
    assert cache.fetch(client, [key("A")]) == [b"1\n<b>1.00</b>"]
    assert cache.stats()["hits"] == 1

    writer.write([price("A", 2, "2.00")], [1])  # announced in the same script call
    wait_until(
        lambda: cache.fetch(client, [key("A")]) == [b"2\n<b>2.00</b>"],
        timeout=5,
        interval=0.001,
        what="the invalidated value replaced",
    )
    hits = cache.stats()["hits"]
    assert cache.fetch(client, [key("A")]) == [b"2\n<b>2.00</b>"]
    assert cache.stats()["hits"] == hits + 1  # the new value is kept again


def test_rewriting_the_same_value_and_writing_new_keys_announce_nothing(settings, store):
    client, writer = store
    writer.write([price("B", 1, "1.00")], [1])
    pubsub = client.pubsub()
    pubsub.subscribe(KEYS.invalidations)
    assert pubsub.get_message(timeout=5)["type"] == "subscribe"  # the subscription confirmed
    writer.write([price("B", 1, "1.00"), price("C", 1, "3.00")], [1])  # refresh of B, new C
    writer.write([price("B", 0, "0.50")], [1])  # older: refused
    writer.write([price("B", 2, "2.00")], [1])
    client.publish(KEYS.invalidations, "end")  # after the writes: whatever they announced comes before it
    assert pubsub.get_message(timeout=5)["data"] == key("B").encode()
    assert pubsub.get_message(timeout=5)["data"] == b"end"


def test_a_fetch_that_raced_an_invalidation_keeps_nothing(settings, store):
    client, writer = store
    writer.write([price("D", 1, "1.00")], [1])
    cache = listening(settings)

    class Racing(redis.Redis):
        """A fetch whose reply is read after the projector changed the key and the edge heard of it."""

        def pipeline(self, *args, **kwargs):
            pipe = super().pipeline(*args, **kwargs)
            execute = pipe.execute

            def late():
                replies = execute()
                seq = cache._seq
                writer.write([price("D", 2, "2.00")], [1])
                wait_until(lambda: cache._seq > seq, timeout=5, interval=0.001, what="the invalidation")
                return replies

            pipe.execute = late
            return pipe

    racing = Racing.from_url(settings.redis_url)
    assert cache.fetch(racing, [key("D")]) == [b"1\n<b>1.00</b>"]  # what Redis said at the time
    assert cache.stats()["entries"] == 0
    assert cache.fetch(client, [key("D")]) == [b"2\n<b>2.00</b>"]


def test_without_its_channel_the_cache_empties_and_keeps_nothing_until_it_is_back(settings, store):
    client, writer = store
    writer.write([price("E", 1, "1.00")], [1])
    cache = listening(settings)
    cache.fetch(client, [key("E")])
    assert cache.stats()["entries"] == 1
    client.client_kill_filter(_type="pubsub")
    wait_until(lambda: not cache.listening, timeout=5, interval=0.01, what="the lost channel noticed")
    assert cache.stats()["entries"] == 0
    cache.fetch(client, [key("E")])
    assert cache.stats()["entries"] == 0 or cache.listening  # nothing kept while deaf
    wait_until(lambda: cache.listening, timeout=10, what="the channel back")
    cache.fetch(client, [key("E")])
    assert cache.stats()["entries"] == 1


def test_an_entry_dies_with_its_key(settings, store):
    client, writer = store
    cache = listening(settings)
    writer.write([price("F", 1, "9.99", ttl=3)], [1])  # a special offer ending in three seconds
    assert cache.fetch(client, [key("F")]) == [b"1\n<b>9.99</b>"]
    assert cache.stats()["entries"] == 1
    # Redis ends the key (nobody announces it); from then on the near cache must not answer it either.
    wait_until(lambda: not client.exists(key("F")), timeout=10, interval=0.01, what="the key's TTL to end")
    assert cache.fetch(client, [key("F")]) == [None]


def test_the_byte_budget_drops_the_oldest_entries(settings, store):
    client, writer = store
    writer.write([price(f"G{i}", 1, "x" * 1000) for i in range(10)], [1])
    cache = listening(settings, max_bytes=3 * (1000 + 20 + ENTRY_OVERHEAD))
    cache.fetch(client, [key(f"G{i}") for i in range(10)])
    assert cache.stats()["entries"] == 3 and cache.stats()["bytes"] <= cache.max_bytes
    assert set(cache._entries) == {key(f"G{i}") for i in (7, 8, 9)}


def test_the_reader_empties_the_cache_when_the_live_generation_changes(settings, store):
    client, writer = store
    client.set(KEYS.live, 1)
    writer.write([price("H", 1, "1.00")], [1])
    cache = listening(settings)
    reader = SnippetReader(client, KEYS, pointer_ttl=0, cache=cache)
    assert reader.live_generation() == 1
    reader.fetch([key("H")])
    assert cache.stats()["entries"] == 1
    client.set(KEYS.live, 2)
    assert reader.live_generation() == 2 and cache.stats()["entries"] == 0
