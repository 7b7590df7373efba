"""Hostile and real input on the write side, against real PostgreSQL, Redis and a Celery worker.

Real catalogs import whole (attribute codes in either case, with leading digits); a key ending in a
newline is refused, not stored; stock levels stay within their bound instead of overflowing the
database's 32-bit integer (a 500).
"""

from __future__ import annotations

import html
import re

import psycopg
import pytest

from catalog.importer import import_files
from projector.celery_app import celery_sender, make_celery
from tests.integration.admin_support import API, dump
from tests.integration.test_import import write_feed
from tests.processes import wait_until
from web.edge.app import create_app as create_edge

pytestmark = pytest.mark.integration

FACET = re.compile(r'data-facet="([^"]+)" data-value="([^"]+)" data-count="(\d+)"')
PHONES = {
    "categories.csv": "key,name.en_US\nphones,Phones\n",
    "products.csv": (
        "sku,categories,name.en_US,attr.Shape,attr.shape,attr.4g,attr.4g_standards\n"
        "PH1,phones,Phone One,Round,Round|Oval,yes,LTE|UMTS\n"
        "PH2,phones,Phone Two,,Square,no,\n"
        "PH3,phones,Phone Three,Flat,,yes,LTE\n"
    ),
    "prices.csv": "sku,currency,amount\nPH1,EUR,100.00\nPH2,EUR,200.00\nPH3,EUR,300.00\n",
    "stock.csv": "sku,quantity\nPH1,5\nPH2,5\nPH3,5\n",
}


def test_a_real_export_with_codes_in_either_case_imports_whole_and_is_faceted(settings, worker, tmp_path, capsys):
    send = celery_sender(make_celery(settings))  # the worker projects what is imported
    assert import_files(settings, write_feed(tmp_path / "feed", PHONES), progress=False, send=send) == 0, (
        capsys.readouterr()
    )
    with psycopg.connect(settings.database_url) as conn:
        rows = conn.execute("SELECT sku, name, value FROM product_attributes ORDER BY sku, name, position").fetchall()
    assert rows == [
        ("PH1", "4g", "yes"),
        ("PH1", "4g_standards", "LTE"),
        ("PH1", "4g_standards", "UMTS"),
        ("PH1", "shape", "Round"),
        ("PH1", "shape", "Oval"),
        ("PH2", "4g", "no"),
        ("PH2", "shape", "Square"),
        ("PH3", "4g", "yes"),
        ("PH3", "4g_standards", "LTE"),
        ("PH3", "shape", "Flat"),
    ]

    edge = create_edge(settings).test_client()
    page = wait_until(
        lambda: (r := edge.get("/p/PH1")).status_code == 200 and "€100.00" in r.text and r,
        timeout=30,
        what="product page PH1",
    )
    details = html.unescape(page.text)
    # one attribute per canonical code, shown by its label (no labels here: the code as words)
    for label, values in (("Shape", "Round, Oval"), ("4g", "yes"), ("4g standards", "LTE, UMTS")):
        assert f"<dt>{label}</dt><dd>{values}</dd>" in details, label

    def listing_facets():
        r = edge.get("/c/phones")
        found = {(name, value): int(count) for name, value, count in FACET.findall(html.unescape(r.text))}
        return r.status_code == 200 and ("shape", "Flat") in found and found

    facets = wait_until(listing_facets, timeout=30, what="facets of /c/phones")
    assert {k: v for k, v in facets.items() if k[0] != "brand"} == {
        ("shape", "Round"): 1,
        ("shape", "Oval"): 1,
        ("shape", "Square"): 1,
        ("shape", "Flat"): 1,
        ("4g", "yes"): 2,
        ("4g", "no"): 1,
        ("4g_standards", "LTE"): 2,
        ("4g_standards", "UMTS"): 1,
    }
    assert not any(name != name.lower() for name, _ in facets)

    def filtered():  # the edge learns new facet names within its search cache's seconds
        r = edge.get("/c/phones?4g=yes&shape=Round&shape=Flat")
        return r.status_code == 200 and sorted(set(re.findall(r"/p/(PH\d)", r.text)))

    wait_until(lambda: filtered() == ["PH1", "PH3"], timeout=10, what="/c/phones filtered by 4g and shape")


