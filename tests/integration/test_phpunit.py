"""The PHP front end's unit tests (frontend_php_compat/tests, PHPUnit from Debian's phpunit).

PHPUnit is a required tool of the test suite (./dev installs it): missing, this test fails in CI
and skips loudly elsewhere, like any missing service.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_phpunit_passes():
    phpunit = shutil.which("phpunit")
    if phpunit is None:  # ./dev installs it: a machine without it fails here, it does not skip
        pytest.fail("phpunit is not installed (Debian package phpunit; ./dev install installs it)")
    done = subprocess.run(
        [phpunit, "-c", "frontend_php_compat/phpunit.xml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK (" in done.stdout, done.stdout
