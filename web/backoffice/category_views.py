"""Categories as a tree: names in every locale, the parent, and the order among siblings with
move up / move down buttons (no dragging: a button works with a keyboard and a screen reader).

Writes are the admin API's command (catalog.commands ``put_categories``), audited as changes of
the category. A move renumbers the category's siblings 0, 1, 2... in their new order, in one
command (one outbox row); the positions of siblings that keep their place stay as they are.
"""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, request, url_for

from catalog import commands
from catalog.errors import CatalogError
from catalog.models import CategoryIn
from projector.readmodel import CategoryView, load_categories
from web.admin import admin_state
from web.backoffice import audit
from web.backoffice.blueprint import actor, backoffice, db, publish, render, saved_change
from web.backoffice.catalog_forms import parse_category
from web.backoffice.editor_forms import Errors
from web.backoffice.signin import current_user, require_role
from web.backoffice.translation import gettext, refusal


def _children(categories: dict[str, CategoryView]) -> dict[str | None, list[CategoryView]]:
    """Each parent's children, in the shop's order (position, then key: load_categories's order)."""
    out: dict[str | None, list[CategoryView]] = {}
    for view in categories.values():
        parent = view.parent if view.parent in categories else None
        out.setdefault(parent, []).append(view)
    return out


@backoffice.get("/categories")
def categories() -> Any:
    user = current_user()
    return render(
        "categories.html",
        children=_children(load_categories(db())),
        may_edit=bool(user and user.may("editor")),
        change=saved_change(),
        moved=request.args.get("moved", ""),
    )


def _editor(key: str | None, values: dict[str, Any], errors: Errors, status: int = 200) -> Any:
    everything = load_categories(db())
    below = _descendants(everything, key) if key else set()
    parents = {k: v for k, v in everything.items() if k != key and k not in below}
    return render(
        "category.html", status, key=key, values=values, errors=errors, parents=parents, change=saved_change()
    )


def _descendants(categories: dict[str, CategoryView], key: str) -> set[str]:
    found: set[str] = set()
    children = _children(categories)
    todo = [key]
    while todo:
        for child in children.get(todo.pop(), []):
            if child.key not in found:
                found.add(child.key)
                todo.append(child.key)
    return found


def _category_or_404(key: str) -> CategoryView:
    view = load_categories(db()).get(key)
    if view is None:
        abort(404, description=gettext("There is no category %(key)s.", key=key))
    return view


@backoffice.get("/categories/new")
def category_new() -> Any:
    require_role("editor")
    return _editor(None, {"parent": request.args.get("parent", "")}, {})


@backoffice.get("/categories/<key>")
def category(key: str) -> Any:
    view = _category_or_404(key)
    values = {f"name.{loc}": name for loc, name in view.names.items()} | {"parent": view.parent or ""}
    return _editor(key, values, {})


def _save(key: str | None) -> Any:
    require_role("editor")
    settings = admin_state.current().settings
    new = key is None
    values = dict(request.form.items())
    existing = None if new else _category_or_404(str(key))
    everything = load_categories(db())
    if new:
        siblings = [c for c in everything.values() if c.parent == (request.form.get("parent") or None)]
        position = max((c.position for c in siblings), default=-1) + 1  # a new category comes last
    else:
        assert existing is not None
        position = existing.position
    parsed = parse_category(request.form, settings.locales, position, new)
    target = request.form.get("key", "").strip() if new else str(key)
    if new and not parsed.errors.get("key") and target in everything:
        parsed.errors["key"] = gettext("category %(key)s exists already", key=target)
    if parsed.errors:
        return _editor(key, values, parsed.errors, 422)
    model: CategoryIn = parsed.model
    change = audit.Change(actor(), "backoffice", "create category" if new else "save category", "category", target)
    try:
        outbox_id = audit.audited(db(), change, lambda: commands.put_categories(db(), [(target, model)]))
    except CatalogError as error:
        return _editor(key, values, {"parent": refusal(error)}, 422)
    publish(outbox_id)
    return redirect(url_for("backoffice.category", key=target, saved=outbox_id), 303)


@backoffice.post("/categories/new")
def category_create() -> Any:
    return _save(None)


@backoffice.post("/categories/<key>")
def category_save(key: str) -> Any:
    return _save(key)


def _move(key: str, step: int) -> int | None:
    """Swap ``key`` with its previous (``step`` -1) or next (+1) sibling; None at either end."""
    conn = db()
    rows = conn.execute(
        """SELECT key, position FROM categories
           WHERE parent IS NOT DISTINCT FROM (SELECT parent FROM categories WHERE key = %s)
           ORDER BY position, key FOR UPDATE""",
        (key,),
    ).fetchall()
    order = [k for k, _ in rows]
    here = order.index(key)
    there = here + step
    if not 0 <= there < len(order):
        return None
    order[here], order[there] = order[there], order[here]
    old: dict[str, int] = dict(rows)
    moved = [(k, position) for position, k in enumerate(order) if old[k] != position]
    parent = conn.execute("SELECT parent FROM categories WHERE key = %s", (key,)).fetchone()
    names: dict[str, dict[str, str]] = {}
    for category, locale, name in conn.execute(
        "SELECT category, locale, name FROM category_names WHERE category = ANY(%s)", ([k for k, _ in moved],)
    ):
        names.setdefault(category, {})[locale] = name
    items = [
        (k, CategoryIn.model_validate({"parent": parent[0] if parent else None, "name": names[k], "position": p}))
        for k, p in moved
    ]
    return commands.put_categories(conn, items)


@backoffice.post("/categories/<key>/move")
def category_move(key: str) -> Any:
    require_role("editor")
    _category_or_404(key)
    step = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if step is None:
        abort(400, description=gettext("Move a category 'up' or 'down'."))
    change = audit.Change(actor(), "backoffice", f"move category {request.form['direction']}", "category", key)
    outbox_id = audit.audited(db(), change, lambda: _move(key, step))
    publish(outbox_id)
    return redirect(url_for("backoffice.categories", saved=outbox_id, moved=key) + f"#c-{key}", 303)
