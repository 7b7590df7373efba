"""The PHP front end serves the edge's pages byte for byte, on both search adapters.

The e2e shop (tests/e2e/conftest.py: its own PostgreSQL, Redis, worker, scheduler and edge; once
with the embedded search, once with Elasticsearch) gets the demo catalog, the Magento sample data,
as ``./dev demo`` has it. The PHP front end is served beside the edge on the same Redis and search
engine by php-fpm behind nginx (tools/php_frontend.py). Every request goes to both, and status,
the headers that matter and the body must be equal (tests/e2e/php_support.py says what exactly):

* the crawl: every link reachable from the home page in two steps (products, categories, every
  link on those pages: filters, sorts, pages, locale and currency switches; about 2,500 URLs),
  then every variant page of the first products with variants and a set of filter, sort and page
  combinations, searches and bad inputs;
* personalization (cookies), locale and currency choices (cookies set), conditional requests
  (``If-None-Match`` → 304), HEAD and POST;
* the edge with all its caches on (the crawl's edge keeps its search result cache off, as every
  e2e edge does; its near cache and page cache are on): its caches are per process, the PHP front
  end keeps none, so neither side can echo the other;
* a degraded page (a missing snippet), its 503 twin, and the read-repair request each records;
* PostgreSQL stopped (the last test of the module);
* the contract's ``php -S`` command.

The PHP side keeps no state between requests, so the order of requests does not matter to it;
the edge's near cache and page cache only ever hold what Redis holds (the projector announces
every change, and the tests that delete a snippet announce it too).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
import redis
import requests

from tests.e2e.php_support import Parity, Req, cookie_parts, differences, fetch, links, session
from tests.processes import REPO, start_http, start_scheduler, wait_until
from tests.redis_support import store_client_of
from tools.localservices import free_port, wait_port
from tools.php_frontend import SCRIPT, PhpFrontend
from vocab.keys import Context, KeyScheme, Kind

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

FEED_FILES = ("attributes", "categories", "products", "variants", "prices", "offers", "stock")
SIMPLE = "24-MB01"  # Joust Duffle Bag, a simple product (gear)
GROUP = "WJ02"  # a jacket sold in 15 variants
VARIANT = "WJ02-M-Blue"
CATEGORY = "women-tops-jackets"
GEAR = "gear-bags"
DEFAULT = Context("en_US", "EUR")


def run(args: list[str], env: dict[str, str], timeout: float = 300) -> None:
    done = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (
        f"{' '.join(args)} exited {done.returncode}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    )


@pytest.fixture(scope="module")
def php(shop, tmp_path_factory) -> str:
    """The demo catalog in the e2e shop, imported and projected by the public commands, listed by
    the edge; then the PHP front end (php-fpm + nginx) on the shop's environment. Yields both."""
    started = time.monotonic()
    feed = tmp_path_factory.mktemp("magento-feed")
    run([sys.executable, "-m", "tools.magento_to_feed", "--out", str(feed)], shop.env)
    bin_dir = Path(sys.executable).parent
    run([str(bin_dir / "snipshop"), "import", "--quiet", *(str(feed / f"{n}.csv") for n in FEED_FILES)], shop.env)
    run([str(bin_dir / "projector"), "rebuild"], shop.env)
    wait_until(
        lambda: 'data-total="12"' in requests.get(f"{shop.edge}/c/{CATEGORY}", timeout=10).text,
        timeout=30,
        what="the edge listing the rebuilt generation",
    )
    front = PhpFrontend(free_port(), tmp_path_factory.mktemp("php"), env=shop.env).start()
    print(f"\ndemo catalog and PHP front end ({shop.search}) ready in {time.monotonic() - started:.1f}s")
    yield front.url
    front.stop()


@pytest.fixture
def parity(shop, php) -> Parity:
    """The edge and the PHP front end, and what this test found differing."""
    return Parity(shop.edge, php)


