"""Benchmark ``snipshop import``: rows per second and peak memory on a generated catalog.

Usage::

    DATABASE_URL=postgresql://... python -m bench.import_memory [--products N] [--feed DIR] [--keep]

Generates a catalog of N products (default 100,000) with ``tools.generate_catalog`` (or reuses
the feed files in ``--feed``), migrates the schema of ``DATABASE_URL``, imports categories,
products, prices, offers and stock one after the other, and prints rows/s per file and the
process's peak RSS after each one. A flat peak RSS across files of very different sizes is the
point: the import streams. Outbox rows are not sent to a broker (the relay sweep would); pass
``--celery`` to send them to ``CELERY_BROKER_URL`` as the CLI does. This is a benchmark, not a
test: it writes into whatever database ``DATABASE_URL`` names.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from catalog.feeds import KINDS
from catalog.importer import import_files
from snipshop import config

REPO = Path(__file__).resolve().parent.parent


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def generate(products: int, out: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "tools.generate_catalog", "--products", str(products), "--out", str(out)],
        cwd=REPO,
        check=True,
    )


def count_rows(path: Path) -> int:
    with path.open("rb") as f:
        return max(sum(1 for _ in f) - 1, 0)  # data lines; quoted newlines would count double


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--feed", type=Path, help="import these feed files instead of generating them")
    parser.add_argument("--keep", action="store_true", help="keep the generated feed directory")
    parser.add_argument("--celery", action="store_true", help="send outbox rows to the broker")
    args = parser.parse_args(argv)

    settings = config.load()
    from catalog.schema import upgrade

    upgrade(settings.database_url)
    feed = args.feed or Path(tempfile.mkdtemp(prefix="snipshop-bench-"))
    if not args.feed:
        started = time.monotonic()
        generate(args.products, feed)
        print(f"generated {args.products:,} products in {time.monotonic() - started:.1f}s into {feed}")
    sent = 0

    def count_sent(topic: str, keys: list[str], outbox_ids: list[int]) -> None:
        nonlocal sent
        sent += 1

    if args.celery:
        from entrypoints.bootstrap import Parts

        send = Parts(settings).send
    else:
        send = count_sent
    print(f"peak RSS before import: {peak_rss_mb():.1f} MiB")
    total_rows, total_seconds, rejected = 0, 0.0, 0
    try:
        for kind in KINDS:
            path = feed / f"{kind}.csv"
            if not path.exists():
                continue
            rows = count_rows(path)
            started = time.monotonic()
            rejected += import_files(settings, [path], progress=sys.stderr.isatty(), send=send)
            seconds = time.monotonic() - started
            total_rows, total_seconds = total_rows + rows, total_seconds + seconds
            print(
                f"{kind:>10}: {rows:>9,} rows, {path.stat().st_size / 2**20:8.1f} MiB in {seconds:7.1f}s "
                f"= {rows / seconds:8,.0f} rows/s; peak RSS {peak_rss_mb():.1f} MiB"
            )
    finally:
        if not args.feed and not args.keep:
            shutil.rmtree(feed, ignore_errors=True)
    print(
        f"{'total':>10}: {total_rows:>9,} rows in {total_seconds:.1f}s = {total_rows / total_seconds:,.0f} rows/s; "
        f"{rejected} rejected; {sent} outbox rows handed to the fake sender"
    )
    return 1 if rejected else 0


if __name__ == "__main__":
    sys.exit(main())
