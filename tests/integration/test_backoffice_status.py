"""The back office's status page and its controls against the real PostgreSQL and Redis: dead
letters listed and replayed to the broker, a rebuild's progress, admin only, CSRF, audited (the
browser test starts a real rebuild: tests/e2e/test_backoffice_browser.py)."""

from __future__ import annotations

import base64
import json
import re

import pytest
import redis

from projector.deadletters import DeadLetters
from tests.integration.test_backoffice import csrf, row, signed_in, users  # noqa: F401  (a fixture)
from tests.redis_support import store_client
from vocab.keys import CanaryRecord, KeyScheme
from vocab.topics import Queue

pytestmark = pytest.mark.integration


@pytest.fixture
def stores(settings):
    keys = KeyScheme(settings.key_prefix)
    client, broker = store_client(settings), redis.Redis.from_url(settings.broker_url)
    letters = DeadLetters(client, keys)
    for n in (1, 2, 3):
        entry = {"task": "projector.project_products", "args": [[f"S{n}"]], "kwargs": {}, "error": f"KeyError: {n}"}
        letters.add(entry | {"failed_at": f"2026-12-0{n}T10:00:00+00:00", "task_id": f"t{n}", "retries": 0})
    return client, broker, keys


def queued_tasks(broker) -> list[tuple[str, list]]:
    out = []
    for raw in broker.lrange(Queue.CATALOG, 0, -1):  # replays are routed by task name
        message = json.loads(raw)
        out.append((message["headers"]["task"], json.loads(base64.b64decode(message["body"]))[0]))
    return out


def test_dead_letters_are_listed_and_an_admin_replays_one_then_all(app, users, pool, stores):  # noqa: F811
    client, broker, keys = stores
    admin = signed_in(app, "admin")
    page = admin.get("/backoffice/status").text
    assert re.findall(r'<tr data-task-id="(\w+)">', page) == ["t3", "t2", "t1"]  # newest first
    token = csrf(page)
    stale = admin.post(
        "/backoffice/status/dead-letters/replay", data={"csrf_token": token, "index": 0, "task_id": "t1"}
    )
    assert stale.status_code == 409 and client.llen(keys.dead_letters) == 3
    one = admin.post("/backoffice/status/dead-letters/replay", data={"csrf_token": token, "index": 1, "task_id": "t2"})
    assert one.status_code == 303
    assert [e["task_id"] for e in DeadLetters(client, keys).entries()] == ["t3", "t1"]
    assert queued_tasks(broker) == [("projector.project_products", [["S2"]])]
    assert "1 dead letters were sent" in admin.get(one.headers["Location"]).text
    assert admin.post("/backoffice/status/dead-letters/replay", data={"csrf_token": token}).status_code == 303
    assert client.llen(keys.dead_letters) == 0 and broker.llen(Queue.CATALOG) == 3
    audit = row(pool, "SELECT array_agg(subject ORDER BY id), min(actor) FROM audit_log WHERE kind = 'projection'")
    assert audit == (["dead letter t2", "all dead letters"], "user:admin")


def test_only_an_admin_may_replay_or_rebuild_and_only_with_the_token(app, users, pool, stores):  # noqa: F811
    client, broker, keys = stores
    editor = signed_in(app, "editor")
    page = editor.get("/backoffice/status").text
    assert "t3" in page and "replay-one" not in page and "Start a full rebuild" not in page
    token = csrf(page)
    controls = ("dead-letters/replay", "rebuild", "canary", "canary/promote", "canary/abort")
    for path in (f"/backoffice/status/{control}" for control in controls):
        refused = editor.post(path, data={"csrf_token": token})
        assert refused.status_code == 403 and "needs the role 'admin'" in refused.text.replace("&#39;", "'")
        assert signed_in(app, "admin").post(path).status_code == 403  # no CSRF token
    assert client.llen(keys.dead_letters) == 3 and broker.llen(Queue.CATALOG) == 0
    assert row(pool, "SELECT count(*) FROM audit_log")[0] == 0


def test_a_running_rebuild_shows_its_progress_and_is_not_started_twice(app, users, pool, stores):  # noqa: F811
    client, _broker, keys = stores
    client.set(keys.rebuild_lock, json.dumps({"host": "elsewhere", "pid": 4242, "started": 0}), ex=60)
    client.hset(keys.rebuild_progress, mapping={"done": 1500, "total": 6000})
    admin = signed_in(app, "admin")
    page = admin.get("/backoffice/status").text
    assert '<progress id="rebuild-progress" max="6000" value="1500">' in page and "1500 of 6000 products" in page
    assert 'data-running="1"' in page and re.search(r"<button type=\"submit\" disabled>Start a full rebuild", page)
    assert admin.get("/backoffice/status/rebuild.json").json == {
        "running": True,
        "progress": {"done": 1500, "total": 6000},
        "live": None,
    }
    twice = admin.post("/backoffice/status/rebuild", data={"csrf_token": csrf(page)})
    assert twice.status_code == 409 and "already running" in twice.text
    assert row(pool, "SELECT count(*) FROM audit_log")[0] == 0


def test_a_running_canary_is_shown_with_its_comparison_and_refused_twice(app, users, pool, stores):  # noqa: F811
    client, _broker, keys = stores
    admin = signed_in(app, "admin")
    page = admin.get("/backoffice/status").text
    assert 'class="start-canary"' in page and "promote-canary" not in page
    for percent in ("0", "100", "ten", ""):  # outside 1-99: nothing started, nothing audited
        refused = admin.post("/backoffice/status/canary", data={"csrf_token": csrf(page), "percent": percent})
        assert refused.status_code == 400 and "whole number from 1 to 99" in refused.text, percent
    for control in ("promote", "abort"):
        none = admin.post(f"/backoffice/status/canary/{control}", data={"csrf_token": csrf(page)})
        assert none.status_code == 409 and "No canary is running" in none.text
    client.set(keys.live, 7)
    client.set(keys.canary, CanaryRecord(generation=8, base=7, percent=20, started_at=0.0).encode())
    page = admin.get("/backoffice/status").text
    assert "Generation 8 serves 20 % of shoppers beside generation 7." in page
    assert "canary 8" in page.split('<pre class="comparison"')[1]  # projector compare's table
    assert 'class="promote-canary"' in page and 'class="abort-canary"' in page and "start-canary" not in page
    twice = admin.post("/backoffice/status/canary", data={"csrf_token": csrf(page), "percent": "10"})
    assert twice.status_code == 409 and "already running" in twice.text
    editor = signed_in(app, "editor").get("/backoffice/status").text
    assert "Generation 8 serves 20 %" in editor and "promote-canary" not in editor
    assert client.exists(keys.canary) and row(pool, "SELECT count(*) FROM audit_log")[0] == 0
