"""A product's variants: their options (``size: M``), add and remove, the active flag, their
order in the shop's picker (move up / down, as the categories).

Writes are the admin API's commands (catalog.commands ``put_variants``, ``delete_variant``),
audited as changes of the product. A product's first variant replaces its default variant (the
product's own SKU, with its prices and stock); removing the last one gives the default back
(docs/variants.md). Two variants of one product may not have the same options.
"""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, request, url_for

from catalog import commands
from catalog.errors import CatalogError
from catalog.models import VariantIn
from web.backoffice import audit
from web.backoffice.blueprint import actor, backoffice, db, product_or_404, publish, render, saved_change
from web.backoffice.catalog_forms import format_options, parse_variant
from web.backoffice.editor_forms import Errors
from web.backoffice.signin import current_user, require_role
from web.backoffice.translation import gettext, refusal


def _page(sku: str, errors: Errors | None = None, values: dict[str, Any] | None = None, status: int = 200) -> Any:
    """``errors`` and ``values`` are keyed ``VARIANT/field`` (``+/field`` for the new variant's form)."""
    view = product_or_404(sku)
    explicit = [v for v in view.variants if v.sku != view.sku]
    filled = {f"{v.sku}/options": format_options(v.options) for v in explicit}
    user = current_user()
    return render(
        "variants.html",
        status,
        p=view,
        variants=explicit,
        values=filled | {"+/active": True} | (values or {}),
        errors=errors or {},
        may_edit=bool(user and user.may("editor")),
        change=saved_change(),
        history=audit.entries(db(), product=view.sku, limit=20),
    )


@backoffice.get("/products/<sku>/variants")
def variants(sku: str) -> Any:
    return _page(sku)


def _write(sku: str, action: str, command: Any, prefix: str, values: dict[str, Any]) -> Any:
    try:
        outbox_id = audit.audited(db(), audit.Change(actor(), "backoffice", action, "product", sku), command)
    except CatalogError as error:
        return _page(sku, {f"{prefix}/options": refusal(error)}, values, 409)
    publish(outbox_id)
    return redirect(url_for("backoffice.variants", sku=sku, saved=outbox_id), 303)


@backoffice.post("/products/<sku>/variants")
def variant_save(sku: str) -> Any:
    """Add a variant (the form names its ``sku``) or save one (``variant`` names it)."""
    require_role("editor")
    product_or_404(sku)
    existing = request.form.get("variant", "")
    new = not existing
    prefix = "+" if new else existing
    values: dict[str, Any] = {f"{prefix}/{k}": v for k, v in request.form.items() if k in ("sku", "options")}
    values[f"{prefix}/active"] = request.form.get("active") == "on"
    parsed = parse_variant(request.form, new)
    if parsed.errors:
        return _page(sku, {f"{prefix}/{k}": v for k, v in parsed.errors.items()}, values, 422)
    variant_sku = request.form.get("sku", "").strip() if new else existing
    model: VariantIn = parsed.model
    if not new:
        owner = audit.owning_product(db(), "product", variant_sku)
        if owner != sku or variant_sku == sku:
            return _page(
                sku,
                {f"{prefix}/options": gettext("%(variant)s is not a variant of %(sku)s", variant=variant_sku, sku=sku)},
                values,
                404,
            )
    action = "add variant" if new else "save variant"
    return _write(sku, action, lambda: commands.put_variants(db(), [(sku, variant_sku, model)]), prefix, values)


@backoffice.post("/products/<sku>/variants/<variant>/remove")
def variant_remove(sku: str, variant: str) -> Any:
    require_role("editor")
    product_or_404(sku)
    return _write(sku, "remove variant", lambda: commands.delete_variant(db(), sku, variant), variant, {})


def _move(sku: str, variant: str, step: int) -> int | None:
    """Swap ``variant`` with its previous (``step`` -1) or next (+1) variant; None at either end.
    The variants whose place changes are written again with their options and state as they are."""
    conn = db()
    rows = conn.execute(
        "SELECT sku, position, active FROM variants WHERE product = %s AND sku <> product ORDER BY position, sku",
        (sku,),
    ).fetchall()
    order = [r[0] for r in rows]
    if variant not in order:
        abort(404, description=gettext("%(variant)s is not a variant of %(sku)s", variant=variant, sku=sku))
    here = order.index(variant)
    there = here + step
    if not 0 <= there < len(order):
        return None
    order[here], order[there] = order[there], order[here]
    old = {r[0]: (r[1], r[2]) for r in rows}
    moved = [(v, position) for position, v in enumerate(order) if old[v][0] != position]
    options: dict[str, dict[str, str]] = {v: {} for v, _ in moved}
    for owner, name, value in conn.execute(
        "SELECT variant, name, value FROM variant_options WHERE variant = ANY(%s) ORDER BY variant, position",
        ([v for v, _ in moved],),
    ):
        options[owner][name] = value
    items = [
        (sku, v, VariantIn.model_validate({"options": options[v], "position": p, "active": old[v][1]}))
        for v, p in moved
    ]
    return commands.put_variants(conn, items)


@backoffice.post("/products/<sku>/variants/<variant>/move")
def variant_move(sku: str, variant: str) -> Any:
    require_role("editor")
    product_or_404(sku)
    step = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if step is None:
        abort(400, description=gettext("Move a variant 'up' or 'down'."))
    action = f"move variant {request.form['direction']}"
    change = audit.Change(actor(), "backoffice", action, "product", sku)
    outbox_id = audit.audited(db(), change, lambda: _move(sku, variant, step))
    publish(outbox_id)
    return redirect(url_for("backoffice.variants", sku=sku, saved=outbox_id) + f"#v-{variant}", 303)
