"""php-fpm behind nginx as tools/php_frontend.py runs them, with a PHP script of the test's own.

Two front ends run side by side, each in its working directory with its own environment; what a
request brings (path as sent, query) reaches PHP with opcache on; the stylesheet
comes from the edge's static directory; a query string past the shop's limit reaches PHP cut one
byte past it; stopping leaves no process and a free port.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
import requests

from tools.localservices import ServiceError, free_port, port_open
from tools.php_frontend import STATIC_ROOT, PhpFrontend, fill

pytestmark = pytest.mark.integration

SCRIPT = """<?php
header('Content-Type: text/plain');
echo implode(' ', [getenv('SHOP_TEST_VALUE'), $_SERVER['REQUEST_URI'], strlen($_SERVER['QUERY_STRING']),
    (int) opcache_get_status(false)['opcache_enabled']]);
"""


def test_two_front_ends_side_by_side_answer_from_php_and_stop_cleanly(tmp_path: Path):
    script = tmp_path / "public" / "index.php"
    script.parent.mkdir()
    script.write_text(SCRIPT)
    fronts = []
    try:
        for name in ("one", "two"):
            env = dict(os.environ, SHOP_TEST_VALUE=name, SNIPSHOP_REVISION=f"rev-{name}")
            fronts.append(PhpFrontend(free_port(), tmp_path / name, script, workers=1, env=env).start())
        processes = [p for front in fronts for p in front.processes]
        for name, front in zip(("one", "two"), fronts, strict=True):
            assert requests.get(f"{front.url}/p//x?a=1", timeout=10).text == f"{name} /p//x?a=1 3 1"
            long = requests.get(f"{front.url}/search?q={'a' * 40_000}", timeout=10).text.split()
            assert long[1] == f"/search?q={'a' * 4095}" and long[2] == "4097"
            css = requests.get(f"{front.url}/static/shop.css", timeout=10)
            assert css.headers["Content-Type"] == "text/css; charset=utf-8"
            assert css.content == (STATIC_ROOT / "static" / "shop.css").read_bytes()
            # nginx serves it, with the revision and request id PHP would add (src/Trace.php).
            assert css.headers["X-Revision"] == f"rev-{name}" and re.fullmatch(
                r"[0-9a-f]{32}", css.headers["X-Request-Id"]
            )
            for sent, echoed in (("trace-1", True), ("bad id", False), ("a" * 129, False)):
                got = requests.get(f"{front.url}/static/shop.css", headers={"X-Request-Id": sent}, timeout=10)
                assert (got.headers["X-Request-Id"] == sent) == echoed, sent
            assert requests.get(f"{front.url}/static/nope.css", timeout=10).text.startswith(f"{name} /static/nope")
            assert (front.workdir / "php-fpm.sock").exists() and (front.workdir / "nginx.conf").exists()
    finally:
        for front in fronts:
            front.stop()
    assert all(p.poll() is not None for p in processes)
    deadline = time.monotonic() + 5
    while any(port_open(f.port) for f in fronts) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(port_open(f.port) for f in fronts)


def test_a_revision_nginx_cannot_hold_as_it_is_is_refused(tmp_path: Path):
    front = PhpFrontend(free_port(), tmp_path, env={"SNIPSHOP_REVISION": 'x"; evil'})
    with pytest.raises(ServiceError, match="SNIPSHOP_REVISION"):
        front.prepare()
    assert not (tmp_path / "nginx.conf").exists()


def test_a_placeholder_without_a_value_is_an_error():
    assert fill("listen @PORT@; location @shop {}", {"PORT": "80"}) == "listen 80; location @shop {}"
    with pytest.raises(ValueError, match="@WORKDIR@"):
        fill("pid @WORKDIR@/x.pid; listen @PORT@;", {"PORT": "80"})
