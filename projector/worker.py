"""The worker module: ``celery -A projector.worker worker`` (or ``snipshop worker``)."""
import logging

from projector.celery_app import make_celery
from projector.tasks import register
from snipshop import config, logs

logs.configure()
# Two lines per task (received, succeeded) cost more than a stock projection; retries and
# failures still log.
logging.getLogger("celery.worker.strategy").setLevel(logging.WARNING)
logging.getLogger("celery.app.trace").addFilter(lambda record: "succeeded in" not in record.getMessage())
app = make_celery(config.load())
register(app)
