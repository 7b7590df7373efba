"""bench.projection judges a rebuild against cores × the single-core render ceiling (issue #16)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys

from bench.projection import TARGET, _pin_trees, print_results, summarize


def ceiling(products_per_s: float) -> dict:
    n = 1000
    return {
        "products": n,
        "snippets": 18 * n,
        "snippet_seconds": 0.9 * n / products_per_s,
        "document_seconds": 0.1 * n / products_per_s,
        "cpu_seconds": n / products_per_s,
        "snippet_cpu_seconds": 0.9 * n / products_per_s,
        "products_per_s": products_per_s,
        "snippet_only_products_per_s": products_per_s / 0.9,
    }


def run(products_per_s: float, processes: int) -> dict:
    return {
        "products": 1000,
        "seconds": 1000 / products_per_s,
        "products_per_s": products_per_s,
        "processes": processes,
        "cpu_s": {"bench": 1.5, "redis": 0.2},
    }


def test_the_ratio_is_against_cores_times_the_ceiling(capsys):
    ceilings = [ceiling(1000.0), ceiling(1200.0)]
    runs = {"elasticsearch": [run(1500.0, 2), run(1800.0, 2)]}
    result = summarize(ceilings, runs, {}, ["elasticsearch"], 2, "elasticsearch", cores=2)
    r = result["rebuild"]["elasticsearch"]
    assert result["cores"] == 2 and r["processes"] == 2
    assert r["ratio_runs"] == [0.75, 0.75]  # each round against 2 × its own ceiling
    assert r["ratio"] == 0.75 >= TARGET and r["single_core_ratio"] == 1.5
    print_results({**result, "dropped_es_indices": []})
    out = capsys.readouterr().out
    assert "÷ (2 × ceiling)" in out and "2 usable cores, the rebuilds rendered in 2 processes" in out


def test_pinning_a_process_tree_pins_every_thread_of_every_process():
    """Servers apart pins the servers' threads, children included (a JVM's, PostgreSQL's backends)."""
    script = (
        "import subprocess, sys, threading, time\n"
        "threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    usable = sorted(os.sched_getaffinity(0))
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    child = None
    try:
        child = int(parent.stdout.readline())  # type: ignore[union-attr]
        _pin_trees([parent.pid], {usable[-1]})
        threads = [int(t) for pid in (parent.pid, child) for t in os.listdir(f"/proc/{pid}/task")]
        assert len(threads) >= 3 and all(os.sched_getaffinity(t) == {usable[-1]} for t in threads)
        _pin_trees([parent.pid], set(usable))
        assert all(os.sched_getaffinity(t) == set(usable) for t in threads)
    finally:
        parent.kill()
        parent.wait()
        if child is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
