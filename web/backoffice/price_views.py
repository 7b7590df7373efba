"""Prices and offers per variant and currency, and the list of live and upcoming offers.

Offer times are entered and shown in the shop's time zone (``SHOP_TIMEZONE``) and stored in UTC.
Every write is the admin API's command (catalog/commands.py), recorded in the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, redirect, request, url_for

from catalog import commands
from catalog.errors import CatalogError
from catalog.models import valid_sku
from web.admin import admin_state
from web.backoffice import audit
from web.backoffice.backoffice_reads import current_offers
from web.backoffice.blueprint import (
    actor,
    backoffice,
    db,
    local_input,
    product_or_404,
    publish,
    render,
    saved_change,
    shop_zone,
)
from web.backoffice.editor_forms import Errors, parse_offer, parse_price
from web.backoffice.signin import require_role
from web.backoffice.translation import gettext, refusal


def _product_of(variant: str) -> str:
    try:
        valid_sku(variant)
    except ValueError:
        abort(404, description=gettext("There is no product or variant %(sku)s.", sku=variant))
    owner = audit.owning_product(db(), "pricing", variant)
    return owner or variant


def _page(sku: str, errors: Errors | None = None, values: dict[str, str] | None = None, status: int = 200) -> Any:
    view = product_or_404(sku)
    return render(
        "prices.html",
        status,
        p=view,
        errors=errors or {},
        values=values or {},
        local_input=local_input,
        change=saved_change(),
    )


@backoffice.get("/products/<sku>/prices")
def prices(sku: str) -> Any:
    return _page(sku)


def _currency(currency: str) -> str:
    if currency not in admin_state.current().settings.currencies:
        abort(404, description=gettext("%(currency)s is not one of the shop's currencies.", currency=currency))
    return currency


def _write(variant: str, currency: str, action: str, command: Callable[[], int]) -> Any:
    """Run a pricing write for ``variant`` with its audit entry; back to the product's page."""
    product = _product_of(variant)
    change = audit.Change(actor(), "backoffice", action, "pricing", variant)
    try:
        outbox_id = audit.audited(db(), change, command)
    except CatalogError as error:
        return _page(product, {f"{variant}/{currency}/": refusal(error)}, status=422)
    publish(outbox_id)
    return redirect(url_for("backoffice.prices", sku=product, saved=outbox_id) + f"#v-{variant}-{currency}", 303)


@backoffice.post("/prices/<variant>/<currency>")
def price_save(variant: str, currency: str) -> Any:
    require_role("pricing")
    _currency(currency)
    parsed = parse_price(request.form, admin_state.current().settings.currencies)
    key = f"{variant}/{currency}/"
    if parsed.errors:
        values = {f"{key}price": request.form.get("amount", "")}
        return _page(_product_of(variant), {key + k: v for k, v in parsed.errors.items()}, values, 422)
    return _write(
        variant, currency, "set price", lambda: commands.put_prices(db(), [(variant, currency, parsed.model.amount)])
    )


@backoffice.post("/offers/<variant>/<currency>")
def offer_save(variant: str, currency: str) -> Any:
    require_role("pricing")
    _currency(currency)
    parsed = parse_offer(request.form, shop_zone())
    key = f"{variant}/{currency}/offer."
    if parsed.errors:
        values = {key + k: request.form.get(k, "") for k in ("amount", "starts_at", "ends_at")}
        return _page(_product_of(variant), {key + k: v for k, v in parsed.errors.items()}, values, 422)
    return _write(
        variant, currency, "add offer", lambda: commands.put_offers(db(), [(variant, currency, parsed.model)])
    )


@backoffice.post("/offers/<variant>/<currency>/delete")
def offers_delete(variant: str, currency: str) -> Any:
    require_role("pricing")
    _currency(currency)
    return _write(variant, currency, "remove offers", lambda: commands.delete_offers(db(), variant, currency))


@backoffice.get("/offers")
def offers() -> Any:
    return render("offers.html", offers=current_offers(db()))