def handmade() -> list[str]:
    """Filter, sort and page combinations, searches and bad inputs the links do not reach."""
    c, g = f"/c/{CATEGORY}", f"/c/{GEAR}"
    listing_queries = [
        [("color", "Blue"), ("size", "M"), ("sort", "price_desc")],
        [("color", "Blue"), ("color", "Black"), ("size", "S"), ("page", "2"), ("per_page", "5")],
        [("brand", "Luma"), ("in_stock", "1"), ("sort", "name")],
        [("price", "20-60"), ("sort", "price_asc")],
        [("price", "60-20")],  # reversed range
        [("price", "-40")],
        [("price", "40-")],
        [("price", "abc")],
        [("price", "1e400-")],
        [("price", "NaN-Infinity")],
        [("price", "12.345-")],
        [("per_page", "96")],
        [("per_page", "1000")],
        [("per_page", "0")],
        [("per_page", "-3")],
        [("page", "0")],
        [("page", "-1")],
        [("page", "abc")],
        [("page", "3")],
        [("page", "99999999")],
        [("page", "104"), ("per_page", "96")],  # past the result window
        [("page", "99999999999999999999999")],
        [("sort", "bogus")],
        [("sort", "")],
        [("sort", "price_asc"), ("sort", "name")],
        [("in_stock", "yes")],
        [("in_stock", "0")],
        [("brand", "")],
        [("brand", "Luma"), ("brand", "Luma")],
        [("brand", "NoSuchBrand")],
        [("color", "x" * 101)],  # longer than a value may be
        [("utm_source", "mail"), ("gclid", "abc"), ("fbclid", "x")],
        [("nosuchfacet", "1")],
        [("color", f"c{i}") for i in range(40)],  # more values than the limit
        [
            (name, "x")
            for name in (
                "brand",
                "color",
                "size",
                "material",
                "pattern",
                "climate",
                "style_general",
                "activity",
                "features_bags",
                "strap_bags",
            )
        ],  # more facets than the limit
        [("locale", "de_DE"), ("color", "Blau")],
        [("currency", "USD"), ("sort", "price_desc")],
        [("locale", "xx_XX"), ("currency", "XXX")],
        [("q", "ignored on a category")],
    ]
    paths = [f"{c}?{urlencode(q)}" for q in listing_queries] + [f"{g}?{urlencode(q)}" for q in listing_queries[:12]]
    searches = [
        "jacket",
        "Jacket",
        "jackets",
        "jackt",  # a typo
        "JACKET tee",
        "yoga pants",
        "Jacke",
        "Hose",
        "Übergangsjacke",
        "café",
        "tëe naïve",
        "straße",
        "",
        " ",
        "a",
        "'\"<script>alert(1)</script>",
        "bag & bottle",
        "100%",
        "日本語",
        "🙂",
        "word " * 20,  # more words than searched
        "x" * 300,  # longer than searched
    ]
    for text in searches:
        paths.append(f"/search?{urlencode({'q': text})}")
        paths.append(f"/search?{urlencode({'q': text, 'locale': 'de_DE'})}")
    paths += [
        "/search",
        "/search?q=jacket&brand=Luma&sort=price_asc&page=2&per_page=5",
        "/search?q=jacket&color=Blue&in_stock=1",
        "/search?q=tee&page=2",
        "/search?q=a&q=b",
        "/search?q=%FF%FE",  # not UTF-8
        "/search?q=%ZZ",  # a broken escape
        "/search?q=blue+jacket",
        "/search?q=jacket&" + "x" * 4000,  # within the limit: the parameter is ignored
        "/search?q=" + "a" * 4097,  # over the 4,096-byte limit: 414
        "/search?q=" + "a" * 40000,
        "/c/" + CATEGORY + "?" + "&".join(f"color=v{i}" for i in range(600)),
    ]
    for text in ("ja", "Jack", "jacket", "über", "Hose", "<b>", "", "x" * 300, "%FF"):
        paths.append(f"/suggest?q={quote(text)}")
        paths.append(f"/suggest?q={quote(text)}&locale=de_DE")
    paths += ["/suggest", "/suggest?q=ja&q=tee"]
    paths += [
        "/healthz",
        "/healthz?x=1",
        "/readyz",
        "/nope",
        "/p/NOPE",
        "/p/",
        "/p",
        "/p/bad%20sku",
        "/p/" + "A" * 70,  # longer than a SKU may be
        "/p/-starts-with-dash",
        f"/p/{SIMPLE}/",
        f"/p/{SIMPLE.lower()}",
        "/p/24%2DMB01",  # an escaped path
        f"//p/{SIMPLE}",
        "/c/nope",
        "/c/Women",  # category keys are lower case
        "/c/",
        "/c/a%2Fb",
        "/static/nope.css",
        "/index.php",
        "/.env",
        f"/p/{SIMPLE}?opt.size=M",  # a picker choice on a simple product
        f"/p/{GROUP}?opt.size=M&opt.color=Blue",  # the picker's form: 303 to the variant
        f"/p/{GROUP}?opt.size=M",
        f"/p/{GROUP}?opt.size=NOPE&opt.color=Blue",
        f"/p/{GROUP}?opt.color=Blue&opt.size=XXL",
        f"/p/{VARIANT}?locale=de_DE&currency=USD",
        f"/p/{GROUP}-XXL-Gold",  # no such variant
        "/?locale=de_DE&currency=USD",
        "/?locale=en_US",
        f"/p/{SIMPLE}?currency=usd",
        f"/p/{SIMPLE}?locale=de_DE&locale=en_US",
    ]
    return paths