@pytest.mark.parametrize(
    "method, path, role, body",
    [
        ("PUT", "/products/ABC%0A", "editor", {"name": {"en_US": "Tent"}}),
        ("PUT", "/products/B1%0A", "editor", {"name": {"en_US": "Tent"}}),
        ("DELETE", "/products/B1%0A", "editor", None),
        ("PUT", "/categories/tents%0A", "editor", {"name": {"en_US": "Tents"}}),
        ("PUT", "/categories/bags%0A", "editor", {"parent": "gear", "name": {"en_US": "Bags"}}),
        ("PUT", "/prices/B1%0A/EUR", "pricing", {"amount": "1.00"}),
        (
            "PUT",
            "/offers/B1%0A/EUR",
            "pricing",
            {"amount": "1.00", "starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-02-01T00:00:00Z"},
        ),
        ("PUT", "/stock/B1%0A", "stock", {"quantity": 1}),
        ("POST", "/stock/B1%0A/movements", "stock", {"movement_id": "m-nl", "delta": 1}),
    ],
)
def test_a_key_ending_in_a_newline_is_refused_and_writes_nothing(
    client, tokens, seeded, pool, sent, method, path, role, body
):
    before = dump(pool)
    response = client.open(API + path, method=method, headers=tokens[role], json=body)
    assert response.status_code == 422, response.get_data(as_text=True)
    problem = response.get_json()
    assert problem["errors"][0]["loc"][:1] == ["path"] and "must match" in problem["detail"]
    assert dump(pool) == before and sent == []


@pytest.mark.parametrize(
    "path, body",
    [
        ("/products/T1", {"name": {"en_US": "Tent"}, "categories": ["gear\n"]}),
        ("/categories/tents", {"parent": "gear\n", "name": {"en_US": "Tents"}}),
    ],
)
def test_a_key_in_a_body_ending_in_a_newline_is_refused(client, tokens, seeded, pool, sent, path, body):
    before = dump(pool)
    response = client.put(API + path, headers=tokens["editor"], json=body)
    assert response.status_code == 422 and "category key 'gear\\n' must match" in response.get_json()["detail"]
    assert dump(pool) == before and sent == []


def test_stock_stays_within_its_bound_and_never_overflows(client, tokens, seeded, pool, sent):
    stock = tokens["stock"]

    def move(movement_id: str, delta: int):
        return client.post(
            f"{API}/stock/B1/movements",
            headers=stock,
            json={"movement_id": movement_id, "delta": delta, "reason": "receipt"},
        )

    def level() -> int:
        with pool.connection() as conn:
            return conn.execute("SELECT quantity FROM stock WHERE sku = 'B1'").fetchone()[0]

    assert client.put(f"{API}/stock/B1", headers=stock, json={"quantity": 3_000_000_000}).status_code == 422
    assert client.put(f"{API}/stock/B1", headers=stock, json={"quantity": 1_000_000_001}).status_code == 422
    assert move("big", 2_000_000_000).status_code == 422
    assert level() == 3

    assert move("m-1", 999_999_997).status_code == 201 and level() == 1_000_000_000
    before = dump(pool)
    for movement_id in ("m-2", "m-3", "m-4"):  # each would overflow a 32-bit integer by the third
        refused = move(movement_id, 1_000_000_000)
        assert refused.status_code == 422, refused.get_data(as_text=True)
        assert refused.get_json()["detail"] == (
            "movement of +1000000000 would raise the stock of B1 from "
            "1000000000 to 2000000000, above the largest level 1000000000"
        )
    assert move("m-5", 1).status_code == 422
    assert dump(pool) == before and level() == 1_000_000_000  # no movement row, no outbox row

    assert move("m-6", -1).status_code == 201 and level() == 999_999_999
    assert move("m-7", 1).status_code == 201 and level() == 1_000_000_000
    assert move("m-7", 1).status_code == 200  # a repeated movement id still answers as before


def test_an_imported_stock_level_beyond_the_bound_is_a_row_error(settings, tmp_path, capsys):
    feed = {
        "products.csv": "sku,name.en_US\nS1,One\nS2,Two\n",
        "stock.csv": 'sku,quantity\nS1,1000000000\nS2,3000000000\n"S2\n",1\n',
    }
    assert import_files(settings, write_feed(tmp_path / "feed", feed), progress=False, send=lambda *a: None) == 2
    err = capsys.readouterr().err
    assert "stock.csv:3: S2: quantity: Input should be less than or equal to 1000000000" in err
    assert "stock.csv:4: S2\\n: sku: SKU 'S2\\n' must match" in err
    with psycopg.connect(settings.database_url) as conn:
        assert conn.execute("SELECT sku, quantity FROM stock ORDER BY sku").fetchall() == [("S1", 1_000_000_000)]
