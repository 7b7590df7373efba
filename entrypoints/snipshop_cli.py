"""The ``snipshop`` command: schema, tokens, feed import and the long-running roles.

Each command takes its parts from :mod:`entrypoints.bootstrap`."""

from __future__ import annotations

import sys
from datetime import UTC
from pathlib import Path

import click

from entrypoints.bootstrap import Parts
from snipshop import config, logs

#: Seconds a token command waits for the database.
TOKEN_CONNECT_TIMEOUT = 10


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Operate the snippet shop (configuration from the environment; see README)."""
    ctx.obj = Parts(config.load())
    ctx.call_on_close(ctx.obj.close)


@main.group()
def db() -> None:
    """The PostgreSQL schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_obj
def db_upgrade(parts: Parts, revision: str) -> None:
    """Create or migrate the schema."""
    from catalog.schema import upgrade

    upgrade(parts.settings.database_url, revision)
    click.echo(f"schema at {revision}")


@main.group()
def token() -> None:
    """Admin API tokens."""


def _duration(ctx: click.Context, param: click.Parameter, value: str | None):
    from catalog.tokens import parse_duration

    try:
        return parse_duration(value) if value is not None else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _when(moment) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else "-"


@token.command("create")
@click.option("--role", required=True, type=click.Choice(["editor", "pricing", "stock", "admin"]))
@click.option("--name", default="", help="Who or what uses the token (default: the role).")
@click.option(
    "--expires-in",
    "expires_in",
    callback=_duration,
    metavar="DURATION",
    help="Stop working this long from now: 30d, 12h, 90m, 2w, 45s (default: never).",
)
@click.pass_obj
def token_create(parts: Parts, role: str, name: str, expires_in) -> None:
    """Print a new token (it is stored hashed and cannot be shown again)."""
    from catalog.tokens import create_token

    with parts.connect(TOKEN_CONNECT_TIMEOUT) as conn:
        click.echo(create_token(conn, role, name or role, expires_in))


@token.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per token instead of a table.")
@click.pass_obj
def token_list(parts: Parts, as_json: bool) -> None:
    """Every token: id, name, role, created, expires, revoked, status (never the secret)."""
    import json

    from catalog.tokens import list_tokens

    with parts.connect(TOKEN_CONNECT_TIMEOUT) as conn:
        tokens = list_tokens(conn)
    if as_json:
        for t in tokens:
            click.echo(
                json.dumps(
                    {
                        "id": t.id,
                        "name": t.name,
                        "role": t.role,
                        "created": _when(t.created_at),
                        "expires": _when(t.expires_at) if t.expires_at else None,
                        "revoked": _when(t.revoked_at) if t.revoked_at else None,
                        "status": t.status,
                    }
                )
            )
        return
    rows = [("ID", "NAME", "ROLE", "CREATED", "EXPIRES", "REVOKED", "STATUS")]
    rows += [
        (str(t.id), t.name, t.role, _when(t.created_at), _when(t.expires_at), _when(t.revoked_at), t.status)
        for t in tokens
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


@token.command("revoke")
@click.argument("id_or_name")
@click.pass_obj
def token_revoke(parts: Parts, id_or_name: str) -> None:
    """Revoke the token with this id, or every token with this name (the admin app refuses it
    within 5 seconds: that long it trusts a token it has checked)."""
    from catalog.tokens import TokenNotFound, revoke_token

    with parts.connect(TOKEN_CONNECT_TIMEOUT) as conn:
        try:
            revoked, already = revoke_token(conn, id_or_name)
        except TokenNotFound as exc:
            raise click.ClickException(str(exc)) from None
    for t in revoked:
        click.echo(f"revoked token {t.id} ({t.name}, {t.role})")
    for t in already:
        click.echo(f"token {t.id} ({t.name}, {t.role}) was already revoked at {_when(t.revoked_at)}")


@token.command("check")
@click.pass_obj
def token_check(parts: Parts) -> None:
    """Read a token from standard input; exit 0 if it is valid (printing its id, name, role and
    expiry), 1 if it is unknown, revoked or expired."""
    from catalog.tokens import authenticate

    secret = sys.stdin.readline().strip()
    with parts.connect(TOKEN_CONNECT_TIMEOUT) as conn:
        principal = authenticate(conn, secret) if secret else None
    if principal is None:
        click.echo("invalid: the token is unknown, revoked or expired", err=True)
        sys.exit(1)
    click.echo(
        f"valid: token {principal.token_id} ({principal.name}, {principal.role}), "
        f"expires {_when(principal.expires_at) if principal.expires_at else 'never'}"
    )


@main.group()
def user() -> None:
    """Back-office users (they sign in at /backoffice with a password; API tokens stay for machines)."""


def _read_password(confirm: bool = True) -> str:
    """From a prompt (twice, hidden) on a terminal, else the first line of standard input."""
    if sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=confirm))
    return sys.stdin.readline().rstrip("\r\n")


@user.command("create")
@click.option("--role", required=True, type=click.Choice(["editor", "pricing", "stock", "admin"]))
@click.argument("username")
@click.pass_obj
def user_create(parts: Parts, role: str, username: str) -> None:
    """Create USERNAME with ROLE; the password comes from a prompt, or from standard input."""
    from web.backoffice.accounts import UserExists, create_user

    password = _read_password()
    with parts.connect(TOKEN_CONNECT_TIMEOUT) as conn:
        try:
            create_user(conn, username, role, password)
        except (UserExists, ValueError) as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"user {username} created with role {role}")


