"""Feed upload: one CSV file through the same importer as ``snipshop import`` (catalog/importer.py),
with its per-row report on the page.

The file is imported while the request waits (the upload is limited to ``ADMIN_MAX_BODY_BYTES``,
1 MB by default, some thousands of rows); valid rows are imported batch by batch and every
rejected row is listed with its line, key and reason. Each kind needs the role that may write it
through the API (products need editor, prices pricing, stock stock). The upload is recorded in
the audit log with its counts.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from flask import request
from psycopg.types.json import Jsonb

from catalog.feeds import KINDS
from catalog.importer import COMMANDS, DatabaseSink, FileStats, ImmediateDispatch, Report, import_file
from web.admin import admin_state
from web.backoffice.blueprint import actor, backoffice, db, render
from web.backoffice.signin import require_role

#: The role each feed kind needs, as for the admin API's routes.
KIND_ROLES = {
    "attributes": "editor",
    "categories": "editor",
    "products": "editor",
    "variants": "editor",
    "prices": "pricing",
    "offers": "pricing",
    "stock": "stock",
}
MAX_SHOWN = 500


class CollectedReport(Report):
    """The rejected rows, kept for the page instead of printed."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[int, str, str]] = []

    def reject(self, file: str, line: int, key: str, message: str) -> None:
        if len(self.rows) < MAX_SHOWN:
            self.rows.append((line, key, message))


@backoffice.get("/feeds")
def feeds() -> Any:
    return render("feeds.html", kinds=KIND_ROLES, result=None)


def _kind(upload_name: str) -> str:
    chosen = request.form.get("kind", "")
    return chosen or Path(upload_name).stem.lower()


@backoffice.post("/feeds")
def feed_upload() -> Any:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render("feeds.html", 422, kinds=KIND_ROLES, result=None, error="Choose a CSV file to upload.")
    kind = _kind(upload.filename)
    if kind not in KIND_ROLES:
        error = f"{kind!r} is not a feed kind: choose one, or name the file after its kind (products.csv)."
        return render("feeds.html", 422, kinds=KIND_ROLES, result=None, error=error)
    require_role(KIND_ROLES[kind])
    settings = admin_state.current().settings
    send = admin_state.current().send
    conn = db()
    report = CollectedReport()
    with tempfile.TemporaryDirectory(prefix="snipshop-feed-") as folder:
        path = Path(folder) / f"{kind}.csv"
        upload.save(path)
        sink = DatabaseSink(conn, COMMANDS[kind], ImmediateDispatch(conn, send) if send else (lambda _id: None))
        context = {"locales": settings.locales, "currencies": settings.currencies}
        stats: FileStats = import_file(path, KINDS[kind], sink, report, context=context)
    conn.execute(
        """INSERT INTO audit_log (actor, via, action, kind, subject, after)
           VALUES (%s, 'backoffice', 'upload feed', 'feed', %s, %s)""",
        (actor(), f"{kind}: {upload.filename}", Jsonb(vars(stats) | {"file": upload.filename})),
    )
    result = {"file": upload.filename, "kind": kind, "stats": stats, "rejected": report.rows}
    return render("feeds.html", 200, kinds=KIND_ROLES, result=result)
