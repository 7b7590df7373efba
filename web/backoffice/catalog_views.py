"""The product list (search, filters, pages) and the product editor (every locale side by side).

A save goes through :func:`catalog.commands.put_products`, the admin API's command, inside
:func:`web.backoffice.audit.audited`: the product, its outbox row and its audit entry commit
together. The form carries the product's version; a save over a change made meanwhile by
someone else is refused (nothing saved) rather than silently overwriting it.
"""

from __future__ import annotations

from typing import Any

import nh3
from flask import redirect, request, url_for
from markupsafe import Markup

from catalog import commands
from catalog.errors import CatalogError, Conflict
from catalog.models import ProductIn
from projector.readmodel import ProductView, load_categories
from projector.render import DESCRIPTION_TAGS
from web.admin import admin_state
from web.backoffice import audit
from web.backoffice.backoffice_reads import PAGE_SIZE, ProductFilter, brands, product_page
from web.backoffice.blueprint import actor, backoffice, db, product_or_404, publish, render, saved_change
from web.backoffice.editor_forms import Errors, format_attributes, format_images, parse_product
from web.backoffice.signin import current_user, require_role
from web.backoffice.translation import gettext, refusal


def _page_number(text: str | None) -> int:
    try:
        return max(1, min(int(text or 1), 100_000))
    except ValueError:
        return 1


@backoffice.get("/products")
def products() -> Any:
    args = request.args
    f = ProductFilter(
        query=args.get("q", "").strip()[:200],
        category=args.get("category", ""),
        brand=args.get("brand", ""),
        active=args.get("active", ""),
        page=_page_number(args.get("page")),
    )
    settings = admin_state.current().settings
    conn = db()
    rows, total = product_page(conn, f, settings.default_locale)
    pages = max(1, -(-total // PAGE_SIZE))
    categories = load_categories(conn)

    def page_url(n: int) -> str:
        wanted: dict[str, Any] = {"q": f.query, "category": f.category, "brand": f.brand, "active": f.active, "page": n}
        return url_for("backoffice.products", **{k: v for k, v in wanted.items() if v})

    return render(
        "products.html",
        rows=rows,
        total=total,
        f=f,
        pages=pages,
        page_url=page_url,
        brands=brands(conn),
        categories=categories,
    )


def _values(view: ProductView) -> dict[str, Any]:
    values: dict[str, Any] = {f"name.{loc}": view.names.get(loc, "") for loc in admin_state.current().settings.locales}
    values |= {f"description.{loc}": view.descriptions.get(loc, "") for loc in admin_state.current().settings.locales}
    return values | {
        "brand": view.brand,
        "categories": view.categories,
        "attributes": format_attributes(view.attributes),
        "images": format_images(view.images),
        "active": view.active,
        "version": str(view.version),
    }


def _editor(view: ProductView, values: dict[str, Any], errors: Errors, status: int = 200) -> Any:
    user = current_user()
    return render(
        "product.html",
        status,
        p=view,
        values=values,
        errors=errors,
        may_edit=bool(user and user.may("editor")),
        categories=load_categories(db()),
        preview={
            loc: Markup(nh3.clean(values.get(f"description.{loc}", ""), tags=DESCRIPTION_TAGS))
            for loc in admin_state.current().settings.locales
        },
        change=saved_change(),
        history=audit.entries(db(), product=view.sku, limit=20),
    )


@backoffice.get("/products/<sku>")
def product(sku: str) -> Any:
    view = product_or_404(sku)
    return _editor(view, _values(view), {})


def save_product(sku: str, model: ProductIn, version: str, action: str = "save product") -> int | None:
    """Save ``model`` as product ``sku`` if it is still at ``version`` (else :class:`Conflict`), audited."""
    conn = db()

    def command() -> int:
        row = conn.execute("SELECT version FROM products WHERE sku = %s FOR UPDATE", (sku,)).fetchone()
        if row is None or str(row[0]) != version:
            raise Conflict(
                gettext(
                    "someone else saved this product since you opened it; nothing was saved. "
                    "Open it again to see their change, then make yours."
                )
            )
        return commands.put_products(conn, [(sku, model)])

    return audit.audited(conn, audit.Change(actor(), "backoffice", action, "product", sku), command)


@backoffice.post("/products/<sku>")
def product_save(sku: str) -> Any:
    require_role("editor")
    view = product_or_404(sku)
    settings = admin_state.current().settings
    values: dict[str, Any] = dict(request.form.items())
    values["categories"] = request.form.getlist("categories")
    values["active"] = request.form.get("active") == "on"
    parsed = parse_product(request.form, settings.locales)
    if parsed.errors:
        return _editor(view, values, parsed.errors, 422)
    try:
        outbox_id = save_product(sku, parsed.model, request.form.get("version", ""))
    except CatalogError as error:
        field = "categories" if "categor" in str(error) else ""
        return _editor(view, values, {field: refusal(error)}, 409 if isinstance(error, Conflict) else 422)
    publish(outbox_id)
    return redirect(url_for("backoffice.product", sku=sku, saved=outbox_id), 303)
