"""entrypoints/healthcheck.py: the container's one health command finds its role in the main process's
command line and checks what that role needs (the worker's ping is in the compose test)."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from entrypoints.healthcheck import SCHEDULE_FRESH_SECONDS, Role, Unhealthy, check, main_process_role, role_of
from snipshop.config import Settings


@pytest.mark.parametrize(
    ("argv", "name", "port"),
    [
        (
            ["/opt/snipshop/bin/python3", "/opt/snipshop/bin/snipshop", "serve", "edge", "--port", "8010"],
            "edge",
            "8010",
        ),
        (["snipshop", "serve", "admin", "--host", "0.0.0.0", "--port=9001"], "admin", "9001"),
        (["python", "/x/snipshop", "worker", "--hostname", "worker@%h"], "worker", None),
        (["snipshop", "scheduler"], "scheduler", None),
        (["snipshop", "import", "/feed/products.csv"], "other", None),
        (["/opt/snipshop/bin/python3", "/opt/snipshop/bin/projector", "rebuild"], "other", None),
        (["sleep", "5"], "other", None),
    ],
)
def test_the_role_comes_from_the_command_line(argv, name, port):
    role = role_of(argv)
    assert role.name == name and role.option("--port") == port


def test_the_main_process_command_line_is_read_nul_separated(tmp_path):
    cmdline = tmp_path / "cmdline"
    cmdline.write_bytes(
        b"/opt/snipshop/bin/python3\x00/opt/snipshop/bin/snipshop\x00serve\x00edge\x00--port\x008010\x00"
    )
    role = main_process_role(cmdline)
    assert role.name == "edge" and role.option("--port") == "8010"


def test_a_one_shot_command_is_healthy_without_checking_anything():
    assert "one-shot" in check(Settings(), Role("other"))


class Ready(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):  # noqa: N802 - the http.server API
        body = b'{"status": "ready"}' if self.path == "/readyz" else b"?"
        self.send_response(self.status if self.path == "/readyz" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = HTTPServer(("127.0.0.1", 0), Ready)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    Ready.status = 200


def test_a_web_role_is_healthy_while_readyz_answers_200(server):
    port = str(server.server_address[1])
    assert "ready" in check(Settings(), Role("edge", ("--host", "0.0.0.0", "--port", port)))
    Ready.status = 503
    with pytest.raises(Unhealthy, match="HTTP 503"):
        check(Settings(), Role("admin", ("--port", port)))


def test_a_web_role_nobody_answers_for_is_unhealthy(server):
    port = server.server_address[1]
    server.shutdown()
    server.server_close()
    with pytest.raises(Unhealthy, match="readyz"):
        check(Settings(), Role("edge", ("--port", str(port))))


def test_the_scheduler_is_healthy_while_its_schedule_file_is_fresh(tmp_path):
    settings = replace(Settings(), state_dir=str(tmp_path))
    with pytest.raises(Unhealthy, match="has not started"):
        check(settings, Role("scheduler"))
    written = tmp_path / "celerybeat-schedule.dat"  # the dbm module chose a suffix
    written.write_bytes(b"x")
    assert "written" in check(settings, Role("scheduler"))
    stale = time.time() - SCHEDULE_FRESH_SECONDS - 60
    os.utime(written, (stale, stale))
    with pytest.raises(Unhealthy, match="last written"):
        check(settings, Role("scheduler"))
    elsewhere = tmp_path / "beat" / "state"
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(b"x")
    assert "written" in check(settings, Role("scheduler", ("-s", str(elsewhere))))
