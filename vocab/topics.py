"""What changed, as the write side records it and the projector acts on it, and where the
projection tasks wait.

A topic names one kind of change; an outbox row (catalog/outbox.py) carries one topic and the
natural keys of the changed things. The relay (catalog/relay.py) hands each topic's keys to the
projection task for it, and the projector records its lag per topic (``projector status``).
"""

from __future__ import annotations

from enum import StrEnum


class Topic(StrEnum):
    CATEGORY = "category"  # keys: category keys; the navigation and breadcrumbs change
    PRODUCT = "product"  # keys: SKUs; text, categories, attributes or active flag changed
    PRICE = "price"  # keys: SKUs; a price or offer changed
    STOCK = "stock"  # keys: SKUs; a stock level changed
    ATTRIBUTE = "attribute"  # keys: attribute codes; their labels changed


#: The broker list (Celery's Redis transport) the projection tasks wait in.
PROJECTION_QUEUE = "projection"
