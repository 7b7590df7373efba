"""Feed rows parsed as the importer parses them, for the unit tests of feed kinds (no database)."""

from __future__ import annotations

import io

from catalog.feeds import KINDS, RowError, csv_rows, parse_header, parse_row

CONTEXT = {"locales": ("en_US", "de_DE"), "currencies": ("EUR", "USD")}


def parse_feed(kind: str, text: str | bytes) -> list:
    """Every data row of a feed, as a FeedRow or as (line, key, message) for a rejected one."""
    data = text.encode() if isinstance(text, str) else text
    rows = csv_rows(io.BytesIO(data))
    header = parse_header(KINDS[kind], next(rows).values)
    out = []
    for raw in rows:
        try:
            out.append(parse_row(header, raw.line, raw.values, CONTEXT, raw.error))
        except RowError as exc:
            out.append((raw.line, exc.key, str(exc)))
    return out
