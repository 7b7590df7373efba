"""The back office in headless Chromium (Playwright, Debian's ``chromium``) against the e2e shop's
real processes: PostgreSQL, Redis, a Celery worker and scheduler, the edge, and an admin app of
this module's own (so that its links point at the e2e edge: ``SHOP_URL``).

Users are made with ``snipshop user create`` (the password on standard input). Every back-office
page is checked with axe-core (tools/screenshots.py, the shopper pages' check) and shot;
``BACKOFFICE_SCREENSHOTS=DIR`` keeps the PNGs there (docs/screenshots/backoffice-*.png are made so).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from projector.deadletters import DeadLetters, letter
from snipshop.config import Settings
from tests.processes import start_http, wait_until
from tests.redis_support import store_client_of
from vocab.keys import KeyScheme

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("shop", ["embedded"], indirect=True)]

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "browser test password"
SKU = "BO-BAG"
ZONE = ZoneInfo("Europe/Berlin")


def snipshop(env: dict[str, str], *args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "snipshop"), *args],
        input=stdin,
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def backoffice(shop, tmp_path_factory):
    """The admin app's URL, with users editor, pricing and locked (all with PASSWORD) and product SKU."""
    env = dict(shop.env, SHOP_URL=shop.edge, SHOP_TIMEZONE="Europe/Berlin")
    for role, name in (("editor", "editor"), ("pricing", "pricing"), ("stock", "locked"), ("admin", "admin")):
        assert f"user {name} created" in snipshop(env, "user", "create", "--role", role, name, stdin=PASSWORD + "\n")
    api = f"{shop.admin}/admin/api/v1"
    for path, body in (
        ("/categories/bo-bags", {"name": {"en_US": "Bags", "de_DE": "Taschen"}}),
        (f"/products/{SKU}", {"name": {"en_US": "Travel bag", "de_DE": "Reisetasche"}, "categories": ["bo-bags"]}),
        (f"/prices/{SKU}/EUR", {"amount": "40.00"}),
        (f"/stock/{SKU}", {"quantity": 12}),
    ):
        response = requests.put(api + path, json=body, headers=shop.auth(), timeout=10)
        assert response.status_code == 200, response.text
    wait_until(lambda: '"price":"40.00"' in requests.get(f"{shop.edge}/p/{SKU}", timeout=10).text, 20)
    process, url = start_http("admin", env, tmp_path_factory.mktemp("backoffice-logs"))
    yield url
    process.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    from tools.screenshots import launch

    with sync_playwright() as pw:
        chromium = launch(pw)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def sign_in(page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/backoffice/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


def dead_letters(shop) -> DeadLetters:
    return DeadLetters(store_client_of(shop.env), KeyScheme(shop.key_prefix or Settings().key_prefix))


def shop_text(url: str) -> str:
    return requests.get(url, timeout=10).text


def test_sign_in_edit_a_german_name_and_see_it_in_the_shop(backoffice, shop, page):
    sign_in(page, backoffice, "editor")
    assert page.url.endswith("/backoffice/products")
    page.fill("#q", "travel")
    page.click("form.filters button")
    page.click(f"tr[data-sku={SKU}] a")
    page.fill("#name-de_DE", "Reisetasche Deluxe")
    page.click("form.editor button[type=submit]")
    status = page.locator("section.live .live-state")
    status.filter(has_text="Live in the shop").wait_for(timeout=15_000)
    print(f"\nback office: {status.text_content().strip()}")
    link = page.get_attribute("a.shop-link", "href")
    assert link == f"{shop.edge}/p/{SKU}"
    page.goto(link + "?locale=de_DE")
    deadline = time.monotonic() + 10  # the edge hears of the change over pub/sub; a page may be a moment old
    while "Reisetasche Deluxe" not in page.locator("main h1").text_content() and time.monotonic() < deadline:
        page.reload()
    assert page.locator("main h1").text_content().strip() == "Reisetasche Deluxe"


def test_a_pricing_user_cannot_edit_texts(backoffice, page):
    sign_in(page, backoffice, "pricing")
    page.goto(f"{backoffice}/backoffice/products/{SKU}")
    assert page.locator("#read-only").is_visible()
    assert page.locator("#name-en_US").is_disabled()
    assert page.locator("form.editor button[type=submit]").count() == 0
    token = page.get_attribute("input[name=csrf_token]", "value")
    form = {"csrf_token": token, "version": page.get_attribute("input[name=version]", "value"), "name.en_US": "Hacked"}
    response = page.request.post(f"{backoffice}/backoffice/products/{SKU}", form=form)
    assert response.status == 403 and "needs the role" in response.text()
    page.goto(f"{backoffice}/backoffice/products/{SKU}")
    assert page.input_value("#name-en_US") == "Travel bag"


def test_a_post_without_csrf_token_is_refused(backoffice, page):
    sign_in(page, backoffice, "editor")
    page.goto(f"{backoffice}/backoffice/products/{SKU}")
    version = page.get_attribute("input[name=version]", "value")
    response = page.request.post(
        f"{backoffice}/backoffice/products/{SKU}", form={"version": version, "name.en_US": "No token"}
    )
    assert response.status == 403 and "security token" in response.text()
    page.reload()
    assert page.input_value("#name-en_US") == "Travel bag"


def test_a_wrong_password_five_times_locks_out(backoffice, page):
    for attempt in range(1, 6):
        sign_in(page, backoffice, "locked", "not the password")
        expected = "locked until" if attempt == 5 else "Wrong username or password"
        assert expected in page.locator("#login-error").text_content(), attempt
    sign_in(page, backoffice, "locked")  # the right password, while locked
    assert "locked until" in page.locator("#login-error").text_content()
    assert "/login" in page.url


def test_an_offer_scheduled_seconds_ahead_starts_and_ends_in_the_shop(backoffice, shop, page):
    sign_in(page, backoffice, "pricing")
    page.goto(f"{backoffice}/backoffice/products/{SKU}/prices")
    starts = datetime.now(ZONE).replace(microsecond=0) + timedelta(seconds=6)
    ends = starts + timedelta(seconds=8)
    form = page.locator(f"#v-{SKU}-EUR form.offer-form")
    form.locator("input[name=amount]").fill("29.99")
    form.locator("input[name=starts_at]").fill(starts.strftime("%Y-%m-%dT%H:%M:%S"))
    form.locator("input[name=ends_at]").fill(ends.strftime("%Y-%m-%dT%H:%M:%S"))
    form.locator("button").click()
    page.locator("section.live").wait_for()
    assert '"price":"40.00"' in shop_text(f"{shop.edge}/p/{SKU}")  # not yet
    page.goto(f"{backoffice}/backoffice/offers")
    assert page.locator(f"tr[data-sku={SKU}].upcoming").count() == 1
    assert starts.strftime("%Y-%m-%d %H:%M:%S") in page.locator(f"tr[data-sku={SKU}]").text_content()
    wait_until(lambda: '"price":"29.99"' in shop_text(f"{shop.edge}/p/{SKU}"), 20, 0.1, "the offer in the shop")
    late = (datetime.now(ZONE) - starts).total_seconds()
    print(f"\noffer shown {late:.2f}s after its start")
    wait_until(lambda: '"price":"40.00"' in shop_text(f"{shop.edge}/p/{SKU}"), 20, 0.1, "the offer's end")


def test_every_back_office_page_passes_the_accessibility_check(backoffice, shop, page, tmp_path):
    from tools.screenshots import audit, axe_source

    source = axe_source()
    out = Path(os.environ.get("BACKOFFICE_SCREENSHOTS") or tmp_path)
    found: dict[str, list[dict]] = {}

    def check(name: str) -> None:
        result = audit(page, source)
        if result["violations"]:
            found[name] = result["violations"]
        page.screenshot(path=str(out / f"backoffice-{name}.png"))

    page.goto(f"{backoffice}/backoffice/login")
    check("login")
    sign_in(page, backoffice, "admin")
    check("products")
    page.goto(f"{backoffice}/backoffice/products/{SKU}")
    page.fill("#name-de_DE", "")
    page.fill("#description-de_DE", "<p>Ohne Namen</p>")
    page.click("form.editor button[type=submit]")
    assert page.locator("[data-locale=de_DE] .error").count() == 1  # the error beside the German field
    check("product-error")
    page.goto(f"{backoffice}/backoffice/products/{SKU}")
    page.fill("#brand", "Wanderlust")
    page.click("form.editor button[type=submit]")
    page.locator("section.live .live-state").filter(has_text="Live in the shop").wait_for(timeout=15_000)
    check("product")
    page.goto(f"{backoffice}/backoffice/products/{SKU}/prices")
    tomorrow = (datetime.now(ZONE) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    form = page.locator(f"#v-{SKU}-USD form.offer-form")
    form.locator("input[name=amount]").fill("34.00")
    form.locator("input[name=starts_at]").fill(tomorrow.strftime("%Y-%m-%dT%H:%M:%S"))
    form.locator("input[name=ends_at]").fill((tomorrow + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S"))
    form.locator("button").click()
    page.locator("section.live").wait_for()
    check("prices")
    page.goto(f"{backoffice}/backoffice/products/{SKU}/stock")
    page.fill(f"#delta-{SKU}", "-2")
    page.fill(f"#reason-{SKU}", "damaged in the warehouse")
    page.click("form.movement button")
    assert "damaged in the warehouse" in page.locator("table.movements").text_content()
    check("stock")
    page.goto(f"{backoffice}/backoffice/offers")
    assert page.locator(f"tr[data-sku={SKU}].upcoming").count() >= 1
    check("offers")
    page.goto(f"{backoffice}/backoffice/feeds")
    page.set_input_files("#file", files=[{"name": "stock.csv", "mimeType": "text/csv", "buffer": STOCK_FEED}])
    page.click("form.feed button")
    page.locator("section.report[data-state=done]").wait_for(timeout=15_000)
    assert page.locator("table.rejected tr[data-line]").count() == 1
    check("feed-job")
    page.goto(f"{backoffice}/backoffice/feeds")
    check("feeds")
    page.goto(f"{backoffice}/backoffice/products/new")
    page.fill("#sku", "BO-HAT")
    page.click("form.new-product button")
    assert page.locator("#name-en-US-error").is_visible()  # the error beside the field
    check("product-new")
    page.fill("#name-en_US", "Sun hat")
    page.select_option("#categories", "bo-bags")
    page.click("form.new-product button")
    page.goto(f"{backoffice}/backoffice/products/BO-HAT/variants")
    page.fill("#new-sku", "BO-HAT-S")
    page.fill("#new-options", "size: S")
    page.click("form.variant-add button")
    assert page.input_value("#options-BO-HAT-S") == "size: S"
    check("variants")
    page.goto(f"{backoffice}/backoffice/categories/new")
    page.fill("#key", "bo-hats")
    page.fill("#name-en_US", "Hats")
    page.fill("#name-de_DE", "Hüte")
    page.click("form.category-form button")
    check("category")
    page.goto(f"{backoffice}/backoffice/categories")
    page.click("button[aria-label='Move bo-hats up']")
    keys = page.locator("ul.tree > li").evaluate_all("items => items.map(i => i.dataset.key)")
    assert keys.index("bo-hats") < keys.index("bo-bags"), keys
    check("categories")
    page.goto(f"{backoffice}/backoffice/audit")
    assert "Wanderlust" in page.locator("table.audit").text_content()
    check("audit")
    page.goto(f"{backoffice}/backoffice/products/{SKU}")
    page.select_option("#ui-locale", "de_DE")
    page.click("form.language button")  # the editor's language, kept on the user
    assert page.get_attribute("html", "lang") == "de"
    page.fill("#name-de_DE", "")
    page.fill("#description-de_DE", "<p>Ohne Namen</p>")
    page.click("form.editor button[type=submit]")
    error = page.locator("#name-de-DE-error").text_content()
    assert error == "eine Beschreibung braucht einen Namen in derselben Sprache"
    assert page.locator("legend").first.text_content() == "Texte, eine Spalte pro Sprache"
    check("product-de")
    page.select_option("#ui-locale", "en_US")
    page.click("form.language button")
    assert page.get_attribute("html", "lang") == "en"
    dead_letters(shop).add(letter("projector.project_products", [[SKU]], {}, KeyError("gone"), "bo-a11y", 5))
    page.goto(f"{backoffice}/backoffice/status")
    assert page.locator("tr[data-line='live generation'] td").text_content() not in ("", "none")
    assert page.locator("tr[data-task-id=bo-a11y] form.replay-one").count() == 1
    check("status")
    shots = sorted(p.name for p in out.glob("backoffice-*.png"))
    assert len(shots) == 16, shots
    report = "\n".join(
        f"{name}: {v['id']} ({v['impact']}) {v['help']}: {', '.join(n['target'] for n in v['nodes'])}"
        for name, violations in found.items()
        for v in violations
    )
    assert not found, f"accessibility violations:\n{report}"


STOCK_FEED = f"sku,quantity\n{SKU},25\nNO-SUCH-SKU,3\n".encode()


def test_upload_a_feed_with_a_bad_row_and_read_the_report(backoffice, page):
    sign_in(page, backoffice, "admin")
    page.goto(f"{backoffice}/backoffice/feeds")
    page.set_input_files("#file", files=[{"name": "stock.csv", "mimeType": "text/csv", "buffer": STOCK_FEED}])
    page.click("form.feed button")
    report = page.locator("section.report[data-state=done]")
    report.wait_for(timeout=15_000)
    assert report.get_attribute("data-imported") == "1" and report.get_attribute("data-rejected") == "1"
    bad = page.locator("table.rejected tr[data-line='3']").text_content()
    assert "NO-SUCH-SKU" in bad and "unknown product" in bad
    page.goto(f"{backoffice}/backoffice/products/{SKU}/stock")
    assert page.locator(f".level[data-sku={SKU}]").text_content() == "25"


def test_upload_several_feeds_and_a_large_one_and_watch_the_progress(backoffice, page):
    """A products feed and a stock feed of 3 MB (over the admin app's 1 MB body limit): the job page
    shows a progress bar the page moves while the import runs, then the report of both files."""
    products = b"sku,categories,name.en_US\nBO-CAP,bo-bags,Cap\nBO-BAD,no-such-category,Bad\n"
    rows = b"".join(b"BO-CAP,%d\n" % (i % 7) if i % 1000 == 0 else b"BO-CAP,many%d\n" % i for i in range(200_000))
    stock = b"sku,quantity\n" + rows
    assert len(stock) > 3 * 1024 * 1024
    polls: list[dict] = []
    page.on("response", lambda r: polls.append(r.json()) if r.url.endswith(".json") else None)
    sign_in(page, backoffice, "admin")
    page.goto(f"{backoffice}/backoffice/feeds")
    files = [
        {"name": "stock.csv", "mimeType": "text/csv", "buffer": stock},
        {"name": "products.csv", "mimeType": "text/csv", "buffer": products},
    ]
    page.set_input_files("#file", files=files)
    page.click("form.feed button")
    assert page.locator("h1").text_content().startswith("Feed import #")
    page.locator("section.report:not([data-state=running])").wait_for(timeout=60_000)
    running = [p for p in polls if p["state"] == "running"]
    print(f"\nfeed job: {len(polls)} progress polls, {len(running)} while running")
    assert running, "the job page showed no progress while the import ran"
    assert all(0 <= p["bytes_done"] <= p["bytes_total"] for p in polls)
    report = page.locator("section.report")
    assert report.get_attribute("data-state") == "done"
    assert report.get_attribute("data-imported") == str(1 + 200)
    assert report.get_attribute("data-rejected") == str(1 + 199_800)
    assert page.locator("table.files tbody tr").evaluate_all("rows => rows.map(r => r.dataset.file)") == [
        "products.csv",
        "stock.csv",
    ]
    assert (
        "no-such-category" in page.locator("table.rejected tr[data-file='products.csv'][data-line='3']").text_content()
    )
    assert "the first 500" in page.locator("table.rejected caption").text_content()
    assert page.get_attribute("progress#job-progress", "value") == str(len(stock) + len(products))
    page.goto(f"{backoffice}/backoffice/products/BO-CAP/stock")
    assert page.locator(".level[data-sku=BO-CAP]").text_content() == str(199_000 % 7)


def test_the_page_tells_when_a_stock_movement_is_live(backoffice, shop, page):
    sign_in(page, backoffice, "admin")
    page.goto(f"{backoffice}/backoffice/products/{SKU}/stock")
    level = int(page.locator(f".level[data-sku={SKU}]").text_content())
    page.fill(f"#delta-{SKU}", str(-level))
    page.fill(f"#reason-{SKU}", "sold out at the fair")
    page.click("form.movement button")
    page.locator("section.live .live-state").filter(has_text="Live in the shop").wait_for(timeout=15_000)
    assert re.search(r"OutOfStock", shop_text(f"{shop.edge}/p/{SKU}"))


def test_an_admin_replays_a_dead_letter_and_starts_a_rebuild(backoffice, shop, page):
    letters = dead_letters(shop)
    letters.add(letter("projector.project_products", [[SKU]], {}, KeyError("gone"), "bo-replay", 5))
    sign_in(page, backoffice, "admin")
    page.goto(f"{backoffice}/backoffice/status")
    page.click("tr[data-task-id=bo-replay] form.replay-one button")
    assert "1 dead letters were sent" in page.locator("#control-done").text_content()
    assert "bo-replay" not in [e["task_id"] for e in letters.entries()]
    before = int(page.locator("tr[data-line='live generation'] td").text_content())
    page.click("form.start-rebuild button")
    assert "rebuild was started" in page.locator("#control-done").text_content()
    page.wait_for_url("**rebuild=done**", timeout=60_000)  # the page follows the rebuild to its end
    after = int(page.locator("tr[data-line='live generation'] td").text_content())
    assert after > before and f"the live generation is {after}" in page.locator("#control-done").text_content()
    page.goto(f"{backoffice}/backoffice/audit")
    audit = page.locator("table.audit").text_content()
    assert "start rebuild" in audit and "dead letter bo-replay" in audit
    assert '"price":' in shop_text(f"{shop.edge}/p/{SKU}")  # the shop serves the new generation


def test_an_admin_starts_a_canary_reads_the_comparison_and_aborts_it(backoffice, shop, page):
    sign_in(page, backoffice, "admin")
    page.goto(f"{backoffice}/backoffice/status")
    live = int(page.locator("tr[data-line='live generation'] td").text_content())
    page.fill("#canary-percent", "20")
    page.click("form.start-canary button")
    assert "canary was started" in page.locator("#canary-done").text_content()

    def serving() -> bool:
        page.goto(f"{backoffice}/backoffice/status")
        return page.locator("p.canary-state").count() == 1

    wait_until(serving, 60, 0.5, "the canary serving shoppers")
    assert f"serves 20 % of shoppers beside generation {live}." in page.locator("p.canary-state").text_content()
    assert f"live {live}" in page.locator("pre.comparison").text_content()
    page.click("form.abort-canary button")
    assert f"back on generation {live}" in page.locator("#canary-done").text_content()
    assert page.locator("form.start-canary").count() == 1
    assert int(page.locator("tr[data-line='live generation'] td").text_content()) == live
    page.goto(f"{backoffice}/backoffice/audit")
    audit = page.locator("table.audit").text_content()
    assert "start canary" in audit and "abort canary" in audit


def test_create_a_product_activate_it_and_deactivate_it_in_the_shop(backoffice, shop, page):
    sign_in(page, backoffice, "editor")
    page.goto(f"{backoffice}/backoffice/products")
    page.click("a.new-product")
    page.fill("#sku", "BO-SCARF")
    page.fill("#name-en_US", "Scarf")
    page.fill("#name-de_DE", "Schal")
    page.select_option("#categories", "bo-bags")
    page.click("form.new-product button")
    assert page.url.startswith(f"{backoffice}/backoffice/products/BO-SCARF?saved=")
    page.locator("section.live .live-state").filter(has_text="Live in the shop").wait_for(timeout=15_000)
    assert requests.get(f"{shop.edge}/p/BO-SCARF", timeout=10).status_code == 404  # new products start inactive
    page.fill("#images", "/m/scarf.jpg 300x400")
    page.click("form.editor button[type=submit]")
    page.click("form.switch-active button")
    page.locator("section.live .live-state").filter(has_text="Live in the shop").wait_for(timeout=15_000)
    wait_until(lambda: "/m/scarf.jpg" in shop_text(f"{shop.edge}/p/BO-SCARF?locale=de_DE"), 10, 0.1, "the shop page")
    assert "Schal" in shop_text(f"{shop.edge}/p/BO-SCARF?locale=de_DE")
    page.click("form.switch-active button")  # deactivate
    assert "Activate" in page.locator("form.switch-active button").text_content()
    page.locator("section.live .live-state").filter(has_text="Live in the shop").wait_for(timeout=15_000)
    wait_until(lambda: requests.get(f"{shop.edge}/p/BO-SCARF", timeout=10).status_code == 404, 10, 0.1, "the 404")
