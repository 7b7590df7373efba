"""Text analysis for the embedded index (pure): folding, terms with stems, name sort ranks.

Documents and queries go through the same steps, so whatever a document's text becomes, the same
words typed by a shopper become too:

1. **fold**: casefold, NFKD, drop combining marks (``Crème`` -> ``creme``, ``Häuser`` ->
   ``hauser``, ``Straße`` -> ``strasse``); non-Latin letters stay (``кроссовки``, ``παπουτσια``);
2. **split** into words (``\\w+``); Chinese and Japanese characters become one term each, since
   those scripts do not separate words with spaces;
3. **stem** each word with the Snowball stemmer of the locale's language, where there is one
   (``running`` -> ``run``, ``hauser`` -> ``haus``, ``schuhe`` -> ``schuh``).

A :class:`Term` keeps the folded word (the *surface*, for prefix matching) and its stem (the key
of the inverted index).
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left
from functools import lru_cache
from typing import NamedTuple

import snowballstemmer

from search.documents import fold

CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # kana and Han ideographs
WORD = re.compile(r"\w+")
_HAS_CJK = re.compile(f"[{CJK}]")
_CJK_SPLIT = re.compile(f"[{CJK}]|[^{CJK}]+")
MAX_WORD = 64  # longer "words" are cut: nobody types them, and they bloat the vocabulary
#: ISO 639-1 language of a locale to its Snowball algorithm (others are not stemmed).
SNOWBALL = {
    "da": "danish",
    "de": "german",
    "en": "english",
    "es": "spanish",
    "fi": "finnish",
    "fr": "french",
    "it": "italian",
    "nl": "dutch",
    "nb": "norwegian",
    "no": "norwegian",
    "pt": "portuguese",
    "ru": "russian",
    "sv": "swedish",
}


class Term(NamedTuple):
    surface: str
    stem: str


def words(text: str) -> list[str]:
    """Folded words of ``text``; every CJK character is a word of its own."""
    folded = fold(text)
    found = WORD.findall(folded)
    if not folded.isascii() and _HAS_CJK.search(folded):
        found = [part for word in found for part in _CJK_SPLIT.findall(word)]
    if len(folded) > MAX_WORD and max(map(len, found), default=0) > MAX_WORD:
        found = [word[:MAX_WORD] for word in found]
    return found


_local = threading.local()  # Snowball stemmers keep state while stemming: one per thread


def _stemmer(algorithm: str):
    cache = _local.__dict__.setdefault("stemmers", {})
    if algorithm not in cache:
        cache[algorithm] = snowballstemmer.stemmer(algorithm)
    return cache[algorithm]


def stemmer_for(locale: str) -> str | None:
    """The Snowball algorithm for a locale such as ``de_DE``, or None."""
    return SNOWBALL.get(locale.split("_")[0].split("-")[0].lower())


def stem(word: str, algorithm: str | None) -> str:
    return _term(word, algorithm).stem


@lru_cache(maxsize=200_000)
def _term(word: str, algorithm: str | None) -> Term:
    if algorithm is None or len(word) < 3 or not word.isalpha():
        return Term(word, word)
    return Term(word, _stemmer(algorithm).stemWord(word) or word)


def terms(text: str, locale: str) -> list[Term]:
    """Distinct terms of ``text`` in order of first occurrence."""
    algorithm = stemmer_for(locale)
    return [_term(w, algorithm) for w in dict.fromkeys(words(text))]


#: Typed words of a suggestion are compared on their first characters only, as many as
#: Elasticsearch's edge n-grams hold (search.elastic_mapping.PREFIX_MAX_GRAM).
SUGGEST_WORD = 20


def typed_words(text: str) -> list[str]:
    """The distinct words of a suggestion's text, folded and cut to :data:`SUGGEST_WORD`."""
    return list(dict.fromkeys(w[:SUGGEST_WORD] for w in words(text)))


def starts_words(typed: list[str], name: str) -> bool:
    """Is every typed word the start of some word of ``name`` (any order; at least one word)?"""
    name_words = words(name)
    return bool(typed) and all(any(w.startswith(t) for w in name_words) for t in typed)


# ----------------------------------------------------------------------------------------------
# Name ranks: a number per name whose order agrees with name_sort_key's order, so a sorted set
# scored by it orders names. It encodes the first RANK_CHARS characters only: names sharing them
# tie and are put in order by the full key at query time (embedded_query).

_ALPHABET = sorted(
    " 0123456789abcdefghijklmnopqrstuvwxyz"
    + "".join(map(chr, range(0x3B1, 0x3CA)))  # Greek α..ω
    + "".join(map(chr, range(0x430, 0x450)))
)  # Cyrillic а..я
_BASE = 2 * len(_ALPHABET) + 2  # 0 = end of name, odd = between two alphabet letters
RANK_CHARS = next(n for n in range(32, 0, -1) if _BASE**n <= 2**53)  # exact in a double


def _char_code(c: str) -> int:
    """Monotone in code point order: alphabet letters get even codes, others the odd code between."""
    i = bisect_left(_ALPHABET, c)
    return 2 * i + 2 if i < len(_ALPHABET) and _ALPHABET[i] == c else 2 * i + 1


def name_rank(sort_key: str) -> int:
    """``a < b`` implies ``name_rank(a) <= name_rank(b)``; equal ranks need the full key.

    The encoding stops after the first character outside the alphabet: two such characters may
    share a code, and then what follows them must not decide the order.
    """
    rank, exact = 0, True
    for i in range(RANK_CHARS):
        code = _char_code(sort_key[i]) if exact and i < len(sort_key) else 0
        exact = exact and code % 2 == 0 and code > 0
        rank = rank * _BASE + code
    return rank
