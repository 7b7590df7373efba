"""The worker module: ``celery -A projector.worker worker`` (or ``snipshop worker``)."""
from projector.celery_app import make_celery
from projector.tasks import register
from snipshop import config, logs

logs.configure()
app = make_celery(config.load())
register(app)
