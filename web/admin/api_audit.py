"""What the audit log (web/backoffice/audit.py) records of an admin API write: the kind of thing
each write route changes and the path parameter that names it; the actor is ``token:NAME``.

Stock movements through the API (``postMovement``, the high-rate route a warehouse system calls
hundreds of times a second, and ``postMovements``, its batches) are not recorded here: their
trail is the ``stock_movements`` table itself (movement id, SKU, change, reason, time), and an
audit entry each (its snapshots and a
savepoint around the command, inside the lock on the product) cost a third of the route's
throughput in ``python -m bench.stock_movements``. Manual movements in the back office are
recorded with their user.
"""

from __future__ import annotations

from collections.abc import Mapping

from catalog.tokens import Principal
from web.backoffice.audit import Change

#: Write route (its operationId) → (kind of thing, path parameter naming it).
AUDITED: Mapping[str, tuple[str, str]] = {
    "putCategory": ("category", "key"),
    "putProduct": ("product", "sku"),
    "deleteProduct": ("product", "sku"),
    "putVariant": ("product", "sku"),
    "deleteVariant": ("product", "sku"),
    "putAttribute": ("attribute", "code"),
    "putPrice": ("pricing", "sku"),
    "putOffer": ("pricing", "sku"),
    "deleteOffers": ("pricing", "sku"),
    "putStock": ("stock", "sku"),
}


def api_change(route_name: str, params: Mapping[str, str], principal: Principal) -> Change | None:
    """The audit entry of a write route's call; None for a route that writes nothing."""
    found = AUDITED.get(route_name)
    if found is None:
        return None
    kind, param = found
    subject = params[param].lower() if kind == "attribute" else params[param]
    return Change(f"token:{principal.name}", "api", route_name, kind, subject)
