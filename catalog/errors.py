"""Errors of the write side: what went wrong, in the write side's terms.

The write side knows nothing of HTTP: the admin app maps each class to a status
(web/admin/problems.py), the feed import reports the message with the rejected row.
"""

from __future__ import annotations

from dataclasses import dataclass


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


@dataclass(frozen=True)
class RowError:
    """What is wrong with one row of a batch: its index (from 0), the field, and why."""

    row: int
    field: str
    message: str
    conflict: bool = False  # the row contradicts the current state (409), not the rules (422)


class RowsRejected(CatalogError):
    """Rows of a batch cannot be applied; the batch is all or nothing, so nothing was written.

    A 409 when every problem is a conflict with the current state (a level would go negative, a
    movement id was used for another change), else a 422: the request itself must change."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = sorted(errors, key=lambda e: (e.row, e.field))
        first = self.errors[0]
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        super().__init__(f"nothing was applied: row {first.row}: {first.field}: {first.message}{more}")

    @property
    def conflict(self) -> bool:
        return all(e.conflict for e in self.errors)
