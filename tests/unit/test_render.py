"""Renderers are pure: views in, snippets out."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from projector.readmodel import CategoryView, Offer, ProductView
from projector.render import Renderer, availability_state
from vocab.keys import FIELD, SLOT, Kind
from web.edge import pages

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
R = Renderer(("en_US", "de_DE"), ("EUR", "USD"), low_stock_threshold=5)
CATS = {
    "gear": CategoryView("gear", None, 0, 3, {"en_US": "Gear", "de_DE": "Ausrüstung"}),
    "bags": CategoryView("bags", "gear", 0, 4, {"en_US": "Bags"}),
}


def product(**kw) -> ProductView:
    base = {
        "sku": "B1",
        "brand": "Luma",
        "active": True,
        "deleted": False,
        "created_at": NOW,
        "version": 10,
        "price_version": 11,
        "stock_version": 12,
        "names": {"en_US": "Bag", "de_DE": "Tasche"},
        "descriptions": {"en_US": "<p>Roomy</p>"},
        "categories": ["bags"],
        "prices": {"EUR": Decimal("12.50")},
        "quantity": 20,
    }
    base.update(kw)
    return ProductView(**base)


def by(snippets, kind, locale="en_US", currency="EUR"):
    [s] = [
        s
        for s in snippets
        if s.kind == kind and s.ctx.locale == locale and (not kind.per_currency or s.ctx.currency == currency)
    ]
    return s


def test_every_kind_per_locale_and_currency_with_its_source_version():
    out = R.product(product(), CATS, NOW)
    assert len(out) == 2 * 5 + 4 * 2
    assert by(out, Kind.DETAIL).version == 10
    assert by(out, Kind.PRICE).version == 11
    assert by(out, Kind.AVAIL).version == 12
    assert by(out, Kind.CRUMB).version == 10  # newest of product and its categories


def test_catalog_markup_is_escaped_and_descriptions_sanitized():
    p = product(
        names={"en_US": "<script>alert(1)</script>"},
        brand='"><img src=x onerror=alert(1)>',
        descriptions={"en_US": '<p onclick="x()">Hi</p><script>alert(2)</script><b>bold</b>'},
    )
    detail = by(R.product(p, CATS, NOW), Kind.DETAIL).body
    assert "<script>" not in detail and "&lt;script&gt;" in detail
    assert "<img" not in detail and "onclick" not in detail
    assert "<p>Hi</p>" in detail and "<b>bold</b>" in detail
    ld = by(R.product(p, CATS, NOW), Kind.LD).body
    assert "</script>" not in ld


def test_money_is_written_the_way_the_locale_writes_it():
    out = R.product(product(prices={"EUR": Decimal("1234.50")}), CATS, NOW)
    assert "€1,234.50" in by(out, Kind.PRICE).body
    assert "1.234,50\xa0€" in by(out, Kind.PRICE, "de_DE").body
    assert "Price on request" in by(out, Kind.PRICE, currency="USD").body


def test_live_offer_strikes_the_regular_price_and_dies_with_the_offer():
    offers = [
        Offer("EUR", Decimal("9.99"), NOW - timedelta(hours=1), NOW + timedelta(hours=2)),
        Offer("EUR", Decimal("8.00"), NOW - timedelta(hours=1), NOW + timedelta(minutes=30)),
        Offer("EUR", Decimal("1.00"), NOW + timedelta(hours=1), NOW + timedelta(hours=3)),
    ]
    out = R.product(product(offers=offers), CATS, NOW)
    offer = by(out, Kind.OFFER)
    assert "€8.00" in offer.body and '<s class="regular">€12.50</s>' in offer.body
    assert offer.ttl == 30 * 60
    assert '"price":"8.00"' in offer.body
    assert by(out, Kind.OFFER, currency="USD").body == ""


def test_availability_states():
    assert [availability_state(q, 5) for q in (0, 1, 5, 6)] == ["sold_out", "low_stock", "low_stock", "in_stock"]
    out = R.product(product(quantity=0), CATS, NOW)
    assert "OutOfStock" in by(out, Kind.AVAIL).body and "Ausverkauft" in by(out, Kind.AVAIL, "de_DE").body


def test_hidden_products_become_tombstones():
    out = R.product(product(active=False), CATS, NOW)
    assert out and all(s.body == "" for s in out)


def test_breadcrumb_follows_the_category_tree_and_falls_back_to_the_default_locale():
    crumb = by(R.product(product(), CATS, NOW), Kind.CRUMB, "de_DE").body
    assert crumb.index("Ausrüstung") < crumb.index("Bags") < crumb.index("Tasche")


def test_frame_has_two_slots_and_navigation():
    [en, de] = R.frames(CATS)
    assert en.body.count(SLOT) == 2 and 'href="/c/bags"' in en.body and en.version == 4
    assert 'lang="de"' in de.body


def test_edge_assembles_a_product_page_with_json_ld():
    snippets = R.product(product(quantity=2), CATS, NOW)
    frame = pages.frame_of(("1\n" + R.frames(CATS)[0].body).encode())
    html = pages.product_page(
        frame,
        by(snippets, Kind.DETAIL).body,
        by(snippets, Kind.CRUMB).body,
        by(snippets, Kind.PRICE).body,
        None,
        by(snippets, Kind.AVAIL).body,
        by(snippets, Kind.LD).body,
    )
    assert FIELD not in html and SLOT not in html
    ld = json.loads(html.split('<script type="application/ld+json">')[1].split("</script>")[0])
    assert ld["sku"] == "B1" and ld["name"] == "Bag" and ld["brand"]["name"] == "Luma"
    assert ld["offers"] == {
        "@type": "Offer",
        "price": "12.50",
        "priceCurrency": "EUR",
        "availability": "https://schema.org/LimitedAvailability",
    }
    assert "<title>Bag · Snippet Shop</title>" in html