def personal(cookie: str | bytes) -> list[Req]:
    pages = [
        "/",
        f"/p/{SIMPLE}",
        f"/p/{GROUP}",
        f"/p/{VARIANT}",
        f"/c/{CATEGORY}",
        "/search?q=bag",
        "/nope",
        "/suggest?q=ja",
        "/p/NOPE",
    ]
    return [Req(path, headers=(("Cookie", cookie),)) for path in pages]


COOKIES: list[str | bytes] = [
    "customer_name=Anna",
    "customer_name=Anna%20Maria; cart_count=3",
    "customer_name=<script>alert(1)</script>; cart_count=12",
    'customer_name="  spaced   out  "',
    "customer_name=" + "N" * 80,  # longer than a name is kept
    "cart_count=99999",  # not a count: the default
    "cart_count=abc",
    "cart_count=0007",
    "locale=de_DE",
    "currency=USD",
    "locale=de_DE; currency=USD; customer_name=Jörg; cart_count=1",  # sent as Latin-1
    "locale=de_DE; currency=USD; customer_name=Jörg; cart_count=1".encode(),  # as UTF-8
    "locale=xx_XX; currency=XXX",
    "locale=de_DE; locale=en_US",
    "junk",
]


#: Request ids a client may send: the sane ones come back, the others are replaced (web/revision.py).
REQUEST_IDS: list[str | bytes] = [
    "trace-1",
    "0b6f3c1e-7d2a-4c55-9a0e-3f1d2b4c5a6e",
    "Az09._:-",
    "a" * 128,
    "a" * 129,
    "",
    "bad id",
    "a,b",
    "<script>",
    "über",  # sent as Latin-1
    "über".encode(),  # as UTF-8
]


def assert_identical(parity: Parity, at_least: int) -> None:
    print(f"\n{parity.report()}")
    assert parity.compared >= at_least, f"only {parity.compared} requests compared"
    assert not parity.differing, parity.report()


def test_every_page_reachable_from_home_and_every_bad_input_is_identical(parity, shop):
    crawled = parity.crawl("/", depth=2)
    products = [p for p in crawled if p.startswith("/p/") and "?" not in p]
    categories = [p for p in crawled if p.startswith("/c/") and "?" not in p]
    assert len(products) >= 150 and len(categories) >= 30, (len(products), len(categories))
    groups = [p for p in products if p.count("-") == 0][:4]  # WJ02, MH01, ...: products with variants
    for group in groups:
        edge, _ = parity.compare(Req(group))
        parity.compare_all(p for p in dict.fromkeys(links(group, edge.body)) if p.startswith(group + "-"))
    parity.compare_all(handmade())
    print(f"\n{shop.search}: {len(crawled)} URLs crawled from the home page")
    assert_identical(parity, 2500)


