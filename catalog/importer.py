"""``snipshop import``: stream feed files into the write side, batch by batch.

Each file is read row by row (:mod:`catalog.feeds`); valid rows are gathered into batches, each
applied by its kind's command from :mod:`catalog.commands` (one transaction, one outbox row, handed
to the relay after the commit). A batch the command refuses (an unknown category, a SKU the
database does not know) is split in halves until the refused rows stand alone; every other row is
imported. At most one batch is held in memory, whatever the size of the file."""

from __future__ import annotations

import csv
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import psycopg
from tqdm import tqdm

from catalog import commands
from catalog.errors import CatalogError, Unavailable
from catalog.feeds import KINDS, FeedError, FeedKind, FeedRow, RawRow, RowError, csv_rows, parse_header, parse_row
from catalog.relay import Send, dispatch_quietly
from snipshop.config import Settings
from vocab.topics import Topic

BATCH_SIZE = 500
Command = Callable[[psycopg.Connection, Sequence[Any]], int]
COMMANDS: dict[str, Command] = {
    "attributes": commands.put_attribute_labels,
    "categories": commands.put_categories,
    "products": commands.put_products,
    "variants": commands.put_variants,
    "prices": commands.put_prices,
    "offers": commands.put_offers,
    "stock": commands.set_stock,
}
# What a command may refuse single rows for; anything else (the database gone) ends the import.
ROW_ERRORS = (CatalogError, psycopg.DataError, psycopg.IntegrityError)
Sink = Callable[[list[FeedRow]], list[tuple[FeedRow, str]]]  # applies a batch, returns the refused rows
# Characters that would act on a terminal or a spreadsheet rather than show: C0 and C1 controls
# (escape sequences, line breaks), DEL, line and paragraph separators, and the bidirectional
# controls that reorder what is shown ("Trojan Source").
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# A cell starting with one of these is a formula to a spreadsheet (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_ECHO = 1000  # characters of one report field; a hostile cell can be megabytes long


def printable(text: str) -> str:
    """``text`` as an inert line: each control character written as its escape (``\\n``,
    ``\\x1b``, ``\\u202e``), so that it shows what the feed held and does nothing; cut at
    :data:`MAX_ECHO` characters."""
    if len(text) > MAX_ECHO:
        text = text[:MAX_ECHO] + "…"
    return CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def spreadsheet_cell(text: str) -> str:
    """``text`` as a CSV cell a spreadsheet shows as text: a leading formula character gets a
    ``'`` in front (OWASP's advice), and control characters are escaped (:func:`printable`)."""
    return printable("'" + text if text.startswith(FORMULA_START) else text)


@dataclass
class FileStats:
    read: int = 0
    imported: int = 0
    rejected: int = 0
    seconds: float = 0.0


class Report:
    """Rejected rows as ``FILE:LINE: KEY: message`` on stderr and, optionally, as CSV rows.

    Keys and messages echo feed text, which may be hostile: on the terminal its control characters
    are escaped; in the CSV file, too, and a cell that a spreadsheet would run as a formula is
    neutralized with a leading ``'``."""

    def __init__(self, path: Path | None = None, out: TextIO | None = None) -> None:
        self.out = out
        self._file = path.open("w", newline="", encoding="utf-8") if path else None
        self._csv = csv.writer(self._file) if self._file else None
        if self._csv:
            self._csv.writerow(["file", "line", "key", "error"])

    def reject(self, file: str, line: int, key: str, message: str) -> None:
        text = f"{printable(file)}:{line}: {printable(key) + ': ' if key else ''}{printable(message)}"
        tqdm.write(text, file=self.out or sys.stderr)
        if self._csv:
            self._csv.writerow([spreadsheet_cell(file), line, spreadsheet_cell(key), spreadsheet_cell(message)])

    def close(self) -> None:
        if self._file:
            self._file.close()


