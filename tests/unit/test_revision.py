"""web/revision.py and the log fields of snipshop/logs.py: every response names the revision, its
request id and (on the edge) its generation; every JSON log line the revision, host and request id."""

from __future__ import annotations

import io
import json
import logging
from dataclasses import replace

import pytest
from flask import Flask, request

from snipshop import logs
from snipshop.config import Settings, load
from web.revision import Traced, note_generation


def make_app(fallback: int | None = 7, access: logs.AccessLog | None = None) -> Flask:
    app = Flask(__name__)

    @app.get("/page")
    def page():
        note_generation(request.environ, 42)
        logging.getLogger("test.page").warning("assembling")
        return "page"

    @app.get("/plain")
    def plain():
        return "plain"

    app.wsgi_app = Traced(app.wsgi_app, "abc123", lambda _environ: fallback, access=access)  # type: ignore[method-assign]
    return app


def test_every_response_names_the_revision_and_the_generation_it_was_served_from():
    client = make_app().test_client()
    page = client.get("/page")
    assert page.headers["X-Revision"] == "abc123" and page.headers["X-Generation"] == "42"
    plain = client.get("/plain")  # read no generation itself: the one the process last saw
    assert plain.headers["X-Revision"] == "abc123" and plain.headers["X-Generation"] == "7"
    missing = client.get("/nowhere")
    assert missing.status_code == 404 and missing.headers["X-Revision"] == "abc123"


def test_no_generation_known_yet_says_none_and_an_app_without_snippets_says_nothing():
    assert make_app(fallback=None).test_client().get("/plain").headers["X-Generation"] == "none"
    app = Flask(__name__)
    app.get("/x")(lambda: "x")
    app.wsgi_app = Traced(app.wsgi_app, "r1")  # type: ignore[method-assign]
    response = app.test_client().get("/x")
    assert response.headers["X-Revision"] == "r1" and "X-Generation" not in response.headers


@pytest.mark.parametrize(
    ("given", "kept"),
    [("req-1.a:b_C", True), ("x" * 128, True), ("x" * 129, False), ("bad id", False), ("<script>", False), ("", False)],
)
def test_a_sane_request_id_is_echoed_and_anything_else_replaced(given, kept):
    response = make_app().test_client().get("/plain", headers={"X-Request-Id": given} if given else {})
    echoed = response.headers["X-Request-Id"]
    if kept:
        assert echoed == given
    else:
        assert echoed != given and len(echoed) == 32 and echoed.isalnum()


def test_each_request_without_an_id_gets_its_own():
    client = make_app().test_client()
    assert client.get("/plain").headers["X-Request-Id"] != client.get("/plain").headers["X-Request-Id"]


def test_the_headers_list_the_app_gave_is_left_as_it_was():
    """The edge's page cache keeps the headers its app answered with: they must not carry one
    request's id into another's response."""
    seen: list[list] = []

    def app(environ, start_response):
        headers = [("Content-Type", "text/plain")]
        seen.append(headers)
        start_response("200 OK", headers)
        return [b"ok"]

    Traced(app, "r")({"REQUEST_METHOD": "GET", "PATH_INFO": "/"}, lambda status, headers, exc_info=None: None)
    assert seen == [[("Content-Type", "text/plain")]]


def test_json_log_lines_carry_revision_host_and_the_request_id(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        settings = replace(Settings(), revision="abc123", instance="edge-1")
        logs.configure("INFO", settings)
        make_app(access=logs.AccessLog(settings.revision, settings.instance)).test_client().get(
            "/page", headers={"X-Request-Id": "trace-9"}
        )
        logging.getLogger("test.outside").warning("no request")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    page = next(line for line in lines if line["message"] == "assembling")
    access = next(line for line in lines if line["name"] == "snipshop.access")
    outside = next(line for line in lines if line["message"] == "no request")
    for line in (page, access, outside):
        assert line["revision"] == "abc123" and line["host"] == "edge-1"
    assert page["request_id"] == access["request_id"] == "trace-9" and outside["request_id"] is None
    assert access["path"] == "/page" and access["status"] == 200 and access["method"] == "GET"
    # the access line has every field of the others, in their order, and its time written as theirs
    assert list(access)[: len(page)] == list(page) and access["level"] == "INFO" and access["message"] == "request"
    assert len(access["time"]) == len(page["time"]) and access["time"][:16] == page["time"][:16]
    assert isinstance(access["duration_ms"], float)


@pytest.fixture
def access_logger():
    """The ``snipshop.access`` logger, enabled for INFO during the test."""
    logger = logging.getLogger(logs.ACCESS)
    saved = logger.level
    logger.setLevel(logging.INFO)
    yield logger
    logger.setLevel(saved)


def test_access_lines_follow_the_access_loggers_level(access_logger, capsys):
    app = make_app(access=logs.AccessLog("r", "h")).test_client()
    app.get("/plain", headers={"X-Request-Id": "one"})
    access_logger.setLevel(logging.WARNING)  # an operator turning the access lines off
    app.get("/plain", headers={"X-Request-Id": "two"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["request_id"], line["path"], line["status"]) for line in lines] == [("one", "/plain", 200)]


def test_an_access_line_keeps_any_path_a_server_hands_over(access_logger, capsys):
    access = logs.AccessLog("r", "h")
    for path in ('/p/\xe4\x00"<', "/p/\udcff"):  # latin-1 as WSGI decodes it; a lone surrogate
        access("id", "GET", path, 404, 0.1)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["path"] for line in lines] == ['/p/\xe4\x00"<', "/p/\udcff"]


def test_a_lost_stdout_costs_the_access_lines_not_the_responses(access_logger, monkeypatch):
    gone = io.StringIO()
    gone.close()
    monkeypatch.setattr("sys.stdout", gone)
    assert make_app(access=logs.AccessLog("r", "h")).test_client().get("/plain").status_code == 200


def test_settings_read_the_revision_and_instance_once_from_the_environment():
    settings = load({"SNIPSHOP_REVISION": "f00d", "SNIPSHOP_INSTANCE": "worker-2"})
    assert settings.revision == "f00d" and settings.instance == "worker-2"
    defaults = load({})
    assert defaults.revision == "unknown" and defaults.instance  # the host name
