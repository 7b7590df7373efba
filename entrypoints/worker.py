"""The worker module: ``celery -A entrypoints.worker worker`` (or ``snipshop worker``; ``beat`` for
the scheduler). The app and its tasks come from :func:`entrypoints.bootstrap.worker_app`."""

import logging

from entrypoints.bootstrap import worker_app
from snipshop import logs

logs.configure()
# Two lines per task (received, succeeded) cost more than a stock projection; retries and
# failures still log.
logging.getLogger("celery.worker.strategy").setLevel(logging.WARNING)
logging.getLogger("celery.app.trace").addFilter(lambda record: "succeeded in" not in record.getMessage())
app = worker_app()
