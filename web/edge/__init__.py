"""The edge: shopper pages assembled from snippets. Never imports catalog or psycopg."""
