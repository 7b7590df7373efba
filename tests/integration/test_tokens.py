"""Admin tokens against real PostgreSQL: expiry, revocation and listing, through the admin app
and the ``snipshop token`` commands; the scheduler's default beat state location."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta

import psycopg
import pytest
from click.testing import CliRunner

from catalog.tokens import TokenNotFound, authenticate, create_token, list_tokens, parse_duration, revoke_token
from entrypoints.snipshop_cli import main as cli
from tests.conftest import REPO
from tests.integration.admin_support import API
from tests.processes import wait_until
from web.admin.app import create_app

pytestmark = pytest.mark.integration


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def status_of(client, token: str) -> int:
    return client.get(f"{API}/categories/gear", headers=bearer(token)).status_code


def test_a_token_stops_working_when_it_expires(client, seeded, conn):
    token = create_token(conn, "editor", "short-lived", timedelta(seconds=1.5))
    # The app's token cache must not outlive the expiry: the same app answers both requests.
    assert status_of(client, token) == 200
    response = wait_until(
        lambda: (r := client.get(f"{API}/categories/gear", headers=bearer(token))).status_code == 401 and r,
        timeout=5,
        interval=0.1,
        what="the expired token refused",
    )
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert "expired" in response.get_json(force=True)["detail"]
    assert authenticate(conn, token) is None
    [info] = list_tokens(conn)
    assert info.status == "expired" and info.expires_at is not None and info.revoked_at is None


def test_a_token_with_a_distant_expiry_works(client, seeded, conn):
    token = create_token(conn, "editor", "monthly", parse_duration("30d"))
    assert status_of(client, token) == 200
    principal = authenticate(conn, token)
    assert principal is not None and principal.role == "editor"
    left = principal.expires_at - conn.execute("SELECT now()").fetchone()[0]
    assert timedelta(days=29, hours=23) < left <= timedelta(days=30)


def test_a_revoked_token_gets_401(settings, pool, client, seeded, conn):
    unused = create_token(conn, "stock", "feed")
    used = create_token(conn, "admin", "ops")
    assert status_of(client, used) == 200
    revoked, already = revoke_token(conn, "feed")
    assert [(t.name, t.status) for t in revoked] == [("feed", "revoked")] and already == []
    assert status_of(client, unused) == 401

    [ops] = [t for t in list_tokens(conn) if t.name == "ops"]
    revoke_token(conn, str(ops.id))
    # This app may trust the token it checked for TOKEN_CACHE_SECONDS; a new one asks the database.
    fresh = create_app(settings, pool=pool, send=lambda *args: None).test_client()
    assert status_of(fresh, used) == 401
    assert authenticate(conn, used) is None and authenticate(conn, unused) is None


def test_revoke_by_name_takes_every_token_of_that_name(conn):
    first, second = create_token(conn, "stock", "importer"), create_token(conn, "stock", "importer")
    keep = create_token(conn, "stock", "importer-2")
    revoked, already = revoke_token(conn, "importer")
    assert len(revoked) == 2 and already == []
    assert authenticate(conn, first) is None and authenticate(conn, second) is None
    assert authenticate(conn, keep) is not None
    again, already = revoke_token(conn, "importer")
    assert again == [] and [t.status for t in already] == ["revoked", "revoked"]
    with pytest.raises(TokenNotFound):
        revoke_token(conn, "nobody")
    with pytest.raises(TokenNotFound):
        revoke_token(conn, "999999")


def test_list_shows_every_token_but_no_secret(conn):
    secrets = [
        create_token(conn, "editor", "a"),
        create_token(conn, "pricing", "b", timedelta(hours=1)),
        create_token(conn, "admin", "c"),
    ]
    revoke_token(conn, "c")
    listed = list_tokens(conn)
    assert [(t.name, t.role, t.status) for t in listed] == [
        ("a", "editor", "active"),
        ("b", "pricing", "active"),
        ("c", "admin", "revoked"),
    ]
    assert listed[0].expires_at is None and listed[1].expires_at is not None
    assert not any(s in repr(listed) for s in secrets)


def test_durations():
    assert parse_duration("30d") == timedelta(days=30)
    assert parse_duration("12h") == timedelta(hours=12)
    assert parse_duration(" 90m") == timedelta(minutes=90)
    assert parse_duration("2w") == timedelta(weeks=2)
    for bad in ("", "30", "0d", "-1d", "1y", "d", "1.5h"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    with pytest.raises(ValueError):
        create_token(None, "editor", "x", timedelta(0))  # refused before the database is touched


# ---------------------------------------------------------------------------------------------
# the commands


def run(args: list[str], db_url: str, stdin: str | None = None):
    return CliRunner().invoke(cli, args, input=stdin, env={"DATABASE_URL": db_url}, catch_exceptions=False)


def test_token_commands(db_url):
    created = run(["token", "create", "--role", "pricing", "--name", "shop-feed", "--expires-in", "30d"], db_url)
    assert created.exit_code == 0, created.output
    secret = created.output.strip()
    assert secret.startswith("sst_")
    other = run(["token", "create", "--role", "stock"], db_url).output.strip()

    table = run(["token", "list"], db_url)
    assert table.exit_code == 0
    lines = table.output.splitlines()
    assert lines[0].split() == ["ID", "NAME", "ROLE", "CREATED", "EXPIRES", "REVOKED", "STATUS"]
    assert lines[1].split()[1:3] == ["shop-feed", "pricing"] and lines[1].split()[-1] == "active"
    assert lines[2].split()[1:3] == ["stock", "stock"] and lines[2].split()[4:] == ["-", "-", "active"]
    assert secret not in table.output and other not in table.output

    rows = [json.loads(line) for line in run(["token", "list", "--json"], db_url).output.splitlines()]
    assert [r["name"] for r in rows] == ["shop-feed", "stock"]
    assert rows[0]["expires"].endswith("Z") and rows[1]["expires"] is None and rows[0]["revoked"] is None

    check = run(["token", "check"], db_url, stdin=secret + "\n")
    assert check.exit_code == 0 and "shop-feed" in check.output and "pricing" in check.output

    revoked = run(["token", "revoke", "shop-feed"], db_url)
    assert revoked.exit_code == 0 and f"revoked token {rows[0]['id']}" in revoked.output
    assert run(["token", "check"], db_url, stdin=secret + "\n").exit_code == 1
    assert "already revoked" in run(["token", "revoke", str(rows[0]["id"])], db_url).output
    assert run(["token", "list", "--json"], db_url).output.count('"status": "revoked"') == 1

    missing = run(["token", "revoke", "nope"], db_url)
    assert missing.exit_code == 1 and "no token has the name 'nope'" in missing.output
    bad = run(["token", "create", "--role", "stock", "--expires-in", "soon"], db_url)
    assert bad.exit_code == 2 and "30d" in bad.output
    with psycopg.connect(db_url) as c:
        assert c.execute("SELECT count(*) FROM api_tokens").fetchone()[0] == 2


def test_scheduler_keeps_its_beat_state_in_the_state_dir(service_env, tmp_path):
    """Run without -s from an empty directory: the schedule goes to .state/, nothing beside it."""
    env = dict(service_env)
    env.pop("SNIPSHOP_STATE_DIR", None)
    env["PYTHONPATH"] = str(REPO)
    log = open(tmp_path / "scheduler.log", "wb")  # noqa: SIM115 - the scheduler writes it until finally
    work = tmp_path / "cwd"
    work.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "entrypoints.snipshop_cli", "scheduler"],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until(
            lambda: list((work / ".state").glob("celerybeat-schedule*")) or proc.poll() is not None,
            timeout=60,
            interval=0.2,
            what="the beat schedule file",
        )
        assert proc.poll() is None, (tmp_path / "scheduler.log").read_text()
        # Past its start (where it writes its files): beat has sent its first due task.
        wait_until(
            lambda: (
                "Sending due task" in (tmp_path / "scheduler.log").read_text(errors="replace")
                or proc.poll() is not None
            ),
            timeout=30,
            interval=0.05,
            what="the scheduler's first due task",
        )
        assert proc.poll() is None, (tmp_path / "scheduler.log").read_text()
        assert [p.name for p in work.iterdir()] == [".state"]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
        log.close()
