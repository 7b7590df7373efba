"""Projection: Celery tasks turn write-side changes into snippets and search documents.

Reads PostgreSQL (the read model), renders, writes the snippet store (version-guarded) and the
search index. Built by entrypoints/bootstrap.py; the edge imports none of it.
"""
