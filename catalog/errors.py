"""Errors of the write side, each mapped by the admin API to one HTTP status."""


class CatalogError(Exception):
    """Base of every error a write command raises on purpose."""

    status = 400


class NotFound(CatalogError):
    """The thing to change does not exist."""

    status = 404


class Invalid(CatalogError):
    """The request is well-formed but refers to something that does not fit (unknown category, cycle)."""

    status = 422


class Conflict(CatalogError):
    """The change contradicts the current state (stock would go negative)."""

    status = 409


class Unavailable(CatalogError):
    """The database cannot be reached; nothing was written."""

    status = 503
