"""The metrics frame every role shares: where metric values live and how they are exposed.

Each role defines its own metrics beside the code that counts them (web/request_metrics.py and
web/edge/edge_metrics.py on the read side, projector/pipeline_metrics.py on the write side); this
module only knows processes. The servers (granian for the edge, gunicorn for the admin app, the
Celery worker's prefork pool) answer from several processes, so their counters live in
prometheus-client's multiprocess mode: :func:`prepare`, called once in the parent before any
worker starts, makes a fresh directory for this run's files (``PROMETHEUS_MULTIPROC_DIR``,
inherited by every worker) and :func:`exposition` sums them per scrape. A process that never
called :func:`prepare` (a test, a one-off command) keeps its metrics in memory.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
from pathlib import Path

from snipshop.config import Settings

#: prometheus-client reads the multiprocess directory from this variable.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: The label every metric of the shop carries: the code's revision (SNIPSHOP_REVISION).
REVISION = "revision"

log = logging.getLogger(__name__)


def prepare(settings: Settings, role: str) -> Path | None:
    """Give this run (this process and the workers it starts) a fresh multiprocess directory.

    The directory is ``<METRICS_DIR>/<role>-<pid>``, emptied at start and removed when this
    process exits; directories of runs whose process is gone are removed too (a killed server
    leaves its own behind). None, and nothing done, when metrics are off.
    """
    if not settings.metrics_enabled:
        return None
    base = Path(settings.metrics_dir or Path(tempfile.gettempdir()) / "snipshop-metrics")
    base.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(base)
    run = base / f"{role}-{os.getpid()}"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir()
    os.environ[MULTIPROC_ENV] = str(run)
    from prometheus_client import values

    # prometheus-client chose its value class when it was imported; choose again now the
    # directory is set, so that metrics made from here on (in this process and its forks) use it.
    values.ValueClass = values.MultiProcessValue()
    owner = os.getpid()

    def remove() -> None:  # forked workers inherit the hook: only the run's owner removes it
        if os.getpid() == owner:
            shutil.rmtree(run, ignore_errors=True)

    atexit.register(remove)
    return run


def _remove_abandoned(base: Path) -> None:
    for path in base.iterdir():
        _, _, pid = path.name.rpartition("-")
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def registry(*collectors):
    """The registry a scrape reads: every process's files in multiprocess mode, else this
    process's own metrics; plus ``collectors`` (objects with a ``collect()``)."""
    from prometheus_client import REGISTRY, CollectorRegistry, multiprocess

    if MULTIPROC_ENV not in os.environ:
        for collector in collectors:
            REGISTRY.register(collector)
        return REGISTRY
    chosen = CollectorRegistry()
    multiprocess.MultiProcessCollector(chosen)
    for collector in collectors:
        chosen.register(collector)
    return chosen


def exposition() -> tuple[bytes, str]:
    """The text a ``/metrics`` request answers, and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    return generate_latest(registry()), CONTENT_TYPE_LATEST


def serve(settings: Settings, port: int, *collectors) -> bool:
    """Answer ``/metrics`` on ``port`` from a thread of this process (the worker's and the
    scheduler's endpoint); port 0 or metrics off: none. A port in use is logged, not fatal: the
    role's work matters more than its numbers."""
    if not settings.metrics_enabled or not port:
        return False
    from prometheus_client import start_http_server

    try:
        start_http_server(port, settings.metrics_host, registry(*collectors))
    except OSError as exc:
        log.error("metrics endpoint not started", extra={"port": port, "error": str(exc)})
        return False
    log.info("metrics endpoint", extra={"url": f"http://{settings.metrics_host}:{port}/metrics"})
    return True
