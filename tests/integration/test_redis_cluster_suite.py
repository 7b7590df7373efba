"""The projection and edge tests again, with the snippet store on a 3-primary Redis Cluster.

``./dev test`` (CI) runs this one test, which runs the files below in a pytest of their own with
TEST_REDIS_CLUSTER=1 (tests/conftest.py starts the cluster; the broker stays a plain Redis). They
are the tests that exercise every multi-key path of the store against a real server: the
projector's guarded writes and pipelines, the rebuild (parallel workers too), the generation
switch and deletion, read repair after a flush, the edge's page fetches with the near cache and
its invalidations, the page cache and the embedded search index's scripts; and the whole shop in
real processes (tests/e2e/test_shop.py and test_listings.py, embedded search). Left to the
single-server run: Elasticsearch (not where snippets live), the fault tests (they stop and flush
one server), the PHP front end (not supported on a cluster) and the back office. About three to
five minutes on a loaded 2-core machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
FILES = (
    "tests/integration/test_projection.py",
    "tests/integration/test_variants_projection.py",
    "tests/integration/test_generations.py",
    "tests/integration/test_rebuild_workers.py",
    "tests/integration/test_read_repair.py",
    "tests/integration/test_near_cache.py",
    "tests/integration/test_page_cache.py",
    "tests/integration/test_embedded_search.py",
    "tests/integration/test_redis_cluster.py",
    "tests/e2e/test_shop.py",
    "tests/e2e/test_listings.py",
)


@pytest.mark.timeout(25 * 60)  # the inner run's own tests keep the 300 s limit each
def test_projection_and_edge_tests_pass_on_a_redis_cluster(tmp_path):
    env = dict(os.environ, TEST_REDIS_CLUSTER="1", CI="true")
    env.pop("TEST_REDIS_URL", None)  # the cluster is started by the run itself
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--basetemp={tmp_path / 'run'}", *FILES],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=24 * 60,
    )
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    assert run.returncode == 0, run.stdout[-20_000:]
    assert " passed" in summary and "skipped" not in summary, summary
