"""``python -m bench.backoffice_saves`` runs as a person runs it and prints its figures (a short run:
the figures themselves are measured by the full run, README "Back office")."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(300)
def test_the_save_to_visible_benchmark_runs():
    done = subprocess.run(
        [sys.executable, "-m", "bench.backoffice_saves", "--products", "60", "--saves", "5"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "5 saves, one after another" in done.stdout
    for label in ("save to visible", "POST", "commit to projected"):
        line = re.search(rf"{label} +p50 +([\d.]+) ms +p99 +([\d.]+) ms", done.stdout)
        assert line, f"no {label!r} line in:\n{done.stdout[-2000:]}"
        assert 0 < float(line.group(1)) <= float(line.group(2))
