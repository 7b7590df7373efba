"""Canary generations end to end: a template change served to 20 % of shoppers, compared, and a
broken one aborted by the scheduler.

Real processes: the edge (two workers), a Celery worker and the scheduler; `projector` runs as a
command. Shoppers are HTTP sessions that keep their cookies: each draws its bucket on its first
visit (web/edge/shopper_buckets.py).
"""

from __future__ import annotations

import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from catalog import commands
from catalog.models import CategoryIn, ProductIn
from tests.processes import REPO, Process, start_http, start_scheduler, start_worker, wait_until
from tests.redis_support import store_client
from vocab.keys import CanaryRecord, KeyScheme

pytestmark = pytest.mark.e2e

SKUS = [f"C-{n}" for n in range(6)]
SHOPPERS = 300
PERCENT = 20
#: The share of shoppers on the canary may differ from PERCENT by this many points: each draws
#: its bucket at random, so with 300 shoppers the standard deviation is 2.3 points; 8 points is
#: more than 3.4 of them (a false failure about once in 3,000 runs).
TOLERANCE = 8
MARK = 'data-template="v2"'
TEMPLATES = REPO / "projector" / "templates"


def projector(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "entrypoints.projector_cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )


def template_dir(tmp_path: Path, name: str, avail: str) -> Path:
    """A templates directory with the badge template replaced (the others are the packaged ones)."""
    where = tmp_path / name
    where.mkdir()
    (where / "avail.html").write_text(avail)
    return where


@pytest.fixture
def shop(settings, service_env, pool, tmp_path):
    env = dict(
        service_env,
        SEARCH_CACHE_SECONDS="0",
        CANARY_CHECK_SECONDS="1",
        CANARY_MIN_REQUESTS="30",
        CANARY_WINDOW_MINUTES="5",
        METRICS_ENABLED="0",
    )
    with pool.connection() as conn:
        commands.put_categories(conn, [("gear", CategoryIn(name={"en_US": "Gear"}))])
        commands.put_products(
            conn, [(sku, ProductIn(name={"en_US": f"Thing {sku}"}, categories=["gear"])) for sku in SKUS]
        )
        commands.put_prices(conn, [(sku, "EUR", Decimal("9.90")) for sku in SKUS])
    done = projector(env, "rebuild", "--quiet")
    assert done.returncode == 0, done.stderr
    procs: list[Process] = [start_worker(env, tmp_path), start_scheduler(env, tmp_path)]
    edge_proc, edge = start_http("edge", env, tmp_path)
    procs.append(edge_proc)
    yield env, edge, store_client(settings), KeyScheme(settings.key_prefix)
    for p in procs:
        p.stop()


def visit(session: requests.Session, url: str) -> tuple[int, bool]:
    """The generation of one page and whether it shows the new template; never both kinds of badge."""
    r = session.get(url, timeout=10)
    assert r.status_code == 200, (url, r.status_code)
    badges = len(re.findall(r'class="availability', r.text))
    new = r.text.count(MARK)
    assert badges and new in (0, badges), f"{url} mixes generations: {new} of {badges} badges are new"
    return int(r.headers["X-Generation"]), new > 0


def test_a_template_change_as_a_canary_for_20_percent_then_a_broken_one_aborted_then_promoted(shop, tmp_path):
    env, edge, client, keys = shop
    live = int(client.get(keys.live))
    new = template_dir(tmp_path, "v2", (TEMPLATES / "avail.html").read_text().replace("<p ", f"<p {MARK} ", 1))
    built = projector(dict(env, SNIPPET_TEMPLATES_DIR=str(new)), "rebuild", "--canary", str(PERCENT), "--quiet")
    assert built.returncode == 0, built.stderr
    record = CanaryRecord.decode(client.get(keys.canary))
    assert record is not None and record.base == live and record.percent == PERCENT
    canary = record.generation
    status = projector(env, "status")
    assert f"generation {canary} for {PERCENT} % of shoppers beside {live}" in status.stdout, status.stdout
    again = projector(env, "rebuild", "--quiet")
    assert again.returncode == 1 and "projector promote" in again.stderr  # one canary at a time

    shoppers = [requests.Session() for _ in range(SHOPPERS)]
    sides = {}
    for i, s in enumerate(shoppers):
        gen, shows_new = visit(s, f"{edge}/p/{SKUS[i % len(SKUS)]}")
        assert gen in (live, canary) and shows_new == (gen == canary)
        assert re.fullmatch(r"\d{1,2}", s.cookies["bucket"])
        sides[i] = gen
    share = 100 * sum(gen == canary for gen in sides.values()) / SHOPPERS
    assert abs(share - PERCENT) <= TOLERANCE, f"{share:.1f} % of shoppers on the canary"
    for i, s in enumerate(shoppers):  # each shopper stays where it was, on every kind of page
        for path in ("/", "/c/gear", f"/p/{SKUS[(i + 1) % len(SKUS)]}", "/search?q=thing"):
            gen, shows_new = visit(s, f"{edge}{path}") if path != "/search?q=thing" else _search(s, edge)
            assert gen == sides[i], f"shopper {i} moved from {sides[i]} to {gen} on {path}"
            assert shows_new == (gen == canary)
    bare = requests.get(f"{edge}/p/{SKUS[0]}", timeout=10)  # no cookies: a bucket is drawn and offered
    assert "bucket=" in bare.headers["Set-Cookie"]

    compared = wait_until(lambda: _compare_shows_both(env), timeout=10, what="projector compare showing both sides")
    print(f"\n{compared}")
    assert f"live {live}" in compared and f"canary {canary}" in compared
    assert "verdict: ok" in compared, compared
    aborted = projector(env, "abort")
    assert aborted.returncode == 0, aborted.stderr
    assert client.get(keys.canary) is None and not list(client.scan_iter(keys.generation_pattern(canary)))

    broken = template_dir(tmp_path, "broken", "{{ no_such_value }}")  # renders no badge: pages degraded
    built = projector(dict(env, SNIPPET_TEMPLATES_DIR=str(broken)), "rebuild", "--canary", str(PERCENT), "--quiet")
    assert built.returncode == 0, built.stderr
    record = CanaryRecord.decode(client.get(keys.canary))
    assert record is not None
    bad = record.generation
    degraded = 0
    for i, s in enumerate(shoppers):  # the same shoppers, on the same sides
        r = s.get(f"{edge}/p/{SKUS[i % len(SKUS)]}", timeout=10)
        assert r.status_code == 200
        gen = int(r.headers["X-Generation"])
        assert gen == (bad if sides[i] == canary else live)
        degraded += "availability unavailable" in r.text
        assert ("availability unavailable" in r.text) == (gen == bad)
    assert degraded >= 30  # what the scheduler needs to judge (CANARY_MIN_REQUESTS)
    wait_until(lambda: client.get(keys.canary) is None, timeout=30, what="the scheduler aborting the broken canary")
    wait_until(lambda: not list(client.scan_iter(keys.generation_pattern(bad))), timeout=10, what="its deletion")
    wait_until(lambda: _all_on(shoppers, edge, live), timeout=10, what="every shopper back on the live generation")
    built = projector(dict(env, SNIPPET_TEMPLATES_DIR=str(new)), "rebuild", "--canary", str(PERCENT), "--quiet")
    assert built.returncode == 0, built.stderr
    promoted = projector(env, "promote")
    assert promoted.returncode == 0 and "live for everyone" in promoted.stdout, promoted.stderr
    newest = int(client.get(keys.live))
    assert newest > bad and client.get(keys.canary) is None
    wait_until(lambda: _all_new(shoppers[:50], edge, newest), timeout=10, what="every shopper on the promoted one")
    nothing = projector(env, "compare")  # after the promotion no canary runs
    assert nothing.returncode == 1 and "no canary runs" in nothing.stderr
    refused = projector(env, "rebuild", "--canary", "100")
    assert refused.returncode == 2 and "--canary" in refused.stderr


def _search(session: requests.Session, edge: str) -> tuple[int, bool]:
    r = session.get(f"{edge}/search?q=thing", timeout=10)
    assert r.status_code == 200
    found = r.text.count("Thing C-")
    assert found >= len(SKUS), "the canary's search alias finds the products too"
    badges = len(re.findall(r'class="availability', r.text))
    new = r.text.count(MARK)
    assert new in (0, badges)
    return int(r.headers["X-Generation"]), new > 0


def _compare_shows_both(env: dict[str, str]) -> str | None:
    out = projector(env, "compare")
    assert out.returncode == 0, out.stderr
    requests_row = next(line for line in out.stdout.splitlines() if line.startswith("requests"))
    live_n, canary_n = (int(n) for n in requests_row.split()[1:3])
    return out.stdout if live_n >= 30 and canary_n >= 30 else None


def _all_new(shoppers: list[requests.Session], edge: str, gen: int) -> bool:
    return all(visit(s, f"{edge}/p/{SKUS[0]}") == (gen, True) for s in shoppers)


def _all_on(shoppers: list[requests.Session], edge: str, live: int) -> bool:
    for i, s in enumerate(shoppers):
        gen, shows_new = visit(s, f"{edge}/p/{SKUS[i % len(SKUS)]}")
        if gen != live or shows_new:
            return False
    return True
