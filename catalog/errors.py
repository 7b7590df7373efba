"""Errors of the write side: what went wrong, in the write side's terms.

The write side knows nothing of HTTP: the admin app maps each class to a status
(web/admin/problems.py), the feed import reports the message with the rejected row.
"""


class CatalogError(Exception):
    """Base of every error a write command raises on purpose."""


class NotFound(CatalogError):
    """The thing to change does not exist."""


class Invalid(CatalogError):
    """The request is well-formed but refers to something that does not fit (unknown category, cycle)."""


class Conflict(CatalogError):
    """The change contradicts the current state (stock would go negative)."""


class Unavailable(CatalogError):
    """The database cannot be reached; nothing was written."""
