"""Stock levels and movement history per SKU, and a manual movement with its reason.

A movement is the admin API's command (catalog/commands.py ``apply_movement``): its id, made
when the form is shown, makes a form sent twice apply once.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import redirect, request, url_for

from catalog import commands
from catalog.errors import CatalogError
from web.backoffice import audit
from web.backoffice.backoffice_reads import movements
from web.backoffice.blueprint import actor, backoffice, db, product_or_404, publish, render, saved_change
from web.backoffice.editor_forms import Errors, parse_movement
from web.backoffice.signin import require_role
from web.backoffice.translation import refusal


def _page(sku: str, errors: Errors | None = None, values: dict[str, str] | None = None, status: int = 200) -> Any:
    view = product_or_404(sku)
    return render(
        "stock.html",
        status,
        p=view,
        history=movements(db(), [v.sku for v in view.variants]),
        errors=errors or {},
        values=values or {},
        movement_id=lambda: f"bo-{uuid.uuid4()}",
        change=saved_change(),
    )


@backoffice.get("/products/<sku>/stock")
def stock(sku: str) -> Any:
    return _page(sku)


@backoffice.post("/stock/<variant>/movements")
def movement_post(variant: str) -> Any:
    require_role("stock")
    product = audit.owning_product(db(), "stock", variant) or variant
    parsed = parse_movement(request.form)
    key = f"{variant}/"
    values = {key + k: request.form.get(k, "") for k in ("delta", "reason")}
    if parsed.errors:
        return _page(product, {key + k: v for k, v in parsed.errors.items()}, values, 422)
    move = parsed.model
    change = audit.Change(actor(), "backoffice", "stock movement", "stock", variant)
    try:
        outbox_id = audit.audited(
            db(), change, lambda: commands.apply_movement(db(), variant, move.movement_id, move.delta, move.reason)[1]
        )
    except CatalogError as error:
        return _page(product, {key + "delta": refusal(error)}, values, 409)
    publish(outbox_id)
    target = (
        url_for("backoffice.stock", sku=product, saved=outbox_id)
        if outbox_id
        else url_for("backoffice.stock", sku=product)
    )
    return redirect(target + f"#v-{variant}", 303)
