"""The admin app's ``/healthz`` (alive: no I/O) and ``/readyz`` (can write: the database answers
within the app's connection wait), outside the token-protected API."""

from __future__ import annotations

import psycopg
from flask import Blueprint, jsonify
from psycopg_pool import PoolTimeout

from web.admin import admin_state

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz():
    return jsonify(status="ok")


@blueprint.get("/readyz")
def readyz():
    try:
        with admin_state.current().connection() as conn:
            conn.execute("SELECT 1")
    except (PoolTimeout, psycopg.Error) as error:
        response = jsonify(status="unavailable", reason=f"the database is unreachable: {type(error).__name__}")
        response.status_code = 503
        return response
    return jsonify(status="ready")
