"""Structured logs: one JSON object per line on stdout, for every role.

Every line names the image revision (``SNIPSHOP_REVISION``), the instance (``SNIPSHOP_INSTANCE``,
else the host name: in a container, the container's) and, inside a web request, the request id
(web/revision.py), so lines of many containers can be told apart and a request followed.
"""

from __future__ import annotations

import logging
import logging.config
from contextvars import ContextVar
from typing import Any

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


#: The servers' own loggers (granian's, gunicorn's): their lines go through the root's JSON handler.
SERVER_LOGGERS = ("_granian", "gunicorn.error")
#: The servers' access logs, replaced by web/revision.py's line per request (with the request id).
SERVER_ACCESS_LOGGERS = ("granian.access", "gunicorn.access")


def dict_config(settings: Settings, level: str = "INFO") -> dict[str, Any]:
    """The logging configuration of every role, as :func:`logging.config.dictConfig` takes it; the
    web servers take it too (entrypoints/serve.py), so their own lines are JSON as well."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"origin": {"()": Origin, "revision": settings.revision, "host": settings.instance}},
        "formatters": {
            "json": {
                "()": JsonFormatter,
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(revision)s %(host)s %(request_id)s",
                "rename_fields": {"asctime": "time", "levelname": "level"},
            }
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "json",
                "filters": ["origin"],
            }
        },
        "root": {"level": level, "handlers": ["stdout"]},
        "loggers": {
            **{name: {"handlers": [], "propagate": True} for name in SERVER_LOGGERS},
            **{name: {"handlers": [], "propagate": False, "level": "WARNING"} for name in SERVER_ACCESS_LOGGERS},
        },
    }


def configure(level: str = "INFO", settings: Settings | None = None) -> None:
    logging.config.dictConfig(dict_config(settings if settings is not None else config.load(), level))
