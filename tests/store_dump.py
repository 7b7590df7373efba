"""Dump a snippet store so two stores can be compared key by key.

A dump holds every snippet of the live generation as ``kind:context:id → (version, body)`` and
every search document as ``sku → (version, memberships)``, both without generation numbers, so
the live store of a running shop can be compared with a fresh projection of its database
(:func:`fresh_projection`: ``projector.rebuild.rebuild`` into a separate Redis database).

The embedded search index is dumped from what its sets, sorted sets, hashes and bitmaps really
hold (not from the undo list the write script keeps), so a membership left behind by a bad
write shows up as a difference. The registries that only grow until the next rebuild (facet
values, vocabulary) and the per-generation product ids are not compared.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import redis

from snipshop.config import Settings
from vocab.keys import KeyScheme, split_value

#: Parts of the embedded index that are not one product's document (see the module docstring).
_INDEX_SKIPPED = ("meta", "idseq", "ids", "facets")
_INDEX_SKIPPED_PREFIXES = ("tmp:", "vocab:")
#: A stock change that keeps the availability state re-renders nothing (projector.service.stock),
#: so these may carry an older source version than a fresh projection while holding the same content.
STATE_ONLY_KINDS = frozenset({"avail"})


@dataclass
class Dump:
    generation: int | None
    search_generation: int | None
    #: ``kind:context:id`` → (source version, body)
    snippets: dict[str, tuple[int, str]] = field(default_factory=dict)
    #: SKU → (source version or None when no document hash exists, sorted memberships)
    documents: dict[str, tuple[int | None, tuple]] = field(default_factory=dict)
    #: snippet keys stored without a TTL (every snippet must have one)
    without_ttl: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.snippets) + len(self.documents)


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def live_generation(client: redis.Redis, keys: KeyScheme) -> int | None:
    raw = client.get(keys.live)
    return int(raw) if raw is not None else None


def dump(client: redis.Redis, settings: Settings, generation: int | None = None, search=None) -> Dump:
    """Dump the live (or the given) generation of the store behind ``client``.

    ``search``: an ``ElasticIndex`` to read documents from Elasticsearch; by default the
    embedded index in the same Redis is read.
    """
    keys = KeyScheme(settings.key_prefix)
    gen = generation if generation is not None else live_generation(client, keys)
    if gen is None:
        return Dump(None, None)
    snippets, without_ttl = _snippets(client, keys, gen)
    if search is not None and hasattr(search, "alias"):
        search_gen, documents = _elastic_documents(search)
    else:
        raw = client.get(keys.search_live)
        search_gen = int(raw) if raw is not None else None
        documents = _embedded_documents(client, keys, search_gen) if search_gen is not None else {}
    return Dump(gen, search_gen, snippets, documents, without_ttl)


def _snippets(client: redis.Redis, keys: KeyScheme, gen: int) -> tuple[dict[str, tuple[int, str]], list[str]]:
    head = f"{keys.prefix}:{gen}:"
    index = keys.search_index(gen)
    names = sorted(
        k
        for k in (_text(k) for k in client.scan_iter(match=keys.generation_pattern(gen), count=1000))
        if not k.startswith(index) and k != keys.listing_digests(gen)  # the index's and listings' own
    )
    snippets: dict[str, tuple[int, str]] = {}
    without_ttl = []
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        pipe = client.pipeline(transaction=False)
        for name in chunk:
            pipe.get(name)
            pipe.pttl(name)
        replies = pipe.execute()
        for name, raw, ttl in zip(chunk, replies[::2], replies[1::2], strict=True):
            value = split_value(raw)
            if value is None:  # expired between SCAN and GET
                continue
            snippets[name[len(head) :]] = value
            if ttl == -1:
                without_ttl.append(name)
    return snippets, without_ttl


def _embedded_documents(client: redis.Redis, keys: KeyScheme, gen: int) -> dict[str, tuple[int | None, tuple]]:
    prefix = keys.search_index(gen)
    ids = {int(v): _text(k) for k, v in client.hgetall(keys.search_ids(gen)).items()}
    versions: dict[str, int | None] = {}
    members: dict[str, set] = {}

    def add(sku: str, entry: tuple) -> None:
        members.setdefault(sku, set()).add(entry)

    for raw_key in client.scan_iter(match=keys.search_index_pattern(gen), count=1000):
        key = _text(raw_key)
        rel = key[len(prefix) :]
        if rel in _INDEX_SKIPPED or rel.startswith(_INDEX_SKIPPED_PREFIXES):
            continue
        if rel.startswith("doc:"):
            v = client.hget(key, "v")
            versions[rel[4:]] = int(v) if v is not None else None
            continue
        kind = _text(client.type(key))
        if kind == "set":
            for m in client.smembers(key):
                add(_text(m), (rel,))
        elif kind == "zset":
            for m, score in client.zrange(key, 0, -1, withscores=True):
                text = _text(m)
                if "\x00" in text:  # lex entries: "sortable\0SKU"
                    head, _, sku = text.rpartition("\x00")
                    add(sku, (rel, head))
                else:
                    add(text, (rel, score))
        elif kind == "hash":
            for sku, value in client.hgetall(key).items():
                add(_text(sku), (rel, _text(value)))
        elif kind == "string":  # facet bitmaps: bit n is the product with id n
            bits = client.get(key) or b""
            for byte_no, byte in enumerate(bits):
                for bit in range(8):
                    if byte & (0x80 >> bit):
                        n = byte_no * 8 + bit
                        add(ids.get(n, f"<id {n}>"), (rel, "bit"))
        else:
            add(f"<unexpected {kind}>", (rel,))
    skus = set(versions) | set(members)
    return {sku: (versions.get(sku), tuple(sorted(members.get(sku, ()), key=repr))) for sku in skus}


def _elastic_documents(search) -> tuple[int | None, dict[str, tuple[int | None, tuple]]]:
    from elasticsearch.helpers import scan

    gen = search.live_generation()
    if gen is None:
        return None, {}
    search.client.indices.refresh(index=search.alias)
    docs = {}
    for hit in scan(search.client, index=search.alias, query={"query": {"match_all": {}}}, version=True):
        source = hit["_source"]
        docs[hit["_id"]] = (hit.get("_version"), tuple(sorted((k, repr(v)) for k, v in source.items())))
    return gen, docs


def diff(actual: Dump, expected: Dump, *, state_only_lag: bool = True) -> list[str]:
    """Keys that differ between two dumps, one line each (empty: equal, generations ignored).

    With ``state_only_lag``, an availability snippet or a search document of ``actual`` may
    carry an older version than ``expected`` when its content is the same (see STATE_ONLY_KINDS).
    """
    out = []
    for name in sorted(set(actual.snippets) | set(expected.snippets)):
        a, e = actual.snippets.get(name), expected.snippets.get(name)
        if a == e:
            continue
        if (
            a is not None
            and e is not None
            and a[1] == e[1]
            and state_only_lag
            and name.split(":", 1)[0] in STATE_ONLY_KINDS
            and a[0] <= e[0]
        ):
            continue
        out.append(f"snippet {name}: {_short(a)} != expected {_short(e)}")
    for sku in sorted(set(actual.documents) | set(expected.documents)):
        a, e = actual.documents.get(sku), expected.documents.get(sku)
        if a == e:
            continue
        if (
            a is not None
            and e is not None
            and a[1] == e[1]
            and state_only_lag
            and a[0] is not None
            and e[0] is not None
            and a[0] <= e[0]
        ):
            continue
        out.append(f"document {sku}: {_short(a)} != expected {_short(e)}")
    return out


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 300 else text[:300] + "..."


def fresh_projection(settings: Settings, redis_url: str, search=None) -> Dump:
    """Project the database as it is now into ``redis_url`` (emptied first) and dump that.

    ``redis_url`` must name another Redis database than the shop's snippet store.
    """
    from catalog.db import make_pool
    from projector.rebuild import rebuild
    from projector.service import Projector
    from search.factory import make_search

    if redis_url == settings.redis_url:
        raise ValueError("a fresh projection needs a Redis database of its own")
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    fresh = replace(settings, redis_url=redis_url)
    pool = make_pool(settings.database_url, max_size=2, name="fresh-projection")
    pool.open(wait=True)
    try:
        index = search if search is not None else make_search(fresh, client)
        rebuild(Projector(fresh, pool, client, index), progress=False)
        return dump(client, fresh, search=index)
    finally:
        pool.close()
        client.close()


def describe(lines: Iterable[str], limit: int = 20) -> str:
    lines = list(lines)
    more = f"\n... and {len(lines) - limit} more" if len(lines) > limit else ""
    return "\n".join(lines[:limit]) + more
