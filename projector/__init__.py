"""Projection: Celery workers turn write-side changes into snippets and search documents.

Importing this package imports nothing heavy: the edge uses :mod:`projector.keys` and
:mod:`projector.store` alone.
"""
