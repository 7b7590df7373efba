"""Which generation a shopper is served while a canary runs, sticky per shopper.

The rule (docs/canary.md): every shopper has a bucket 0-99 in the ``bucket`` cookie; bucket
``< percent`` is served the canary's generation, the others the live one. A request without a
valid bucket cookie draws one at random (nothing about the shopper goes into it) and the
response sets it for a year (and is then private to that shopper, never for a shared cache), so
the shopper stays on that side from the next request on. The
bucket is only set while a canary runs, and kept afterwards: the same shoppers are the canary's
share next time (a shopper may clear it to draw again).

:class:`AssignGeneration` (WSGI, outside the page cache) decides once per request, before
anything is assembled, so every snippet, search result and cached page of one response comes
from the one generation. It takes the ``bucket`` cookie out of the request the app sees: the
page cache and the context's cookie-less fast path treat a shopper with only a bucket as the
anonymous shopper they are.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

from vocab.keys import CanaryRecord
from web.revision import note_generation

COOKIE = "bucket"
BUCKETS = 100
COOKIE_MAX_AGE = 365 * 24 * 3600
#: The Cache-Control of a public page whose response offers a bucket (as for any personal page).
PRIVATE = "private, no-cache"
_BUCKET_RE = re.compile(r"(?:^|;)\s*bucket=(\d{1,2})\s*(?=;|$)")
#: Where the middleware leaves whether this response is served from the canary's generation.
ON_CANARY = "snipshop.on_canary"
#: Where the middleware leaves the error of a pointer read that failed (Redis did not answer).
POINTER_ERROR = "snipshop.pointer_error"
#: Paths that serve no snippets: no pointer is read for them (liveness never waits for Redis).
NOT_PAGES = ("/healthz", "/metrics", "/static/")


def bucket_of(cookie_header: str | None) -> tuple[int | None, str | None]:
    """The shopper's bucket (None: no valid one) and the Cookie header without it (None: empty)."""
    if not cookie_header:
        return None, cookie_header
    found = _BUCKET_RE.search(cookie_header)
    if found is None:
        return None, cookie_header
    rest = (cookie_header[: found.start()] + cookie_header[found.end() :]).strip().strip(";").strip()
    return int(found.group(1)), rest or None


def draw_bucket() -> int:
    """A bucket for a shopper without one: random, derived from nothing about the shopper."""
    return secrets.randbelow(BUCKETS)


def generation_for(bucket: int, live: int, canary: CanaryRecord | None) -> int:
    """The generation a shopper in ``bucket`` is served: the canary's below its percent."""
    if canary is not None and bucket < canary.percent:
        return canary.generation
    return live


def set_cookie_header(bucket: int) -> tuple[str, str]:
    return ("Set-Cookie", f"{COOKIE}={bucket}; Max-Age={COOKIE_MAX_AGE}; Path=/; SameSite=Lax; HttpOnly")


class AssignGeneration:
    """WSGI middleware: note the request's generation (web/revision.py ``note_generation``)."""

    def __init__(self, app, pointers: Callable[[], tuple[int | None, CanaryRecord | None]]) -> None:
        """``pointers()`` answers the live generation and the canary record (read at most once per
        POINTER_CACHE_SECONDS, web/edge/snippets.py); it may raise when Redis does not answer."""
        self.app = app
        self.pointers = pointers

    def __call__(self, environ: dict[str, Any], start_response):
        if environ.get("PATH_INFO", "").startswith(NOT_PAGES):
            return self.app(environ, start_response)
        bucket, rest = bucket_of(environ.get("HTTP_COOKIE"))
        if bucket is not None:  # the app never sees it (see the module docstring)
            if rest is None:
                del environ["HTTP_COOKIE"]
            else:
                environ["HTTP_COOKIE"] = rest
        try:
            live, canary = self.pointers()
        except Exception as exc:  # noqa: BLE001 - Redis did not answer: the app's pages say so themselves
            environ[POINTER_ERROR] = exc  # raised again where a page asks, with no second wait
            return self.app(environ, start_response)
        if live is None:
            return self.app(environ, start_response)
        if canary is None or canary.generation == live:
            note_generation(environ, live)
            return self.app(environ, start_response)
        drawn = bucket is None
        if bucket is None:
            bucket = draw_bucket()
        gen = generation_for(bucket, live, canary)
        note_generation(environ, gen)
        environ[ON_CANARY] = gen == canary.generation
        if not drawn:
            return self.app(environ, start_response)

        def start(status: str, headers: list[tuple[str, str]], exc_info=None):
            # A response offering a shopper's bucket is that shopper's: no shared cache may keep it.
            kept = [(k, PRIVATE if k == "Cache-Control" and v.startswith("public") else v) for k, v in headers]
            return start_response(status, [*kept, set_cookie_header(bucket)], exc_info)

        return self.app(environ, start)
