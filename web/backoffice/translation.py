"""The back office's own words in the editor's language.

Why gettext catalogs and not the shop's tables (vocab/i18n.py): those are the shop's few dozen
interface words, keyed by short names and rendered into snippets; the back office says a few
hundred whole sentences, often with values inside. With gettext the English sentence is the key,
so a template stays readable (``{{ _("Save") }}``), a missing translation shows the English text
rather than a key, and translators get a standard ``.po`` file (``pybabel extract`` finds the
messages in templates and code). Why not Flask-Babel: it would add a dependency and a compile
step (``.mo`` files) for two things this module does in a few lines with Babel, which the shop
already uses: read the ``.po`` file (``translations/<locale>.po``) and install the functions in
Jinja's i18n extension, which is what Flask-Babel does too.

The editor's language: the one chosen in the header (kept on the user), else the browser's
``Accept-Language`` among the shop's locales, else the shop's default locale. English needs no
catalog: its messages are the keys.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from flask import Flask, g, has_request_context, request

from web.admin import admin_state

CATALOGS = Path(__file__).parent / "translations"


@functools.cache
def catalog(locale: str) -> dict[Any, Any]:
    """msgid (a tuple of singular and plural for plural forms) to its translation, for ``locale``."""
    path = CATALOGS / f"{locale}.po"
    if not path.exists():
        return {}
    with path.open("rb") as po:
        messages = read_po(po, locale=locale)
    return {m.id: m.string for m in messages if m.id and m.string and not m.fuzzy}


def current_locale() -> str | None:
    return g.get("backoffice_locale") if has_request_context() else None


def translate(message: str) -> str:
    """``message`` in this request's language (itself outside a request, or untranslated)."""
    locale = current_locale()
    found = catalog(locale).get(message) if locale else None
    return str(found) if found else message


def ntranslate(singular: str, plural: str, n: int) -> str:
    locale = current_locale()
    found = catalog(locale).get((singular, plural)) if locale else None
    if found:  # two forms: the languages the shop speaks (en, de) have no other plurals
        return str(found[0] if n == 1 else found[1])
    return singular if n == 1 else plural


def gettext(message: str, **values: Any) -> str:
    """For Python code: the translated message with ``%(name)s`` placeholders filled in."""
    text = translate(message)
    return text % values if values else text


def choose_locale(user_locale: str | None) -> str:
    locales = admin_state.current().settings.locales
    if user_locale in locales:
        return str(user_locale)
    return request.accept_languages.best_match(locales) or locales[0]


def init_app(app: Flask) -> None:
    """Jinja's i18n extension with this module's functions (newstyle: ``_("%(n)s rows", n=3)``,
    values escaped before they are put in)."""
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(translate, ntranslate, newstyle=True)  # type: ignore[attr-defined]


#: The write side's refusals a form can meet (catalog/commands.py speaks English to the API and
#: the CLI): their shapes, as messages to translate with the values they name.
REFUSALS = [
    (re.compile(r"unknown categor(?:y|ies): (?P<keys>.+)"), "unknown category: %(keys)s"),
    (re.compile(r"unknown parent category '(?P<parent>.+)'"), "unknown parent category '%(parent)s'"),
    (
        re.compile(r"parent '(?P<parent>.+)' would put category '(?P<key>.+)' inside itself"),
        "parent '%(parent)s' would put category '%(key)s' inside itself",
    ),
    (
        re.compile(r"variants (?P<skus>.+) of product (?P<product>\S+) have the same options (?P<options>.+)"),
        "variants %(skus)s of product %(product)s have the same options %(options)s",
    ),
    (
        re.compile(r"unknown variant (?P<sku>\S+) of product (?P<product>\S+)"),
        "unknown variant %(sku)s of product %(product)s",
    ),
    (re.compile(r"SKU (?P<sku>\S+) is a product's SKU"), "SKU %(sku)s is a product's SKU"),
    (
        re.compile(r"SKU (?P<sku>\S+) is a variant of product (?P<product>\S+)"),
        "SKU %(sku)s is a variant of product %(product)s",
    ),
    (re.compile(r"unknown product: (?P<sku>\S+)"), "unknown product: %(sku)s"),
]


def refusal(error: Exception) -> str:
    """A write-side refusal in the editor's language (as it came when its shape is not known)."""
    text = str(error)
    parts = text.split("; ")
    out = []
    for part in parts:
        for pattern, message in REFUSALS:
            match = pattern.fullmatch(part)
            if match:
                out.append(gettext(message, **match.groupdict()))
                break
        else:
            out.append(translate(part))
    return "; ".join(out)