def test_personal_values_choices_conditional_requests_and_methods_are_identical(parity):
    for cookie in COOKIES:
        parity.compare_all(personal(cookie))
    for path in ("/", f"/p/{SIMPLE}", f"/p/{GROUP}", f"/c/{CATEGORY}", "/search?q=bag", f"/c/{GEAR}?brand=Luma"):
        edge, php = parity.compare(Req(path))
        etag = edge.header("ETag")
        assert etag, f"{path} has no ETag"
        for tag in (etag, f"W/{etag}", '"nope"', f'"nope", {etag}', "*"):
            edge, _ = parity.compare(Req(path, headers=(("If-None-Match", tag),)))
            assert edge.status == (200 if tag == '"nope"' else 304), (path, tag, edge.status)
        parity.compare(Req(path, headers=(("If-None-Match", etag), ("Cookie", "customer_name=Anna"))))
        parity.compare(Req(path, headers=(("If-None-Match", etag), ("Cookie", "locale=de_DE"))))
        parity.compare(Req(path, "HEAD"))
        parity.compare(Req(path, "POST"))
    for method in ("PUT", "DELETE", "PATCH"):
        parity.compare(Req(f"/p/{SIMPLE}", method))
    for path in (f"/p/{SIMPLE}", "/nope", "/healthz", "/search?q=" + "a" * 5000):
        parity.compare_all(Req(path, headers=(("X-Request-Id", given),)) for given in REQUEST_IDS)
    assert_identical(parity, 190 + 4 * len(REQUEST_IDS))


def test_the_edge_with_all_its_caches_on_and_php_serve_the_same(php, shop, tmp_path):
    """An edge as shipped (search results reused for 2 s, near cache, page cache), each URL
    asked three times: the first answer fills its caches, the others come from them."""
    env = {k: v for k, v in shop.env.items() if k not in ("SEARCH_CACHE_SECONDS", "EDGE_CACHE_MB")}
    proc, cached_edge = start_http("edge", env, tmp_path)
    try:
        parity = Parity(cached_edge, php)
        paths = [
            "/",
            f"/p/{SIMPLE}",
            f"/p/{GROUP}",
            f"/p/{VARIANT}",
            f"/c/{CATEGORY}",
            f"/c/{GEAR}?brand=Luma",
            f"/c/{CATEGORY}?color=Blue&sort=price_asc",
            "/search?q=jacket",
            "/suggest?q=ja",
            "/nope",
        ]
        for _ in range(3):
            parity.compare_all(paths)
            parity.compare_all(personal("customer_name=Anna")[:3])
        assert_identical(parity, 39)
    finally:
        proc.stop()


def scheduler(shop):
    return next(p for p in shop.processes if p.name == "scheduler")


@pytest.fixture
def no_repairs(shop):
    """The scheduler stopped (nothing drains the read-repair requests while the test looks at
    them), started again afterwards."""
    old = scheduler(shop)
    old.stop()
    yield
    shop.processes[shop.processes.index(old)] = start_scheduler(shop.env, old.log_path.parent)


