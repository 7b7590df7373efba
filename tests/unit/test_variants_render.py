"""Products with variants, rendered (docs/variants.md "Projection") and assembled by the edge's page code."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import redis

from projector.readmodel import Offer, ProductView, VariantView
from projector.render import Renderer
from projector.store import SnippetWriter
from vocab.keys import FIELD, SLOT, Context, KeyScheme, Kind, join_value
from web.edge import listing, pages
from web.edge.repair_requests import variant_misses

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
R = Renderer(("en_US", "de_DE"), ("EUR", "USD"), low_stock_threshold=5)
EN = Context("en_US", "EUR")


def variant(sku, size, color, eur, quantity=20, *, offers=(), active=True, price_version=20, stock_version=30):
    options = {"size": size, "color": color} if color else {"size": size}
    prices = {"EUR": Decimal(eur)} if eur else {}
    return VariantView(sku, 0, active, price_version, stock_version, options, prices, list(offers), quantity)


def jacket(*variants, **kw) -> ProductView:
    base = {
        "sku": "J1",
        "brand": "Luma",
        "active": True,
        "deleted": False,
        "created_at": NOW,
        "version": 10,
        "price_version": 11,
        "stock_version": 12,
        "names": {"en_US": "Jacket", "de_DE": "Jacke"},
        "descriptions": {"en_US": "<p>Warm</p>"},
        "variants": list(variants)
        or [
            variant("J1-S", "S", "Black", "34.00", 0),
            variant("J1-M", "M", "Black", "39.00", 3),
            variant("J1-L", "L", "Blue", "39.00", 20),
        ],
    }
    base.update(kw)
    return ProductView(**base)


def one(snippets, kind, locale="en_US", currency="EUR", variant=None, ident=None):
    [s] = [
        s
        for s in snippets
        if s.kind == kind
        and s.ctx.locale == locale
        and (not kind.per_currency or s.ctx.currency == currency)
        and s.variant == variant
        and (ident is None or s.ident == ident)
    ]
    return s


def offer(amount, hours=1, currency="EUR"):
    return Offer(currency, Decimal(amount), NOW - timedelta(hours=1), NOW + timedelta(hours=hours))


def test_a_simple_product_has_no_picker_pointer_or_variant_snippets():
    simple = jacket(variant("J1", "", "", "10.00"))
    simple.variants[0].options.clear()
    simple.prices = {"EUR": Decimal("10.00")}
    out = R.product(simple, {}, NOW)
    assert {s.kind for s in out} == {Kind.DETAIL, Kind.TILE, Kind.CRUMB, Kind.PRICE, Kind.OFFER, Kind.AVAIL, Kind.LD}
    assert all(s.variant is None and s.ident == "J1" for s in out)
    assert one(out, Kind.DETAIL).body.count(FIELD) == 1 and '"@type":"Product"' in one(out, Kind.LD).body


def test_the_tile_lists_the_option_values_on_offer_in_variant_order():
    p = jacket(
        variant("J1-M", "M", "Black", "39.00"),
        variant("J1-S", "S", "Blue", "34.00"),
        variant("J1-XL", "XL", "Red", "34.00", active=False),
        variant("J1-S2", "S", "Black", "34.00"),
    )
    tile = one(R.product(p, {}, NOW), Kind.TILE).body
    assert '<span class="tile-option" data-option="size"><!--l:size-->Size<!--/l-->: M, S</span>' in tile
    assert "<!--l:color-->Color<!--/l-->: Black, Blue</span>" in tile and "XL" not in tile and "Red" not in tile
    assert "<!--l:size-->Größe<!--/l-->" in one(R.product(p, {}, NOW), Kind.TILE, "de_DE").body
    # the listing fills the labels of its labels snippet (escaped), else the fallback
    li = listing.tiles([join_value(1, tile).encode(), None, None, None], ["J1"], {"size": "Sizes <&>"})[0]
    assert "Sizes &lt;&amp;&gt;: M, S" in li and "Color: Black, Blue" in li and "<!--l:" not in li


def test_aggregate_price_is_the_cheapest_visible_variant_from_when_prices_differ():
    out = R.product(jacket(), {}, NOW)
    price = one(out, Kind.PRICE).body
    assert '<span class="from">from</span> <span class="amount">€34.00</span>' in price
    assert '"price":"34.00"' in price
    assert 'ab</span> <span class="amount">34,00\xa0€' in one(out, Kind.PRICE, "de_DE").body
    assert "Price on request" in one(out, Kind.PRICE, currency="USD").body
    assert one(out, Kind.OFFER).body == ""  # no live offer
    same = jacket(variant("J1-S", "S", "", "39.00"), variant("J1-M", "M", "", "39.00"))
    assert "from" not in one(R.product(same, {}, NOW), Kind.PRICE).body.partition(FIELD)[0]
    # an inactive variant's price counts for nothing
    hidden = jacket(variant("J1-S", "S", "", "1.00", active=False), variant("J1-M", "M", "", "39.00"))
    assert (
        '<div class="price" data-currency="EUR"><span class="amount">€39.00</span>'
        in one(R.product(hidden, {}, NOW), Kind.PRICE).body
    )


def test_aggregate_offer_is_the_cheapest_price_paid_now_when_an_offer_is_it():
    p = jacket(
        variant("J1-S", "S", "", "34.00"),
        variant("J1-M", "M", "", "39.00", offers=[offer("30.00", hours=2), offer("31.00", hours=5)]),
        variant("J1-L", "L", "", "39.00", offers=[offer("30.00", hours=1, currency="USD")]),
    )
    out = R.product(p, {}, NOW)
    box = one(out, Kind.OFFER)
    assert box.ttl == 2 * 3600
    assert '<span class="from">from</span> <span class="amount">€30.00</span>' in box.body
    assert '<s class="regular">€39.00</s>' in box.body and '"price":"30.00"' in box.body
    # in USD the only offer has no regular price beside it and nothing differs: no "from", no strike
    usd = one(out, Kind.OFFER, currency="USD").body
    assert "$30.00" in usd and "from" not in usd.partition(FIELD)[0]
    # an offer that is not the cheapest price paid now makes no offer box
    dearer = jacket(variant("J1-S", "S", "", "20.00"), variant("J1-M", "M", "", "39.00", offers=[offer("30.00")]))
    assert one(R.product(dearer, {}, NOW), Kind.OFFER).body == ""


def test_aggregate_badge_is_the_best_visible_variants():
    def badge(*quantities, hidden=()):
        variants = [variant(f"J1-{i}", str(i), "", "1.00", q, active=i not in hidden) for i, q in enumerate(quantities)]
        return one(R.product(jacket(*variants), {}, NOW), Kind.AVAIL).body

    assert "in_stock" in badge(0, 3, 20) and "low_stock" in badge(0, 3) and "sold_out" in badge(0, 0)
    assert "sold_out" in badge(0, 20, hidden=(1,))


def test_versions_aggregate_the_variants_and_variant_snippets_keep_their_own():
    p = jacket(
        variant("J1-S", "S", "", "34.00", price_version=40, stock_version=41),
        variant("J1-M", "M", "", "39.00", price_version=50, stock_version=21),
    )
    out = R.product(p, {}, NOW)
    assert one(out, Kind.PRICE).version == one(out, Kind.OFFER).version == 50
    assert one(out, Kind.AVAIL).version == 41
    assert one(out, Kind.DETAIL).version == one(out, Kind.VARIANTS).version == one(out, Kind.LD).version == 10
    assert one(out, Kind.PRICE, variant="J1-S").version == 40 and one(out, Kind.AVAIL, variant="J1-M").version == 21
    assert one(out, Kind.PRICE, variant="J1-S").ident == "J1"


def test_each_variant_has_its_own_boxes_and_an_inactive_one_tombstones():
    p = jacket(
        variant("J1-S", "S", "Black", "34.00", 0, offers=[offer("30.00")]),
        variant("J1-M", "M", "Black", "39.00", 3, active=False),
    )
    out = R.product(p, {}, NOW)
    assert '<span class="amount">€34.00</span>' in one(out, Kind.PRICE, variant="J1-S").body
    assert '<s class="regular">€34.00</s>' in one(out, Kind.OFFER, variant="J1-S").body
    assert "from" not in one(out, Kind.OFFER, variant="J1-S").body.partition(FIELD)[0]
    assert "OutOfStock" in one(out, Kind.AVAIL, variant="J1-S").body
    assert all(s.body == "" for s in out if s.variant == "J1-M")
    pointers = {(s.ident, s.ctx.locale): s.body for s in out if s.kind == Kind.VARIANT}
    assert pointers == {("J1-S", "en_US"): "J1", ("J1-S", "de_DE"): "J1", ("J1-M", "en_US"): "", ("J1-M", "de_DE"): ""}
    assert out[-1].kind == Kind.VARIANT  # pointers last: each is a hash slot of its own


def test_kinds_and_variants_limit_what_is_rendered():
    out = R.product(jacket(), {}, NOW, (Kind.AVAIL,), variants={"J1-M"})
    assert {(s.kind, s.variant) for s in out} == {(Kind.AVAIL, None), (Kind.AVAIL, "J1-M")}
    assert len(out) == 4  # two locales


def test_hidden_product_tombstones_every_snippet_of_it_and_its_variants():
    out = R.product(jacket(active=False), {}, NOW)
    assert out and all(s.body == "" for s in out)
    assert {s.variant for s in out if s.kind == Kind.AVAIL} == {None, "J1-S", "J1-M", "J1-L"}
    assert {s.ident for s in out if s.kind == Kind.VARIANT} == {"J1-S", "J1-M", "J1-L"}
    assert any(s.kind == Kind.VARIANTS for s in out)


def test_the_writer_keeps_a_variants_own_snippets_in_its_products_hash_tag():
    writer = SnippetWriter(redis.Redis(), KeyScheme("ss"), 60)  # no connection is made
    out = R.product(jacket(), {}, NOW)
    assert writer.key(3, one(out, Kind.PRICE, variant="J1-M")) == "ss:3:price:en_US.EUR:{J1}:J1-M"
    assert writer.key(3, one(out, Kind.PRICE)) == "ss:3:price:en_US.EUR:{J1}"
    assert writer.key(3, one(out, Kind.VARIANT, ident="J1-M")) == "ss:3:variant:en_US:{J1-M}"


def test_picker_snippet_lists_visible_variants_and_their_options():
    p = jacket(
        variant("J1-S", "S", "Black", "34.00"),
        variant("J1-M", "M", "<b>Bl\x1due</b>", "39.00"),
        variant("J1-L", "L", "Black", "39.00", active=False),
    )
    body = one(R.product(p, {}, NOW), Kind.VARIANTS).body
    html, _, data = body.partition(FIELD)
    assert json.loads(data) == {
        "variants": [["J1-S", {"size": "S", "color": "Black"}], ["J1-M", {"size": "M", "color": "<b>Blue</b>"}]],
        "options": [["size", ["S", "M"]], ["color", ["Black", "<b>Blue</b>"]]],
    }
    assert html.count(SLOT) == 2 and "<b>" not in html and "&lt;b&gt;Blue&lt;/b&gt;" in html
    assert '<form class="picker" action="/p/J1" method="get">' in html and 'href="/p/J1-M"' in html
    assert "<legend><!--l:color-->Color<!--/l--></legend>" in html and "J1-L" not in html


def page_of(p: ProductView, selected=None, missing=()):
    """The edge's page of ``p`` from its rendered snippets, as product.py assembles it."""
    out = R.product(p, {}, NOW)
    frame = pages.Frame("<head><title>", "</title></head><body>", "</body>").with_canonical(f"/p/{p.sku}")
    detail = one(out, Kind.DETAIL).body
    listed = pages.variant_skus(detail)
    assert listed is not None
    parts = {}
    for sku in listed:
        parts[sku] = tuple(
            None if (kind, sku) in missing else one(out, kind, variant=sku).body
            for kind in (Kind.PRICE, Kind.OFFER, Kind.AVAIL)
        )
    picker = pages.picker_of(join_value(10, one(out, Kind.VARIANTS).body).encode())
    return pages.product_group_page(
        frame,
        detail,
        one(out, Kind.CRUMB).body,
        one(out, Kind.PRICE).body,
        one(out, Kind.OFFER).body,
        one(out, Kind.AVAIL).body,
        one(out, Kind.LD).body,
        {"size": "Größe <x>"},
        picker,
        parts,
        selected,
    )


