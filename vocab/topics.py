"""What changed, as the write side records it and the projector acts on it, and the queues the
projection tasks wait in.

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


class Queue(StrEnum):
    """A broker list (Celery's Redis transport) tasks wait in: one per kind of work, so a burst of
    one kind never delays another (docs/queues.md). Which task goes where is declared once, in
    projector/celery_app.py (``task_routes``); a worker serves the queues it is started with."""

    STOCK = "stock"  # stock levels: the busiest by far (a warehouse's movements, batched per sweep)
    PRICES = "prices"  # prices and offers, and the offer timers that start and end offers
    CATALOG = "catalog"  # categories, product texts, attribute labels; read-repair
    CONTROL = "control"  # the scheduler's steering tasks: the outbox relay sweep, the canary watch
    REBUILD = "rebuild"  # bulk background work: the periodic refresh of every product, outbox pruning


#: Every queue, in the order a worker started for all of them lists them.
QUEUES: tuple[Queue, ...] = tuple(Queue)


def parse_queues(value: str) -> tuple[Queue, ...]:
    """Queues from a comma-separated list of names (``stock`` or ``prices,catalog,control``);
    ``all`` (or an empty list) is every queue. An unknown name is a ValueError naming the known ones."""
    names = [v.strip().lower() for v in value.split(",") if v.strip()]
    if not names or names == ["all"]:
        return QUEUES
    known = {q.value: q for q in Queue}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown queue {', '.join(unknown)}; the queues are {', '.join(known)} (or all)")
    return tuple(dict.fromkeys(known[n] for n in names))


#: The queues the outbox's projection tasks wait in (the relay sends only to these).
PROJECTION_QUEUES: tuple[Queue, ...] = (Queue.STOCK, Queue.PRICES, Queue.CATALOG)
