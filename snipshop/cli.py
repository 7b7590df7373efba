"""The ``snipshop`` command: schema, tokens, feed import and the long-running roles."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from snipshop import config as config_module
from snipshop import logs
from snipshop.config import Settings


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Operate the snippet shop (configuration from the environment; see README)."""
    ctx.obj = config_module.load()


@main.group()
def db() -> None:
    """The PostgreSQL schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_obj
def db_upgrade(settings: Settings, revision: str) -> None:
    """Create or migrate the schema."""
    from catalog.schema import upgrade

    upgrade(settings.database_url, revision)
    click.echo(f"schema at {revision}")


@main.group()
def token() -> None:
    """Admin API tokens."""


@token.command("create")
@click.option("--role", required=True, type=click.Choice(["editor", "pricing", "stock", "admin"]))
@click.option("--name", default="", help="Who or what uses the token.")
@click.pass_obj
def token_create(settings: Settings, role: str, name: str) -> None:
    """Print a new token (it is stored hashed and cannot be shown again)."""
    import psycopg

    from catalog.tokens import create_token

    with psycopg.connect(settings.database_url) as conn:
        click.echo(create_token(conn, role, name or role))


@main.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(["categories", "products", "prices", "offers", "stock"]),
              help="Feed kind for every file (default: each file's name stem).")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write rejected rows as CSV to this file.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_obj
def import_(settings: Settings, files: tuple[Path, ...], kind: str | None, report: Path | None, quiet: bool) -> None:
    """Import feed files: streaming, idempotent; exit 1 if any row was rejected."""
    from catalog.errors import Unavailable
    from catalog.importer import import_files

    logs.configure("WARNING")
    try:
        rejected = import_files(settings, list(files), kind=kind, report_path=report, progress=not quiet)
    except Unavailable as exc:
        raise click.ClickException(str(exc)) from None
    sys.exit(1 if rejected else 0)


@main.command()
@click.argument("role", type=click.Choice(["edge", "admin"]))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=None, type=int, help="Default: 8000 for edge, 8001 for admin.")
@click.option("--workers", default=2, show_default=True, type=int)
@click.pass_obj
def serve(settings: Settings, role: str, host: str, port: int | None, workers: int) -> None:
    """Run the edge or the admin app on the production HTTP server (gunicorn)."""
    from snipshop.serve import run

    run(settings, role, host, port or (8000 if role == "edge" else 8001), workers)


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker(celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker (extra arguments go to celery)."""
    from projector.worker import app

    app.worker_main(["worker", "--loglevel=INFO", *celery_args])


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def scheduler(celery_args: tuple[str, ...]) -> None:
    """Run Celery beat: the outbox relay sweep and the snippet refresh."""
    from projector.worker import app

    app.start(["beat", "--loglevel=INFO", *celery_args])


if __name__ == "__main__":
    main()
