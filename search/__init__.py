"""Search: product keys and facet counts for listings and full-text search.

One port (:mod:`search.port`) with two adapters: Elasticsearch (:mod:`search.elastic`) and an
embedded index on the snippet Redis (:mod:`search.embedded`) for shops without one.
"""
