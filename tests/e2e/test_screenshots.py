"""Screenshots of the shopper pages in headless Chromium, each page checked with axe-core.

The e2e shop (embedded search) gets the demo catalog, the Magento sample data, through the
public commands (``python -m tools.magento_to_feed``, ``snipshop import``); ``python -m
tools.screenshots`` then shoots home, a listing with a brand and a colour chosen (desktop and
phone-sized), a product and a search page into a temporary directory. The test fails on any
accessibility violation (printed per page, rule and element), on a page that does not show what
it should, and on a PNG that is not a real picture of the expected size. The committed
docs/screenshots/ are made the same way from ``./dev demo`` (README, "What it looks like").
"""

from __future__ import annotations

import csv
import os
import re
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
FEED_FILES = ("categories", "products", "variants", "prices", "offers", "stock")
#: Pages look alike on both search adapters: the embedded one spares an Elasticsearch node.
EMBEDDED = pytest.mark.parametrize("shop", ["embedded"], indirect=True)


def png_facts(path: Path) -> tuple[int, int, int]:
    """Width, height and the number of distinct byte values of the pixel data of a PNG file;
    raises AssertionError unless it is a whole, non-interlaced 8-bit PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is no PNG"
    pos, chunks = 8, {}
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        assert zlib.crc32(kind + body) == struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0], (
            f"{path}: bad CRC in {kind!r}"
        )
        chunks.setdefault(kind, []).append(body)
        pos += 12 + length
        if kind == b"IEND":
            break
    assert b"IEND" in chunks, f"{path} is cut short"
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"][0])
    assert depth == 8 and interlace == 0 and color in (2, 6), f"{path}: depth {depth}, colour type {color}"
    pixels = zlib.decompress(b"".join(chunks[b"IDAT"]))
    assert len(pixels) == height * (1 + width * (3 if color == 2 else 4)), f"{path}: pixel data of the wrong size"
    return width, height, len(set(pixels))


def run(args: list[str], env: dict | None = None, timeout: float = 120) -> str:
    done = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (
        f"{' '.join(args)} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout


@pytest.fixture(scope="module")
def demo_catalog(shop, redis_base_url, tmp_path_factory):
    """The Magento sample catalog in the e2e shop, as ``./dev demo`` has it: converted, imported,
    then projected whole by ``projector rebuild`` (which returns once its generation is live)."""
    started = time.monotonic()
    feed = tmp_path_factory.mktemp("magento-feed")
    run([sys.executable, "-m", "tools.magento_to_feed", "--out", str(feed)])
    env = dict(
        os.environ,
        DATABASE_URL=shop.database_url,
        REDIS_URL=shop.redis_url,
        CELERY_BROKER_URL=f"{redis_base_url}/3",  # the e2e shop's broker (tests/e2e/conftest.py)
        SHOP_LOCALES="en_US,de_DE",
        SHOP_CURRENCIES="EUR,USD",
        PYTHONPATH=str(REPO),
    )
    env.pop("ELASTICSEARCH_URL", None)
    bin_dir = Path(sys.executable).parent
    run(
        [str(bin_dir / "snipshop"), "import", "--quiet", *(str(feed / f"{name}.csv") for name in FEED_FILES)],
        env=env,
        timeout=300,
    )
    run([str(bin_dir / "projector"), "rebuild"], env=env, timeout=300)

    from tools.screenshots import DEFAULT_CATEGORY

    with open(feed / "products.csv", newline="", encoding="utf-8") as f:
        expected = sum(
            1 for row in csv.DictReader(f) if row["active"] == "1" and DEFAULT_CATEGORY in row["categories"].split("|")
        )
    total, deadline = None, time.monotonic() + 30  # the edge follows the new generation within a second or two
    while time.monotonic() < deadline:
        match = re.search(r'data-total="(\d+)"', requests.get(f"{shop.edge}/c/{DEFAULT_CATEGORY}", timeout=10).text)
        total = int(match.group(1)) if match else None
        if total == expected:
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"after the rebuild the edge lists {total} of the {expected} products of {DEFAULT_CATEGORY}")
    print(f"\ndemo catalog imported and projected in {time.monotonic() - started:.1f}s")
    return feed


def test_the_accessibility_check_finds_the_basics():
    """The check is no rubber stamp: a page missing the basics fails it, rule by rule."""
    from playwright.sync_api import sync_playwright

    from tools.screenshots import audit, axe_source, launch

    bad = (
        '<!doctype html><html><head></head><body><div><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
        '<input type="text"><p style="color:#bbb;background:#fff">faint text</p><a href="/x"></a></div></body></html>'
    )
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page()
            page.set_content(bad)
            found = {rule["id"] for rule in audit(page, axe_source())["violations"]}
        finally:
            browser.close()
    assert {
        "image-alt",
        "label",
        "color-contrast",
        "html-has-lang",
        "document-title",
        "landmark-one-main",
        "region",
        "link-name",
    } <= found, found


@EMBEDDED
@pytest.mark.timeout(400)
def test_screenshots_of_the_shopper_pages_pass_the_accessibility_check(shop, demo_catalog, tmp_path, capsys):
    from tools.screenshots import DESKTOP, NARROW, Plan, capture, report, violations

    started = time.monotonic()
    shots = {shot.name: shot for shot in capture(Plan(shop.edge, tmp_path))}
    seconds = time.monotonic() - started
    with capsys.disabled():
        print(f"\n{report(list(shots.values()))}\n{len(shots)} pages shot and checked in {seconds:.1f}s")

    assert sorted(shots) == ["home", "listing", "listing-narrow", "product", "search"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{name}.png" for name in shots)
    for name, shot in shots.items():
        width, height, distinct = png_facts(shot.path)
        assert (width, height) == (NARROW if name == "listing-narrow" else DESKTOP), name
        assert distinct > 16, f"{name}: a blank picture"
        assert shot.status == 200 and shot.facts["lang"] == "en" and shot.facts["title"], (name, shot.facts)

    listing = shots["listing"]
    assert re.search(r"/c/women-tops-jackets\?brand=[^&]+&color=[^&]+$", listing.url), listing.url
    assert listing.facts["tiles"] > 0 and listing.facts["h1"] == "Jackets"
    assert [chip["facet"] for chip in listing.facts["chips"]] == ["brand", "color"]
    chips = listing.facts["chips"]  # their text, as a screen reader says it
    assert [chip["label"] for chip in chips] == [
        f"Remove filter: Brand: {chips[0]['value']}",
        f"Remove filter: Color: {chips[1]['value']}",
    ]
    assert shots["listing-narrow"].facts["chips"] == listing.facts["chips"]
    assert shots["home"].facts["tiles"] > 0
    assert shots["product"].facts["product"] and shots["product"].facts["price"].startswith("€")
    assert shots["search"].facts["tiles"] > 0 and "jacket" in shots["search"].facts["h1"]

    found = violations(list(shots.values()))
    assert not found, f"{len(found)} accessibility violation(s):\n{report(list(shots.values()), notes=False)}"


@EMBEDDED
@pytest.mark.timeout(400)
def test_the_command_writes_the_screenshots(shop, demo_catalog, tmp_path):
    """``python -m tools.screenshots`` as a person runs it: exit 0, the files, the summary."""
    out = run(
        [
            sys.executable,
            "-m",
            "tools.screenshots",
            "--base-url",
            shop.edge,
            "--out",
            str(tmp_path / "shots"),
            "--no-narrow",
            "--product",
            "24-MB01",
            "--query",
            "bag",
        ]
    )
    assert sorted(p.name for p in (tmp_path / "shots").iterdir()) == [
        "home.png",
        "listing.png",
        "product.png",
        "search.png",
    ]
    assert "/p/24-MB01" in out and "search?q=bag" in out and "4 pages in" in out
