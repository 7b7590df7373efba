"""Structured logs: one JSON object per line on stdout, for every role.

Every line names the image revision (``SNIPSHOP_REVISION``), the instance (``SNIPSHOP_INSTANCE``,
else the host name: in a container, the container's) and, inside a web request, the request id
(web/revision.py), so lines of many containers can be told apart and a request followed.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

from snipshop import config
from snipshop.config import Settings

#: The id of the web request this thread is serving (None outside one); set by web/revision.py.
REQUEST_ID: ContextVar[str | None] = ContextVar("snipshop_request_id", default=None)


class Origin(logging.Filter):
    """Adds ``revision``, ``host`` and ``request_id`` to every record it passes."""

    def __init__(self, revision: str, host: str) -> None:
        super().__init__()
        self.revision = revision
        self.host = host

    def filter(self, record: logging.LogRecord) -> bool:
        record.revision = self.revision
        record.host = self.host
        record.request_id = REQUEST_ID.get()
        return True


def configure(level: str = "INFO", settings: Settings | None = None) -> None:
    settings = settings if settings is not None else config.load()
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(revision)s %(host)s %(request_id)s",
            rename_fields={"asctime": "time", "levelname": "level"},
        )
    )
    handler.addFilter(Origin(settings.revision, settings.instance))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
