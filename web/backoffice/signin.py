"""Who is signed in, and whether a form really came from the back office.

The session cookie (:data:`SESSION_COOKIE`) holds a random value whose hash names a row of
``backoffice_sessions`` (web/backoffice/accounts.py). It is ``HttpOnly`` (no script reads it),
``SameSite=Lax`` (no other site's form or script sends it with a POST), limited to the back
office's path, and ``Secure`` whenever the request came over https: directly, or through a
reverse proxy that says so with ``X-Forwarded-Proto: https``.

CSRF: every form carries a token, checked before anything else a POST does (the synchronizer
token pattern of OWASP's cheat sheet). A signed-in user's token is stored with the session; the
sign-in form, sent before there is a session, carries a token that must equal the one in a
short-lived cookie set with the form (the double-submit pattern). A POST whose ``Origin`` header
names another host is refused too. A refused POST is a 403 and changes nothing.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from flask import abort, g, request
from werkzeug.wrappers import Response

from web.backoffice.accounts import SESSION_SECONDS, User

SESSION_COOKIE = "snipshop_backoffice"
LOGIN_CSRF_COOKIE = "snipshop_backoffice_login"
COOKIE_PATH = "/backoffice"
CSRF_FIELD = "csrf_token"


def served_securely() -> bool:
    return request.is_secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def set_cookie(response: Response, name: str, value: str, max_age: int = SESSION_SECONDS) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Lax",
        secure=served_securely(),
    )


def forget_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path=COOKIE_PATH, httponly=True, samesite="Lax", secure=served_securely())


def new_login_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, sent: str | None) -> bool:
    """Constant-time comparison; an absent token on either side never matches."""
    return bool(expected) and bool(sent) and hmac.compare_digest(str(expected), str(sent))


def same_origin() -> bool:
    """False when the browser says the form came from another origin (no Origin header: allowed,
    the token decides)."""
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


def check_csrf(expected: str | None) -> None:
    """Abort with 403 unless the POST carries the expected token and comes from this origin."""
    if not same_origin() or not tokens_match(expected, request.form.get(CSRF_FIELD)):
        abort(403, description="csrf")


def current_user() -> User | None:
    return getattr(g, "backoffice_user", None)


def require_role(role: str) -> User:
    """The signed-in user if they may act as ``role``; 403 otherwise."""
    user = current_user()
    if user is None or not user.may(role):
        abort(403, description=f"role:{role}")
    return user
