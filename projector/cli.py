"""The ``projector`` command: rebuild and status, running the same code as the tasks."""
from __future__ import annotations

import click
import redis

from catalog.db import make_pool
from projector.rebuild import ONLY, RebuildRunning, rebuild
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
    """Re-project everything into a new generation and switch to it atomically.

    One full rebuild runs at a time: while one runs, another fails at once (exit code 1)."""
    try:
        summary = rebuild(_projector(settings), only=only, skus=list(skus) or None, batch=batch, progress=not quiet)
    except RebuildRunning as exc:
        raise click.ClickException(str(exc)) from None
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
    """Generations, a running rebuild, live pointer, outbox backlog, queue depth, projection lag."""
    from projector.status import collect

    for name, value in collect(settings).items():
        click.echo(f"{name:<24} {value}")


@main.command("dead-letters")
@click.option("--limit", default=20, show_default=True, help="Show the newest N entries.")
@click.pass_obj
def dead_letters_cmd(settings, limit: int) -> None:
    """List projection tasks that failed for good (index 0 is the newest)."""
    from projector.deadletters import DeadLetters
    from projector.keys import KeyScheme

    letters = DeadLetters(redis.Redis.from_url(settings.redis_url), KeyScheme(settings.key_prefix))
    entries = letters.entries(limit)
    click.echo(f"{letters.count()} dead letters")
    for i, e in enumerate(entries):
        click.echo(f"[{i}] {e['failed_at']} {e['task']} args={e['args']} kwargs={e['kwargs']} "
                   f"retries={e['retries']} id={e['task_id']}\n    {e['error'].splitlines()[0][:300]}")


@main.command("replay")
@click.option("--all", "everything", is_flag=True, help="Replay every dead letter, oldest first.")
@click.option("--index", type=int, help="Replay the entry at this index (as `dead-letters` lists them).")
@click.pass_obj
def replay_cmd(settings, everything: bool, index: int | None) -> None:
    """Send dead letters to the broker again (same task and arguments) and remove them."""
    from projector.celery_app import make_celery
    from projector.deadletters import DeadLetters, celery_sender
    from projector.keys import KeyScheme

    if everything == (index is not None):
        raise click.UsageError("give either --all or --index I")
    letters = DeadLetters(redis.Redis.from_url(settings.redis_url), KeyScheme(settings.key_prefix))
    replayed = letters.replay(celery_sender(make_celery(settings)), index)
    if index is not None and not replayed:
        raise click.ClickException(f"no dead letter at index {index}")
    for e in replayed:
        click.echo(f"replayed {e['task']} args={e['args']} (was {e['task_id']})")
    click.echo(f"{len(replayed)} replayed")


if __name__ == "__main__":
    main()
