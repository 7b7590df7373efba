"""The ``projector`` command: rebuild and status, running the same code as the tasks."""
from __future__ import annotations

import click
import redis

from catalog.db import make_pool
from projector.rebuild import ONLY, rebuild
from projector.service import Projector
from search.factory import make_search
from snipshop import config


def _projector(settings) -> Projector:
    pool = make_pool(settings.database_url, max_size=2, name="projector-cli")
    pool.open(wait=True)
    client = redis.Redis.from_url(settings.redis_url)
    return Projector(settings, pool, client, make_search(settings, client))


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Project the catalog into snippets (configuration from the environment)."""
    ctx.obj = config.load()


@main.command("rebuild")
@click.option("--only", type=click.Choice(sorted(ONLY)), help="Re-project one part, in place.")
@click.option("--sku", "skus", multiple=True, help="Re-project these products, in place (repeatable).")
@click.option("--batch", default=500, show_default=True, help="Products per read from PostgreSQL.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_obj
def rebuild_cmd(settings, only: str | None, skus: tuple[str, ...], batch: int, quiet: bool) -> None:
    """Re-project everything into a new generation and switch to it atomically."""
    summary = rebuild(_projector(settings), only=only, skus=list(skus) or None, batch=batch, progress=not quiet)
    click.echo(str(summary))


@main.command("switch")
@click.argument("generation", type=int)
@click.pass_obj
def switch_cmd(settings, generation: int) -> None:
    """Make GENERATION live again (a rollback); the scheduler's refresh then brings it up to date."""
    from projector.generations import UnknownGeneration, switch_to
    from projector.celery_app import REFRESH, make_celery

    try:
        previous = switch_to(_projector(settings), generation)
    except UnknownGeneration as exc:
        raise click.ClickException(str(exc)) from None
    make_celery(settings).send_task(REFRESH)
    click.echo(f"generation {generation} is live (was {previous}); a refresh was queued to bring it up to date")


@main.command("status")
@click.pass_obj
def status_cmd(settings) -> None:
    """Generations, live pointer, outbox backlog, queue depth, projection lag."""
    from projector.status import collect

    for name, value in collect(settings).items():
        click.echo(f"{name:<24} {value}")


if __name__ == "__main__":
    main()
