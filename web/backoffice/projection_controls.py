"""The status page's controls, for admins only: replay dead letters, start a full rebuild or a
canary (docs/canary.md), promote or abort a running canary.

A replay sends the entry's task to the broker again (projector/deadletters.py, as ``projector
replay``). A rebuild is ``projector rebuild --quiet`` started as a process of its own, in a new
session, with the admin app's environment: the same command an operator runs, holding the same
rebuild lock and noting its progress in ``keys.rebuild_progress`` (the status page reads it).
Why not a Celery task: a rebuild runs for minutes, longer than the broker's visibility timeout
(projector/celery_app.py), after which an unacknowledged task is delivered again, and it would
hold a worker slot the projection needs meanwhile. Why not a thread here: the admin app has no
Elasticsearch or snippet writer of its own, and a gunicorn restart would end it half way.

A canary is ``projector rebuild --quiet --canary PERCENT``, started the same way; promoting and
aborting it are ``projector promote`` and ``projector abort``, run to their end (seconds) so the
page can say how it went.

Every control is a POST with the form's CSRF token and is written to the audit log.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from typing import Any

from flask import abort, current_app, redirect, request, url_for
from psycopg.types.json import Jsonb

from projector.canary import MAX_PERCENT, MIN_PERCENT
from projector.celery_app import make_celery
from projector.deadletters import DeadLetters
from projector.rebuildlock import current_holder
from snipshop.metrics import MULTIPROC_ENV
from vocab.keys import CanaryRecord, KeyScheme
from web.admin import admin_state
from web.backoffice.blueprint import actor, backoffice, db
from web.backoffice.signin import require_role
from web.backoffice.status_views import clients
from web.backoffice.translation import gettext

log = logging.getLogger(__name__)
_CELERY = "snipshop.backoffice.celery"
#: The ``projector`` command of this installation.
PROJECTOR = [sys.executable, "-m", "entrypoints.projector_cli"]
REBUILD_COMMAND = [*PROJECTOR, "rebuild", "--quiet"]
#: Seconds ``projector promote`` or ``abort`` may take (abort waits one pointer-cache interval).
CANARY_COMMAND_TIMEOUT = 120


def _keys() -> KeyScheme:
    return KeyScheme(admin_state.current().settings.key_prefix)


def _send_task(name: str, args: Any = None, kwargs: Any = None) -> object:
    if _CELERY not in current_app.extensions:
        current_app.extensions[_CELERY] = make_celery(admin_state.current().settings)
    return current_app.extensions[_CELERY].send_task(name, args=args, kwargs=kwargs)


def _audit(action: str, subject: str, after: dict[str, Any]) -> None:
    db().execute(
        """INSERT INTO audit_log (actor, via, action, kind, subject, after)
           VALUES (%s, 'backoffice', %s, 'projection', %s, %s)""",
        (actor(), action, subject, Jsonb(after)),
    )


def _back(**args: Any) -> Any:
    return redirect(url_for("backoffice.status", **args) + "#controls", 303)


@backoffice.post("/status/dead-letters/replay")
def replay_dead_letters() -> Any:
    """One entry (``index`` with its ``task_id``, as listed) or, without an index, all of them."""
    require_role("admin")
    client, _broker = clients()
    letters = DeadLetters(client, _keys())
    index = request.form.get("index", type=int)
    if index is not None:
        listed = letters.entries(index + 1)
        if len(listed) <= index or listed[index].get("task_id") != request.form.get("task_id"):
            abort(
                409, description=gettext("The dead-letter list changed since the page was read; nothing was replayed.")
            )
    replayed = letters.replay(_send_task, index)
    subject = f"dead letter {replayed[0]['task_id']}" if index is not None and replayed else "all dead letters"
    _audit("replay dead letters", subject, {"replayed": replayed})
    return _back(replayed=len(replayed))


def _reap(process: subprocess.Popen[bytes]) -> None:
    code = process.wait()
    (log.info if code == 0 else log.warning)("projector rebuild (pid %s) ended with exit code %s", process.pid, code)


def _projector_env() -> dict[str, str]:
    # Not one of the admin app's processes: its metrics must not land in their multiprocess files.
    return {k: v for k, v in os.environ.items() if k != MULTIPROC_ENV}


def _refuse_if_rebuilding() -> None:
    client, _broker = clients()
    holder, expires_in = current_holder(client, _keys())
    if holder is not None or expires_in is not None:
        who = holder.describe() if holder else "holder unknown"
        abort(409, description=gettext("A rebuild is already running (%(who)s); nothing was started.", who=who))


def _running_canary() -> CanaryRecord | None:
    client, _broker = clients()
    return CanaryRecord.decode(client.get(_keys().canary))


def _start(command: list[str]) -> int:
    """Start a ``projector`` command in a session of its own; its end is logged."""
    process = subprocess.Popen(command, start_new_session=True, stdin=subprocess.DEVNULL, env=_projector_env())
    threading.Thread(target=_reap, args=(process,), name="rebuild-reaper", daemon=True).start()
    return process.pid


@backoffice.post("/status/rebuild")
def start_rebuild() -> Any:
    require_role("admin")
    _refuse_if_rebuilding()
    pid = _start(REBUILD_COMMAND)
    _audit("start rebuild", "full rebuild", {"pid": pid})
    return _back(rebuild="started")


@backoffice.post("/status/canary")
def start_canary() -> Any:
    require_role("admin")
    percent = request.form.get("percent", type=int)
    if percent is None or not MIN_PERCENT <= percent <= MAX_PERCENT:
        abort(
            400,
            description=gettext(
                "The share of shoppers must be a whole number from %(low)s to %(high)s.",
                low=MIN_PERCENT,
                high=MAX_PERCENT,
            ),
        )
    if _running_canary() is not None:
        abort(409, description=gettext("A canary is already running; promote or abort it first."))
    _refuse_if_rebuilding()
    pid = _start([*REBUILD_COMMAND, "--canary", str(percent)])
    _audit("start canary", f"canary at {percent} %", {"pid": pid, "percent": percent})
    return _back(canary="started")


def _end_canary(command: str) -> Any:
    require_role("admin")
    record = _running_canary()
    if record is None:
        abort(409, description=gettext("No canary is running; nothing was changed."))
    done = subprocess.run(
        [*PROJECTOR, command],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CANARY_COMMAND_TIMEOUT,
        env=_projector_env(),
        check=False,
    )
    if done.returncode != 0:
        log.warning("projector %s failed: %s", command, done.stderr.strip())
        abort(409, description=gettext("The command failed: %(error)s", error=done.stderr.strip()[-500:]))
    _audit(f"{command} canary", f"canary generation {record.generation}", {"output": done.stdout.strip()})
    return _back(canary="promoted" if command == "promote" else "aborted")


@backoffice.post("/status/canary/promote")
def promote_canary() -> Any:
    return _end_canary("promote")


@backoffice.post("/status/canary/abort")
def abort_canary() -> Any:
    return _end_canary("abort")