def test_a_missing_snippet_degrades_both_alike_and_both_ask_for_the_same_repair(php, shop, no_repairs, parity):
    client = store_client_of(shop.env)
    keys = KeyScheme(shop.key_prefix or "ss")
    gen = int(client.get(keys.live))
    price = keys.snippet(gen, Kind.PRICE, DEFAULT, SIMPLE)
    detail = keys.snippet(gen, Kind.DETAIL, DEFAULT, SIMPLE)
    tile = keys.snippet(gen, Kind.TILE, DEFAULT, SIMPLE)
    saved = {k: (client.get(k), client.pttl(k)) for k in (price, detail, tile)}
    assert all(v is not None for v, _ in saved.values())

    def drop(*gone: str) -> None:
        client.delete(*gone)
        client.publish(keys.invalidations, "\n".join(gone))  # as the projector announces a change

    def requested() -> tuple[set[str], set[str]]:
        pending = {m.decode() for m in client.smembers(keys.repair_pending)}
        seen = {k.decode() for k in client.scan_iter(keys.repair_seen("*", "*"))}
        return pending, seen

    def forget_requests() -> None:
        client.delete(keys.repair_pending, *client.scan_iter(keys.repair_seen("*", "*")))

    def both(path: str, status: int, degraded) -> set[str]:
        """The edge's answer once every edge worker has dropped the snippet (``degraded`` says
        so of a body), then PHP's: both alike, each recording the same repair request."""
        s = session()
        wait_until(
            lambda: all(degraded(s.get(shop.edge + path, timeout=10).text) for _ in range(8)),
            timeout=10,
            what=f"the edge's workers missing the snippet on {path}",
        )
        forget_requests()
        edge = fetch(s, shop.edge, Req(path))
        at_edge = requested()
        forget_requests()
        php_answer = fetch(session(), php, Req(path))
        at_php = requested()
        assert edge.status == status, edge.status
        assert not differences(edge, php_answer), "\n".join(differences(edge, php_answer))
        assert at_edge == at_php, f"the edge asked for {at_edge}, PHP for {at_php}"
        return at_edge[0]

    try:
        drop(price)
        assert both(f"/p/{SIMPLE}", 200, lambda body: "Price currently unavailable" in body) == {f"product:{SIMPLE}"}
        page = fetch(session(), php, Req(f"/p/{SIMPLE}"))
        assert page.header("Cache-Control") == "no-store" and b"Joust Duffle Bag" in page.body
        drop(detail)
        assert both(f"/p/{SIMPLE}", 503, lambda body: "being restored" in body) == {f"product:{SIMPLE}"}
        assert fetch(session(), php, Req(f"/p/{SIMPLE}")).header("Retry-After") == "2"
        drop(tile)
        tile_shown = f'data-sku="{SIMPLE}"'
        assert both(f"/c/{GEAR}", 200, lambda body: tile_shown not in body) == {f"product:{SIMPLE}"}
        listing = fetch(session(), php, Req(f"/c/{GEAR}"))
        assert listing.header("Cache-Control") == "no-store" and tile_shown.encode() not in listing.body
    finally:
        for key, (value, ttl) in saved.items():
            client.set(key, value, px=ttl if ttl > 0 else None)
        client.publish(keys.invalidations, "\n".join(saved))
        forget_requests()
    wait_until(
        lambda: b"Price currently" not in requests.get(f"{shop.edge}/p/{SIMPLE}", timeout=10).content,
        timeout=10,
        what="the restored page",
    )
    parity.compare_all([f"/p/{SIMPLE}", f"/c/{GEAR}"])
    assert not parity.differing, parity.report()


def test_without_a_live_generation_both_are_not_ready_alike(php, shop):
    client = store_client_of(shop.env)
    keys = KeyScheme(shop.key_prefix or "ss")
    live = client.get(keys.live)
    ready = [fetch(session(), base, Req("/readyz")) for base in (shop.edge, php)]
    assert {(r.status, r.body) for r in ready} == {(200, b'{"generation":%s,"status":"ready"}\n' % live)}
    try:
        client.delete(keys.live)  # X-Generation aside: the edge names the one it last saw, PHP none
        answers = [fetch(session(), base, Req("/readyz")) for base in (shop.edge, php)]
    finally:
        client.set(keys.live, live)
    assert [(a.status, a.body, a.header("Cache-Control")) for a in answers] == [
        (503, b'{"reason":"no live generation: run `projector rebuild`","status":"unavailable"}\n', "no-store")
    ] * 2


def test_the_contracts_php_dash_s_command_serves_the_edges_page(php, shop, tmp_path):
    port = free_port()
    public = SCRIPT.parent
    args = ["php", "-S", f"127.0.0.1:{port}", "-t", str(public.relative_to(REPO)), str(SCRIPT.relative_to(REPO))]
    log = open(tmp_path / "php-S.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        args, cwd=REPO, env=shop.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        wait_port(port, 20, "php -S")
        parity = Parity(shop.edge, f"http://127.0.0.1:{port}")
        parity.compare_all([f"/p/{SIMPLE}", f"/c/{GEAR}?brand=Luma", "/search?q=bag", "/nope", "/healthz"])
        assert_identical(parity, 5)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)
        log.close()


