"""The Lua scripts of the embedded index, their exact sources and SHA1s, and the KEYS/ARGV of a
write (the query's are :func:`search.embedded_query.plan`'s).

Both front ends call the scripts by SHA (``EVALSHA``) and load them (``SCRIPT LOAD``) only when
Redis answers ``NOSCRIPT``; redis-py's :class:`redis.commands.core.Script` does exactly that, in
pipelines too. docs/search-sharing.md describes the calls for the PHP front end.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from importlib.resources import files

import orjson
from redis.typing import EncodableT

from search.documents import SearchDocument
from search.embedded_docs import REGISTER, VOCABULARY, memberships
from vocab.keys import IndexKey, KeyScheme

#: The files of each script, joined with a newline in this order (the query script is the set
#: algebra helpers, then the query that uses them).
SCRIPT_FILES = {
    "query": ("embedded_query_sets.lua", "embedded_query.lua"),
    "write": ("embedded_write.lua",),
}


def script_source(name: str) -> str:
    """The exact source of a script, whose SHA1 is what EVALSHA names."""
    return "\n".join(files("search").joinpath(f).read_text(encoding="utf-8") for f in SCRIPT_FILES[name])


def script_sha(name: str) -> str:
    return hashlib.sha1(script_source(name).encode("utf-8")).hexdigest()  # noqa: S324 - Redis names scripts so


def write_call(documents: Sequence[SearchDocument], locales: Iterable[str]) -> list[bytes]:
    """The call of embedded_write.lua writing ``documents``: its ARGV after the generation's prefix
    (the script's header describes them), the same for every generation. First, as JSON, the
    registry groups (each member once, however many documents share it) and per document its SKU,
    version and memberships; then each document's undo list (JSON), which the script stores as it
    comes."""
    locales = tuple(locales)
    facets: dict[str, None] = {}
    vocabulary: dict[str, dict[str, None]] = {locale: {} for locale in locales}
    written, undo = [], []
    for doc in documents:
        m = memberships(doc, locales)
        facets.update(dict.fromkeys(m.facets))
        for locale, words in m.vocabulary.items():
            vocabulary[locale].update(dict.fromkeys(words))
        written.append((doc.sku, str(doc.version), *m[:6]))  # its six kinds; registries are per call
        undo.append(orjson.dumps(m.undo()))
    groups = [(REGISTER, IndexKey.FACETS, list(facets))]
    groups += [(VOCABULARY, IndexKey.vocabulary(loc), list(words)) for loc, words in vocabulary.items()]
    return [orjson.dumps({"r": [group for group in groups if group[2]], "d": written}), *undo]


def write_args(
    documents: Sequence[SearchDocument], call: list[bytes], gen: int, keys: KeyScheme
) -> tuple[list[str], list[EncodableT]]:
    """KEYS and ARGV of the :func:`write_call` ``call`` of ``documents`` into generation ``gen``:
    the id hash, the id counter, then each document's hash; the generation's key prefix, then the call."""
    call_keys = [keys.search_ids(gen), keys.search_id_seq(gen), *(keys.search_doc(gen, doc.sku) for doc in documents)]
    return call_keys, [keys.search_index(gen), *call]
