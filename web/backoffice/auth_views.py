"""Sign in and sign out."""

from __future__ import annotations

from typing import Any

from flask import make_response, redirect, request, url_for

from web.backoffice import accounts
from web.backoffice.accounts import MAX_FAILED_ATTEMPTS
from web.backoffice.blueprint import backoffice, db, local_time, render
from web.backoffice.signin import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    check_csrf,
    forget_cookie,
    new_login_token,
    set_cookie,
)
from web.backoffice.translation import gettext

#: How long a sign-in form stays valid.
LOGIN_FORM_SECONDS = 3600


def _safe_next(target: str | None) -> str:
    """Only a path inside the back office: never an address elsewhere (an open redirect)."""
    if target and target.startswith("/backoffice/") and not target.startswith("//"):
        return target
    return url_for("backoffice.products")


def _form(status: int = 200, error: str = "", username: str = "") -> Any:
    token = new_login_token()
    page, status = render(
        "login.html",
        status,
        login_token=token,
        error=error,
        username=username,
        next=_safe_next(request.values.get("next")),
        attempts=MAX_FAILED_ATTEMPTS,
    )
    response = make_response(page, status)
    set_cookie(response, LOGIN_CSRF_COOKIE, token, max_age=LOGIN_FORM_SECONDS)
    return response


@backoffice.get("/login")
def login() -> Any:
    return _form()


@backoffice.post("/login")
def login_post() -> Any:
    check_csrf(request.cookies.get(LOGIN_CSRF_COOKIE))
    username = request.form.get("username", "").strip().lower()
    result = accounts.sign_in(db(), username, request.form.get("password", ""))
    if result.locked_until is not None:
        return _form(
            429,
            gettext(
                "Too many wrong passwords: this account is locked until %(until)s.",
                until=local_time(result.locked_until),
            ),
            username,
        )
    if result.cookie is None:
        return _form(401, gettext("Wrong username or password."), username)
    response = redirect(_safe_next(request.form.get("next")), 303)
    set_cookie(response, SESSION_COOKIE, result.cookie)
    forget_cookie(response, LOGIN_CSRF_COOKIE)
    return response


@backoffice.post("/logout")
def logout() -> Any:
    accounts.sign_out(db(), request.cookies.get(SESSION_COOKIE, ""))
    response = redirect(url_for("backoffice.login"), 303)
    forget_cookie(response, SESSION_COOKIE)
    return response


@backoffice.get("/")
def home() -> Any:
    return redirect(url_for("backoffice.products"), 303)
