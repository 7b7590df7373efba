"""The language the back office speaks to the signed-in user, chosen in the page header and kept
on the user (web/backoffice/translation.py)."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, request

from web.admin import admin_state
from web.backoffice import accounts
from web.backoffice.auth_views import _safe_next
from web.backoffice.blueprint import backoffice, db
from web.backoffice.signin import current_user
from web.backoffice.translation import gettext


@backoffice.post("/language")
def language() -> Any:
    locale = request.form.get("locale", "")
    if locale not in admin_state.current().settings.locales:
        abort(400, description=gettext("%(locale)s is not one of the shop's languages.", locale=locale))
    user = current_user()
    assert user is not None  # the blueprint signs every other page in
    accounts.set_locale(db(), user.id, locale)
    return redirect(_safe_next(request.form.get("next")), 303)
