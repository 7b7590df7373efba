"""The PHP front end's unit tests (frontend_php_compat/tests, PHPUnit from Debian's phpunit).

PHPUnit is a required tool of the test suite (./dev installs it): missing, this test fails in CI
and skips loudly elsewhere, like any missing service.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_phpunit_passes():
    phpunit = shutil.which("phpunit")
    if phpunit is None:
        if os.environ.get("CI"):
            pytest.fail("phpunit is not installed (Debian package phpunit)")
        pytest.skip("phpunit is not installed (Debian package phpunit)")
    done = subprocess.run(
        [phpunit, "-c", "frontend_php_compat/phpunit.xml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK (" in done.stdout, done.stdout
