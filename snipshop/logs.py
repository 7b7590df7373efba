"""Structured logs: one JSON object per line on stdout, for every role.

Every line names the image revision (``SNIPSHOP_REVISION``), the instance (``SNIPSHOP_INSTANCE``,
else the host name: in a container, the container's) and, inside a web request, the request id
(web/revision.py), so lines of many containers can be told apart and a request followed.
"""

from __future__ import annotations

import json
import logging
import logging.config
import sys
import threading
import time
from contextvars import ContextVar
from typing import Any

import orjson
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
#: The logger whose level decides whether :class:`AccessLog` writes (its lines carry this name).
ACCESS = "snipshop.access"


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


class AccessLog:
    """One JSON line per web request (web/revision.py calls it), with the fields every other line
    has (:func:`dict_config`'s format: time, level, name, message, revision, host, request_id),
    then the method, path, status and duration.

    The line is made with orjson and written to stdout at once, without a LogRecord, the filter and
    the JSON formatter, which cost 23 µs of CPU per line, a shopper's whole page kept by the edge
    about 30 µs; this costs about 4. The logging configuration still decides: nothing is written
    unless the ``snipshop.access`` logger is enabled for INFO, so a process that configured no
    logging writes no access lines, and setting that logger's level turns them off.
    """

    def __init__(self, revision: str, host: str) -> None:
        self.logger = logging.getLogger(ACCESS)
        self.fixed = {"level": "INFO", "name": ACCESS, "message": "request", "revision": revision, "host": host}
        self._lock = threading.Lock()  # whole lines from the admin app's threads
        self._second = -1
        self._prefix = ""

    def __call__(self, request_id: str, method: str | None, path: str | None, status: int | None, ms: float) -> None:
        if not self.logger.isEnabledFor(logging.INFO):
            return
        record = {
            "time": self._time(time.time()),
            **self.fixed,
            "request_id": request_id,
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": ms,
        }
        try:
            line = orjson.dumps(record).decode()
        except TypeError:  # a lone surrogate in a path: the standard library writes it escaped
            line = json.dumps(record)
        try:
            with self._lock:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
        except (OSError, ValueError):  # stdout gone (a closed pipe or file): the shopper still gets the page
            pass

    def _time(self, now: float) -> str:
        """``now`` as the formatter's ``asctime`` writes it (local time, milliseconds after a comma)."""
        second = int(now)
        if second != self._second:
            self._second, self._prefix = second, time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
        return f"{self._prefix},{int((now - second) * 1000):03d}"
