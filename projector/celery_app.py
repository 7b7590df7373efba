"""The Celery application, built from Settings (no module-level configuration), and the outbox
relay's sender that turns a topic's keys into a projection task."""

from __future__ import annotations

import time

from celery import Celery

from catalog.relay import Send
from projector import broker
from snipshop.config import Settings
from vocab.topics import PROJECTION_QUEUE, Topic

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
#: How often the scheduler looks for offers that start or end: the worst-case start delay.
TIMER_INTERVAL_SECONDS = 0.5
#: How often the scheduler drains the edge's read-repair requests.
REPAIR_INTERVAL_SECONDS = 1.0


def make_celery(settings: Settings) -> Celery:
    app = Celery("snipshop", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,  # a task killed mid-way is delivered again
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=4,
        task_default_queue=PROJECTION_QUEUE,
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
            "relay-sweep": {"task": RELAY_SWEEP, "schedule": settings.relay_interval_seconds},
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
