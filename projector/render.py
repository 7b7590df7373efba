"""Pure renderers: views in, snippets out. No I/O, so rebuild speed can be compared with them.

Every snippet carries the source version it was rendered from and its lifetime; the store
(:mod:`projector.store`) refuses to overwrite a newer version.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import nh3
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from projector.readmodel import CategoryView, ProductView
from vocab.i18n import attribute_label, messages, money
from vocab.images import url
from vocab.keys import FIELD, IMAGE_BASE, PRODUCT_KINDS, SHOP_WIDE, SLOT, Context, Kind, label, variable

# Tags a product description may keep; everything else (scripts, styles, handlers) is removed.
DESCRIPTION_TAGS = {
    "p",
    "br",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "b",
    "i",
    "h3",
    "h4",
    "span",
    "table",
    "tr",
    "td",
    "th",
}

SCHEMA_AVAILABILITY = {
    "in_stock": "https://schema.org/InStock",
    "low_stock": "https://schema.org/LimitedAvailability",
    "sold_out": "https://schema.org/OutOfStock",
}


@dataclass(frozen=True)
class Snippet:
    kind: Kind
    ctx: Context
    ident: str
    version: int
    body: str
    #: Lifetime in seconds; None means the configured base TTL.
    ttl: int | None = None


def _json(value: object) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def _json_url(src: str) -> str:
    """A JSON string of the image's URL, :data:`IMAGE_BASE` kept as it is for the edge to replace."""
    address = image_url(src)
    if address.startswith(IMAGE_BASE):
        return '"' + IMAGE_BASE + _json(address[len(IMAGE_BASE) :])[1:]
    return _json(address)


def image_url(src: str) -> str:
    """Where a page fetches an image: a relative path starts at :data:`IMAGE_BASE` (the edge puts
    its IMAGE_BASE_URL there); an https URL stays as it is."""
    return url(src, IMAGE_BASE)


def _image_markup(src: str) -> Markup:
    """An image URL for an HTML attribute: escaped, :data:`IMAGE_BASE` kept as it is."""
    address = image_url(src)
    if address.startswith(IMAGE_BASE):
        return Markup(IMAGE_BASE) + address[len(IMAGE_BASE) :]
    return Markup.escape(address)


def availability_state(quantity: int, low_threshold: int) -> str:
    if quantity <= 0:
        return "sold_out"
    return "low_stock" if quantity <= low_threshold else "in_stock"


