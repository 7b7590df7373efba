"""Attribute labels on real services: feed import and admin API → PostgreSQL → projector → Redis →
the edge's facet headings and product pages, per locale, with fallbacks and escaping."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from catalog import commands
from catalog.importer import import_files
from catalog.models import CategoryIn, ProductIn
from catalog.relay import settle
from catalog.tokens import create_token
from projector.celery_app import celery_sender, make_celery
from projector.rebuild import rebuild
from projector.service import Projector
from search.factory import make_search
from tests.processes import wait_until
from tests.redis_support import store_client
from tests.store_dump import dump
from web.admin.app import create_app as create_admin
from web.admin.routes import API_ROOT
from web.edge.app import create_app

pytestmark = pytest.mark.integration

FEED = {
    "attributes.csv": (
        "code,label.en_US,label.de_DE\nFeatures_Bags,Features,Ausstattung\ncolor,<Colour> & co,\nactivity,Activity,\n"
    ),  # a code no product uses yet
    "categories.csv": "key,parent,position,name.en_US,name.de_DE\nbags,,1,Bags,Taschen\n",
    "products.csv": (
        "sku,brand,categories,active,name.en_US,name.de_DE,attr.features_bags,attr.strap_bags,attr.color\n"
        "B1,Luma,bags,1,Duffle,Reisetasche,Pocket|Lockable,Single,Red\n"
        "B2,Aurora,bags,1,Tote,Beutel,Pocket,Double,Blue\n"
    ),
}


def heading(html: str, name: str) -> str | None:
    found = re.search(rf'data-facet-name="{name}"><summary><h3>(.*?)(?: <span class="picked">.*?)?</h3>', html)
    return found.group(1) if found else None


def projector_for(settings, pool) -> Projector:
    client = store_client(settings)
    return Projector(settings, pool, client, make_search(settings, client))


def test_imported_labels_head_the_facets_and_the_details_in_each_locale(settings, pool, tmp_path: Path):
    feed = tmp_path / "feed"
    feed.mkdir()
    for name, text in FEED.items():
        (feed / name).write_text(text, encoding="utf-8")
    assert import_files(settings, sorted(feed.iterdir()), progress=False, send=lambda *args: None) == 0
    rebuild(projector_for(settings, pool), progress=False)
    edge = create_app(settings).test_client()

    en = edge.get("/c/bags").text
    assert heading(en, "features_bags") == "Features"
    assert heading(en, "color") == "&lt;Colour&gt; &amp; co"  # the catalog's text, escaped
    assert heading(en, "strap_bags") == "Strap bags"  # no label: the readable code
    assert "<Colour>" not in en
    de = edge.get("/c/bags?locale=de_DE").text
    assert heading(de, "features_bags") == "Ausstattung"
    assert heading(de, "color") == "Farbe"  # no German label: the dictionary's word, not the English label
    assert heading(de, "strap_bags") == "Strap bags"
    chips = edge.get("/c/bags?features_bags=Pocket&locale=de_DE").text
    assert "Ausstattung: Pocket" in chips

    product = edge.get("/p/B1?locale=en_US").text
    assert "<dt>Features</dt><dd>Pocket, Lockable</dd>" in product and "<dt>Strap bags</dt>" in product
    assert "<dt>&lt;Colour&gt; &amp; co</dt>" in product and "<!--l:" not in product
    assert "<dt>Ausstattung</dt>" in edge.get("/p/B1?locale=de_DE").text


def seed(pool) -> None:
    with pool.connection() as conn:
        commands.put_categories(conn, [("bags", CategoryIn(name={"en_US": "Bags"}))])
        commands.put_products(
            conn,
            [
                (
                    sku,
                    ProductIn(
                        name={"en_US": f"Bag {sku}"},
                        categories=["bags"],
                        attributes={"features_bags": ["Pocket"], "color": "Red"},
                    ),
                )
                for sku in ("B1", "B2")
            ],
        )
        with conn.transaction():
            settle(conn)


def test_a_label_change_through_the_api_re_renders_only_the_labels_snippets(settings, pool, worker):
    seed(pool)
    projector = projector_for(settings, pool)
    rebuild(projector, progress=False)
    client = store_client(settings)
    edge = create_app(settings).test_client()
    assert heading(edge.get("/c/bags").text, "features_bags") == "Features bags"
    before = dump(client, settings, search=projector.search)

    with pool.connection() as conn:
        token = create_token(conn, "editor", "labels test")
    celery = make_celery(settings)
    admin = create_admin(settings, pool=pool, send=celery_sender(celery)).test_client()
    auth = {"Authorization": f"Bearer {token}"}
    body = {"label": {"en_US": "Features", "de_DE": "Ausstattung"}}
    put = admin.put(f"{API_ROOT}/attributes/Features_Bags", json=body, headers=auth)
    assert put.status_code == 200 and put.get_json()["code"] == "features_bags", put.text
    got = admin.get(f"{API_ROOT}/attributes/FEATURES_BAGS", headers=auth).get_json()
    assert got["label"] == body["label"] and got["shown"] == body["label"] and got["version"] > 0
    strap = admin.get(f"{API_ROOT}/attributes/color", headers=auth).get_json()
    assert strap == {"code": "color", "label": {}, "shown": {"en_US": "Color", "de_DE": "Farbe"}, "version": None}
    assert admin.get(f"{API_ROOT}/attributes/unused", headers=auth).status_code == 404
    with pool.connection() as conn:
        assert conn.execute("SELECT topic, keys FROM outbox ORDER BY id DESC LIMIT 1").fetchone() == (
            "attribute",
            ["features_bags"],
        )

    wait_until(
        lambda: heading(edge.get("/c/bags").text, "features_bags") == "Features",
        timeout=15,
        what="the new label on the listing",
    )
    assert heading(edge.get("/c/bags?locale=de_DE").text, "features_bags") == "Ausstattung"
    assert "<dt>Features</dt>" in edge.get("/p/B1?locale=en_US").text
    after = dump(client, settings, search=projector.search)
    changed = {
        k for k in before.snippets.keys() | after.snippets.keys() if before.snippets.get(k) != after.snippets.get(k)
    }
    assert changed == {"labels:en_US:{_}", "labels:de_DE:{_}"}
    assert after.documents == before.documents
    celery.close()
