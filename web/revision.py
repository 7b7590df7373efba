"""What every response and log line of a web role says about where it came from.

:class:`Traced` wraps a WSGI app (outermost, around the edge's page cache too) and gives every
response ``X-Revision`` (the image's revision, ``SNIPSHOP_REVISION``), ``X-Request-Id`` (the
client's ``X-Request-Id`` when it is a sane token, else a new one) and, on the edge,
``X-Generation``: the snippet generation the response was served from. It logs one JSON line per
request (given a :class:`snipshop.logs.AccessLog`), and while a request runs
``snipshop.logs.REQUEST_ID`` holds its id, which :mod:`snipshop.logs` adds
to every log line of that request.

The generation costs no Redis call: the edge notes the one it read for the page (:func:`note_generation`)
or, for a page that read none (liveness, a refused request), the one its reader last saw.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from snipshop.logs import REQUEST_ID, AccessLog

#: Where the edge leaves the generation a response was assembled from.
GENERATION = "snipshop.generation"
#: Where the edge's page cache, which answers in front of Flask, names the route of its page.
CACHED_ROUTE = "snipshop.cached_route"
#: The route label of a request no route matched (404, 405): the raw path would be unbounded.
UNMATCHED = "unmatched"
#: A client's request id is kept only when it is this kind of token (it goes into logs and headers).
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
#: A new request id is this many random bytes, in hex.
REQUEST_ID_BYTES = 16


def request_id(environ: dict[str, Any]) -> str:
    """The client's ``X-Request-Id`` when it is a sane token, else a new random one."""
    given = environ.get("HTTP_X_REQUEST_ID", "")
    return given if SANE_REQUEST_ID.fullmatch(given) else os.urandom(REQUEST_ID_BYTES).hex()


def note_generation(environ: dict[str, Any], generation: int) -> None:
    """Record the generation this response is assembled from (the edge's pages call it)."""
    environ[GENERATION] = generation


def route_of(environ: dict[str, Any]) -> str:
    """The route rule that answered (``/p/<sku>``), never the raw path; call it while the request
    is answered (Flask clears its request object when it is done)."""
    cached = environ.get(CACHED_ROUTE)
    if cached is not None:
        return cached
    rule = getattr(environ.get("werkzeug.request"), "url_rule", None)
    return rule.rule if rule is not None else UNMATCHED


#: What :class:`Traced` tells a metrics recorder about each response: the environ, the status
#: line, the route, the generation (None: none) and the seconds the app took.
Observe = Callable[[dict[str, Any], str, str, "int | None", float], None]


class Traced:
    """WSGI middleware: revision, request id and (given ``generation``) generation headers, and
    (given ``access``) one access log line per request.

    ``generation(environ)`` names the generation of a response that did not note one itself
    (:func:`note_generation`); None leaves ``X-Generation`` out (the admin app serves no snippets).
    ``observe``, if given, is told about every response (web/request_metrics.py counts them).
    """

    def __init__(
        self,
        app: Callable,
        revision: str,
        generation: Callable[[dict[str, Any]], int | None] | None = None,
        observe: Observe | None = None,
        access: AccessLog | None = None,
    ) -> None:
        self.app = app
        self.revision = revision
        self.generation = generation
        self.observe = observe
        self.access = access

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        rid = request_id(environ)
        token = REQUEST_ID.set(rid)
        started = time.perf_counter()
        status_seen: list[str] = []
        seen: list = [None, None]  # the route and the generation, while the request is answered

        def start(status: str, headers: list[tuple[str, str]], exc_info=None):
            status_seen[:] = [status]
            # A new list: the edge's page cache keeps the one it was given, without these.
            extra = [("X-Revision", self.revision), ("X-Request-Id", rid)]
            gen = None
            if self.generation is not None:
                gen = environ.get(GENERATION)
                if gen is None:
                    gen = self.generation(environ)
                extra.append(("X-Generation", "none" if gen is None else str(gen)))
            if self.observe is not None:
                seen[0], seen[1] = route_of(environ), gen
            return start_response(status, [*headers, *extra], exc_info)

        try:
            return self.app(environ, start)
        finally:
            if self.observe is not None and status_seen:
                self.observe(environ, status_seen[0], seen[0], seen[1], time.perf_counter() - started)
            if self.access is not None:
                self.access(
                    rid,
                    environ.get("REQUEST_METHOD"),
                    environ.get("PATH_INFO"),
                    int(status_seen[0].split(" ", 1)[0]) if status_seen else None,
                    round((time.perf_counter() - started) * 1000, 2),
                )
            REQUEST_ID.reset(token)
