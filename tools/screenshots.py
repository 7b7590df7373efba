"""Screenshots of the shopper pages, each one checked for accessibility with axe-core.

Usage (against a running shop, e.g. ``./dev demo``)::

    python -m tools.screenshots --base-url http://127.0.0.1:8000 --out docs/screenshots

Headless Chromium (Debian's ``chromium``, driven by Playwright; no browser is downloaded) opens
the pages as a shopper would and saves a PNG of each:

* ``home.png``: the home page;
* ``listing.png``: a category (``--category``) after choosing the first value of each of the
  ``--facet`` groups in the sidebar (by default brand, then color), so the selection shows as
  chips above the tiles; ``listing-narrow.png``: the same page on a phone-sized screen;
* ``product.png``: ``--product``, by default the first product of that listing;
* ``search.png``: the results of ``--query``.

Desktop shots are 1280×900, the narrow one 390×844 (the viewport, not the whole page). Every
page is checked with axe-core (``tools/vendor/axe-core``) for the rules tagged ``wcag2a``,
``wcag2aa``, ``wcag21a``, ``wcag21aa`` and ``best-practice`` (labels, landmarks and regions,
alternative text, colour contrast where it can be measured, the document's language and title,
headings, ...). Violations are printed per page: rule, impact, the element's selector and what
is wrong. Results axe could not decide (``incomplete``, e.g. contrast over an image) are printed
as notes and fail nothing.

Exit status: 0 when every page shows what it should and has no violation; 1 when there are
violations (the screenshots are written all the same); 2 when a page is missing or does not show
what it should (no tiles, no chips, an error status).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode, urljoin

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
AXE_VERSION = "4.14.1"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
DESKTOP = (1280, 900)
NARROW = (390, 844)
#: The demo catalog (``./dev demo``, the Magento sample data).
DEFAULT_CATEGORY = "women-tops-jackets"
DEFAULT_FACETS = ("brand", "color")
DEFAULT_QUERY = "jacket"

_AXE_RUN = """async (options) => {
  const result = await axe.run(document, options);
  const pick = (list) => list.map((rule) => ({
    id: rule.id, impact: rule.impact, help: rule.help, helpUrl: rule.helpUrl,
    nodes: rule.nodes.map((node) => ({
      target: node.target.map((t) => Array.isArray(t) ? t.join(" ") : String(t)).join(" >>> "),
      html: node.html, summary: node.failureSummary || ""})),
  }));
  return {version: axe.version, violations: pick(result.violations), incomplete: pick(result.incomplete),
          passes: result.passes.length};
}"""

_FACTS = """() => {
  const text = (sel) => { const e = document.querySelector(sel); return e ? e.textContent.trim() : null; };
  return {
    title: document.title,
    lang: document.documentElement.lang,
    h1: text("main h1"),
    tiles: document.querySelectorAll("main .tiles .tile").length,
    chips: Array.from(document.querySelectorAll("nav.chips a.chip")).map(
      (a) => ({facet: a.dataset.chip, value: a.dataset.chipValue, label: a.textContent.replace("×", "").trim()})),
    product: document.querySelector("main article.product")?.dataset.sku || null,
    price: text("main .price .amount"),
  };
}"""


class PageProblem(Exception):
    """A page is missing or does not show what it should."""


@dataclass
class Shot:
    name: str
    url: str
    path: Path
    viewport: tuple[int, int]
    status: int
    facts: dict
    violations: list[dict] = field(default_factory=list)
    incomplete: list[dict] = field(default_factory=list)
    passes: int = 0


@dataclass
class Plan:
    base_url: str
    out: Path
    category: str = DEFAULT_CATEGORY
    facets: tuple[str, ...] = DEFAULT_FACETS
    product: str | None = None
    query: str = DEFAULT_QUERY
    narrow: bool = True
    chromium: str = CHROMIUM


def axe_source() -> str:
    data = AXE.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != AXE_SHA256:
        raise RuntimeError(f"{AXE} is not axe-core {AXE_VERSION} (SHA-256 {digest}); see its README.md")
    return data.decode("utf-8")


def launch(pw, chromium: str = CHROMIUM):
    """Headless Chromium through Playwright (``pw``: a started ``sync_playwright()``)."""
    return pw.chromium.launch(executable_path=chromium, headless=True, args=list(CHROMIUM_ARGS), chromium_sandbox=False)


def audit(page, source: str) -> dict:
    """axe-core's verdict on the page as it is now: ``violations`` and ``incomplete`` (each a list of
    rules with their elements) and the number of rules that pass."""
    page.evaluate(source)  # evaluated, not a <script>: the shop's CSP allows no inline script
    return page.evaluate(
        _AXE_RUN, {"runOnly": {"type": "tag", "values": list(AXE_TAGS)}, "resultTypes": ["violations", "incomplete"]}
    )


def capture(plan: Plan) -> list[Shot]:
    """Open the pages, save their screenshots into ``plan.out`` and check each one with axe-core.

    Raises :class:`PageProblem` when a page answers with an error or lacks what it should show.
    """
    from playwright.sync_api import sync_playwright

    source = axe_source()
    plan.out.mkdir(parents=True, exist_ok=True)
    base = plan.base_url.rstrip("/") + "/"
    shots: list[Shot] = []
    with sync_playwright() as pw:
        browser = launch(pw, plan.chromium)
        try:
            context = browser.new_context(
                viewport={"width": DESKTOP[0], "height": DESKTOP[1]},
                device_scale_factor=1,
                locale="en-US",
                reduced_motion="reduce",
            )
            page = context.new_page()
            page.set_default_timeout(30_000)

            def visit(url: str):
                response = page.goto(url, wait_until="load")
                status = response.status if response is not None else 0
                if status != 200:
                    raise PageProblem(f"{url} answered {status}")
                return status

            def shoot(name: str, url: str, viewport: tuple[int, int]) -> Shot:
                page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
                status = visit(url)
                path = plan.out / f"{name}.png"
                page.screenshot(path=str(path), animations="disabled", caret="hide")
                verdict = audit(page, source)
                shot = Shot(
                    name,
                    page.url,
                    path,
                    viewport,
                    status,
                    page.evaluate(_FACTS),
                    verdict["violations"],
                    verdict["incomplete"],
                    verdict["passes"],
                )
                shots.append(shot)
                return shot

            home = shoot("home", base, DESKTOP)
            expect(home.facts["h1"] and home.facts["tiles"] > 0, "the home page shows no products", home)

            # The listing: the category, then the link of the first value in each facet group, as a click.
            url = urljoin(base, "c/" + quote(plan.category))
            visit(url)
            for facet in plan.facets:
                link = page.locator(f'aside.filters a[data-facet="{facet}"]').first
                if link.count() == 0:
                    raise PageProblem(f"{page.url} offers no {facet!r} filter")
                url = urljoin(page.url, link.get_attribute("href"))
                visit(url)
            listing = shoot("listing", url, DESKTOP)
            expect(listing.facts["tiles"] > 0, "the filtered listing shows no products", listing)
            chosen = {c["facet"] for c in listing.facts["chips"]}
            expect(chosen >= set(plan.facets), f"the listing shows no chip for {set(plan.facets) - chosen}", listing)
            if plan.narrow:
                narrow = shoot("listing-narrow", url, NARROW)
                expect(narrow.facts["tiles"] > 0, "the narrow listing shows no products", narrow)

            if plan.product:
                product_url = urljoin(base, "p/" + quote(plan.product))
            else:
                page.set_viewport_size({"width": DESKTOP[0], "height": DESKTOP[1]})
                visit(url)
                product_url = urljoin(page.url, page.locator("main .tiles a.tile-link").first.get_attribute("href"))
            product = shoot("product", product_url, DESKTOP)
            expect(
                product.facts["product"] and product.facts["h1"] and product.facts["price"],
                "the product page shows no product with a name and a price",
                product,
            )

            search = shoot("search", urljoin(base, "search?" + urlencode({"q": plan.query})), DESKTOP)
            expect(search.facts["tiles"] > 0, f"the search for {plan.query!r} shows no products", search)
        finally:
            browser.close()
    return shots


def expect(condition, message: str, shot: Shot) -> None:
    if not condition:
        raise PageProblem(f"{shot.name} ({shot.url}): {message}; saw {json.dumps(shot.facts, ensure_ascii=False)}")


def violations(shots: list[Shot]) -> list[tuple[Shot, dict, dict]]:
    """Every (page, rule, element) that violates a rule."""
    return [(shot, rule, node) for shot in shots for rule in shot.violations for node in rule["nodes"]]


def report(shots: list[Shot], *, notes: bool = True) -> str:
    """The accessibility results, readable: per page, each rule with its elements."""
    lines = []
    for shot in shots:
        count = sum(len(rule["nodes"]) for rule in shot.violations)
        w, h = shot.viewport
        head = f"{shot.name} ({shot.url}, {w}×{h}): "
        lines.append(
            head + (f"{count} accessibility violation(s)" if count else f"no violations ({shot.passes} rules pass)")
        )
        for rule in shot.violations:
            lines.append(f"  {rule['id']} [{rule['impact']}]: {rule['help']} ({rule['helpUrl']})")
            for node in rule["nodes"]:
                lines.append(f"    at {node['target']}: {node['html'][:160]}")
                for text in node["summary"].splitlines():
                    if text.strip():
                        lines.append(f"      {text.strip()}")
        if notes:
            for rule in shot.incomplete:
                targets = ", ".join(node["target"] for node in rule["nodes"][:5])
                more = f" and {len(rule['nodes']) - 5} more" if len(rule["nodes"]) > 5 else ""
                lines.append(f"  note: {rule['id']} could not be decided for {targets}{more}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.screenshots", description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="the edge, e.g. http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, required=True, help="directory for the PNG files")
    parser.add_argument("--category", default=DEFAULT_CATEGORY, help=f"category key (default {DEFAULT_CATEGORY})")
    parser.add_argument(
        "--facet",
        action="append",
        dest="facets",
        help="facet whose first value to choose, repeatable (default: brand, color)",
    )
    parser.add_argument("--product", help="SKU of the product page (default: the listing's first product)")
    parser.add_argument("--query", default=DEFAULT_QUERY, help=f"search text (default {DEFAULT_QUERY!r})")
    parser.add_argument("--no-narrow", action="store_true", help="skip the phone-sized listing")
    parser.add_argument("--chromium", default=CHROMIUM, help=f"the browser (default {CHROMIUM})")
    args = parser.parse_args(argv)
    plan = Plan(
        args.base_url,
        args.out,
        args.category,
        tuple(args.facets or DEFAULT_FACETS),
        args.product,
        args.query,
        not args.no_narrow,
        args.chromium,
    )
    started = time.monotonic()
    try:
        shots = capture(plan)
    except PageProblem as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    for shot in shots:
        print(f"{shot.path}  {shot.url}")
    print(report(shots))
    print(
        f"{len(shots)} pages in {time.monotonic() - started:.1f}s, axe-core {AXE_VERSION}, tags {', '.join(AXE_TAGS)}"
    )
    return 1 if violations(shots) else 0


if __name__ == "__main__":
    sys.exit(main())
