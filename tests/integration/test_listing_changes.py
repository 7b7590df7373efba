"""The announcement of listing changes against a real Redis: the projector's digests
(projector/listing_changes.py, listing_digests.lua) and the edge's listener
(web/edge/listing_epochs.py)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from functools import partial

import pytest
import redis

from projector.listing_changes import ListingAnnouncer
from search.documents import SearchDocument
from snipshop import redis_clients
from tests.processes import wait_until
from vocab.keys import CanaryRecord, KeyScheme
from web.edge.listing_epochs import ListingChanges

pytestmark = pytest.mark.integration
KEYS = KeyScheme()
DOC = SearchDocument(
    "A", 5, True, 1_700_000_000, "Acme", ("bags",), {"color": ("Red",)}, {"en_US": "Bag"}, {},
    {"EUR": Decimal("10.00")}, "in_stock",
)  # fmt: skip


@pytest.fixture
def client(settings):
    client = redis.Redis.from_url(settings.redis_url)
    client.set(KEYS.live, 1)
    return client


def heard(client: redis.Redis):
    pubsub = client.pubsub()
    pubsub.subscribe(KEYS.listing_changes)
    assert pubsub.get_message(timeout=5)["type"] == "subscribe"

    def messages() -> list[bytes]:
        client.publish(KEYS.listing_changes, "end")  # after whatever was announced before
        out = []
        while (m := pubsub.get_message(timeout=5)) is not None and m["data"] != b"end":
            out.append(m["data"])
        return out

    return messages


def test_only_what_listings_read_is_announced_and_older_documents_are_not(client):
    announcer, messages = ListingAnnouncer(client, KEYS), heard(client)
    assert announcer.indexed([DOC], [1]) == [1]  # new in the generation
    assert announcer.indexed([replace(DOC, version=6)], [1]) == []  # a new version, the same listing
    assert announcer.indexed([replace(DOC, version=7, availability="low_stock")], [1]) == []
    assert announcer.indexed([replace(DOC, version=8, prices={"EUR": Decimal("9")})], [1]) == [1]
    assert announcer.indexed([replace(DOC, version=4, prices={"EUR": Decimal("1")})], [1]) == []  # older: refused
    assert announcer.indexed([replace(DOC, version=8, availability="sold_out")], [1]) == [1]  # same version, rewritten
    assert messages() == [b"1", b"1", b"1"]


def test_generations_nobody_reads_are_not_announced_and_switches_are(client):
    announcer, messages = ListingAnnouncer(client, KEYS), heard(client)
    assert announcer.indexed([DOC], [1, 2]) == [1]  # 2 is being built
    assert announcer.indexed([replace(DOC, brand="Other")], [2]) == []
    client.set(KEYS.canary, CanaryRecord(2, 1, 10, 0.0, None).encode())
    assert announcer.indexed([replace(DOC, brand="Third")], [2]) == [2]  # now a canary reads it
    announcer.switched()
    assert messages() == [b"1", b"2", b"*"]
    assert client.hget(KEYS.listing_digests(2), "A").startswith(b"5 ")


def test_the_edge_listener_starts_an_epoch_per_message_and_reuses_nothing_without_its_channel(settings, client):
    changes = ListingChanges(partial(redis_clients.subscriber, settings), KEYS.listing_changes, 0.0)
    assert changes.current() is None  # starts the listener; nothing reused before it listens
    wait_until(lambda: changes.current() is not None, timeout=5, what="the subscription")
    epoch = changes.current()
    assert epoch is not None and changes.may_keep(epoch, changes.clock())
    ListingAnnouncer(client, KEYS).switched()
    wait_until(lambda: changes.current() != epoch, timeout=5, what="the announcement heard")
    assert not changes.may_keep(epoch, changes.clock())
    client.client_kill_filter(_type="pubsub")  # the channel drops
    wait_until(lambda: changes.current() is None, timeout=5, what="the listener to notice")
    wait_until(lambda: changes.current() is not None, timeout=10, what="the listener back")
