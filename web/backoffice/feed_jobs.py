"""Feed import jobs: the files of one upload imported in a thread of the admin process, through
the importer of ``snipshop import`` (catalog/importer.py), with progress in ``feed_jobs``.

Why a thread and not a Celery task: the uploaded files are on this process's disk (a worker in
another container would need shared storage or the whole file through the broker), the Celery
worker is the projection's and should not wait behind an import, and the importer only needs a
database connection and the outbox sender the admin app already has. The cost: a job dies with
its process (a restart or a deploy); its row then stops moving and the page says so after
:data:`STALE_SECONDS`. Feed rows are upserts, so uploading the file again is safe.
"""

from __future__ import annotations

import logging
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from catalog.feeds import KINDS
from catalog.importer import COMMANDS, DatabaseSink, FileStats, ImmediateDispatch, Report, import_file
from web.admin.admin_state import AdminState

log = logging.getLogger(__name__)
#: Rejected rows kept per job for the page (the counts stay exact).
MAX_KEPT = 500
#: A running job whose heartbeat is older than this is shown as interrupted.
STALE_SECONDS = 120


@dataclass
class Upload:
    path: Path
    name: str  # as the browser sent it, shown on the page
    kind: str


class JobReport(Report):
    """Rejected rows kept in memory, up to :data:`MAX_KEPT`, written to the job's row by batch."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[Any]] = []
        self.file = ""

    def reject(self, file: str, line: int, key: str, message: str) -> None:
        if len(self.rows) < MAX_KEPT:
            self.rows.append([self.file, line, key, message])


def create(conn: psycopg.Connection, actor: str, uploads: list[Upload]) -> int:
    sizes = [u.path.stat().st_size for u in uploads]
    files = [{"name": u.name, "kind": u.kind, "bytes": size} for u, size in zip(uploads, sizes, strict=True)]
    row = conn.execute(
        "INSERT INTO feed_jobs (actor, files, bytes_total) VALUES (%s, %s, %s) RETURNING id",
        (actor, Jsonb(files), sum(sizes)),
    ).fetchone()
    assert row is not None
    return int(row[0])


def in_dependency_order(uploads: list[Upload]) -> list[Upload]:
    """Categories before the products in them, products before their prices (as ``snipshop import``)."""
    rank = {name: i for i, name in enumerate(KINDS)}
    return sorted(uploads, key=lambda u: rank[u.kind])


def start(state: AdminState, job_id: int, uploads: list[Upload], folder: Path) -> threading.Thread:
    """Import ``uploads`` in a daemon thread; ``folder`` (holding them) is removed at the end."""
    thread = threading.Thread(
        target=_run, args=(state, job_id, uploads, folder), name=f"feed-job-{job_id}", daemon=True
    )
    thread.start()
    return thread


def _run(state: AdminState, job_id: int, uploads: list[Upload], folder: Path) -> None:
    try:
        with psycopg.connect(state.settings.database_url, autocommit=True, connect_timeout=10) as conn:
            try:
                _import(conn, state, job_id, uploads)
            except Exception as error:  # the database or the broker gone: the job says so
                log.exception("feed job %s failed", job_id)
                conn.execute(
                    "UPDATE feed_jobs SET state = 'failed', error = %s, finished_at = now() WHERE id = %s",
                    (f"{type(error).__name__}: {error}", job_id),
                )
    except psycopg.OperationalError:
        log.exception("feed job %s: no database connection", job_id)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _import(conn: psycopg.Connection, state: AdminState, job_id: int, uploads: list[Upload]) -> None:
    settings = state.settings
    context = {"locales": settings.locales, "currencies": settings.currencies}
    send = state.send
    dispatch = ImmediateDispatch(conn, send) if send else (lambda _id: None)
    report, done_before, totals, files = JobReport(), 0, FileStats(), []

    def save(bytes_done: int, stats: FileStats) -> None:
        conn.execute(
            """UPDATE feed_jobs SET bytes_done = %s, rows_read = %s, rows_imported = %s, rows_rejected = %s,
                      rejected_rows = %s, heartbeat_at = now() WHERE id = %s""",
            (
                done_before + bytes_done,
                totals.read + stats.read,
                totals.imported + stats.imported,
                totals.rejected + stats.rejected,
                Jsonb(report.rows),
                job_id,
            ),
        )

    for upload in in_dependency_order(uploads):
        report.file = upload.name
        sink = DatabaseSink(conn, COMMANDS[upload.kind], dispatch)
        stats = import_file(upload.path, KINDS[upload.kind], sink, report, context=context, on_progress=save)
        size = upload.path.stat().st_size
        done_before += size
        totals.read, totals.imported = totals.read + stats.read, totals.imported + stats.imported
        totals.rejected += stats.rejected
        files.append({"name": upload.name, "kind": upload.kind, "bytes": size} | vars(stats))
    save(0, FileStats())
    conn.execute(
        "UPDATE feed_jobs SET state = 'done', finished_at = now(), files = %s WHERE id = %s",
        (Jsonb(files), job_id),
    )
    conn.execute(
        """INSERT INTO audit_log (actor, via, action, kind, subject, after)
           SELECT actor, 'backoffice', 'upload feed', 'feed', %s, %s FROM feed_jobs WHERE id = %s""",
        (", ".join(f"{f['kind']}: {f['name']}" for f in files), Jsonb({"job": job_id, "files": files}), job_id),
    )


JOB_COLUMNS = """id, actor, state, files, bytes_total, bytes_done, rows_read, rows_imported, rows_rejected,
    rejected_rows, error, started_at, finished_at,
    state = 'running' AND heartbeat_at < now() - make_interval(secs => %s) AS interrupted"""


def load(conn: psycopg.Connection, job_id: int) -> dict[str, Any] | None:
    cursor = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cursor.execute(f"SELECT {JOB_COLUMNS} FROM feed_jobs WHERE id = %s", (STALE_SECONDS, job_id)).fetchone()


def recent(conn: psycopg.Connection, limit: int = 10) -> list[dict[str, Any]]:
    cursor = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cursor.execute(
        f"SELECT {JOB_COLUMNS} FROM feed_jobs ORDER BY id DESC LIMIT %s", (STALE_SECONDS, limit)
    ).fetchall()
