"""Telling the edges that listings may have changed: the invalidation of their search results.

Each edge process keeps search results and whole listing pages until it is told that they may be
out of date (web/edge/listing_epochs.py). The projector tells it, on the pub/sub channel
``{prefix}:listings:changed`` (docs/keys.md):

* **After writing search documents** (:meth:`ListingAnnouncer.indexed`, called by
  ``Projector.store`` once the index has them): for each product it compares a digest of what
  listings depend on with the one stored when the product was last indexed in that generation
  (hash ``{prefix}:{gen}:listed``, version-guarded like the documents: listing_digests.lua). When
  one differs, and the generation is one shoppers read (the live one or a running canary's), it
  publishes the generation number. Generations being built are left out: nobody reads them yet,
  and their switch is announced.
* **After a switch** of the live or the canary search generation (:meth:`ListingAnnouncer.switched`):
  ``*``, every result an edge kept was read from another index.

What listings depend on, and so the digest: visibility, categories, brand, attributes and variant
options, names and descriptions (the search text and the name order), the creation time (newest
first), the price a shopper pays per currency (price filter and sort; a variant's own for the
same-variant rule) and whether each sellable is in stock (``in_stock=1``, its facet counts). Not
in it: the source version, and ``low_stock`` against ``in_stock`` — a stock movement that keeps a
product available changes its badge (a snippet, invalidated on its own channel) but no search
answer, so it wipes nothing. The pointers of the live and canary generations are read after the
digests are compared, so a generation that went live meanwhile is either announced here or was
not yet live when the index had the document (then the switch's own announcement covers it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from decimal import Decimal
from importlib.resources import files

import redis

from search.documents import SearchDocument
from vocab.keys import CanaryRecord, KeyScheme

DIGESTS = files("projector").joinpath("listing_digests.lua").read_text()
DOCS_PER_CALL = 200  # one script call compares this many digests
SWITCHED = "*"


def _money(prices: dict[str, Decimal]) -> list[tuple[str, str]]:
    return sorted((currency, str(amount.normalize())) for currency, amount in prices.items())


def digest(doc: SearchDocument) -> str:
    """What search answers read of ``doc`` (see the module docstring), hashed."""
    parts = (
        doc.visible,
        doc.created_at,
        doc.brand,
        doc.category_paths,
        sorted(doc.attributes.items()),
        sorted(doc.names.items()),
        sorted(doc.descriptions.items()),
        _money(doc.prices),
        doc.in_stock,
        [(v.sku, sorted(v.options.items()), _money(v.prices), v.in_stock) for v in doc.variants],
    )
    return hashlib.blake2b(repr(parts).encode(), digest_size=12).hexdigest()


class ListingAnnouncer:
    def __init__(self, client: redis.Redis, keys: KeyScheme) -> None:
        self.client = client
        self.keys = keys
        self._digests = client.register_script(DIGESTS)

    def indexed(self, documents: Sequence[SearchDocument], generations: Sequence[int]) -> list[int]:
        """Compare and store the digests of ``documents`` (just indexed in ``generations``);
        announce the generations shoppers read whose listings may have changed. Returns those."""
        if not documents or not generations:
            return []
        digests = [(doc.sku, doc.version, digest(doc)) for doc in documents]
        pipe = self.client.pipeline(transaction=False)
        calls: list[int] = []
        for gen in generations:
            for start in range(0, len(digests), DOCS_PER_CALL):
                args = [v for sku, version, d in digests[start : start + DOCS_PER_CALL] for v in (sku, version, d)]
                self._digests(keys=[self.keys.listing_digests(gen)], args=args, client=pipe)
                calls.append(gen)
        # After the comparison (see the module docstring); two GETs, not an MGET: the pointers are in
        # different slots on a cluster, where a pipeline takes no MGET.
        pipe.get(self.keys.live)
        pipe.get(self.keys.canary)
        *changed, live, canary = pipe.execute()
        record = CanaryRecord.decode(canary)
        read = {int(live)} if live is not None else set()
        if record is not None:
            read.add(record.generation)
        announce = sorted({gen for gen, flag in zip(calls, changed, strict=True) if flag and gen in read})
        if announce:
            self.client.publish(self.keys.listing_changes, "\n".join(map(str, announce)))
        return announce

    def switched(self) -> None:
        """The live or the canary search generation changed: every kept result is out of date."""
        self.client.publish(self.keys.listing_changes, SWITCHED)
