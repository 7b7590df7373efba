"""The back office's blueprint: sign-in on every page, one pooled connection per request, HTML
error pages, and what every template is given.

Views live in ``*_views.py`` beside this module and add their routes to :data:`backoffice`;
:func:`web.backoffice.init_app` registers it on the admin app under ``/backoffice``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg
from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from catalog.relay import dispatch_quietly
from projector.readmodel import ProductView, load_products
from web.admin import admin_state
from web.backoffice import accounts
from web.backoffice.backoffice_reads import Progress, progress
from web.backoffice.signin import SESSION_COOKIE, check_csrf, current_user
from web.backoffice.translation import choose_locale, gettext

log = logging.getLogger(__name__)

backoffice = Blueprint(
    "backoffice", __name__, url_prefix="/backoffice", template_folder="templates", static_folder="static"
)
#: Pages anyone may open: the sign-in form and the style sheet it uses.
PUBLIC = {"backoffice.login", "backoffice.login_post", "backoffice.static"}


def db() -> psycopg.Connection:
    """This request's pooled connection (autocommit: every command opens its own transaction)."""
    conn = getattr(g, "backoffice_conn", None)
    if conn is None:
        g.backoffice_conn_cm = admin_state.current().connection()
        conn = g.backoffice_conn = g.backoffice_conn_cm.__enter__()
    return conn


@backoffice.teardown_request
def _release(error: BaseException | None) -> None:
    held = g.pop("backoffice_conn_cm", None)
    g.pop("backoffice_conn", None)
    if held is not None:
        held.__exit__(None, None, None)


def shop_zone() -> ZoneInfo:
    name = admin_state.current().settings.shop_timezone
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown SHOP_TIMEZONE %r: showing times in UTC", name)
        return ZoneInfo("UTC")


@backoffice.before_request
def _signed_in() -> Any:
    if request.endpoint == "backoffice.feed_upload":  # its own limit, set before the form is read
        request.max_content_length = admin_state.current().settings.feed_max_bytes
    if request.endpoint in PUBLIC:
        g.backoffice_locale = choose_locale(None)
        return None
    cookie = request.cookies.get(SESSION_COOKIE)
    found = accounts.session(db(), cookie) if cookie else None
    g.backoffice_locale = choose_locale(found.user.locale if found else None)
    if found is None:
        return redirect(url_for("backoffice.login", next=request.full_path if request.method == "GET" else None), 303)
    g.backoffice_user = found.user
    g.backoffice_csrf = found.csrf_token
    if request.method == "POST":
        check_csrf(found.csrf_token)
    return None


def publish(outbox_id: int | None) -> None:
    """Hand a committed write's outbox row to the projection now (the relay's sweep would
    otherwise pick it up within its interval)."""
    send = admin_state.current().send
    if outbox_id is not None and send is not None:
        dispatch_quietly(db(), send, [outbox_id])


def actor() -> str:
    user = current_user()
    assert user is not None
    return f"user:{user.username}"


def product_or_404(sku: str) -> ProductView:
    """The product an editor page is about, or a 404 (also for a deleted one)."""
    view = load_products(db(), [sku]).get(sku)
    if view is None or view.deleted:
        abort(404, description=gettext("There is no product %(sku)s.", sku=sku))
    return view


def saved_change() -> Progress | None:
    """How far the change a save redirected with (``?saved=<outbox id>``) has got, if any."""
    saved = request.args.get("saved", type=int)
    return progress(db(), saved) if saved else None


def shop_link(sku: str) -> str:
    return f"{admin_state.current().settings.shop_url}/p/{sku}"


def local_time(moment: datetime | None, with_zone: bool = True) -> str:
    if moment is None:
        return ""
    shown = moment.astimezone(shop_zone())
    return shown.strftime("%Y-%m-%d %H:%M:%S" + (" %Z" if with_zone else ""))


def local_input(moment: datetime | None) -> str:
    """A value for an ``<input type="datetime-local">`` in the shop's time zone."""
    return moment.astimezone(shop_zone()).strftime("%Y-%m-%dT%H:%M:%S") if moment else ""


@backoffice.app_template_filter("bo_time")
def _bo_time(moment: datetime | None) -> str:
    return local_time(moment)


def render(template: str, http_status: int = 200, **context: Any) -> tuple[str, int]:
    settings = admin_state.current().settings
    return (
        render_template(
            template,
            user=current_user(),
            csrf_token=getattr(g, "backoffice_csrf", ""),
            locales=settings.locales,
            currencies=settings.currencies,
            zone=shop_zone().key,
            ui_locale=g.get("backoffice_locale") or settings.locales[0],
            shop_link=shop_link,
            **context,
        ),
        http_status,
    )


def _forbidden_message(description: str | None) -> str:
    if description == "csrf":
        return gettext(
            "The form could not be checked: its security token is missing or stale, or it was sent from "
            "another site. Nothing was changed. Reload the page and send the form again."
        )
    user = current_user()
    needed = (description or "").removeprefix("role:")
    role = user.role if user else "none"
    return gettext(
        "Your role (%(role)s) may not make this change: it needs the role '%(needed)s' or 'admin'. "
        "Nothing was changed.",
        role=role,
        needed=needed,
    )


@backoffice.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Any:
    status = error.code or 500
    if status == 403:
        message = _forbidden_message(error.description)
    elif status == 413:
        limit = request.max_content_length or 0
        message = gettext(
            "The upload is larger than the limit of %(mb)s MB; nothing was imported.", mb=f"{limit / (1024 * 1024):g}"
        )
    elif status == 404:
        message = (
            error.description if error.description and "URL" not in error.description else gettext("No such page.")
        )
    else:
        message = error.description or gettext("The request could not be handled.")
    return render("error.html", status, status=status, message=message)


@backoffice.errorhandler(psycopg.OperationalError)
def _database_down(error: psycopg.OperationalError) -> Any:
    log.warning("back office: database unavailable: %s", error)
    page = render(
        "error.html", 503, status=503, message=gettext("The catalog database is unavailable; nothing was changed.")
    )
    return Response(page[0], 503, headers={"Retry-After": "5"})


@backoffice.errorhandler(Exception)
def _unexpected(error: Exception) -> Any:
    log.exception("back office: unhandled error in %s %s", request.method, request.path)
    return render(
        "error.html", 500, status=500, message=gettext("Something went wrong; the server log has the details.")
    )