def json_ld(html: str) -> dict:
    return json.loads(html.split('<script type="application/ld+json">')[1].split("</script>")[0])


def test_the_edge_assembles_a_product_group_with_each_variants_offer():
    p = jacket(
        variant("J1-S", "S", "Black", "34.00", 0),
        variant("J1-M", "M", "Blue", "39.00", 3, offers=[offer("30.00")]),
        variant("J1-XL", "XL", "Green", None, 9),
        variant("J1-W", "W", "", "5.00", active=False),
        images=[],
    )
    p.variants[0].options["material"] = "Wool"
    html = page_of(p)
    assert FIELD not in html and SLOT not in html and "<!--l:" not in html
    assert '<link rel="canonical" href="/p/J1">' in html
    ld = json_ld(html)
    assert ld["@type"] == "ProductGroup" and ld["productGroupID"] == "J1" and ld["name"] == "Jacket"
    assert ld["variesBy"] == ["https://schema.org/size", "https://schema.org/color", "material"]
    small, medium, large = ld["hasVariant"]
    assert small == {
        "@type": "Product",
        "sku": "J1-S",
        "name": "Jacket",
        "url": "/p/J1-S",
        "size": "S",
        "color": "Black",
        "additionalProperty": [{"@type": "PropertyValue", "name": "material", "value": "Wool"}],
        "offers": {
            "@type": "Offer",
            "price": "34.00",
            "priceCurrency": "EUR",
            "availability": "https://schema.org/OutOfStock",
        },
    }
    assert medium["offers"]["price"] == "30.00" and medium["offers"]["availability"].endswith("LimitedAvailability")
    assert "offers" not in large  # no price: no invented offer
    # the buy box shows the aggregate; the picker each variant's price and badge, in its slot
    buy = html.split('<aside class="buy">')[1]
    assert buy.index("price--offer") < buy.index('<form class="picker"')
    assert 'data-variant="J1-S"><a href="/p/J1-S">S / Black / Wool</a><div class="price"' in html
    assert "Größe &lt;x&gt;" in html and "checked" not in html and "aria-current" not in buy


