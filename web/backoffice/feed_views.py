"""Feed upload: one or more CSV files, each of any kind, imported by the same importer as
``snipshop import`` (catalog/importer.py) in a job (web/backoffice/feed_jobs.py) whose page shows
its progress while it runs and its per-row report at the end.

The upload route has its own size limit, ``BACKOFFICE_FEED_MAX_BYTES`` (256 MB by default; the
rest of the admin app keeps ``ADMIN_MAX_BODY_BYTES``): the blueprint sets it on the request
before the form is read. Werkzeug streams each file part to a temporary file as it arrives, so
a large feed is never held in memory. Each kind needs the role that may write it through the
API (products need editor, prices pricing, stock stock); the job is recorded in the audit log
with its counts when it ends.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from flask import abort, jsonify, redirect, request, url_for

from catalog.feeds import KINDS
from web.admin import admin_state
from web.backoffice import feed_jobs
from web.backoffice.blueprint import actor, backoffice, db, render
from web.backoffice.feed_jobs import Upload
from web.backoffice.signin import require_role
from web.backoffice.translation import gettext

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
assert set(KIND_ROLES) == set(KINDS)


def _page(status: int = 200, error: str | None = None) -> Any:
    return render("feeds.html", status, kinds=KIND_ROLES, jobs=feed_jobs.recent(db()), error=error, limit=_limit_text())


def _limit_text() -> str:
    return f"{admin_state.current().settings.feed_max_bytes / (1024 * 1024):g} MB"


@backoffice.get("/feeds")
def feeds() -> Any:
    return _page()


def _kind(upload_name: str, chosen: str) -> str:
    return chosen or Path(upload_name).stem.lower()


@backoffice.post("/feeds")
def feed_upload() -> Any:
    files = [f for f in request.files.getlist("file") if f.filename]
    if not files:
        return _page(422, gettext("Choose one or more CSV files to upload."))
    chosen = request.form.get("kind", "") if len(files) == 1 else ""
    kinds = [_kind(f.filename or "", chosen) for f in files]
    unknown = [f"{f.filename} ({k!r})" for f, k in zip(files, kinds, strict=True) if k not in KIND_ROLES]
    if unknown:
        error = gettext(
            "Not a feed kind: %(files)s. Choose the kind, or name each file after its kind (products.csv).",
            files=", ".join(unknown),
        )
        return _page(422, error)
    if len(set(kinds)) < len(kinds):
        return _page(422, gettext("Two files of the same kind: upload one file per kind at a time."))
    for kind in kinds:
        require_role(KIND_ROLES[kind])
    folder = Path(tempfile.mkdtemp(prefix="snipshop-feed-"))
    try:
        uploads = []
        for upload, kind in zip(files, kinds, strict=True):
            path = folder / f"{kind}.csv"
            upload.save(path)
            uploads.append(Upload(path, upload.filename or path.name, kind))
        job_id = feed_jobs.create(db(), actor(), uploads)
        feed_jobs.start(admin_state.current(), job_id, uploads, folder)  # the job removes the folder
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return redirect(url_for("backoffice.feed_job", job_id=job_id), 303)


def _job_or_404(job_id: int) -> dict[str, Any]:
    job = feed_jobs.load(db(), job_id)
    if job is None:
        abort(404, description=gettext("There is no feed job %(id)s.", id=job_id))
    return job


@backoffice.get("/feeds/jobs/<int:job_id>")
def feed_job(job_id: int) -> Any:
    return render("feed_job.html", job=_job_or_404(job_id))


@backoffice.get("/feeds/jobs/<int:job_id>.json")
def feed_job_progress(job_id: int) -> Any:
    """What the job page polls while the job runs."""
    job = _job_or_404(job_id)
    keys = ("state", "interrupted", "bytes_total", "bytes_done", "rows_read", "rows_imported", "rows_rejected")
    return jsonify({key: job[key] for key in keys})