def import_files(
    settings: Settings,
    files: Sequence[Path],
    *,
    send: Send,
    kind: str | None = None,
    report_path: Path | None = None,
    progress: bool = True,
) -> int:
    """Import feed files, in dependency order (categories first); return the number of rejected rows.

    A file that cannot be imported at all (unknown kind, bad header) counts as one rejected row.
    ``send`` hands each committed outbox row on (``snipshop import`` passes the Celery sender).
    """
    context = {"locales": settings.locales, "currencies": settings.currencies}
    rank = {name: i for i, name in enumerate(KINDS)}
    jobs = sorted(((Path(f), (kind or Path(f).stem).lower()) for f in files), key=lambda job: rank.get(job[1], -1))
    try:
        conn = psycopg.connect(settings.database_url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise Unavailable(f"cannot connect to the database: {exc}") from exc
    report, dispatcher, rejected = Report(report_path), ImmediateDispatch(conn, send), 0
    try:
        for path, name in jobs:
            if name not in KINDS:
                report.reject(str(path), 1, "", f"unknown feed kind {name!r} (expected one of {', '.join(KINDS)})")
                rejected += 1
                continue
            sink = DatabaseSink(conn, COMMANDS[name], dispatcher)
            try:
                stats = import_file(path, KINDS[name], sink, report, context=context, progress=progress)
            except OSError as exc:
                report.reject(str(path), 1, "", f"cannot read the file: {exc}")
                stats = FileStats(rejected=1)
            print(summary(path, stats), flush=True)
            rejected += stats.rejected
    finally:
        conn.close()
        report.close()
    return rejected


def import_file(
    path: Path,
    kind: FeedKind,
    sink: Sink,
    report: Report,
    *,
    context: dict[str, Any],
    progress: bool = False,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[int, FileStats], None] | None = None,
) -> FileStats:
    """Stream one file through ``sink`` in batches of valid rows; report every rejected row.

    ``on_progress(bytes_read, stats)`` is called after every batch (the back office's feed job
    shows it)."""
    stats, started, file = FileStats(), time.monotonic(), str(path)
    batch: dict[Any, FeedRow] = {}  # by identity: a command sees each key once

    def reject(line: int, key: str, message: str) -> None:
        report.reject(file, line, key, message)
        stats.rejected += 1

    def flush() -> None:
        refused = sink(list(batch.values())) if batch else []
        for row, message in refused:
            reject(row.line, row.key, message)
        stats.imported += len(batch) - len(refused)
        batch.clear()

    with (
        path.open("rb") as stream,
        tqdm(
            total=path.stat().st_size,
            unit="B",
            unit_scale=True,
            desc=printable(path.name),
            leave=False,
            disable=not progress or not sys.stderr.isatty(),
        ) as bar,
    ):
        rows = csv_rows(stream)
        try:
            header = parse_header(kind, _header_values(next(rows, None)))
        except FeedError as exc:
            reject(1, "", f"{exc}; file skipped")
            return stats
        for raw in rows:
            stats.read += 1
            if stats.read % batch_size == 0:
                bar.update(stream.tell() - bar.n)
                if on_progress:
                    on_progress(stream.tell(), stats)
            try:
                row = parse_row(header, raw.line, raw.values, context, raw.error)
            except RowError as exc:
                reject(raw.line, exc.key, str(exc))
                continue
            if row.ident in batch:  # a repeated key: the batch with its earlier row goes first
                flush()
            batch[row.ident] = row
            if len(batch) >= batch_size:
                flush()
        flush()
        bar.update(stream.tell() - bar.n)
        if on_progress:
            on_progress(stream.tell(), stats)
    stats.seconds = time.monotonic() - started
    return stats


def _header_values(raw: RawRow | None) -> list[str]:
    if raw is None or raw.error:
        raise FeedError(f"header row: {raw.error if raw else 'missing, the file is empty'}")
    return raw.values


def summary(path: Path, stats: FileStats) -> str:
    rate = stats.imported / stats.seconds if stats.seconds else 0.0
    return (
        f"{printable(str(path))}: {stats.read} rows read, {stats.imported} imported, {stats.rejected} rejected "
        f"in {stats.seconds:.1f}s ({rate:,.0f} rows/s)"
    )


class ImmediateDispatch:
    """Hands each committed outbox row on at once (:func:`catalog.relay.dispatch_quietly`); after
    one failed send, leaves the rest to the relay sweep rather than waiting on the broker's
    timeouts for every batch."""

    def __init__(self, conn: psycopg.Connection, send: Send) -> None:
        self.conn, self.send, self.broker_down = conn, send, False

    def __call__(self, outbox_id: int) -> None:
        if not self.broker_down:
            dispatch_quietly(self.conn, self._send, [outbox_id])

    def _send(self, topic: Topic, keys: list[str], outbox_ids: list[int]) -> None:
        try:
            self.send(topic, keys, outbox_ids)
        except Exception:
            self.broker_down = True
            raise


class DatabaseSink:
    """Applies batches with one command, isolating the rows the command refuses."""

    def __init__(self, conn: psycopg.Connection, command: Command, dispatch: Callable[[int], None]) -> None:
        self.conn, self.command, self.dispatch = conn, command, dispatch

    def __call__(self, rows: list[FeedRow]) -> list[tuple[FeedRow, str]]:
        try:
            outbox_id = self.command(self.conn, [row.item for row in rows])
        except ROW_ERRORS as exc:
            refusal = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        else:
            self.dispatch(outbox_id)
            return []
        if len(rows) == 1:
            return [(rows[0], refusal)]
        middle = len(rows) // 2  # halves keep file order: a parent category still precedes its child
        return self(rows[:middle]) + self(rows[middle:])