class Renderer:
    def __init__(self, locales: Iterable[str], currencies: Iterable[str], low_stock_threshold: int) -> None:
        self.locales = tuple(locales)
        self.currencies = tuple(currencies)
        self.low_stock_threshold = low_stock_threshold
        self.env = Environment(
            loader=PackageLoader("projector", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals["var"] = lambda name, default: Markup(variable(name, str(Markup.escape(default))))
        # An attribute's label: the edge fills in the labels snippet's (docs/keys.md); the fallback stays.
        self.env.globals["label"] = lambda code, locale: Markup(
            label(code, str(Markup.escape(attribute_label(code, locale))))
        )
        self.env.globals["image_url"] = _image_markup
        self._templates = {
            name: self.env.get_template(f"{name}.html")
            for name in ("frame", "detail", "tile", "crumb", "price", "avail", "home", "category")
        }

    @property
    def contexts(self) -> list[Context]:
        return [Context(locale, currency) for locale in self.locales for currency in self.currencies]

    def _text(self, texts: dict[str, str], locale: str) -> str:
        """A localized text, falling back to the default locale, then to any locale."""
        return texts.get(locale) or texts.get(self.locales[0]) or next(iter(texts.values()), "")

    def _render(self, template: str, **values: object) -> str:
        return self._templates[template].render(**values).strip()

    # --- shop-wide -------------------------------------------------------------------------

    def frames(self, categories: dict[str, CategoryView]) -> list[Snippet]:
        version = max((c.version for c in categories.values()), default=0)
        out = []
        for locale in self.locales:
            nav = self._nav_tree(categories, locale)
            body = self._render(
                "frame",
                lang=locale.split("_")[0],
                locale=locale,
                locales=self.locales,
                currencies=self.currencies,
                t=messages(locale),
                nav=nav,
                slot=SLOT,
            )
            out.append(Snippet(Kind.FRAME, Context(locale, self.currencies[0]), "_", version, body))
        return out

    def category_headers(self, categories: dict[str, CategoryView]) -> list[Snippet]:
        """Per category and locale: ``escaped title FIELD header html`` (breadcrumb and heading)."""
        out = []
        for key, cat in categories.items():
            chain = [cat]
            while chain[0].parent in categories and len(chain) < 20:
                chain.insert(0, categories[chain[0].parent])
            version = max(c.version for c in chain)
            for locale in self.locales:
                trail = [{"key": c.key, "name": self._text(c.names, locale)} for c in chain[:-1]]
                name = self._text(cat.names, locale)
                html = self._render("category", trail=trail, name=name, t=messages(locale))
                out.append(
                    Snippet(
                        Kind.CATEGORY,
                        Context(locale, self.currencies[0]),
                        key,
                        version,
                        f"{Markup.escape(name)}{FIELD}{html}",
                    )
                )
        return out

    def _nav_tree(self, categories: dict[str, CategoryView], locale: str) -> list[dict]:
        children: dict[str | None, list[CategoryView]] = {}
        for c in categories.values():
            children.setdefault(c.parent, []).append(c)

        def build(parent: str | None) -> list[dict]:
            return [
                {"key": c.key, "name": self._text(c.names, locale), "children": build(c.key)}
                for c in sorted(children.get(parent, []), key=lambda c: (c.position, c.key))
            ]

        return build(None)

    def labels(self, version: int, stored: dict[str, dict[str, str]]) -> list[Snippet]:
        """Per locale: the attribute labels the catalog gives (code → label, JSON), each resolved
        for the locale (:func:`vocab.i18n.attribute_label`). Codes without any label are left
        out: the edge shows their fallback, which is the same."""
        out = []
        for locale in self.locales:
            labels = {
                code: attribute_label(code, locale, texts, self.locales)
                for code, texts in sorted(stored.items())
                if texts
            }
            out.append(Snippet(Kind.LABELS, Context(locale, self.currencies[0]), SHOP_WIDE, version, _json(labels)))
        return out

    def home(self, version: int, featured: list[str]) -> list[Snippet]:
        """Per locale: the home heading and the featured SKUs, whose tiles the edge adds like a listing's."""
        return [
            Snippet(
                Kind.HOME,
                Context(locale, self.currencies[0]),
                "_",
                version,
                f"{self._render('home', t=messages(locale))}{FIELD}{','.join(featured)}",
            )
            for locale in self.locales
        ]

    # --- per product -----------------------------------------------------------------------

    def product(
        self, p: ProductView, categories: dict[str, CategoryView], now: datetime, kinds: Iterable[Kind] = PRODUCT_KINDS
    ) -> list[Snippet]:
        """The snippets of one product, for every locale (and currency where money shows)."""
        kinds = set(kinds)
        if not p.visible:
            return self.tombstones(p, kinds)
        out: list[Snippet] = []
        for locale in self.locales:
            if Kind.DETAIL in kinds:
                out.append(self.detail(p, locale))
            if Kind.TILE in kinds:
                out.append(self.tile(p, locale))
            if Kind.CRUMB in kinds:
                out.append(self.crumb(p, locale, categories))
            if Kind.AVAIL in kinds:
                out.append(self.availability(p, locale))
            if Kind.LD in kinds:
                out.append(self.ld(p, locale))
            for currency in self.currencies:
                ctx = Context(locale, currency)
                if Kind.PRICE in kinds:
                    out.append(self.price_box(p, ctx, now, offer=False))
                if Kind.OFFER in kinds:
                    out.append(self.offer_box(p, ctx, now))
        return out

    def tombstones(self, p: ProductView, kinds: Iterable[Kind]) -> list[Snippet]:
        versions = {Kind.PRICE: p.price_version, Kind.OFFER: p.price_version, Kind.AVAIL: p.stock_version}
        return [
            Snippet(kind, ctx, p.sku, versions.get(kind, p.version), "")
            for kind in kinds
            for ctx in self._contexts_of(kind)
        ]

    def _contexts_of(self, kind: Kind) -> list[Context]:
        if kind.per_currency:
            return self.contexts
        return [Context(locale, self.currencies[0]) for locale in self.locales]

    def detail(self, p: ProductView, locale: str) -> Snippet:
        name = self._text(p.names, locale)
        description = Markup(nh3.clean(self._text(p.descriptions, locale), tags=DESCRIPTION_TAGS))
        html = self._render("detail", p=p, name=name, description=description, t=messages(locale), locale=locale)
        return Snippet(
            Kind.DETAIL, Context(locale, self.currencies[0]), p.sku, p.version, f"{Markup.escape(name)}{FIELD}{html}"
        )

    def tile(self, p: ProductView, locale: str) -> Snippet:
        html = self._render("tile", p=p, name=self._text(p.names, locale))
        return Snippet(Kind.TILE, Context(locale, self.currencies[0]), p.sku, p.version, html)

    def crumb(self, p: ProductView, locale: str, categories: dict[str, CategoryView]) -> Snippet:
        trail: list[dict] = []
        key = p.categories[0] if p.categories else None
        versions = [p.version]
        while key is not None and key in categories and len(trail) < 20:
            cat = categories[key]
            trail.insert(0, {"key": cat.key, "name": self._text(cat.names, locale)})
            versions.append(cat.version)
            key = cat.parent
        html = self._render("crumb", trail=trail, name=self._text(p.names, locale), t=messages(locale))
        return Snippet(Kind.CRUMB, Context(locale, self.currencies[0]), p.sku, max(versions), html)

    def live_offer(self, p: ProductView, currency: str, now: datetime):
        live = [o for o in p.offers if o.currency == currency and o.starts_at <= now < o.ends_at]
        return min(live, key=lambda o: (o.amount, o.ends_at), default=None)

    def price_box(self, p: ProductView, ctx: Context, now: datetime, offer: bool) -> Snippet:
        """The regular price box (``offer=False``), or what a shopper pays now (``offer=True``)."""
        regular = p.prices.get(ctx.currency)
        live = self.live_offer(p, ctx.currency, now) if offer else None
        amount = live.amount if live else regular
        html = self._render(
            "price",
            t=messages(ctx.locale),
            currency=ctx.currency,
            amount=None if amount is None else money(amount, ctx.currency, ctx.locale),
            regular=money(regular, ctx.currency, ctx.locale) if live and regular is not None else None,
        )
        fragment = "" if amount is None else _json({"price": f"{amount:.2f}", "priceCurrency": ctx.currency})[1:-1]
        return Snippet(Kind.PRICE, ctx, p.sku, p.price_version, f"{html}{FIELD}{fragment}")

    def offer_box(self, p: ProductView, ctx: Context, now: datetime) -> Snippet:
        """The live offer's box, dying with the offer; a tombstone when no offer is live."""
        live = self.live_offer(p, ctx.currency, now)
        if live is None:
            return Snippet(Kind.OFFER, ctx, p.sku, p.price_version, "")
        box = self.price_box(p, ctx, now, offer=True)
        ttl = max(1, int((live.ends_at - now).total_seconds()))
        return Snippet(Kind.OFFER, ctx, p.sku, p.price_version, box.body, ttl=ttl)

    def availability(self, p: ProductView, locale: str) -> Snippet:
        state = availability_state(p.quantity, self.low_stock_threshold)
        html = self._render("avail", state=state, t=messages(locale))
        fragment = _json({"availability": SCHEMA_AVAILABILITY[state]})[1:-1]
        return Snippet(
            Kind.AVAIL, Context(locale, self.currencies[0]), p.sku, p.stock_version, f"{html}{FIELD}{fragment}"
        )

    def ld(self, p: ProductView, locale: str) -> Snippet:
        """schema.org Product without its closing brace: the edge appends the offer from PRICE/OFFER and AVAIL."""
        data: dict[str, object] = {
            "@context": "https://schema.org",
            "@type": "Product",
            "name": self._text(p.names, locale),
            "sku": p.sku,
        }
        if p.brand:
            data["brand"] = {"@type": "Brand", "name": p.brand}
        body = _json(data)[:-1]
        if p.images:  # spliced in: the JSON encoding would escape the '<' of IMAGE_BASE
            body += ',"image":[' + ",".join(_json_url(i.src) for i in p.images) + "]"
        return Snippet(Kind.LD, Context(locale, self.currencies[0]), p.sku, p.version, body)
