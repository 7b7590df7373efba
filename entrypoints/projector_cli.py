"""The ``projector`` command: rebuild, canaries and status, running the same code as the tasks.

Each command takes its parts from :func:`entrypoints.bootstrap.command_parts`."""

from __future__ import annotations

import click

from entrypoints.bootstrap import Parts, command_parts
from projector import canary
from projector.canary import MAX_PERCENT, MIN_PERCENT, CanaryRunning
from projector.rebuild import ONLY, RebuildRunning, RebuildWorkerFailed, rebuild, usable_cores
from snipshop import config


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Project the catalog into snippets (configuration from the environment)."""
    ctx.obj = command_parts(config.load())
    ctx.call_on_close(ctx.obj.close)


@main.command("rebuild")
@click.option("--only", type=click.Choice(sorted(ONLY)), help="Re-project one part, in place.")
@click.option("--sku", "skus", multiple=True, help="Re-project these products, in place (repeatable).")
@click.option("--batch", default=500, show_default=True, help="Products per read from PostgreSQL.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=usable_cores,
    show_default="the usable cores",
    help="Processes that render a full rebuild: this one and JOBS - 1 workers.",
)
@click.option(
    "--canary",
    type=click.IntRange(MIN_PERCENT, MAX_PERCENT),
    help="Serve the new generation to this percent of shoppers beside the live one (docs/canary.md).",
)
@click.pass_obj
def rebuild_cmd(
    parts: Parts,
    only: str | None,
    skus: tuple[str, ...],
    batch: int,
    quiet: bool,
    jobs: int,
    canary: int | None,
) -> None:
    """Re-project everything into a new generation and switch to it atomically (or, with
    --canary, serve it to a share of shoppers until `projector promote` or `projector abort`).

    One full rebuild runs at a time: while one runs, or a canary runs, another fails at once (exit code 1)."""
    if canary is not None and (only or skus):
        raise click.UsageError("--canary builds a whole new generation: it takes neither --only nor --sku")
    try:
        summary = rebuild(
            parts.projector,
            only=only,
            skus=list(skus) or None,
            batch=batch,
            progress=not quiet,
            canary=canary,
            jobs=jobs,
        )
    except (RebuildRunning, CanaryRunning, RebuildWorkerFailed) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(str(summary))


@main.command("switch")
@click.argument("generation", type=int)
@click.pass_obj
def switch_cmd(parts: Parts, generation: int) -> None:
    """Make GENERATION live again (a rollback); the scheduler's refresh then brings it up to date."""
    from projector.celery_app import REFRESH
    from projector.generations import UnknownGeneration, switch_to

    try:
        previous = switch_to(parts.projector, generation)
    except (UnknownGeneration, CanaryRunning) as exc:
        raise click.ClickException(str(exc)) from None
    parts.celery.send_task(REFRESH)
    click.echo(f"generation {generation} is live (was {previous}); a refresh was queued to bring it up to date")


@main.command("promote")
@click.pass_obj
def promote_cmd(parts: Parts) -> None:
    """Switch every shopper to the running canary's generation, atomically."""
    from projector.generations import UnknownGeneration

    try:
        record = canary.promote(parts.projector)
    except (canary.NoCanary, UnknownGeneration) as exc:  # a canary without its page frame is no generation to serve
        raise click.ClickException(str(exc)) from None
    click.echo(f"generation {record.generation} is live for everyone (was {record.base})")


@main.command("abort")
@click.pass_obj
def abort_cmd(parts: Parts) -> None:
    """End the running canary: every shopper back on the live generation, the canary's deleted."""
    try:
        record = canary.abort(parts.projector)
    except canary.NoCanary as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"canary generation {record.generation} aborted and deleted; everyone is on {record.base}")


@main.command("compare")
@click.option("--minutes", type=click.IntRange(1, 60), help="The window (default: CANARY_WINDOW_MINUTES).")
@click.pass_obj
def compare_cmd(parts: Parts, minutes: int | None) -> None:
    """The running canary against the live generation: requests, status codes, degraded pages,
    latency p50/p99, snippet misses, the difference and a verdict (docs/canary.md)."""
    from projector.compare import compare

    found = compare(parts.snippet_redis, parts.keys, parts.settings, minutes)
    if found is None:
        raise click.ClickException("no canary runs: nothing to compare")
    for line in found.lines():
        click.echo(line)


@main.command("status")
@click.pass_obj
def status_cmd(parts: Parts) -> None:
    """Generations, a running rebuild, live pointer, outbox backlog, queue depth, projection lag."""
    for name, value in parts.status().items():
        click.echo(f"{name:<24} {value}")


@main.command("dead-letters")
@click.option("--limit", default=20, show_default=True, help="Show the newest N entries.")
@click.pass_obj
def dead_letters_cmd(parts: Parts, limit: int) -> None:
    """List projection tasks that failed for good (index 0 is the newest)."""
    letters = parts.dead_letters
    entries = letters.entries(limit)
    click.echo(f"{letters.count()} dead letters")
    for i, e in enumerate(entries):
        click.echo(
            f"[{i}] {e['failed_at']} {e['task']} args={e['args']} kwargs={e['kwargs']} "
            f"retries={e['retries']} id={e['task_id']}\n    {e['error'].splitlines()[0][:300]}"
        )


@main.command("replay")
@click.option("--all", "everything", is_flag=True, help="Replay every dead letter, oldest first.")
@click.option("--index", type=int, help="Replay the entry at this index (as `dead-letters` lists them).")
@click.pass_obj
def replay_cmd(parts: Parts, everything: bool, index: int | None) -> None:
    """Send dead letters to the broker again (same task and arguments) and remove them."""
    if everything == (index is not None):
        raise click.UsageError("give either --all or --index I")
    replayed = parts.dead_letters.replay(parts.celery.send_task, index)
    if index is not None and not replayed:
        raise click.ClickException(f"no dead letter at index {index}")
    for e in replayed:
        click.echo(f"replayed {e['task']} args={e['args']} (was {e['task_id']})")
    click.echo(f"{len(replayed)} replayed")


if __name__ == "__main__":
    main()
