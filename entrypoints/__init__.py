"""Where every process starts: the ``snipshop`` and ``projector`` commands, the HTTP servers, the
Celery worker module, and :mod:`entrypoints.bootstrap`, the one place that builds their parts.

The top of the layering: it imports everything below and nothing imports it (README, "Layout").
"""
