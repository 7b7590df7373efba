"""The shopper's context: locale and currency from the query, then cookies, then defaults."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, Request, Response, g, request
from werkzeug.http import parse_cookie

from vocab.keys import Context
from web.edge import personalize

COOKIE_MAX_AGE = 365 * 24 * 3600


def resolve(request: Request, locales: tuple[str, ...], currencies: tuple[str, ...]) -> tuple[Context, dict[str, str]]:
    """Return the context and the cookies to (re)set because the query chose a new value."""
    remember: dict[str, str] = {}
    environ = request.environ
    if not environ.get("QUERY_STRING") and not environ.get("HTTP_COOKIE"):  # most requests: no parsing
        return Context(locales[0], currencies[0]), remember

    def pick(name: str, allowed: tuple[str, ...]) -> str:
        asked = request.args.get(name)
        if asked in allowed:
            if request.cookies.get(name) != asked:
                remember[name] = asked
            return asked
        cookie = request.cookies.get(name)
        return cookie if cookie in allowed else allowed[0]

    return Context(pick("locale", locales), pick("currency", currencies)), remember


def from_cookies(cookies: Mapping[str, str], locales: tuple[str, ...], currencies: tuple[str, ...]) -> Context:
    """The context of a request without a query string: the cookies' choices, else the defaults."""
    locale, currency = cookies.get("locale"), cookies.get("currency")
    return Context(locale if locale in locales else locales[0], currency if currency in currencies else currencies[0])


class PersonalShopper:
    """For the page cache (web/edge/pagecache.py), in front of Flask: what a request without a
    query string and with a ``Cookie`` header needs of it, read as :func:`resolve` and the
    before-request hook read it (the same cookie parser as Flask's).

    Called with the header, it answers None for a shopper with no personal value, else the
    context's name (what a personal page's template depends on besides its path and generation)
    and the request's personal values (personalize.personal_values: the template holds the rest)."""

    def __init__(self, locales: tuple[str, ...], currencies: tuple[str, ...]) -> None:
        self.locales = locales
        self.currencies = currencies

    def __call__(self, cookie_header: str) -> tuple[str, dict[str, str]] | None:
        cookies = dict(parse_cookie(cookie_header).items())  # each name's first value, as request.cookies.get
        values = personalize.personal_values(cookies)  # all a template's slots take
        if not values:
            return None
        ctx = from_cookies(cookies, self.locales, self.currencies)
        return f"{ctx.locale} {ctx.currency}", values


def remember_choices(response: Response, remember: dict[str, str]) -> None:
    for name, value in remember.items():
        response.set_cookie(name, value, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True)


def init_app(app: Flask, locales: tuple[str, ...], currencies: tuple[str, ...], image_base_url: str) -> None:
    """Before every request: the shopper's context (``g.ctx``), the choices to remember in
    cookies (``g.remember``) and the personalization values (``g.values``, the image base among them)."""

    @app.before_request
    def shopper_context() -> None:
        ctx, remember = resolve(request, locales, currencies)
        g.ctx = ctx
        g.remember = remember
        g.values = personalize.values_from(
            request.cookies if "HTTP_COOKIE" in request.environ else {}, ctx.currency, image_base_url
        )
