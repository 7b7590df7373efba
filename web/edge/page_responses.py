"""How every shopper page is answered: caching headers, personalization, security headers, and
the pages the edge writes itself (404, 503, 414) in the shopper's language."""

from __future__ import annotations

from functools import lru_cache

from flask import Response, g, request

from search.query import MAX_QUERY_STRING
from vocab.i18n import messages
from vocab.images import origin
from vocab.keys import Kind
from web.edge import pages, personalize
from web.edge.context import remember_choices
from web.edge.edge_state import current
from web.edge.pagecache import TEMPLATE
from web.revision import GENERATION, UNMATCHED

#: Where a degraded page says so, for the canary's comparison (web/edge/canary_counts.py).
DEGRADED = "snipshop.degraded"

HTML = "text/html; charset=utf-8"
ANONYMOUS_MAX_AGE = 5  # seconds a shared cache may keep an anonymous page
PUBLIC = f"public, max-age={ANONYMOUS_MAX_AGE}"
PRIVATE = "private, no-cache"  # a personal page (or one that sets a cookie): only the shopper's browser keeps it
RETRY_AFTER = "5"
RETRY_AFTER_REPAIR = "2"  # a read-repair runs every second
#: On every shopper response. Pages load only their own stylesheet, inline JSON-LD data blocks
#: (not scripts) and images (:func:`security_headers`), so the policy allows nothing else; no site
#: may frame the shop.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
}


@lru_cache(maxsize=4)
def security_headers(image_base_url: str) -> dict[str, str]:
    """:data:`SECURITY_HEADERS` with images allowed from the image server's origin and from https
    URLs (an image reference may be an absolute https URL of any host: vocab/images.py)."""
    sources = " ".join(filter(None, ["'self'", "data:", "https:", origin(image_base_url)]))
    policy = SECURITY_HEADERS["Content-Security-Policy"].replace("img-src 'self' data:", f"img-src {sources}")
    return {**SECURITY_HEADERS, "Content-Security-Policy": policy}


def add_security_headers(response: Response) -> Response:
    response.headers.update(security_headers(current().settings.image_base_url))
    return response


def html(body: str, status: int = 200, *, store: bool = True) -> Response:
    """The response for a page whose frame came from :func:`frame_for` (already filled)."""
    values = g.values
    if personalize.is_personal(values):  # filled in two steps: the template may be kept (pagecache.py)
        template = personalize.template(personalize.fill_shared(body, values))
        request.environ[TEMPLATE] = template
        text = personalize.render(template, values)
    else:
        text = personalize.fill(body, values)
    response = Response(text, status=status, content_type=HTML)
    remember_choices(response, g.remember)
    headers = response.headers
    headers["Vary"] = "Cookie"
    if not store:  # degraded or unsure: nobody may keep it (docs/resilience.md)
        headers["Cache-Control"] = "no-store"
        if status == 200:
            count_degraded()
    elif personalize.is_personal(values) or g.remember or status != 200:
        headers["Cache-Control"] = PRIVATE
    else:
        headers["Cache-Control"] = PUBLIC
        response.add_etag()
        if "HTTP_IF_NONE_MATCH" in request.environ:
            response.make_conditional(request)
    return response


def count_degraded() -> None:
    """A degraded page (a 200 with a part unavailable) is being served: count it."""
    request.environ[DEGRADED] = True  # for the canary's comparison (web/edge/canary_counts.py)
    counts = current().metrics
    if counts is not None:
        rule = request.url_rule
        counts.degraded(rule.rule if rule is not None else UNMATCHED, request.environ.get(GENERATION))


def frame_for(raw: bytes | None) -> pages.Frame:
    """The page frame, its personalization variables filled for this shopper (but a personal
    shopper's own, which :func:`html` fills with the rest of the page)."""
    return personalize.frame(pages.frame_of(raw), g.values)


def shopper_locale() -> str:
    """The shopper's locale once the context is known; before, the remembered one (cookie)."""
    ctx = g.get("ctx")
    if ctx is not None:
        return ctx.locale
    locales = current().settings.locales
    cookie = request.cookies.get("locale") if "HTTP_COOKIE" in request.environ else None
    return cookie if cookie in locales else locales[0]


def unavailable(reason: str, retry_after: str = RETRY_AFTER) -> Response:
    """503 in the shopper's language; ``reason`` names the message (vocab.i18n)."""
    locale = shopper_locale()
    t = messages(locale)
    response = html(pages.bare_page(t["unavailable"], t[reason], locale), 503)
    response.headers["Retry-After"] = retry_after
    return response


def repairing() -> Response:
    """503 while a page's snippets are being restored (read-repair)."""
    return unavailable("unavailable_restoring", RETRY_AFTER_REPAIR)


def not_found(frame: pages.Frame | None = None, *, store: bool = True) -> Response:
    """The 404 page in the shop's frame."""
    if frame is None:
        edge = current()
        frame = frame_for(edge.reader.fetch([edge.keys.snippet(edge.live(), Kind.FRAME, g.ctx)])[0])
    t = messages(g.ctx.locale)
    return html(pages.message_page(frame, t["not_found"], t["not_found_text"], t["back_home"]), 404, store=store)


def too_long() -> Response:
    """414 without reading the parameters (nor the context they would choose)."""
    locale = shopper_locale()  # from the cookie: the parameters are not read
    t = messages(locale)
    body = pages.bare_page(t["too_long"], t["too_long_text"].format(limit=MAX_QUERY_STRING), locale)
    return Response(body, status=414, content_type=HTML, headers={"Cache-Control": "no-store"})
