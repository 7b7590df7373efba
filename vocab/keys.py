"""The key scheme: the one owner of every Redis key the shop writes or reads.

Layout (documented for operators and future front ends in other languages in docs/keys.md)::

    {prefix}:live                          live generation number (the one pointer)
    {prefix}:building                      generation a rebuild is filling, if any
    {prefix}:genseq                        counter that hands out generation numbers
    {prefix}:generations                   set of generations that hold snippets
    {prefix}:lock:rebuild                  lock held by the one running full rebuild
    {prefix}:{gen}:{kind}:{context}:{{id}} one snippet

``context`` is the locale (``en_US``) for text snippets and ``locale.currency``
(``en_US.EUR``) for snippets that show money. ``id`` is the SKU for product snippets, ``_`` for
shop-wide ones (frame, home, labels) and the variant SKU for a VARIANT pointer; the braces are a
Redis Cluster hash tag, so every key of one product lives in one slot. A variant's own snippets
(:meth:`KeyScheme.variant_snippet`) add ``:{variant SKU}`` after their product's tag.

A snippet's value is ``{source version}\n{body}``; :func:`split_value` takes it apart. An empty
body is a tombstone (the product is gone or hidden). Some bodies hold more than one part,
separated by ``FIELD`` (U+001E): a product DETAIL is ``title FIELD html`` (a product with variants
adds ``FIELD`` and its visible variants' SKUs, comma-separated); PRICE, OFFER and AVAIL are
``html FIELD json-ld-fragment``; VARIANTS is ``picker html FIELD JSON`` (the picker holds one
``SLOT`` per variant, where the edge puts that variant's price and badge); the LD of a product with
variants is a ProductGroup's ``head`` followed by ``FIELD sku FIELD variant`` pairs (docs/keys.md).
A FRAME is ``head SLOT middle SLOT tail`` (U+001D): the page title goes into the first slot, the
page body into the second. LABELS is a JSON object, attribute code to label. Snippets may carry
personalization variables (:func:`variable`) that the edge fills per request (among them
:data:`IMAGE_BASE`, the image base URL that starts relative image URLs), and attribute labels
(:func:`label`) that it takes from the LABELS snippet.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

SHOP_WIDE = "_"
FIELD = "\x1e"
SLOT = "\x1d"
# Personalization variables inside snippet HTML: <!--v:NAME-->default html<!--/v-->.
# Unfilled, a page still shows the default; the edge replaces each with the shopper's value.
VAR_OPEN = "<!--v:"
VAR_CLOSE = "<!--/v-->"
VAR_RE = re.compile(r"<!--v:([a-z_]{1,32})-->(.*?)<!--/v-->", re.S)


def variable(name: str, default_html: str) -> str:
    """A personalization variable with its (already escaped) default."""
    return f"{VAR_OPEN}{name}-->{default_html}{VAR_CLOSE}"


# An attribute's label inside snippet HTML: <!--l:CODE-->fallback html<!--/l-->. The edge puts the
# label of the page's LABELS snippet in its place, so a label change re-renders that snippet only.
LABEL_OPEN = "<!--l:"
LABEL_CLOSE = "<!--/l-->"
LABEL_RE = re.compile(r"<!--l:([a-z0-9_]{1,40})-->(.*?)<!--/l-->", re.S)


def label(code: str, default_html: str) -> str:
    """An attribute label (``code`` canonical) with its (already escaped) fallback."""
    return f"{LABEL_OPEN}{code}-->{default_html}{LABEL_CLOSE}"


# Where the URL of an image below the image base starts, in snippet HTML and JSON-LD: a variable
# the edge fills with its IMAGE_BASE_URL in the same pass as the others, so snippets do not depend
# on where images are served. Escaped catalog text cannot hold it ('<' is escaped in HTML and JSON-LD).
IMAGE_BASE = variable("image_base", "")
# Keys in URLs, messages and Redis keys. Match them whole, with ``fullmatch``: with ``match``,
# ``$`` also accepts a trailing newline (and the newline-delimited invalidations would then miss
# the key). The anchors stay for ``.pattern``, which the OpenAPI document and messages show.
SKU_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
CATEGORY_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# Marks a claimed member of the offer timers (KeyScheme.timers): no SKU starts with it (SKU_RE).
TIMER_FIRING = "!"


class Kind(StrEnum):
    """Snippet kinds, grouped by what changes them (their change rate)."""

    FRAME = "frame"  # page frame with navigation; per locale; changes with the category tree
    CATEGORY = "category"  # category page header (breadcrumb, title); per locale; id is the category key
    HOME = "home"  # home page heading FIELD featured SKUs (comma-separated); per locale
    DETAIL = "detail"  # product text block; per locale; changes with the product
    TILE = "tile"  # product tile for listings; per locale
    CRUMB = "crumb"  # breadcrumb; per locale; changes with product or category tree
    PRICE = "price"  # regular price box; per locale and currency; changes with prices
    OFFER = "offer"  # special offer price box; lives until the offer ends (TTL)
    AVAIL = "avail"  # availability badge; per locale; changes with the stock state
    LD = "ld"  # schema.org Product JSON-LD without its offer; per locale
    LABELS = "labels"  # attribute labels (JSON: code → label); per locale; changes with the labels
    VARIANTS = "variants"  # a product's variant picker FIELD its variants (JSON); per locale; none for a simple product
    VARIANT = "variant"  # pointer from a variant SKU to its product's SKU; per locale; id is the variant SKU

    @property
    def per_currency(self) -> bool:
        return self in _PER_CURRENCY


_PER_CURRENCY = {Kind.PRICE, Kind.OFFER}
#: Everything a product projects. VARIANTS and VARIANT exist only for a product with variants.
PRODUCT_KINDS = (
    Kind.DETAIL,
    Kind.TILE,
    Kind.CRUMB,
    Kind.PRICE,
    Kind.OFFER,
    Kind.AVAIL,
    Kind.LD,
    Kind.VARIANTS,
    Kind.VARIANT,
)
#: A variant's own snippets (``KeyScheme.variant_snippet``), in the order :meth:`KeyScheme.variant_parts` fetches them.
VARIANT_KINDS = (Kind.PRICE, Kind.OFFER, Kind.AVAIL)
PRICE_KINDS = (Kind.PRICE, Kind.OFFER)
TILE_KINDS = (Kind.TILE, Kind.PRICE, Kind.OFFER, Kind.AVAIL)
PRODUCT_PAGE_KINDS = (Kind.FRAME, Kind.DETAIL, Kind.CRUMB, Kind.PRICE, Kind.OFFER, Kind.AVAIL, Kind.LD, Kind.LABELS)
SHOP_WIDE_KINDS = frozenset({Kind.FRAME, Kind.HOME, Kind.LABELS})
STOCK_KINDS = (Kind.AVAIL,)
CRUMB_KINDS = (Kind.CRUMB,)


@dataclass(frozen=True)
class Context:
    locale: str
    currency: str


@dataclass(frozen=True)
class KeyScheme:
    prefix: str = "ss"

    @property
    def live(self) -> str:
        return f"{self.prefix}:live"

    @property
    def building(self) -> str:
        return f"{self.prefix}:building"

    @property
    def genseq(self) -> str:
        return f"{self.prefix}:genseq"

    @property
    def rebuild_lock(self) -> str:
        """Lock of the one running full rebuild; its value is JSON naming the holder (host, pid, start)."""
        return f"{self.prefix}:lock:rebuild"

    @property
    def rebuild_progress(self) -> str:
        """Hash ``done``, ``total``: products the running full rebuild has projected, of how many
        (for the scheduler's metrics); expires when it is no longer renewed."""
        return f"{self.prefix}:rebuild:progress"

    # --- Canary generations (docs/canary.md) ---------------------------------------------

    @property
    def canary(self) -> str:
        """String, JSON :class:`CanaryRecord`: the generation a share of shoppers is served while a
        canary runs (``projector rebuild --canary``); absent otherwise."""
        return f"{self.prefix}:canary"

    @property
    def building_templates(self) -> str:
        """The templates directory a canary being built renders with (``projector rebuild --canary``
        with SNIPPET_TEMPLATES_DIR): tasks render the building generation with them too."""
        return f"{self.prefix}:building:templates"

    @property
    def search_canary(self) -> str:
        """The generation the embedded search's canary view reads (the canary's search pointer)."""
        return f"{self.prefix}:search:canary"

    def canary_stats(self, gen: int, minute: int) -> str:
        """Hash of what the edge served from ``gen`` during one minute (Unix time // 60) while a
        canary ran: ``requests``, ``status:NNN``, ``degraded``, ``misses``, ``latency:BOUND``."""
        return f"{self.prefix}:canary:stats:{gen}:{minute}"

    @property
    def invalidations(self) -> str:
        """Pub/sub channel: snippet keys whose stored value changed (newline-separated)."""
        return f"{self.prefix}:invalidate"

    @property
    def listing_changes(self) -> str:
        """Pub/sub channel: a generation's search answers may have changed (the generation number,
        or ``*`` after a switch of the live or canary search generation); an edge drops the search
        results and listing pages it keeps (web/edge/listing_epochs.py)."""
        return f"{self.prefix}:listings:changed"

    def listing_digests(self, gen: int) -> str:
        """Hash, SKU to ``{version} {digest}``: what each product's search document held that
        listings depend on, when last indexed in ``gen`` (projector/listing_changes.py)."""
        return f"{self.prefix}:{gen}:listed"

    def lag(self, topic: str) -> str:
        """A capped list of recent projection lags (milliseconds) for one topic (``vocab.topics.Topic``)."""
        return f"{self.prefix}:lag:{topic}"

    @property
    def timers(self) -> str:
        """A sorted set of SKUs whose prices must be re-projected at a time (offer starts/ends).
        A member :data:`TIMER_FIRING` + SKU is a due timer a run has claimed, scored by when its
        claim runs out (projector.service.Projector.fire_timers)."""
        return f"{self.prefix}:timers"

    @property
    def generations(self) -> str:
        """A set of the generation numbers that hold snippets."""
        return f"{self.prefix}:generations"

    @property
    def retired(self) -> str:
        """A sorted set of replaced generations, scored by when they stopped being live."""
        return f"{self.prefix}:retired"

    def snippet(self, gen: int, kind: Kind, ctx: Context, ident: str = SHOP_WIDE) -> str:
        context = f"{ctx.locale}.{ctx.currency}" if kind in _PER_CURRENCY else ctx.locale
        return f"{self.prefix}:{gen}:{kind}:{context}:{{{ident}}}"  # a StrEnum formats as its value

    def variant_snippet(self, gen: int, kind: Kind, ctx: Context, product: str, variant: str) -> str:
        """One variant's own snippet (PRICE, OFFER, AVAIL) in its product's hash tag (docs/variants.md)."""
        return f"{self.snippet(gen, kind, ctx, product)}:{variant}"

    def generation_pattern(self, gen: int) -> str:
        """A SCAN pattern matching every snippet of one generation."""
        return f"{self.prefix}:{gen}:*"

    def product_page(self, gen: int, ctx: Context, sku: str) -> list[str]:
        """Every key a product page needs, in the order of :data:`PRODUCT_PAGE_KINDS`."""
        return [
            self.snippet(gen, kind, ctx, SHOP_WIDE if kind in SHOP_WIDE_KINDS else sku) for kind in PRODUCT_PAGE_KINDS
        ]

    def variant_parts(self, gen: int, ctx: Context, product: str, variants: Sequence[str]) -> list[str]:
        """For each variant of ``product``, in order, the keys of its own :data:`VARIANT_KINDS`."""
        return [self.variant_snippet(gen, kind, ctx, product, v) for v in variants for kind in VARIANT_KINDS]

    def labels(self, gen: int, ctx: Context) -> str:
        """The attribute labels of the context's locale (listings and product pages fetch it)."""
        return self.snippet(gen, Kind.LABELS, ctx)

    def home_page(self, gen: int, ctx: Context) -> list[str]:
        return [self.snippet(gen, Kind.FRAME, ctx), self.snippet(gen, Kind.HOME, ctx)]

    def tiles(self, gen: int, ctx: Context, skus: list[str]) -> list[str]:
        """For each SKU, in order, the keys of :data:`TILE_KINDS`."""
        return [self.snippet(gen, kind, ctx, sku) for sku in skus for kind in TILE_KINDS]

    # --- Embedded search index (search/embedded*.py; docs/keys.md "Embedded search index") ----
    # Every index key lives under ``{prefix}:{gen}:idx:`` so deleting a generation removes it.

    @property
    def search_live(self) -> str:
        """The generation embedded search queries read (set by ``EmbeddedIndex.switch``)."""
        return f"{self.prefix}:search:live"

    def search_index(self, gen: int) -> str:
        """Where every key of one generation's index starts: ``{prefix}:{gen}:idx:{{prefix}:{gen}}:``.
        The hash tag puts the whole index of a generation in one Redis Cluster slot, since each
        write and query script touches many of its keys (docs/keys.md, "Redis Cluster")."""
        return f"{self.prefix}:{gen}:idx:{{{self.prefix}:{gen}}}:"

    def search_index_pattern(self, gen: int) -> str:
        """A SCAN pattern matching every key of one generation's search index."""
        return f"{self.prefix}:{gen}:idx:*"

    # The keys inside a generation's index are IndexKey's names after search_index(gen).

    def search_meta(self, gen: int) -> str:
        return self.search_index(gen) + IndexKey.META

    def search_doc(self, gen: int, sku: str) -> str:
        """Hash: stored version and the memberships to undo when the document is replaced."""
        return self.search_index(gen) + IndexKey.doc(sku)

    def search_visible(self, gen: int) -> str:
        return self.search_index(gen) + IndexKey.VISIBLE

    def search_in_stock(self, gen: int) -> str:
        return self.search_index(gen) + IndexKey.IN_STOCK

    def search_category(self, gen: int, category: str) -> str:
        return self.search_index(gen) + IndexKey.category(category)

    def search_facet_value(self, gen: int, facet: str, value: str) -> str:
        return self.search_index(gen) + IndexKey.facet_value(facet, value)

    def search_facet_bitmap(self, gen: int, facet: str, value: str) -> str:
        return self.search_index(gen) + IndexKey.facet_bitmap(facet, value)

    def search_ids(self, gen: int) -> str:
        """Hash: SKU to the product's number in the generation (its bit in the facet bitmaps)."""
        return self.search_index(gen) + IndexKey.IDS

    def search_id_seq(self, gen: int) -> str:
        return self.search_index(gen) + IndexKey.ID_SEQ

    def search_facet_registry(self, gen: int) -> str:
        return self.search_index(gen) + IndexKey.FACETS

    def search_price(self, gen: int, currency: str) -> str:
        return self.search_index(gen) + IndexKey.price(currency)

    def search_with_variants(self, gen: int) -> str:
        return self.search_index(gen) + IndexKey.WITH_VARIANTS

    def search_variants(self, gen: int) -> str:
        return self.search_index(gen) + IndexKey.VARIANTS

    def search_variant_facet(self, gen: int, facet: str, value: str) -> str:
        return self.search_index(gen) + IndexKey.variant_facet(facet, value)

    def search_sold_out_value(self, gen: int, facet: str, value: str) -> str:
        return self.search_index(gen) + IndexKey.sold_out_value(facet, value)

    def search_sold_out_bitmap(self, gen: int, facet: str, value: str) -> str:
        return self.search_index(gen) + IndexKey.sold_out_bitmap(facet, value)

    def search_stock_price(self, gen: int, currency: str) -> str:
        return self.search_index(gen) + IndexKey.stock_price(currency)

    def search_variant_in_stock(self, gen: int) -> str:
        return self.search_index(gen) + IndexKey.VARIANT_IN_STOCK

    def search_variant_price(self, gen: int, currency: str) -> str:
        return self.search_index(gen) + IndexKey.variant_price(currency)

    def search_created(self, gen: int) -> str:
        return self.search_index(gen) + IndexKey.CREATED

    def search_name_rank(self, gen: int, locale: str) -> str:
        return self.search_index(gen) + IndexKey.name_rank(locale)

    def search_names(self, gen: int, locale: str) -> str:
        return self.search_index(gen) + IndexKey.names(locale)

    def search_name_prefix(self, gen: int, locale: str) -> str:
        return self.search_index(gen) + IndexKey.name_prefix(locale)

    def search_name_words(self, gen: int, locale: str) -> str:
        return self.search_index(gen) + IndexKey.name_words(locale)

    def search_sku_prefix(self, gen: int) -> str:
        return self.search_index(gen) + IndexKey.SKU_PREFIX

    def search_term(self, gen: int, locale: str, in_name: bool, term: str) -> str:
        return self.search_index(gen) + IndexKey.term(locale, in_name, term)

    def search_vocabulary(self, gen: int, locale: str) -> str:
        return self.search_index(gen) + IndexKey.vocabulary(locale)

    def search_temp(self, gen: int, nonce: str, n: int) -> str:
        return f"{self.search_index(gen)}tmp:{nonce}:{n}"

    # --- end of the embedded search index keys ----------------------------------------------

    # --- Read-repair and dead letters (projector/read_repair.py, projector/deadletters.py) --------
    # The repair keys share the hash tag ``{repair}``: the edge's request script touches the
    # pending set and the rate-limit keys in one call, which Redis Cluster allows in one slot only.

    @property
    def repair_pending(self) -> str:
        """Set of ``kind:id`` things the edge missed (``product:SKU``, ``navigation:_``, ``home:_``)."""
        return f"{self.prefix}:{{repair}}:pending"

    def repair_seen(self, kind: str, ident: str) -> str:
        """Rate limit of repair requests for one thing: set with NX and a short expiry."""
        return f"{self.prefix}:{{repair}}:seen:{kind}:{ident}"

    @property
    def dead_letters(self) -> str:
        """List of JSON entries of projection tasks that failed for good (newest first)."""
        return f"{self.prefix}:dead"

    # --- The scheduled refresh's ledger -----------------------------------------------------

    @property
    def refresh_pending(self) -> str:
        """Sorted set of the scheduled refresh's batches (JSON lists of SKUs) that no task has
        started yet, scored by when they were sent (projector/refresh.py)."""
        return f"{self.prefix}:refresh:pending"


class IndexKey:
    """The keys inside one generation of the embedded search index, without the generation's
    prefix (:meth:`KeyScheme.search_index`): what a write call sends and a document's undo list
    keeps (search/embedded_write.lua puts the prefix in front), the same for every generation.
    :class:`KeyScheme`'s ``search_*`` methods give the whole keys."""

    META = "meta"
    VISIBLE = "visible"
    IN_STOCK = "in_stock"
    IDS = "ids"
    ID_SEQ = "idseq"
    #: Set of ``facet U+001F value`` ever indexed in the generation.
    FACETS = "facets"
    #: Set of the visible products sold in variants (simple products are never in it).
    WITH_VARIANTS = "with_variants"
    #: Sorted set, score 0: every variant member (a product's variants are a lex range).
    VARIANTS = "variants"
    VARIANT_IN_STOCK = "vin_stock"
    CREATED = "created"
    SKU_PREFIX = "sku_lex"

    @staticmethod
    def doc(sku: str) -> str:
        return f"doc:{sku}"

    @staticmethod
    def category(category: str) -> str:
        return f"cat:{category}"

    @staticmethod
    def facet_value(facet: str, value: str) -> str:
        return f"f:{facet}:{value}"

    @staticmethod
    def facet_bitmap(facet: str, value: str) -> str:
        """The same products as :meth:`facet_value`, one bit per product id (for counting)."""
        return f"fb:{facet}:{value}"

    @staticmethod
    def price(currency: str) -> str:
        return f"price:{currency}"

    # Variant level (docs/search-embedded.md, "Products with variants"): members are
    # ``product SKU U+001F variant SKU`` of the visible variants of products sold in variants.

    @staticmethod
    def variant_facet(facet: str, value: str) -> str:
        """Set of the variant members whose values (options, else the product's) hold ``value``."""
        return f"vf:{facet}:{value}"

    @staticmethod
    def sold_out_value(facet: str, value: str) -> str:
        """Set of the products with variants that have ``value`` on sold-out variants only (to
        count an in-stock listing's facets without looking at variants)."""
        return f"fo:{facet}:{value}"

    @staticmethod
    def sold_out_bitmap(facet: str, value: str) -> str:
        """The same products as :meth:`sold_out_value`, one bit per product id."""
        return f"fob:{facet}:{value}"

    @staticmethod
    def stock_price(currency: str) -> str:
        """Sorted set: a product with variants scored by its cheapest in-stock variant's price
        (``inf`` when none in stock has one), for in-stock listings sorted by price."""
        return f"sprice:{currency}"

    @staticmethod
    def variant_price(currency: str) -> str:
        return f"vprice:{currency}"

    @staticmethod
    def name_rank(locale: str) -> str:
        return f"name_rank:{locale}"

    @staticmethod
    def names(locale: str) -> str:
        return f"names:{locale}"

    @staticmethod
    def name_prefix(locale: str) -> str:
        return f"name_lex:{locale}"

    @staticmethod
    def name_words(locale: str) -> str:
        """Lexicographic sorted set of ``word U+0000 SKU``: every word of every name, for suggestions."""
        return f"name_words:{locale}"

    @staticmethod
    def term(locale: str, in_name: bool, term: str) -> str:
        """Set of SKUs whose name (``tn``) or description (``td``) holds ``term``; the term comes
        last, so ``term(locale, in_name, "")`` is where all those keys start."""
        return f"{'tn' if in_name else 'td'}:{locale}:{term}"

    @staticmethod
    def vocabulary(locale: str) -> str:
        return f"vocab:{locale}"


@dataclass(frozen=True)
class CanaryRecord:
    """A running canary: ``generation`` (N+1) is served to ``percent`` % of shoppers beside
    ``base`` (N, the live generation when it started); ``started_at`` is Unix time."""

    generation: int
    base: int
    percent: int
    started_at: float
    #: The templates directory the canary was built with (SNIPPET_TEMPLATES_DIR; None: the
    #: packaged templates): tasks render the canary's generation with them.
    templates: str | None = None

    def encode(self) -> str:
        return json.dumps(
            {
                "generation": self.generation,
                "base": self.base,
                "percent": self.percent,
                "started_at": self.started_at,
                "templates": self.templates,
            },
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, raw: bytes | str | None) -> CanaryRecord | None:
        """The record, or None when absent or unreadable (then no shopper is sent to a canary)."""
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            templates = data.get("templates")
            return cls(
                int(data["generation"]),
                int(data["base"]),
                int(data["percent"]),
                float(data["started_at"]),
                str(templates) if templates else None,
            )
        except (ValueError, TypeError, KeyError):
            return None


def split_value(raw: bytes | str | None) -> tuple[int, str] | None:
    """Return ``(version, html)`` of a stored snippet, or None if it is missing.

    An empty html part is a tombstone: the thing it stood for is gone.
    """
    if raw is None:
        return None
    text = raw.decode() if isinstance(raw, bytes) else raw
    version, _, html = text.partition("\n")
    return int(version), html


def join_value(version: int, html: str) -> str:
    return f"{version}\n{html}"
