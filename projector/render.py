"""Pure renderers: views in, snippets out. No I/O, so rebuild speed can be compared with them.

Every snippet carries the source version it was rendered from and its lifetime; the store
(:mod:`projector.store`) refuses to overwrite a newer version.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

import nh3
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined, TemplateError
from markupsafe import Markup

from projector.readmodel import CategoryView, Offer, ProductView, VariantView
from vocab.i18n import attribute_label, messages, money
from vocab.images import url
from vocab.keys import (
    FIELD,
    IMAGE_BASE,
    PRODUCT_KINDS,
    SHOP_WIDE,
    SLOT,
    VARIANT_KINDS,
    Context,
    Kind,
    label,
    variable,
)

# Tags a product description may keep; everything else (scripts, styles, handlers) is removed.
log = logging.getLogger(__name__)
#: What a template on trial that failed renders: any snippet holding it is left out.
FAILED = "\x00template failed\x00"

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
#: Option names that are schema.org properties of a Product (``variesBy`` names them by URL); other
#: options are ``additionalProperty`` values, named as they are.
SCHEMA_OPTIONS = {"size": "https://schema.org/size", "color": "https://schema.org/color"}


class Sellable(Protocol):
    """What has prices, offers and stock: a simple product or a variant."""

    @property
    def prices(self) -> dict[str, Decimal]: ...

    @property
    def offers(self) -> list[Offer]: ...

    @property
    def quantity(self) -> int: ...


@dataclass(frozen=True)
class Snippet:
    kind: Kind
    ctx: Context
    ident: str
    version: int
    body: str
    #: Lifetime in seconds; None means the configured base TTL.
    ttl: int | None = None
    #: A variant's own snippet (PRICE, OFFER, AVAIL): its SKU; ``ident`` is then its product's.
    variant: str | None = None


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
    def __init__(
        self,
        locales: Iterable[str],
        currencies: Iterable[str],
        low_stock_threshold: int,
        templates_dir: str | None = None,
    ) -> None:
        """``templates_dir``: templates found there replace the packaged ones of the same name. Such
        templates are on trial (a canary's, docs/canary.md): a snippet one of them fails to render
        is left out and logged rather than stopping the projection, so its pages are served
        degraded and the canary's comparison sees it."""
        self.on_trial = templates_dir is not None
        self.locales = tuple(locales)
        self.currencies = tuple(currencies)
        self.low_stock_threshold = low_stock_threshold
        packaged = PackageLoader("projector", "templates")
        self.env = Environment(
            loader=ChoiceLoader([FileSystemLoader(templates_dir), packaged]) if templates_dir else packaged,
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
            for name in ("frame", "detail", "tile", "crumb", "price", "avail", "home", "category", "variants")
        }
        # A badge depends on its availability state and locale alone: three states per locale, each
        # rendered once (a stock task compares hundreds of badges with the stored ones).
        self._badges: dict[tuple[str, str], str] = {}

    @property
    def contexts(self) -> list[Context]:
        return [Context(locale, currency) for locale in self.locales for currency in self.currencies]

    def _text(self, texts: dict[str, str], locale: str) -> str:
        """A localized text, falling back to the default locale, then to any locale."""
        return texts.get(locale) or texts.get(self.locales[0]) or next(iter(texts.values()), "")

    def _render(self, template: str, **values: object) -> str:
        if not self.on_trial:
            return self._templates[template].render(**values).strip()
        try:
            return self._templates[template].render(**values).strip()
        except TemplateError as exc:
            log.warning("template %s.html failed, its snippet is left out: %s", template, exc)
            return FAILED

    # --- shop-wide -------------------------------------------------------------------------

    def frames(self, categories: dict[str, CategoryView]) -> list[Snippet]:
        version = max((c.version for c in categories.values()), default=0)
        return [
            Snippet(Kind.FRAME, Context(locale, self.currencies[0]), "_", version, self.frame_body(categories, locale))
            for locale in self.locales
        ]

    def frame_body(self, categories: dict[str, CategoryView], locale: str) -> str:
        """One locale's page frame: ``head SLOT middle SLOT tail``."""
        return self._render(
            "frame",
            lang=locale.split("_")[0],
            locale=locale,
            locales=self.locales,
            currencies=self.currencies,
            t=messages(locale),
            nav=self._nav_tree(categories, locale),
            slot=SLOT,
        )

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
        self,
        p: ProductView,
        categories: dict[str, CategoryView],
        now: datetime,
        kinds: Iterable[Kind] = PRODUCT_KINDS,
        variants: Collection[str] | None = None,
    ) -> list[Snippet]:
        """The snippets of one product, for every locale (and currency where money shows).

        For a product with variants, PRICE, OFFER and AVAIL in ``kinds`` mean the aggregate box
        and each variant's own; ``variants`` limits the variants' own snippets to those SKUs
        (None: every variant). VARIANTS and VARIANT exist only for a product with variants.
        """
        return self.usable(self._product(p, categories, now, set(kinds), variants))

    def usable(self, snippets: list[Snippet]) -> list[Snippet]:
        """``snippets`` without those a template on trial failed to render (see ``__init__``)."""
        return [s for s in snippets if FAILED not in s.body] if self.on_trial else snippets

    def _product(
        self,
        p: ProductView,
        categories: dict[str, CategoryView],
        now: datetime,
        kinds: set[Kind],
        variants: Collection[str] | None,
    ) -> list[Snippet]:
        if not p.visible:
            return self.tombstones(p, kinds)
        # A product with variants adds its picker, each variant's own snippets (tombstones for
        # inactive variants) and the pointers from variant SKUs to it (last: each in its own slot).
        grouped = p.has_variants
        chosen = [v for v in p.variants if variants is None or v.sku in variants] if grouped else []
        own = kinds & set(VARIANT_KINDS)
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
            if grouped and Kind.VARIANTS in kinds:
                out.append(self.picker(p, locale))
            for currency in self.currencies:
                ctx = Context(locale, currency)
                if Kind.PRICE in kinds:
                    out.append(self.price_box(p, ctx, now, offer=False))
                if Kind.OFFER in kinds:
                    out.append(self.offer_box(p, ctx, now))
            for v in chosen:
                out += self._variant_snippets(p, v, locale, now, own)
        if grouped and Kind.VARIANT in kinds:
            out += [self.pointer(p, v, locale) for v in p.variants for locale in self.locales]
        return out

    def _variant_snippets(
        self, p: ProductView, v: VariantView, locale: str, now: datetime, kinds: set[Kind]
    ) -> list[Snippet]:
        if not v.active:
            return self.variant_tombstones(p, v, kinds, [locale])
        out = []
        if Kind.AVAIL in kinds:
            out.append(self.variant_availability(p, v, locale))
        for currency in self.currencies:
            ctx = Context(locale, currency)
            if Kind.PRICE in kinds:
                out.append(self.variant_price_box(p, v, ctx, now, offer=False))
            if Kind.OFFER in kinds:
                out.append(self.variant_offer_box(p, v, ctx, now))
        return out

    def tombstones(self, p: ProductView, kinds: Iterable[Kind]) -> list[Snippet]:
        """Empty snippets of a hidden product; with variants, its variants' own ones and pointers too."""
        kinds = set(kinds)
        versions = {Kind.PRICE: price_version(p), Kind.OFFER: price_version(p), Kind.AVAIL: stock_version(p)}
        if not p.has_variants:
            kinds -= {Kind.VARIANTS, Kind.VARIANT}
        out = [
            Snippet(kind, ctx, p.sku, versions.get(kind, p.version), "")
            for kind in sorted(kinds - {Kind.VARIANT})
            for ctx in self._contexts_of(kind)
        ]
        if p.has_variants:
            for v in p.variants:
                out += self.variant_tombstones(p, v, kinds & set(VARIANT_KINDS), self.locales)
            if Kind.VARIANT in kinds:
                out += [
                    Snippet(Kind.VARIANT, self._text_ctx(locale), v.sku, p.version, "")
                    for v in p.variants
                    for locale in self.locales
                ]
        return out

    def variant_tombstones(
        self, p: ProductView, v: VariantView, kinds: Iterable[Kind], locales: Iterable[str]
    ) -> list[Snippet]:
        """Empty own snippets of a variant that is not for sale (or, with ``v`` a stand-in carrying the
        product's versions, one that is gone)."""
        versions = {Kind.PRICE: v.price_version, Kind.OFFER: v.price_version, Kind.AVAIL: v.stock_version}
        locales = set(locales)
        return [
            Snippet(kind, ctx, p.sku, versions[kind], "", variant=v.sku)
            for kind in VARIANT_KINDS
            if kind in kinds
            for ctx in self._contexts_of(kind)
            if ctx.locale in locales
        ]

    def _contexts_of(self, kind: Kind) -> list[Context]:
        if kind.per_currency:
            return self.contexts
        return [self._text_ctx(locale) for locale in self.locales]

    def _text_ctx(self, locale: str) -> Context:
        return Context(locale, self.currencies[0])

    def detail(self, p: ProductView, locale: str) -> Snippet:
        """``title FIELD html``; a product with variants adds ``FIELD`` and its visible variants' SKUs
        (comma-separated): the edge fetches their snippets and the picker with no further look-up."""
        name = self._text(p.names, locale)
        description = Markup(nh3.clean(self._text(p.descriptions, locale), tags=DESCRIPTION_TAGS))
        html = self._render("detail", p=p, name=name, description=description, t=messages(locale), locale=locale)
        body = f"{Markup.escape(name)}{FIELD}{html}"
        if p.has_variants:
            body += FIELD + ",".join(v.sku for v in shown(p))
        return Snippet(Kind.DETAIL, self._text_ctx(locale), p.sku, p.version, body)

    def tile(self, p: ProductView, locale: str) -> Snippet:
        """The tile link; a product with variants lists the option values on offer below it."""
        options = option_values(p) if p.has_variants else []
        html = self._render("tile", p=p, name=self._text(p.names, locale), options=options, locale=locale)
        return Snippet(Kind.TILE, self._text_ctx(locale), p.sku, p.version, html)

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
        return Snippet(Kind.CRUMB, self._text_ctx(locale), p.sku, max(versions), html)

    # --- money and stock: a simple product's, a variant's, and the aggregate of a product's variants

    def live_offer(self, s: Sellable, currency: str, now: datetime) -> Offer | None:
        """The lowest offer of ``s`` (a product or a variant) live at ``now`` in ``currency``."""
        live = [o for o in s.offers if o.currency == currency and o.starts_at <= now < o.ends_at]
        return min(live, key=lambda o: (o.amount, o.ends_at), default=None)

    def paid_now(self, s: Sellable, currency: str, now: datetime) -> Decimal | None:
        """What a shopper pays for ``s`` now: its live offer, else its regular price (None: no price)."""
        live = self.live_offer(s, currency, now)
        return live.amount if live else s.prices.get(currency)

    def _box(self, ctx: Context, amount: Decimal | None, regular: Decimal | None = None, lowest: bool = False) -> str:
        """A price box body (``html FIELD json-ld-fragment``): ``regular`` struck through when given
        (an offer), "from" before the amount when ``lowest``."""
        html = self._render(
            "price",
            t=messages(ctx.locale),
            currency=ctx.currency,
            amount=None if amount is None else money(amount, ctx.currency, ctx.locale),
            regular=None if regular is None else money(regular, ctx.currency, ctx.locale),
            lowest=lowest,
        )
        fragment = "" if amount is None else _json({"price": f"{amount:.2f}", "priceCurrency": ctx.currency})[1:-1]
        return f"{html}{FIELD}{fragment}"

    def _own_box(self, s: Sellable, ctx: Context, now: datetime, offer: bool) -> tuple[str, Offer | None]:
        """The box of one sellable thing: regular (``offer=False``) or what a shopper pays now."""
        regular = s.prices.get(ctx.currency)
        live = self.live_offer(s, ctx.currency, now) if offer else None
        if live is None:
            return self._box(ctx, regular), None
        return self._box(ctx, live.amount, regular), live

    def _aggregate_box(self, p: ProductView, ctx: Context, now: datetime, offer: bool) -> tuple[str, Offer | None]:
        """The box of a product with variants, over its visible variants: the cheapest regular price
        (``offer=False``), or the cheapest price paid now, as an offer when a live offer is that
        price; "from" when the variants' prices differ."""
        currency = ctx.currency
        if not offer:
            amounts = [v.prices[currency] for v in shown(p) if currency in v.prices]
            return self._box(ctx, min(amounts, default=None), lowest=len(set(amounts)) > 1), None
        paid = []
        for v in shown(p):
            live = self.live_offer(v, currency, now)
            amount = live.amount if live else v.prices.get(currency)
            if amount is not None:
                paid.append((amount, live is None, v, live))
        if not paid:
            return self._box(ctx, None), None
        amount, _, v, live = min(paid, key=lambda x: (x[0], x[1]))  # an offer first among equals
        lowest = len({x[0] for x in paid}) > 1
        regular = v.prices.get(currency) if live else None
        return self._box(ctx, amount, regular, lowest), live

    def price_box(self, p: ProductView, ctx: Context, now: datetime, offer: bool) -> Snippet:
        """The regular price box (``offer=False``), or what a shopper pays now (``offer=True``);
        for a product with variants, the aggregate over its visible variants."""
        body, _ = self._aggregate_box(p, ctx, now, offer) if p.has_variants else self._own_box(p, ctx, now, offer)
        return Snippet(Kind.PRICE, ctx, p.sku, price_version(p), body)

    def offer_box(self, p: ProductView, ctx: Context, now: datetime) -> Snippet:
        """The live offer's box, dying with the offer; a tombstone when no offer is live (for a
        product with variants: when no live offer is the cheapest price paid now)."""
        body, live = self._aggregate_box(p, ctx, now, True) if p.has_variants else self._own_box(p, ctx, now, True)
        return self._offer_snippet(ctx, p.sku, price_version(p), body, live, now)

    def _offer_snippet(
        self,
        ctx: Context,
        sku: str,
        version: int,
        body: str,
        live: Offer | None,
        now: datetime,
        variant: str | None = None,
    ) -> Snippet:
        if live is None:
            return Snippet(Kind.OFFER, ctx, sku, version, "", variant=variant)
        ttl = max(1, int((live.ends_at - now).total_seconds()))
        return Snippet(Kind.OFFER, ctx, sku, version, body, ttl=ttl, variant=variant)

    def availability(self, p: ProductView, locale: str) -> Snippet:
        """The badge; for a product with variants, that of its best visible variant (in stock if any is)."""
        quantity = max((v.quantity for v in shown(p)), default=0) if p.has_variants else p.quantity
        return Snippet(Kind.AVAIL, self._text_ctx(locale), p.sku, stock_version(p), self._badge(quantity, locale))

    def _badge(self, quantity: int, locale: str) -> str:
        state = availability_state(quantity, self.low_stock_threshold)
        badge = self._badges.get((state, locale))
        if badge is None:
            html = self._render("avail", state=state, t=messages(locale))
            badge = f"{html}{FIELD}{_json({'availability': SCHEMA_AVAILABILITY[state]})[1:-1]}"
            if html != FAILED:  # a trial template that failed is tried again
                self._badges[(state, locale)] = badge
        return badge

    def variant_price_box(self, p: ProductView, v: VariantView, ctx: Context, now: datetime, offer: bool) -> Snippet:
        body, _ = self._own_box(v, ctx, now, offer)
        return Snippet(Kind.PRICE, ctx, p.sku, v.price_version, body, variant=v.sku)

    def variant_offer_box(self, p: ProductView, v: VariantView, ctx: Context, now: datetime) -> Snippet:
        body, live = self._own_box(v, ctx, now, True)
        return self._offer_snippet(ctx, p.sku, v.price_version, body, live, now, variant=v.sku)

    def variant_availability(self, p: ProductView, v: VariantView, locale: str) -> Snippet:
        return Snippet(
            Kind.AVAIL, self._text_ctx(locale), p.sku, v.stock_version, self._badge(v.quantity, locale), variant=v.sku
        )

    # --- the picker and the pointers of a product with variants ------------------------------

    def picker(self, p: ProductView, locale: str) -> Snippet:
        """VARIANTS: the picker html (one SLOT per variant, for the edge to put its price and badge)
        FIELD ``{"variants": [[sku, {option: value}], ...], "options": [[name, [values]], ...]}``."""
        variants = shown(p)
        options = option_values(p)
        html = self._render(
            "variants",
            p=p,
            variants=[{"sku": v.sku, "options": clean_options(v)} for v in variants],
            options=options,
            slot=SLOT,
            t=messages(locale),
            locale=locale,
        )
        data = {"variants": [[v.sku, clean_options(v)] for v in variants], "options": options}
        return Snippet(Kind.VARIANTS, self._text_ctx(locale), p.sku, p.version, f"{html}{FIELD}{_json(data)}")

    def pointer(self, p: ProductView, v: VariantView, locale: str) -> Snippet:
        """VARIANT: the product's SKU under the variant's (a tombstone while the variant is not for sale)."""
        return Snippet(Kind.VARIANT, self._text_ctx(locale), v.sku, p.version, p.sku if v.active else "")

    def ld(self, p: ProductView, locale: str) -> Snippet:
        """schema.org Product without its closing brace: the edge appends the offer from PRICE/OFFER
        and AVAIL. A product with variants is a ProductGroup: ``head`` (ending in ``"hasVariant":[``)
        then ``FIELD sku FIELD variant`` per visible variant, each variant a Product without its
        closing brace, for the edge to append that variant's offer."""
        name = self._text(p.names, locale)
        data: dict[str, object] = {
            "@context": "https://schema.org",
            "@type": "ProductGroup" if p.has_variants else "Product",
            "name": name,
        }
        data["productGroupID" if p.has_variants else "sku"] = p.sku
        if p.brand:
            data["brand"] = {"@type": "Brand", "name": p.brand}
        body = _json(data)[:-1]
        if p.images:  # spliced in: the JSON encoding would escape the '<' of IMAGE_BASE
            body += ',"image":[' + ",".join(_json_url(i.src) for i in p.images) + "]"
        if p.has_variants:
            varies = [SCHEMA_OPTIONS.get(name, name) for name, _ in option_values(p)]
            body += ',"variesBy":' + _json(varies) + ',"hasVariant":['
            for v in shown(p):
                body += FIELD + v.sku + FIELD + _json(self._variant_ld(v, name))[:-1]
        return Snippet(Kind.LD, self._text_ctx(locale), p.sku, p.version, body)

    @staticmethod
    def _variant_ld(v: VariantView, name: str) -> dict[str, object]:
        data: dict[str, object] = {"@type": "Product", "sku": v.sku, "name": name, "url": f"/p/{v.sku}"}
        others = []
        for option, value in clean_options(v).items():
            if option in SCHEMA_OPTIONS:
                data[option] = value
            else:
                others.append({"@type": "PropertyValue", "name": option, "value": value})
        if others:
            data["additionalProperty"] = others
        return data