def test_a_selected_variant_is_the_pages_price_checked_in_the_picker():
    p = jacket()
    html = page_of(p, selected="J1-L")
    buy = html.split('<aside class="buy">')[1].split('<form class="picker"')[0]
    assert "€39.00" in buy and "from" not in buy and 'data-availability="in_stock"' in buy
    assert '<input type="radio" name="opt.size" value="L" checked>' in html
    assert '<input type="radio" name="opt.color" value="Blue" checked>' in html
    assert '<input type="radio" name="opt.size" value="S">' in html
    assert '<li class="variant" data-variant="J1-L" aria-current="true">' in html
    assert '<link rel="canonical" href="/p/J1">' in html


def test_picker_choice_and_the_misses_of_the_second_fetch():
    out = R.product(jacket(), {}, NOW)
    picker = pages.picker_of(join_value(10, one(out, Kind.VARIANTS).body).encode())
    assert picker is not None
    assert picker.choose({"size": "M", "color": "Black"}) == "J1-M"
    assert picker.choose({"color": "Blue"}) == "J1-L" and picker.choose({"size": "XXL"}) is None
    assert pages.picker_of(None) is None and pages.picker_of(b"3\n") is None
    present = [b"1\nx", b"1\np", None, b"1\na"]  # a missing offer is normal
    assert variant_misses("J1", present) == []
    assert variant_misses("J1", [None, b"1\np", b"1\n", b"1\na"]) == [("product", "J1")]
    assert variant_misses("J1", [b"1\nx", b"1\np", b"1\n", None]) == [("product", "J1")]


def test_a_missing_variant_price_shows_a_stand_in_never_an_offer():
    html = page_of(jacket(), missing={(Kind.PRICE, "J1-M")})
    small, medium, large = json_ld(html)["hasVariant"]
    assert "offers" in small and "offers" not in medium
