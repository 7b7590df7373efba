"""Read-repair requests as the edge writes them and the projector reads them.

The edge adds one entry per thing a page missed to the pending set (``KeyScheme.repair_pending``);
the ``projector.repair`` task pops them. An entry is ``kind:id``: ``product:SKU`` (a product's SKU,
or a variant's, whose product the projector then projects), ``navigation:_`` (frames, category
headers and attribute labels), ``labels:_`` (the attribute labels alone), ``home:_``. SKUs and ``_``
hold no colon.
"""

from __future__ import annotations

from vocab.keys import SHOP_WIDE

PRODUCT = "product"
NAVIGATION = "navigation"
HOME = "home"
LABELS = "labels"
Thing = tuple[str, str]  # (kind, id)
NAVIGATION_THING: Thing = (NAVIGATION, SHOP_WIDE)
HOME_THING: Thing = (HOME, SHOP_WIDE)
LABELS_THING: Thing = (LABELS, SHOP_WIDE)


def product(sku: str) -> Thing:
    return (PRODUCT, sku)


def entry(thing: Thing) -> str:
    """The pending-set member of a thing: ``kind:id``."""
    return f"{thing[0]}:{thing[1]}"


def parse_entry(text: str) -> Thing:
    """``(kind, id)`` of a pending-set member (the kind is not checked here)."""
    kind, _, ident = text.partition(":")
    return kind, ident
