"""``GET /readyz``: can this edge serve pages? The snippet store answers and names a live
generation. Unlike ``/healthz`` (liveness, no I/O) it reads the live pointer itself, uncached, so
a load balancer or a container health check stops sending shoppers to an edge that would answer
503 for every page."""

from __future__ import annotations

import redis
from flask import Blueprint, jsonify, request

from web.edge.edge_state import current
from web.revision import note_generation

blueprint = Blueprint("readiness", __name__)


@blueprint.get("/readyz")
def readyz():
    edge = current()
    try:
        raw = edge.reader.client.get(edge.keys.live)
    except redis.RedisError as error:
        return _not_ready(f"the snippet store is unreachable: {type(error).__name__}")
    if raw is None:
        return _not_ready("no live generation: run `projector rebuild`")
    generation = int(raw)
    note_generation(request.environ, generation)
    response = jsonify(status="ready", generation=generation)
    response.headers["Cache-Control"] = "no-store"
    return response


def _not_ready(reason: str):
    response = jsonify(status="unavailable", reason=reason)
    response.status_code = 503
    response.headers["Cache-Control"] = "no-store"
    return response