def price_version(p: ProductView) -> int:
    """The version of a product's price boxes: with variants, the newest of its own and its variants'
    (``load_products`` reads it so; a view built by hand may not)."""
    return max([p.price_version, *(v.price_version for v in p.variants)]) if p.has_variants else p.price_version


def stock_version(p: ProductView) -> int:
    """The version of a product's badge: with variants, the newest of its own and its variants'."""
    return max([p.stock_version, *(v.stock_version for v in p.variants)]) if p.has_variants else p.stock_version


def shown(p: ProductView) -> list[VariantView]:
    """The variants a shopper sees (the active ones), in position order."""
    return [v for v in p.variants if v.active]


def _plain(text: str) -> str:
    """Catalog text without the separators of snippet bodies."""
    return text.replace(FIELD, "").replace(SLOT, "")


def clean_options(v: VariantView) -> dict[str, str]:
    return {name: _plain(value) for name, value in v.options.items()}


def option_values(p: ProductView) -> list[tuple[str, list[str]]]:
    """Each option name of the visible variants with its values on offer, in variant order."""
    found: dict[str, dict[str, None]] = {}
    for v in shown(p):
        for name, value in clean_options(v).items():
            found.setdefault(name, {})[value] = None
    return [(name, list(values)) for name, values in found.items()]
