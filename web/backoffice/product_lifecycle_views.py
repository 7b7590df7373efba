"""Creating a product and switching it off and on.

A new product is made with its SKU, a name in at least one language and its categories, through
the admin API's command (catalog.commands.put_products), inactive unless asked otherwise: the
editor fills in the rest before the shop shows it. Deactivating keeps everything and only takes
the product out of the shop (its page answers 404, listings drop it); activating brings it back.
Both are audited saves of the whole product, refused if it changed since the page was read.
(A product whose SKU is ``new`` is reached by the product list's link, not by typing the URL.)
"""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, request, url_for

from catalog import commands
from catalog.errors import CatalogError, Conflict
from catalog.models import ProductIn, valid_sku
from projector.readmodel import load_categories, load_products
from web.admin import admin_state
from web.backoffice import audit
from web.backoffice.blueprint import actor, backoffice, db, product_or_404, publish, render
from web.backoffice.catalog_views import save_product
from web.backoffice.editor_forms import Errors, parse_product
from web.backoffice.signin import require_role
from web.backoffice.translation import gettext, refusal


def _new_form(values: dict[str, Any], errors: Errors, status: int = 200) -> Any:
    return render("product_new.html", status, values=values, errors=errors, categories=load_categories(db()))


@backoffice.get("/products/new")
def product_new() -> Any:
    require_role("editor")
    return _new_form({"categories": []}, {})


def _sku_error(sku: str) -> str | None:
    try:
        valid_sku(sku)
    except ValueError as error:
        return str(error)
    existing = load_products(db(), [sku]).get(sku)
    if existing is not None:
        if existing.deleted:
            return gettext("%(sku)s exists already (withdrawn): open it from the product list", sku=sku)
        return gettext("%(sku)s exists already: open it from the product list", sku=sku)
    return None


@backoffice.post("/products/new")
def product_create() -> Any:
    require_role("editor")
    settings = admin_state.current().settings
    sku = request.form.get("sku", "").strip()
    values: dict[str, Any] = dict(request.form.items()) | {"categories": request.form.getlist("categories")}
    parsed = parse_product(request.form, settings.locales)
    errors = dict(parsed.errors)
    sku_error = _sku_error(sku)
    if sku_error:
        errors["sku"] = sku_error
    if errors:
        return _new_form(values, errors, 422)
    try:
        outbox_id = audit.audited(
            db(),
            audit.Change(actor(), "backoffice", "create product", "product", sku),
            lambda: _create(sku, parsed.model),
        )
    except CatalogError as error:
        field = "categories" if "categor" in str(error) else "sku"
        return _new_form(values, {field: refusal(error)}, 409 if isinstance(error, Conflict) else 422)
    publish(outbox_id)
    return redirect(url_for("backoffice.product", sku=sku, saved=outbox_id), 303)


def _create(sku: str, model: ProductIn) -> int:
    conn = db()
    # A product saved meanwhile by someone else under the same SKU is theirs: refuse, as the form did.
    if conn.execute("SELECT 1 FROM products WHERE sku = %s FOR UPDATE", (sku,)).fetchone():
        raise Conflict(gettext("%(sku)s was created meanwhile by someone else; nothing was saved", sku=sku))
    return commands.put_products(conn, [(sku, model)])


@backoffice.post("/products/<sku>/active")
def product_active(sku: str) -> Any:
    """Switch the product off (``active=0``) or on (``active=1``), keeping everything else."""
    require_role("editor")
    view = product_or_404(sku)
    wanted = request.form.get("active") == "1"
    model = ProductIn.model_validate(
        {
            "name": view.names,
            "description": {loc: text for loc, text in view.descriptions.items() if loc in view.names},
            "brand": view.brand,
            "categories": view.categories,
            "attributes": view.attributes,
            "images": [{"src": i.src, "width": i.width, "height": i.height} for i in view.images],
            "active": wanted,
        },
        context={"locales": tuple(admin_state.current().settings.locales)},
    )
    action = "activate product" if wanted else "deactivate product"
    try:
        outbox_id = save_product(sku, model, request.form.get("version", ""), action)
    except Conflict as error:
        abort(409, description=refusal(error))
    publish(outbox_id)
    return redirect(url_for("backoffice.product", sku=sku, saved=outbox_id), 303)
