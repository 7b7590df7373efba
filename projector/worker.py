"""The worker module: ``celery -A projector.worker worker`` (or ``snipshop worker``)."""
import logging

from projector.celery_app import make_celery
from projector.tasks import register
from snipshop import config, logs

logs.configure()
# One line per task from Celery's tracer costs more than a stock projection; failures still log.
logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
app = make_celery(config.load())
register(app)
