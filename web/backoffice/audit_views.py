"""The audit log, newest first, and a write's projection progress as JSON (polled by live.js)."""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify, request

from web.backoffice import audit
from web.backoffice.backoffice_reads import progress
from web.backoffice.blueprint import backoffice, db, render
from web.backoffice.translation import gettext

PAGE = 50


@backoffice.get("/audit")
def audit_log() -> Any:
    before = request.args.get("before", type=int)
    product = request.args.get("product") or None
    found = audit.entries(db(), product=product, limit=PAGE, before_id=before)
    older = found[-1].id if len(found) == PAGE else None
    return render("audit.html", entries=found, product=product, older=older)


@backoffice.get("/changes/<int:outbox_id>")
def change(outbox_id: int) -> Any:
    found = progress(db(), outbox_id)
    if found is None:
        abort(404, description=gettext("There is no change %(id)s.", id=outbox_id))
    return jsonify(found.as_json())