def test_with_postgresql_stopped_php_pages_are_still_the_edges(php, shop):
    """Runs last in this module: it stops PostgreSQL (the PHP front end never reads it)."""
    paths = [
        "/",
        f"/p/{SIMPLE}",
        f"/p/{GROUP}",
        f"/p/{VARIANT}",
        f"/c/{CATEGORY}",
        f"/c/{GEAR}?brand=Luma",
        "/search?q=jacket",
        "/suggest?q=ja",
        "/p/NOPE",
        f"/?{urlencode({'locale': 'de_DE'})}",
    ]
    shop.pg.stop("immediate")
    try:
        parity = Parity(shop.edge, php)
        for path in paths:
            edge, _ = parity.compare(Req(path))
            assert edge.status in (200, 404), (path, edge.status)
        parity.compare_all(personal("customer_name=Anna; cart_count=2"))
        assert_identical(parity, len(paths) + 9)
    finally:
        shop.pg.start()


def test_with_a_canary_running_both_serve_each_bucket_the_same_generation(php, shop, parity):
    """`projector rebuild --canary 30`: a shopper's bucket cookie picks the same generation at
    both front ends (pages, listings, search from the canary's alias); a shopper without one is
    offered a bucket by both alike; after `projector abort` everyone is on the live one again."""
    bin_dir = Path(sys.executable).parent
    client = store_client_of(shop.env)
    keys = KeyScheme(shop.key_prefix or "ss")
    live = int(client.get(keys.live))
    run([str(bin_dir / "projector"), "rebuild", "--canary", "30", "--quiet"], shop.env)
    try:
        canary = json.loads(client.get(keys.canary))["generation"]
        time.sleep(1.5)  # the edge reads the pointers at most once per POINTER_CACHE_SECONDS
        for bucket, expected in ((0, canary), (29, canary), (30, live), (99, live)):
            for path in ("/", f"/p/{SIMPLE}", f"/p/{GROUP}", f"/c/{CATEGORY}?color=Blue", "/search?q=jacket"):
                edge, _ = parity.compare(Req(path, headers=(("Cookie", f"bucket={bucket}; locale=de_DE"),)))
                assert edge.header("X-Generation") == str(expected), (bucket, path)
        drawn = [fetch(session(), base, Req(f"/p/{SIMPLE}")) for base in (shop.edge, php)]
        offered = [[cookie_parts(c) for c in answer.cookies if c.startswith("bucket=")] for answer in drawn]
        assert all(len(o) == 1 for o in offered), offered
        assert offered[0][0][1] == offered[1][0][1], offered  # the same attributes, a bucket of its own each
        assert [a.header("Cache-Control") for a in drawn] == ["private, no-cache"] * 2  # for no shared cache
        assert_identical(parity, 20)
        time.sleep(1.5)  # the edge's counts of the requests above are in Redis by now
        before = canary_requests(client, keys, canary)
        for _ in range(5):
            assert fetch(session(), php, Req(f"/p/{SIMPLE}", headers=(("Cookie", "bucket=0"),))).status == 200
        assert canary_requests(client, keys, canary) == before + 5  # the PHP front end's own counts
    finally:
        run([str(bin_dir / "projector"), "abort"], shop.env)
    time.sleep(1.5)
    edge, _ = parity.compare(Req(f"/p/{SIMPLE}", headers=(("Cookie", "bucket=0"),)))
    assert edge.header("X-Generation") == str(live)
    assert not parity.differing, parity.report()


def canary_requests(client: redis.Redis, keys: KeyScheme, gen: int) -> int:
    """The requests counted for ``gen`` (vocab/canary_stats.py) in the last five minutes: the
    canary of the test above started less than that ago, so two calls see the same minutes."""
    minute = int(time.time()) // 60
    return sum(int(client.hget(keys.canary_stats(gen, m), "requests") or 0) for m in range(minute - 5, minute + 1))
