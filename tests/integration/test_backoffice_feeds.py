"""Feed uploads in the back office against the real PostgreSQL: files of every kind, imported in a
job by the importer of ``snipshop import``, its progress and per-row report, roles, the upload
route's own size limit (the browser test is in tests/e2e/test_backoffice_browser.py)."""

from __future__ import annotations

import html
import io
import re
import time
from dataclasses import replace

import pytest

from tests.integration.test_backoffice import csrf, row, signed_in, users  # noqa: F401  (a fixture)
from web.admin.app import create_app

pytestmark = pytest.mark.integration

FEED = (
    b"sku,brand,categories,active,name.en_US\nF1,Acme,bags,1,Feed bag\nF2,Acme,nope,1,Bad bag\nF3,Acme,bags,maybe,Odd\n"
)


def upload(client, *files: tuple[bytes, str], kind: str = ""):
    token = csrf(client.get("/backoffice/feeds").text)
    data = {"csrf_token": token, "kind": kind, "file": [(io.BytesIO(body), name) for body, name in files]}
    return client.post("/backoffice/feeds", data=data, content_type="multipart/form-data")


def finished(client, response, timeout: float = 30.0) -> str:
    """The job page a successful upload redirected to, once its job has ended."""
    assert response.status_code == 303, response.text
    job = response.headers["Location"]
    deadline = time.monotonic() + timeout
    while client.get(job + ".json").json["state"] == "running":
        assert time.monotonic() < deadline, "the feed job did not end"
        time.sleep(0.05)
    return client.get(job).text


def test_a_feed_upload_imports_the_good_rows_and_reports_the_bad(app, users, pool, sent):  # noqa: F811
    client = signed_in(app, "editor")
    page = finished(client, upload(client, (FEED, "products.csv")))
    assert 'data-state="done"' in page and 'data-imported="1"' in page and 'data-rejected="2"' in page
    assert re.search(r'data-line="3"><td>products.csv</td><td>3</td><td>F2</td><td>[^<]*unknown category', page)
    assert 'data-line="4"' in page
    assert row(pool, "SELECT count(*) FROM products WHERE sku IN ('F1', 'F2', 'F3')")[0] == 1
    assert ("product", ["F1"]) in sent
    assert row(pool, "SELECT actor, kind, after->'files'->0->>'imported' FROM audit_log WHERE kind = 'feed'") == (
        "user:editor",
        "feed",
        "1",
    )
    assert "products.csv (products)" in client.get("/backoffice/feeds").text  # listed among recent imports


def test_files_of_every_kind_are_imported_in_dependency_order(app, users, pool):  # noqa: F811
    admin = signed_in(app, "admin")
    feeds = {
        "stock.csv": b"sku,quantity\nK1-S,4\nK2,5\n",
        "offers.csv": b"sku,currency,amount,starts_at,ends_at\nK2,EUR,8.00,2030-01-01T00:00:00Z,2030-01-08T00:00:00Z\n",
        "prices.csv": b"sku,currency,amount\nK1-S,EUR,10.00\nK2,EUR,-1\nK9,EUR,3.00\n",
        "variants.csv": b"sku,product,opt.size\nK1-S,K1,S\nK1-M,K1,M\n",
        "products.csv": b"sku,categories,attr.fabric,name.en_US\nK1,kits,Wool,Kit one\nK2,kits,,Kit two\n",
        "categories.csv": b"key,parent,name.en_US\nkits,gear,Kits\n",
        "attributes.csv": b"code,label.en_US,label.de_DE\nfabric,Fabric,Stoff\n",
    }
    page = finished(admin, upload(admin, *((body, name) for name, body in feeds.items())))
    files = re.findall(
        r'<tr data-file="([^"]+)"><td>[^<]+</td><td>(\w+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>', page
    )
    assert files == [
        ("attributes.csv", "attributes", "1", "1", "0"),
        ("categories.csv", "categories", "1", "1", "0"),
        ("products.csv", "products", "2", "2", "0"),
        ("variants.csv", "variants", "2", "2", "0"),
        ("prices.csv", "prices", "3", "1", "2"),
        ("offers.csv", "offers", "1", "1", "0"),
        ("stock.csv", "stock", "2", "2", "0"),
    ]
    assert 'data-file="prices.csv" data-line="3"' in page and 'data-file="prices.csv" data-line="4"' in page
    assert row(pool, "SELECT amount::text FROM prices WHERE sku = 'K1-S'") == ("10.00",)
    assert row(pool, "SELECT amount::text FROM offers WHERE sku = 'K2'") == ("8.00",)
    assert row(pool, "SELECT quantity FROM stock WHERE sku = 'K1-S'") == (4,)
    assert row(pool, "SELECT label FROM attribute_labels WHERE code = 'fabric' AND locale = 'de_DE'") == ("Stoff",)
    job = row(pool, "SELECT bytes_done = bytes_total, bytes_total, rows_read FROM feed_jobs")
    assert job == (True, sum(len(body) for body in feeds.values()), 12)


def test_each_kind_needs_its_role_and_an_unknown_kind_is_refused(app, users, pool):  # noqa: F811
    pricing = signed_in(app, "pricing")
    refused = upload(pricing, (b"sku,currency,amount\nB1,EUR,1.00\n", "prices.csv"), (FEED, "products.csv"))
    assert refused.status_code == 403 and "needs the role" in html.unescape(refused.text)
    unknown = upload(pricing, (FEED, "stuff.csv"))
    assert unknown.status_code == 422 and "Not a feed kind" in html.unescape(unknown.text)
    twice = upload(pricing, (FEED, "prices.csv"), (FEED, "Prices.csv"))
    assert twice.status_code == 422 and "same kind" in twice.text
    assert row(pool, "SELECT count(*) FROM feed_jobs")[0] == 0


def test_the_upload_route_has_its_own_size_limit(settings, pool, users):  # noqa: F811
    app = create_app(replace(settings, max_body_bytes=1000, feed_max_bytes=200_000), pool=pool)
    client = signed_in(app, "stock")
    # 130 kB, over the admin app's limit and within the upload's: one good row, 10,000 refused ones
    big = b"sku,quantity\nB1,5\n" + b"".join(b"B1,x%d\n" % i for i in range(10_000))
    page = finished(client, upload(client, (big, "stock.csv")))
    assert 'data-imported="1"' in page and 'data-rejected="10000"' in page
    assert "the first 500" in page and page.count("<tr data-file=") == 1 + 500
    too_big = upload(client, (big * 3, "stock.csv"))
    assert too_big.status_code == 413 and "limit of 0.190735 MB" in too_big.text
    assert client.post("/backoffice/stock/B1/movements", data={"x": "y" * 2000}).status_code == 413


def test_a_job_whose_process_stopped_shows_as_interrupted(app, users, pool):  # noqa: F811
    with pool.connection() as conn:
        conn.execute(
            "INSERT INTO feed_jobs (actor, files, heartbeat_at) VALUES ('user:stock', %s, now() - interval '1 hour')",
            ('[{"name": "stock.csv", "kind": "stock", "bytes": 9}]',),
        )
    page = signed_in(app, "stock").get("/backoffice/feeds/jobs/1").text
    assert 'data-state="interrupted"' in page and "uploaded again" in page
    assert signed_in(app, "stock").get("/backoffice/feeds/jobs/99").status_code == 404
