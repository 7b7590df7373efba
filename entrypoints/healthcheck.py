"""``snipshop health [ROLE]``: is this role able to do its work? Exit 0 if so, 1 (saying why) if not.

Made for a container's ``HEALTHCHECK``: the image has one health command for all its roles, and
without ROLE it finds the role in the command line of the container's main process
(``/proc/1/cmdline``), with the host, port, worker name or schedule file given there:

=====================  ========================================================================
role                   healthy when
=====================  ========================================================================
``edge``, ``admin``    ``GET /readyz`` answers 200 (web/edge/readiness.py, web/admin/health.py)
``worker``             the Celery worker answers a ping by its node name (``-n``/``--hostname``,
                       default ``celery@<host name>``)
``scheduler``          beat's schedule file was written within ``SCHEDULE_FRESH_SECONDS``
anything else          healthy: a one-shot command (import, rebuild, migration) runs to its end
=====================  ========================================================================
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from snipshop.config import Settings

#: Beat rewrites its schedule file whenever it sends a task (the relay sweep runs several times a
#: second) and at least every 3 minutes; older than this, it is stuck or gone.
SCHEDULE_FRESH_SECONDS = 300.0
HTTP_TIMEOUT = 4.0
PING_TIMEOUT = 3.0


@dataclass(frozen=True)
class Role:
    """A role and the options of its command line that say where to look."""

    name: str
    args: tuple[str, ...] = ()

    def option(self, *names: str, default: str | None = None) -> str | None:
        """The value of the first of ``names`` in the arguments (``--port 8000`` or ``--port=8000``)."""
        args = self.args
        for i, arg in enumerate(args):
            for name in names:
                if arg == name and i + 1 < len(args):
                    return args[i + 1]
                if arg.startswith(name + "=") and name.startswith("--"):
                    return arg.split("=", 1)[1]
        return default


def role_of(argv: list[str]) -> Role:
    """The role of a ``snipshop`` command line (``[python, .../snipshop, serve, edge, ...]``)."""
    words = list(argv)
    for i, word in enumerate(words):
        if Path(word).name == "snipshop":
            words = words[i + 1 :]
            break
    else:
        return Role("other")
    if len(words) >= 2 and words[0] == "serve":
        return Role(words[1], tuple(words[2:]))
    if words and words[0] in ("worker", "scheduler"):
        return Role(words[0], tuple(words[1:]))
    return Role("other")


def main_process_role(cmdline: Path = Path("/proc/1/cmdline")) -> Role:
    return role_of([w for w in cmdline.read_bytes().decode(errors="replace").split("\0") if w])


def check(settings: Settings, role: Role) -> str:
    """What was found healthy; raises :class:`Unhealthy` saying what is not."""
    if role.name in ("edge", "admin"):
        return check_http(role)
    if role.name == "worker":
        return check_worker(settings, role)
    if role.name == "scheduler":
        return check_scheduler(settings, role)
    return "nothing to check for a one-shot command"


class Unhealthy(Exception):
    pass


def check_http(role: Role) -> str:
    host = role.option("--host", default="127.0.0.1") or "127.0.0.1"
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    port = role.option("--port", default="8000" if role.name == "edge" else "8001")
    url = f"http://{host}:{port}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT) as response:
            body = response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        raise Unhealthy(f"{url}: HTTP {error.code} {error.read().decode(errors='replace')[:300]}") from None
    except OSError as error:
        raise Unhealthy(f"{url}: {error}") from None
    return f"{url}: {body.strip()}"


def check_worker(settings: Settings, role: Role) -> str:
    from projector.celery_app import make_celery

    name = role.option("-n", "--hostname", default=f"celery@{socket.gethostname()}") or ""
    name = name.replace("%h", socket.gethostname()).replace("%n", socket.gethostname().split(".")[0])
    if "@" not in name:
        name = f"celery@{name}"
    app = make_celery(settings)
    try:
        replies = app.control.ping(destination=[name], timeout=PING_TIMEOUT)
    except Exception as error:  # noqa: BLE001 - the broker is down: unhealthy, whatever the error
        raise Unhealthy(f"could not ping {name}: {type(error).__name__}: {error}") from None
    finally:
        app.close()
    if not any(name in reply for reply in replies or []):
        raise Unhealthy(f"worker {name} did not answer a ping within {PING_TIMEOUT:.0f} s")
    return f"worker {name} answered"


def check_scheduler(settings: Settings, role: Role) -> str:
    given = role.option("-s", "--schedule")
    schedule = Path(given) if given else Path(settings.state_dir) / "celerybeat-schedule"
    # The dbm module may add a suffix (.db, .dat, .dir): the newest of them counts.
    files = [p for p in schedule.parent.glob(schedule.name + "*") if p.is_file()]
    if not files:
        raise Unhealthy(f"no schedule file {schedule}*: beat has not started")
    age = time.time() - max(p.stat().st_mtime for p in files)
    if age > SCHEDULE_FRESH_SECONDS:
        raise Unhealthy(f"{schedule} last written {age:.0f} s ago (more than {SCHEDULE_FRESH_SECONDS:.0f} s)")
    return f"{schedule} written {age:.0f} s ago"
