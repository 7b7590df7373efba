"""A newcomer's first hour: ``./dev demo`` in a fresh clone with nothing beside it.

The repository these tests run from is cloned (its committed HEAD) into a new private directory
(``mktemp -d``: mode 700, so as root neither ``postgres`` nor ``nobody`` can enter it) and
``./dev demo`` runs there on free ports, installing its own virtual environment. The test waits
for a product page, checks its image (served by the demo's nginx from the placeholders it
generated), the same page from the PHP front end, and the attribute labels of a listing, checks
the demo's admin token, stops the demo (its process group) and ``./dev clean`` removes the
services and their files.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

from tools.localservices import free_port, service_dir

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
PRODUCT = ("24-MB01", "Joust Duffle Bag")
#: A full venv install (pip's cache helps), the sample import and the projection.
PATIENCE_SECONDS = 900


def _tail(path: Path, chars: int = 4000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else "(no output)"


@pytest.mark.timeout(PATIENCE_SECONDS + 120)
def test_dev_demo_in_a_fresh_private_clone():
    base = Path(tempfile.mkdtemp(prefix="snipshop-clone-"))
    assert base.stat().st_mode & 0o777 == 0o700
    clone = base / "shop"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    outside = service_dir(clone)  # where, as root, its PostgreSQL keeps its data
    assert sorted(p.name for p in base.iterdir()) == ["shop"]
    ports = {
        name: str(free_port())
        for name in ("EDGE_PORT", "ADMIN_PORT", "IMAGE_PORT", "PHP_PORT", "PG_PORT", "REDIS_PORT")
    }
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "DATABASE_URL",
            "REDIS_URL",
            "CELERY_BROKER_URL",
            "ELASTICSEARCH_URL",
            "VIRTUAL_ENV",
            "PYTHONPATH",
            "SNIPSHOP_STATE_DIR",
            "SHOP_LOCALES",
            "SHOP_CURRENCIES",
            "IMAGE_BASE_URL",
        )
    }
    env.update(ports)
    log_path = base / "demo.log"
    started = time.monotonic()
    with open(log_path, "wb") as log:
        demo = subprocess.Popen(
            ["./dev", "demo"],
            cwd=clone,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{ports['EDGE_PORT']}/p/{PRODUCT[0]}"
        page = None
        while time.monotonic() - started < PATIENCE_SECONDS:
            assert demo.poll() is None, f"./dev demo exited with {demo.returncode}:\n{_tail(log_path)}"
            try:
                page = requests.get(url, timeout=5)
            except requests.RequestException:
                page = None
            if page is not None and page.status_code == 200:
                break
            time.sleep(2)
        assert page is not None and page.status_code == 200, (
            f"no product page within {PATIENCE_SECONDS}s:\n{_tail(log_path)}"
        )
        assert PRODUCT[1] in page.text
        print(f"\n./dev demo in a fresh clone: product page after {time.monotonic() - started:.0f}s")

        images = f"http://127.0.0.1:{ports['IMAGE_PORT']}"
        printed = f"Images:        {images}/"  # printed once the admin app is up too
        deadline = time.monotonic() + 60
        while printed not in log_path.read_text(errors="replace") and time.monotonic() < deadline:
            time.sleep(0.5)
        assert printed in log_path.read_text(errors="replace"), _tail(log_path)
        src = re.search(r'<img src="([^"]+)" width="400" height="500" alt="Joust Duffle Bag"', page.text).group(1)
        assert src.startswith(images + "/")
        image = requests.get(src, timeout=10)
        assert image.status_code == 200 and image.headers["Content-Type"] == "image/svg+xml"
        assert ">JD</text>" in image.text  # the placeholder: the product's initials
        assert images in page.headers["Content-Security-Policy"]
        # The PHP front end (php-fpm + nginx as root, reading the private clone) serves the same page.
        php = f"http://127.0.0.1:{ports['PHP_PORT']}"
        assert f"Shop (PHP):    {php}/" in log_path.read_text(errors="replace")
        php_page = requests.get(f"{php}/p/{PRODUCT[0]}", timeout=10)
        assert php_page.status_code == 200 and php_page.content == requests.get(url, timeout=10).content
        bags = requests.get(f"http://127.0.0.1:{ports['EDGE_PORT']}/c/gear-bags", timeout=10).text
        assert '<details class="facet" data-facet-name="features_bags"><summary><h3>Features</h3>' in bags

        token_file = clone / ".state" / "demo-token"
        assert token_file.stat().st_mode & 0o777 == 0o600
        # ./dev demo starts the admin app after the edge: it may still be starting.
        admin, deadline = None, time.monotonic() + 60
        while admin is None:
            assert demo.poll() is None, f"./dev demo exited with {demo.returncode}:\n{_tail(log_path)}"
            try:
                admin = requests.get(
                    f"http://127.0.0.1:{ports['ADMIN_PORT']}/admin/api/v1/products/{PRODUCT[0]}",
                    headers={"Authorization": f"Bearer {token_file.read_text().strip()}"},
                    timeout=10,
                )
            except requests.ConnectionError:
                assert time.monotonic() < deadline, f"the admin app did not answer:\n{_tail(log_path)}"
                time.sleep(1)
        assert admin.status_code == 200 and admin.json()["name"]["en_US"] == PRODUCT[1]
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGTERM)
            try:
                demo.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(demo.pid, signal.SIGKILL)
                demo.wait(10)
        cleaned = subprocess.run(["./dev", "clean"], cwd=clone, env=env, capture_output=True, text=True)
        shutil.rmtree(base, ignore_errors=True)
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    if os.geteuid() == 0:
        assert not outside.exists()
