"""The embedded search index: Redis's own sets and sorted sets on the snippet Redis, no modules.

For shops without Elasticsearch. Layout and limits: docs/search-embedded.md; keys: docs/keys.md.
Writes go through embedded_write.lua (atomic per document, version-guarded); a query is one
pipelined lookup plus one embedded_query.lua call; a suggestion is two pipelined reads.
"""
from __future__ import annotations

import os
import time
from dataclasses import replace
from importlib.resources import files
from typing import Callable, Sequence

import redis

from projector.keys import KeyScheme
from projector.store import unlink_matching
from search.documents import BRAND, SearchDocument
from search.embedded_docs import FACET_SEP, LEX_SEP, entries
from search.embedded_query import MAX_EXPANSIONS, Lookup, plan
from search.embedded_text import Term, fold, terms
from search.query import Query, Result, Suggestion

_WRITE = files("search").joinpath("embedded_write.lua").read_text()
# One script from two files: the set algebra helpers, then the query that uses them.
_QUERY = "\n".join(files("search").joinpath(f).read_text() for f in ("embedded_query_sets.lua", "embedded_query.lua"))
DOCS_PER_CALL = 50  # one script call blocks Redis for about a millisecond
CALLS_PER_ROUND_TRIP = 20
MAX_QUERY_TERMS = 16


class EmbeddedIndex:
    """:class:`search.port.SearchIndex` on Redis 7 data structures (see the module docstring)."""

    def __init__(self, client: redis.Redis, keys: KeyScheme, locales: Sequence[str],
                 currencies: Sequence[str]) -> None:
        self.client = client
        self.keys = keys
        self.locales = tuple(locales)
        self.currencies = tuple(currencies)
        self._write = client.register_script(_WRITE)
        self._query = client.register_script(_QUERY)
        #: The live generation last seen; every query re-reads the pointer in its first round
        #: trip and starts over if it moved, so a switch is seen at once, without extra trips.
        self._live: int | None = None

    # -- generations ----------------------------------------------------------------------------

    def ensure_generation(self, generation: int) -> None:
        self.client.hsetnx(self.keys.search_meta(generation), "created_at", int(time.time()))

    def switch(self, generation: int) -> None:
        self.client.set(self.keys.search_live, generation)
        self._live = generation

    def live_generation(self) -> int | None:
        raw = self.client.get(self.keys.search_live)
        self._live = int(raw) if raw is not None else None
        return self._live

    def drop(self, generation: int) -> None:
        """Delete the generation's index keys (SCAN + UNLINK; the snippets stay)."""
        unlink_matching(self.client, self.keys.search_index_pattern(generation))

    def refresh(self) -> None:
        """Nothing to do: a write is visible when its script returns."""

    # -- writes ---------------------------------------------------------------------------------

    def index(self, documents: Sequence[SearchDocument], generations: Sequence[int]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for gen in generations:
            for start in range(0, len(documents), DOCS_PER_CALL):
                keys = [self.keys.search_ids(gen), self.keys.search_id_seq(gen)]
                args: list[object] = [self.keys.search_index(gen)]
                for doc in documents[start:start + DOCS_PER_CALL]:
                    memberships = entries(doc, gen, self.keys, self.locales)
                    keys.append(self.keys.search_doc(gen, doc.sku))
                    args += [doc.sku, doc.version, len(memberships)]
                    args += [field for entry in memberships for field in entry]
                self._write(keys=keys, args=args, client=pipe)
                if len(pipe) >= CALLS_PER_ROUND_TRIP:
                    pipe.execute()
        pipe.execute()

    # -- reads ----------------------------------------------------------------------------------

    def query(self, query: Query) -> Result:
        query = self._in_context(query)
        words = terms(query.text, query.locale)[:MAX_QUERY_TERMS]
        found = self._lookup(query, words)
        if found is None:
            return Result((), 0, ())
        gen, lookup = found
        p = plan(query, lookup, self.keys, gen, os.urandom(6).hex())
        return p.result(self._query(keys=p.keys, args=[p.argv]))

    def facet_names(self) -> frozenset[str]:
        replies = self._with_live(lambda pipe, gen: pipe.smembers(self.keys.search_facet_registry(gen)))
        registry = replies[1][0] if replies is not None else ()
        return frozenset({BRAND} | {raw.decode().partition(FACET_SEP)[0] for raw in registry})

    def suggest(self, text: str, locale: str, limit: int = 8) -> list[Suggestion]:
        locale = locale if locale in self.locales else self.locales[0]
        name_prefix, sku_prefix = fold(text).strip(), text.strip().casefold()
        if not name_prefix or limit <= 0:
            return []
        replies = self._with_live(lambda pipe, gen: (
            _lex_prefix(pipe, self.keys.search_name_prefix(gen, locale), name_prefix, limit),
            _lex_prefix(pipe, self.keys.search_sku_prefix(gen), sku_prefix, limit)))
        if replies is None:
            return []
        gen, (by_name, by_sku) = replies
        skus = list(dict.fromkeys(m.split(LEX_SEP.encode())[-1].decode() for m in by_name + by_sku))[:limit]
        names = self.client.hmget(self.keys.search_names(gen, locale), skus) if skus else []
        return [Suggestion(sku, (name or b"").decode()) for sku, name in zip(skus, names)]

    # -- helpers --------------------------------------------------------------------------------

    def _in_context(self, query: Query) -> Query:
        """Unknown locales and currencies fall back to the defaults instead of finding nothing."""
        locale = query.locale if query.locale in self.locales else self.locales[0]
        currency = query.currency if query.currency in self.currencies else self.currencies[0]
        return replace(query, locale=locale, currency=currency)

    def _lookup(self, query: Query, words: list[Term]) -> tuple[int, Lookup] | None:
        def reads(pipe: redis.client.Pipeline, gen: int) -> None:
            pipe.smembers(self.keys.search_facet_registry(gen))
            for w in words:
                pipe.exists(self.keys.search_term(gen, query.locale, True, w.stem),
                            self.keys.search_term(gen, query.locale, False, w.stem))
            for w in words:
                _lex_prefix(pipe, self.keys.search_vocabulary(gen, query.locale), w.surface, MAX_EXPANSIONS)

        replies = self._with_live(reads)
        if replies is None:
            return None
        gen, (registry, *rest) = replies
        n = len(words)
        return gen, Lookup.parse(registry, words, rest[:n], rest[n:])

    def _with_live(self, reads: Callable[[redis.client.Pipeline, int], object]) -> tuple[int, list] | None:
        """Run ``reads(pipe, gen)`` on the live generation in one round trip with the pointer."""
        gen = self._live if self._live is not None else self.live_generation()
        for _ in range(3):
            if gen is None:
                return None
            pipe = self.client.pipeline(transaction=False)
            pipe.get(self.keys.search_live)
            reads(pipe, gen)
            live, *replies = pipe.execute()
            live = int(live) if live is not None else None
            if live == gen:
                return gen, replies
            self._live = gen = live  # switched meanwhile: read again from the new one
        return None


def _lex_prefix(pipe: redis.client.Pipeline, key: str, prefix: str, limit: int) -> None:
    """Members of a score-0 sorted set that start with ``prefix`` (0xFF ends every UTF-8 run)."""
    start = b"[" + prefix.encode()
    pipe.zrangebylex(key, start, start + b"\xff", start=0, num=limit)
