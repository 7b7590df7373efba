"""The embedded search index: Redis's own sets and sorted sets on the snippet Redis, no modules.

For shops without Elasticsearch. Layout and limits: docs/search-embedded.md; keys: docs/keys.md.
Writes go through embedded_write.lua (atomic per document, version-guarded); a query is one
pipelined lookup (the live pointer, the facet registry, whether there are products with variants,
the query words) plus one embedded_query.lua call; a suggestion is a pipelined read of three
lexicographic ranges plus one HMGET of names.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import cast

import redis

from search.documents import BRAND, SearchDocument
from search.embedded_docs import FACET_SEP, LEX_SEP
from search.embedded_query import MAX_EXPANSIONS, Lookup, plan
from search.embedded_scripts import script_source, write_args, write_call
from search.embedded_text import Term, fold, starts_words, terms, typed_words
from search.query import Query, Result, Suggestion
from snipshop.redis_tools import unlink_matching
from vocab.keys import KeyScheme

DOCS_PER_CALL = 50  # one script call blocks Redis for about a millisecond
CALLS_PER_ROUND_TRIP = 20
MAX_QUERY_TERMS = 16
MAX_SUGGEST_TEXT = 100  # characters of a suggestion's text, like Elasticsearch's adapter
MAX_SUGGESTIONS = 20
#: Members read from each range of a suggestion: the bound of its cost. The order of the
#: suggestions is exact when each range holds at most this many (docs/search-embedded.md).
SUGGEST_CANDIDATES = 256


class EmbeddedIndex:
    """:class:`search.port.SearchIndex` on Redis 7 data structures (see the module docstring)."""

    visible_within = 0.0  # a write is visible when its script returns

    def __init__(self, client: redis.Redis, keys: KeyScheme, locales: Sequence[str], currencies: Sequence[str]) -> None:
        self.client = client
        self.keys = keys
        self.locales = tuple(locales)
        self.currencies = tuple(currencies)
        # Called by SHA: EVALSHA, and SCRIPT LOAD only on NOSCRIPT (search/embedded_scripts.py).
        self._write = client.register_script(script_source("write"))
        self._query = client.register_script(script_source("query"))
        #: The live generation last seen; every query re-reads the pointer in its first round
        #: trip and starts over if it moved, so a switch is seen at once, without extra trips.
        self._live: int | None = None
        #: The pointer queries read: the live one, or the canary's in a :meth:`canary_view`.
        self._pointer = keys.search_live

    # -- generations ----------------------------------------------------------------------------

    def ensure_generation(self, generation: int, bulk: bool = False) -> None:
        self.client.hsetnx(self.keys.search_meta(generation), "created_at", int(time.time()))

    def switch(self, generation: int) -> None:
        self.client.set(self.keys.search_live, generation)
        self._live = generation

    def point_canary(self, generation: int | None) -> None:
        if generation is None:
            self.client.delete(self.keys.search_canary)
        else:
            self.client.set(self.keys.search_canary, generation)

    def canary_view(self) -> EmbeddedIndex:
        view = copy.copy(self)
        view._pointer, view._live = self.keys.search_canary, None
        return view

    def live_generation(self) -> int | None:
        raw = self.client.get(self._pointer)
        self._live = int(raw) if raw is not None else None
        return self._live

    def drop(self, generation: int) -> None:
        """Delete the generation's index keys (SCAN + UNLINK; the snippets stay)."""
        unlink_matching(self.client, self.keys.search_index_pattern(generation))

    def refresh(self) -> None:
        """Nothing to do: a write is visible when its script returns."""

    def compact(self, generation: int) -> None:
        """Nothing to do: a generation's sets are as compact as they get once written."""

    # -- writes ---------------------------------------------------------------------------------

    def index(self, documents: Sequence[SearchDocument], generations: Sequence[int]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for start in range(0, len(documents), DOCS_PER_CALL):
            batch = documents[start : start + DOCS_PER_CALL]
            call = write_call(batch, self.locales)  # the same for every generation
            for gen in generations:
                keys, args = write_args(batch, call, gen, self.keys)
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
        """Two round trips: the live pointer and three lexicographic ranges (SKUs starting with
        the text, names starting with it, name words starting with the longest typed word), then
        the names to show and those of the candidates that must be checked for further words."""
        locale = locale if locale in self.locales else self.locales[0]
        text = text.strip()[:MAX_SUGGEST_TEXT]
        if not text:
            return []
        limit = min(max(limit, 1), MAX_SUGGESTIONS)
        sku_prefix, name_prefix = text.casefold(), fold(text)
        typed = typed_words(text)
        typed = [t for t in typed if not any(o != t and o.startswith(t) for o in typed)]  # "ju juno": juno
        longest = max(typed, key=len, default="")

        def reads(pipe: redis.client.Pipeline, gen: int) -> None:
            _lex_prefix(pipe, self.keys.search_sku_prefix(gen), sku_prefix, SUGGEST_CANDIDATES)
            if typed:
                _lex_prefix(pipe, self.keys.search_name_prefix(gen, locale), name_prefix, SUGGEST_CANDIDATES)
                _lex_prefix(pipe, self.keys.search_name_words(gen, locale), longest, SUGGEST_CANDIDATES)

        replies = self._with_live(reads)
        if replies is None:
            return []
        gen, (by_sku, *by_text) = replies
        group: dict[str, int] = {}  # 0: the SKU starts with the text, 1: the name, 2: word starts
        for sku in (_lex_parts(m)[1] for m in by_sku):
            if sku.casefold().startswith(sku_prefix):
                group.setdefault(sku, 0)
        unsure: dict[str, None] = {}  # start a word with the longest typed word; the others?
        if typed:
            by_name, by_word = by_text
            for key, sku in map(_lex_parts, by_name):
                if key.startswith(name_prefix):
                    group.setdefault(sku, 1)
            # A full range of names starting with the text fills the suggestions by itself.
            for word, sku in map(_lex_parts, by_word if len(by_name) < SUGGEST_CANDIDATES else ()):
                if sku not in group and word.startswith(longest):
                    if len(typed) == 1:
                        group[sku] = 2
                    else:
                        unsure[sku] = None

        def best() -> list[str]:
            return sorted(group, key=lambda sku: (group[sku], sku))[:limit]

        fetch = list(dict.fromkeys([*best(), *unsure]))
        if not fetch:
            return []
        # The snippet store's client does not decode replies: bytes, or None for a missing field.
        raw_names = cast("list[bytes | None]", self.client.hmget(self.keys.search_names(gen, locale), fetch))
        names = dict(zip(fetch, ((n or b"").decode() for n in raw_names), strict=True))
        for sku in unsure:
            if starts_words(typed, names[sku]):
                group[sku] = 2
        return [Suggestion(sku, names[sku]) for sku in best()]

    # -- helpers --------------------------------------------------------------------------------

    def _in_context(self, query: Query) -> Query:
        """Unknown locales and currencies fall back to the defaults instead of finding nothing."""
        locale = query.locale if query.locale in self.locales else self.locales[0]
        currency = query.currency if query.currency in self.currencies else self.currencies[0]
        return replace(query, locale=locale, currency=currency)

    def _lookup(self, query: Query, words: list[Term]) -> tuple[int, Lookup] | None:
        def reads(pipe: redis.client.Pipeline, gen: int) -> None:
            pipe.smembers(self.keys.search_facet_registry(gen))
            pipe.scard(self.keys.search_with_variants(gen))
            for w in words:
                pipe.exists(
                    self.keys.search_term(gen, query.locale, True, w.stem),
                    self.keys.search_term(gen, query.locale, False, w.stem),
                )
            for w in words:
                _lex_prefix(pipe, self.keys.search_vocabulary(gen, query.locale), w.surface, MAX_EXPANSIONS)

        replies = self._with_live(reads)
        if replies is None:
            return None
        gen, (registry, with_variants, *rest) = replies
        n = len(words)
        return gen, Lookup.parse(registry, words, rest[:n], rest[n:], with_variants)

    def _with_live(self, reads: Callable[[redis.client.Pipeline, int], object]) -> tuple[int, list] | None:
        """Run ``reads(pipe, gen)`` on the live generation in one round trip with the pointer."""
        gen = self._live if self._live is not None else self.live_generation()
        for _ in range(3):
            if gen is None:
                return None
            pipe = self.client.pipeline(transaction=False)
            pipe.get(self._pointer)
            reads(pipe, gen)
            live, *replies = pipe.execute()
            live = int(live) if live is not None else None
            if live == gen:
                return gen, replies
            self._live = gen = live  # switched meanwhile: read again from the new one
        return None


def _lex_parts(member: bytes) -> tuple[str, str]:
    """A lex member ``text U+0000 SKU`` as (text, SKU)."""
    text, _, sku = member.decode().rpartition(LEX_SEP)
    return text, sku


def _lex_prefix(pipe: redis.client.Pipeline, key: str, prefix: str, limit: int) -> None:
    """Members of a score-0 sorted set that start with ``prefix`` (0xFF ends every UTF-8 run)."""
    start = b"[" + prefix.encode()
    pipe.zrangebylex(key, start, start + b"\xff", start=0, num=limit)
