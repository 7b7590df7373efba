"""The dearest listing URL a shopper (or an attacker) can send, against an ordinary listing.

The edge bounds what one request may ask of the search engine (search/query.py): at most
``MAX_FILTERED_FACETS`` facets and ``MAX_SELECTED_VALUES`` values in all, ``MAX_WORDS`` words,
no page past ``MAX_RESULT_WINDOW``, a query string of ``MAX_QUERY_STRING`` bytes (longer: 414).
:func:`worst_paths` builds URLs that use every allowance at once, each the most expensive way
known: real facets with real values (every value's set is unioned and counted), words that are
two-letter prefixes of many words (each stands for up to 50 words in the embedded index and is
fuzzy in Elasticsearch), a price range, in-stock only, a name sort, the last reachable page of
96, and the rest of the query string filled with parameters the index does not know. Both sides
are measured on the edge with its caches off (an attacker varies the URL, so no cache helps);
the figure is how many ordinary listings one worst request costs.
"""

from __future__ import annotations

from urllib.parse import urlencode

from bench.stack import Stack
from search.query import MAX_FILTERED_FACETS, MAX_PER_PAGE, MAX_QUERY_STRING, MAX_SELECTED_VALUES, MAX_WORDS, last_page

#: The figure the suite holds the worst URL to: it may cost at most this many ordinary listings.
TARGET = 5.0

# The attributes with the most values, and their commonest values.
WIDE_FACETS = """
SELECT name, array_agg(value ORDER BY n DESC) FROM (
    SELECT name, value, count(*) AS n FROM product_attributes GROUP BY name, value) v
GROUP BY name ORDER BY count(*) DESC, name LIMIT %s
"""
# Two-letter beginnings of the most words in product names.
PREFIXES = """
SELECT left(lower(w), 2) AS p FROM product_texts, regexp_split_to_table(name, '\\W+') AS w
WHERE locale = %s AND length(w) > 3 GROUP BY p ORDER BY count(*) DESC LIMIT %s
"""


def worst_paths(stack: Stack, count: int = 10) -> list[str]:
    """``count`` different worst-case search URLs, each within the query-string limit."""
    locale = stack.settings.locales[0]
    with stack.connect() as conn:
        facets = conn.execute(WIDE_FACETS, (MAX_FILTERED_FACETS,)).fetchall()
        prefixes = [p for (p,) in conn.execute(PREFIXES, (locale, MAX_WORDS + count)) if p.isalpha()]
    per_facet = max(MAX_SELECTED_VALUES // max(len(facets), 1), 1)
    paths = []
    for i in range(count):
        params = [
            ("q", " ".join(prefixes[i : i + MAX_WORDS])),
            ("price", "1-9999"),
            ("in_stock", "1"),
            ("sort", "name"),
            ("per_page", str(MAX_PER_PAGE)),
            ("page", str(last_page(MAX_PER_PAGE))),
        ]
        params += [(name, value) for name, values in facets for value in values[:per_facet]]
        path = f"/search?{urlencode(params)}"
        n = 0
        while len(path) + 12 < len("/search?") + MAX_QUERY_STRING:
            path += f"&z{i}x{n}=1"
            n += 1
        paths.append(path)
    return paths