@user.command("password")
@click.argument("username")
@click.pass_obj
def user_password(parts: Parts, username: str) -> None:
    """Set a new password for USERNAME (prompt or standard input); unlocks it and ends its sessions."""
    from web.backoffice.accounts import set_password

    password = _read_password()
    with parts.connect(TOKEN_CONNECT_TIMEOUT) as conn:
        try:
            found = set_password(conn, username, password)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    if not found:
        raise click.ClickException(f"no user {username!r}")
    click.echo(f"password of {username} set")


@user.command("unlock")
@click.argument("username")
@click.pass_obj
def user_unlock(parts: Parts, username: str) -> None:
    """Lift a lockout after too many wrong passwords."""
    from web.backoffice.accounts import unlock

    with parts.connect(TOKEN_CONNECT_TIMEOUT) as conn:
        if not unlock(conn, username):
            raise click.ClickException(f"no user {username!r}")
    click.echo(f"{username} unlocked")


@user.command("list")
@click.pass_obj
def user_list(parts: Parts) -> None:
    """Every user: name, role, failed attempts, locked until."""
    from web.backoffice.accounts import list_users

    with parts.connect(TOKEN_CONNECT_TIMEOUT) as conn:
        for name, role, failed, locked in list_users(conn):
            click.echo(f"{name}  {role}  failed={failed}  locked_until={_when(locked)}")


@main.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--kind",
    type=click.Choice(["attributes", "categories", "products", "prices", "offers", "stock"]),
    help="Feed kind for every file (default: each file's name stem).",
)
@click.option(
    "--report", type=click.Path(dir_okay=False, path_type=Path), help="Also write rejected rows as CSV to this file."
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_obj
def import_(parts: Parts, files: tuple[Path, ...], kind: str | None, report: Path | None, quiet: bool) -> None:
    """Import feed files: streaming, idempotent; exit 1 if any row was rejected."""
    from catalog.errors import Unavailable
    from catalog.importer import import_files

    logs.configure("WARNING")
    try:
        rejected = import_files(
            parts.settings, list(files), send=parts.send, kind=kind, report_path=report, progress=not quiet
        )
    except Unavailable as exc:
        raise click.ClickException(str(exc)) from None
    sys.exit(1 if rejected else 0)


@main.command()
@click.argument("role", type=click.Choice(["edge", "admin"]))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=None, type=int, help="Default: 8000 for edge, 8001 for admin.")
@click.option("--workers", default=2, show_default=True, type=int)
@click.pass_obj
def serve(parts: Parts, role: str, host: str, port: int | None, workers: int) -> None:
    """Run the edge on granian or the admin app on gunicorn (entrypoints/serve.py)."""
    from entrypoints.serve import run

    run(parts.settings, role, host, port or (8000 if role == "edge" else 8001), workers)


def _queues(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...] | None:
    from vocab.topics import parse_queues

    try:
        return tuple(q.value for q in parse_queues(value)) if value is not None else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@main.command(context_settings={"ignore_unknown_options": True})
@click.option(
    "--queues",
    callback=_queues,
    metavar="QUEUE,...",
    help="Serve only these queues: stock, prices, catalog, control, rebuild, or all "
    "(default: WORKER_QUEUES, else all; docs/queues.md).",
)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def worker(parts: Parts, queues: tuple[str, ...] | None, celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker (extra arguments go to celery)."""
    from entrypoints.worker import app

    chosen = queues or parts.settings.worker_queues
    app.worker_main(["worker", "--loglevel=INFO", f"--queues={','.join(chosen)}", *celery_args])


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def scheduler(parts: Parts, celery_args: tuple[str, ...]) -> None:
    """Run Celery beat: the outbox relay sweep and the snippet refresh.

    Beat keeps its schedule state in SNIPSHOP_STATE_DIR (default ``.state``) unless ``-s FILE``
    is given."""
    from entrypoints.worker import app

    args = list(celery_args)
    if not any(a in ("-s", "--schedule") or a.startswith(("--schedule=", "-s")) for a in args):
        state = Path(parts.settings.state_dir)
        state.mkdir(parents=True, exist_ok=True)
        args.append(f"--schedule={state / 'celerybeat-schedule'}")
    app.start(["beat", "--loglevel=INFO", *args])


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("role", required=False, type=click.Choice(["edge", "admin", "worker", "scheduler"]))
@click.argument("options", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def health(parts: Parts, role: str | None, options: tuple[str, ...]) -> None:
    """Exit 0 if ROLE can work, 1 saying why not (entrypoints/healthcheck.py). Without ROLE, the role of
    the container's main process; OPTIONS as that role's command line takes them (--port 8000,
    -n worker@host, -s FILE)."""
    from entrypoints.healthcheck import Role, Unhealthy, check, main_process_role

    found = Role(role, options) if role else main_process_role()
    try:
        click.echo(f"{found.name}: {check(parts.settings, found)}")
    except Unhealthy as exc:
        click.echo(f"{found.name}: unhealthy: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
