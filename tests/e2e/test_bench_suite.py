"""The benchmark suite runs from its one command (a short run: it measures nothing worth quoting,
it proves every part still works against the real processes and prints sane figures)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from tests.processes import REPO

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1140)]


def test_python_m_bench_quick_runs_every_part(tmp_path):
    out = tmp_path / "figures.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--search", "embedded", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1080,  # with the short listing step on Elasticsearch, a stack of its own
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "== Summary" in done.stdout and "price change-to-visible during burst ÷ idle" in done.stdout
    figures = json.loads(out.read_text())
    for key in (
        "product ÷ floor",
        "personal product ÷ floor",
        "product ÷ classical",
        "category ÷ classical",
        "search ÷ classical",
        "product ÷ edge without caches",
        "worst URL ÷ category without caches",
        "category with variants ÷ classical",
        "product with variants ÷ classical",
        *(f"{page} ÷ floor ({search})" for page in ("category", "search") for search in ("embedded", "elasticsearch")),
    ):
        c = figures["http"][key]
        assert c["edge"]["rps"] > 0 and c["baseline"]["rps"] > 0 and c["ratio"] > 0, key
        assert c["edge"]["non2xx"] == 0 and c["edge"]["errors"] == 0, key
    for page in ("product", "personal product", "listing"):
        for baseline in ("edge", "PHP floor"):
            c = figures["php"][f"PHP {page} ÷ {baseline}"]
            assert c["php"]["rps"] > 0 and c["baseline"]["rps"] > 0 and c["php"]["non2xx"] == 0, (page, baseline)
    cores = len(os.sched_getaffinity(0))
    measured = ("rebuild", "rebuild_servers_apart") if cores > 1 else ("rebuild",)  # apart: 2 cores or more
    for rebuild in measured:
        for mode in ("none", "embedded"):
            ratio = figures[rebuild]["rebuild"][mode]["ratio"]
            assert math.isfinite(ratio) and ratio > 0, (rebuild, mode)
    if cores > 1:
        assert figures["rebuild_servers_apart"]["cores"] == cores - 1
        assert "rebuild ÷ (rendering cores × ceiling) (embedded, servers apart)" in done.stdout
    for phase in ("idle", "burst"):
        seen = figures["change_to_visible"][phase]
        assert seen["timeouts"] == 0 and seen["visible"]["n"] == 20 and not seen["errors"], seen
    [bulk] = figures["bulk_stock"]["steps"]  # --quick: one step, well below the goal's rate
    assert bulk["movements_ok"] > 0 and bulk["errors"] == 0 and bulk["unprojected"] == 0 and bulk["rows"] > 0, bulk
    assert figures["redis_memory"]["redis"]["snippets"]["bytes_per_product"] > 0
    assert figures["edge_memory"]["edge"]["worker_vmrss_kib"] > 0
    demo, generated = figures["variants"]["demo"], figures["variants"]["generated"]
    assert demo["rebuild"]["products"] == 191 and demo["sellables"] == 1891  # the Magento sample's
    assert generated["rebuild"]["products"] == 2000 and 5 * 2000 <= generated["sellables"] <= 15 * 2000
    for catalog in (demo, generated):
        assert catalog["rebuild"]["products_per_s"] > 0
        assert (
            catalog["redis"]["with_search"]["bytes_per_product"] > catalog["redis"]["snippets"]["bytes_per_product"] > 0
        )
    assert "rebuild with variants (generated)" in done.stdout
