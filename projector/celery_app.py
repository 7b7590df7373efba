"""The Celery application, built from Settings (no module-level configuration), and the outbox
relay's sender that turns a topic's keys into a projection task.

Routing is declared here and nowhere else: :data:`ROUTES` names the queue (vocab.topics.Queue) of
every task, so the relay, dead-letter replay and ``projector`` commands send by task name and
know nothing of queues. Why each task waits where it does (docs/queues.md):

* ``stock``: stock projections only. A warehouse's burst of movements piles up here and nowhere
  else, so it never delays a price change.
* ``prices``: price and offer projections, and the offer timers, which start and end offers
  (price changes that nobody writes).
* ``catalog``: categories, product texts and attribute labels, and read-repair (which re-projects
  whatever the edge found missing).
* ``control``: the scheduler's steering tasks: the relay sweep and the canary watch. The sweep's
  work grows with the write rate (stock rows always go through it: during a burst of movements
  it dispatches hundreds of rows a sweep), so the small machine's workers run it beside the stock
  projection, away from prices; the relay's fast path (the admin API after its commit) sends
  price changes straight to ``prices`` without it.
* ``rebuild``: bulk background work: the periodic refresh and the product batches it sends, the
  hourly outbox prune. A refresh of every product never stands in front of an editor's change.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from celery import Celery
from kombu import Exchange
from kombu import Queue as KombuQueue

from catalog.relay import Send
from projector import broker
from snipshop.config import Settings
from vocab.topics import QUEUES, Queue, Topic

# Task names, shared by the relay (which sends by name) and the tasks module.
PROJECT_CATEGORIES = "projector.project_categories"
PROJECT_PRODUCTS = "projector.project_products"
PROJECT_PRICES = "projector.project_prices"
PROJECT_STOCK = "projector.project_stock"
PROJECT_ATTRIBUTES = "projector.project_attributes"
RELAY_SWEEP = "projector.relay_sweep"
REFRESH = "projector.refresh"
FIRE_TIMERS = "projector.fire_timers"
REPAIR = "projector.repair"
PRUNE_OUTBOX = "projector.prune_outbox"
WATCH_CANARY = "projector.watch_canary"
#: The queue of every task (Celery's ``task_routes``).
ROUTES: dict[str, Queue] = {
    PROJECT_STOCK: Queue.STOCK,
    PROJECT_PRICES: Queue.PRICES,
    FIRE_TIMERS: Queue.PRICES,
    PROJECT_CATEGORIES: Queue.CATALOG,
    PROJECT_PRODUCTS: Queue.CATALOG,
    PROJECT_ATTRIBUTES: Queue.CATALOG,
    REPAIR: Queue.CATALOG,
    RELAY_SWEEP: Queue.CONTROL,
    WATCH_CANARY: Queue.CONTROL,
    REFRESH: Queue.REBUILD,
    PRUNE_OUTBOX: Queue.REBUILD,
}
#: The worker groups of a small machine (2 cores), by worker name (``./dev demo``, compose.yaml,
#: the tests' and benchmarks' real workers): the stock projections and the relay sweep, whose
#: work both grow with the movements, on one worker; prices, the catalog and the background work
#: on the other. A bigger shop gives each queue workers of its own (docs/queues.md).
SMALL_MACHINE_WORKERS: dict[str, tuple[Queue, ...]] = {
    "stock": (Queue.STOCK, Queue.CONTROL),
    "main": (Queue.PRICES, Queue.CATALOG, Queue.REBUILD),
}
#: Where the refresh sends its product batches (the products task is routed to ``catalog``).
REFRESH_BATCH_QUEUE = Queue.REBUILD
#: How often the scheduler looks for offers that start or end: the worst-case start delay.
TIMER_INTERVAL_SECONDS = 0.5
#: How often the scheduler drains the edge's read-repair requests.
REPAIR_INTERVAL_SECONDS = 1.0


def make_celery(settings: Settings) -> Celery:
    app = Celery("snipshop", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,  # a task killed mid-way is delivered again
        task_reject_on_worker_lost=True,
        # One message reserved per pool process: a price task arriving behind reserved work (a
        # worker serving several queues) waits for at most one task per process, never for a
        # prefetched pile. Stock tasks carry up to 500 SKUs each, so the round trips are few.
        worker_prefetch_multiplier=1,
        # Every queue, so a worker started without a choice serves them all (snipshop worker --queues).
        task_queues=[KombuQueue(q.value, Exchange(q.value), routing_key=q.value) for q in QUEUES],
        task_default_queue=Queue.CATALOG.value,
        task_routes={name: {"queue": queue.value} for name, queue in ROUTES.items()},
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        broker_connection_timeout=2,
        broker_connection_retry_on_startup=True,
        # Publishing never blocks a writer for long: what is not sent stays in the outbox.
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2},
        broker_transport_options={"visibility_timeout": 300},
        worker_hijack_root_logger=False,
        beat_schedule={
            "relay-sweep": {
                "task": RELAY_SWEEP,
                "schedule": settings.relay_interval_seconds,
                # A sweep that waited this long is dropped: the next one sends the same rows.
                "options": {"expires": max(settings.relay_interval_seconds * 10, 2.0)},
            },
            "prune-outbox": {"task": PRUNE_OUTBOX, "schedule": 3600.0},
            "refresh": {"task": REFRESH, "schedule": float(settings.refresh_interval_seconds)},
            "offer-timers": {
                "task": FIRE_TIMERS,
                "schedule": TIMER_INTERVAL_SECONDS,
                "options": {"expires": TIMER_INTERVAL_SECONDS * 4},
            },
            "canary-watch": {
                "task": WATCH_CANARY,
                "schedule": settings.canary_check_seconds,
                "options": {"expires": settings.canary_check_seconds * 2},
            },
            "read-repair": {
                "task": REPAIR,
                "schedule": REPAIR_INTERVAL_SECONDS,
                "options": {"expires": REPAIR_INTERVAL_SECONDS * 4},
            },
        },
    )
    if settings.broker_url.startswith("redis://"):
        app.conf.broker_transport = broker.TRANSPORT  # survives a broker restart
    return app


#: The projection task of each outbox topic.
TASK_BY_TOPIC = {
    Topic.CATEGORY: PROJECT_CATEGORIES,
    Topic.PRODUCT: PROJECT_PRODUCTS,
    Topic.PRICE: PROJECT_PRICES,
    Topic.STOCK: PROJECT_STOCK,
    Topic.ATTRIBUTE: PROJECT_ATTRIBUTES,
}


def celery_sender(app: Celery) -> Send:
    """The relay's :data:`~catalog.relay.Send` on ``app``: one projection task per call."""

    def send(topic: Topic, keys: list[str], outbox_ids: list[int]) -> None:
        # sent_at lets the task measure the projection lag; outbox names the rows it acknowledges.
        app.send_task(TASK_BY_TOPIC[topic], args=[keys], kwargs={"sent_at": time.time(), "outbox": outbox_ids})

    return send


def refresh_sender(app: Celery) -> Callable[[list[str]], None]:
    """Sends one batch of the scheduled refresh (projector.refresh) to the ``rebuild`` queue."""

    def send(skus: list[str]) -> None:
        app.send_task(PROJECT_PRODUCTS, args=[skus], kwargs={"refresh": True}, queue=REFRESH_BATCH_QUEUE.value)

    return send
