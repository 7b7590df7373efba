"""The worker module: ``celery -A entrypoints.worker worker`` (or ``snipshop worker``; ``beat`` for
the scheduler). The app and its tasks come from :func:`entrypoints.bootstrap.worker_app`.

Both roles answer ``/metrics`` on a port of their own (``WORKER_METRICS_PORT``,
``SCHEDULER_METRICS_PORT``) from their main process: the worker sums its pool processes' metric
files (snipshop/metrics.py), the scheduler adds the pipeline's gauges read at each scrape
(projector/pipeline_metrics.py)."""

import logging
import sys

from celery.signals import beat_init, worker_init

from entrypoints.bootstrap import pipeline_collector, worker_app
from snipshop import config, logs, metrics

settings = config.load()
# Before any metric exists: the prefork pool's processes inherit the directory.
metrics.prepare(settings, "scheduler" if {"beat", "scheduler"} & set(sys.argv) else "worker")
logs.configure(settings=settings)
# Two lines per task (received, succeeded) cost more than a stock projection; retries and
# failures still log.
logging.getLogger("celery.worker.strategy").setLevel(logging.WARNING)
logging.getLogger("celery.app.trace").addFilter(lambda record: "succeeded in" not in record.getMessage())
app = worker_app(settings)


@worker_init.connect
def _worker_metrics(**_kwargs) -> None:
    metrics.serve(settings, settings.worker_metrics_port)


@beat_init.connect
def _scheduler_metrics(**_kwargs) -> None:
    metrics.serve(settings, settings.scheduler_metrics_port, pipeline_collector(settings))
