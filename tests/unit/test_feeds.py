"""Feed parsing and the streaming import pipeline, with a fake batch sink (no services)."""

from __future__ import annotations

import io
import re
import tracemalloc
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from catalog.feeds import KINDS, FeedError
from catalog.importer import Report, import_file
from tests.unit.feed_rows import CONTEXT, parse_feed


def test_categories_with_localized_names():
    rows = parse_feed(
        "categories", "key,parent,position,name.en_US,name.de_DE\ngear,,1,Gear,Ausrüstung\nbags,gear,,Bags,\n"
    )
    (key, gear), (_, bags) = rows[0].item, rows[1].item
    assert key == "gear" and gear.parent is None and gear.position == 1
    assert gear.name == {"en_US": "Gear", "de_DE": "Ausrüstung"}
    assert bags.parent == "gear" and bags.position == 0 and bags.name == {"en_US": "Bags"}
    assert [r.line for r in rows] == [2, 3]


def test_products_with_texts_multi_values_and_flags():
    rows = parse_feed(
        "products",
        "sku,brand,categories,active,name.en_US,name.de_DE,description.en_US,attr.color,attr.size\n"
        "P1,Acme,bags|gear,1,Bag,Tasche,<p>Big</p>,Red | Blue,M\n"
        "P2,,,no,Cap,,,,\n"
        "P3,,,TRUE,Hat,,,,\n"
        "P4,,,,Scarf,,,,\n",
    )
    sku, p1 = rows[0].item
    assert sku == "P1" and p1.brand == "Acme" and p1.categories == ["bags", "gear"] and p1.active
    assert p1.name == {"en_US": "Bag", "de_DE": "Tasche"} and p1.description == {"en_US": "<p>Big</p>"}
    assert p1.attributes == {"color": ["Red", "Blue"], "size": "M"}
    assert p1.attribute_rows() == [("color", "Red", 0), ("color", "Blue", 1), ("size", "M", 0)]
    assert [r.item[1].active for r in rows[1:]] == [False, True, True]
    assert rows[1].item[1].categories == [] and rows[1].item[1].attributes == {}


@pytest.mark.parametrize(
    "flag, expected", [("1", True), ("0", False), ("true", True), ("False", False), ("yes", True), ("No", False)]
)
def test_active_flags(flag, expected):
    assert parse_feed("products", f"sku,active,name.en_US\nP1,{flag},X\n")[0].item[1].active is expected


def test_bad_active_flag_is_rejected():
    assert parse_feed("products", "sku,active,name.en_US\nP1,maybe,X\n") == [
        (2, "P1", "active: Input should be a valid boolean, unable to interpret input")
    ]


def test_byte_order_mark_and_crlf_are_accepted():
    rows = parse_feed("stock", b"\xef\xbb\xbfsku,quantity\r\nS1,4\r\n\r\nS2,0\r\n")
    assert [r.item for r in rows] == [("S1", 4), ("S2", 0)]
    assert [r.line for r in rows] == [2, 4]


def test_prices_and_their_errors():
    rows = parse_feed(
        "prices", "sku,currency,amount\nS1,EUR,12.50\nS2,EUR,12.345\nbad sku,EUR,1\nS3,GBP,1\nS4,USD,-1\nS5,USD,\n"
    )
    assert rows[0].item == ("S1", "EUR", Decimal("12.50")) and rows[0].key == "S1/EUR"
    errors = {line: (key, message) for line, key, message in rows[1:]}
    assert errors[3][0] == "S2/EUR" and errors[3][1].startswith("amount: amount must be a non-negative decimal")
    assert errors[4] == ("bad sku/EUR", "sku: SKU 'bad sku' must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    assert "currency 'GBP' is not one of the shop's currencies" in errors[5][1]
    assert errors[6][1].startswith("amount:") and errors[7][1].startswith("amount:")


def test_offers():
    rows = parse_feed(
        "offers",
        "sku,currency,amount,starts_at,ends_at\n"
        "S1,EUR,9.99,2026-01-01T00:00:00Z,2026-01-08T00:00:00+00:00\n"
        "S1,EUR,9.99,2026-01-08T00:00:00Z,2026-01-01T00:00:00Z\n"
        "S1,EUR,9.99,2026-01-01,2026-01-02T00:00:00Z\n",
    )
    sku, currency, offer = rows[0].item
    assert (sku, currency, offer.amount) == ("S1", "EUR", Decimal("9.99"))
    assert offer.starts_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert rows[1] == (3, "S1/EUR/2026-01-08T00:00:00Z", "ends_at must be after starts_at")
    assert rows[2][2].startswith("starts_at: must carry a UTC offset")


def test_stock_rejects_negative_and_non_integer_quantities():
    rows = parse_feed("stock", "sku,quantity\nS1,-1\nS2,1.5\nS3, 7 \n")
    assert rows[0] == (2, "S1", "quantity: Input should be greater than or equal to 0")
    assert rows[1][:2] == (3, "S2") and rows[1][2].startswith("quantity:")
    assert rows[2].item == ("S3", 7)


def test_locale_not_configured_and_missing_name():
    rows = parse_feed("categories", "key,name.en_US,name.fr_FR\ngear,Gear,Équipement\nbags,,\ngood,Good,\n")
    assert rows[0] == (2, "gear", "name: locale 'fr_FR' is not one of the shop's locales ['en_US', 'de_DE']")
    assert rows[1] == (3, "bags", "name: Field required")
    assert rows[2].item[0] == "good"


def test_wrong_field_count_bad_utf8_and_multiline_fields():
    rows = parse_feed(
        "products", b'sku,name.en_US,description.en_US\nP1,Bag,"<p>two\nlines</p>"\nP2,Cap\nP3,Caf\xe9,x\nP4,Hat,""\n'
    )
    assert rows[0].line == 2 and rows[0].item[1].description == {"en_US": "<p>two\nlines</p>"}
    assert rows[1] == (4, "P2", "expected 3 fields, found 2")
    assert rows[2] == (5, "P3", "not valid UTF-8 (line 5)")
    assert rows[3].line == 6


@pytest.mark.parametrize(
    "kind, header, message",
    [
        ("prices", "sku,amount", "missing column(s) for prices: currency"),
        ("products", "sku,brand", "missing column(s) for products: name.*"),
        ("stock", "sku,quantity,colour", "unknown column 'colour' for stock"),
        ("stock", "sku,quantity,sku", "duplicate column(s): sku"),
    ],
)
def test_header_errors(kind, header, message):
    with pytest.raises(FeedError, match=re.escape(message)):
        parse_feed(kind, header + "\n")


class FakeSink:
    """Records batch sizes; refuses the rows whose key is in ``refuse`` (like an unknown SKU)."""

    def __init__(self, refuse: set[str] = frozenset()) -> None:
        self.batches: list[int] = []
        self.refuse = refuse
        self.keys: list[str] = []

    def __call__(self, rows):
        self.batches.append(len(rows))
        self.keys.extend(r.key for r in rows if r.key not in self.refuse)
        return [(r, "unknown product(s): " + r.key) for r in rows if r.key in self.refuse]


def test_import_file_batches_and_reports(tmp_path):
    feed = tmp_path / "stock.csv"
    feed.write_text("sku,quantity\n" + "".join(f"S{i},{i}\n" for i in range(12)) + "S3,-1\nS10,9\nS99,1\n")
    sink, out = FakeSink({"S99"}), io.StringIO()
    report = Report(tmp_path / "report.csv", out=out)
    stats = import_file(feed, KINDS["stock"], sink, report, context=CONTEXT, batch_size=5)
    report.close()
    assert (stats.read, stats.imported, stats.rejected) == (15, 13, 2)
    assert sink.batches == [5, 5, 2, 2]  # S10 repeats: the batch holding it goes first
    assert sink.keys[-3:] == ["S10", "S11", "S10"]
    assert out.getvalue().splitlines() == [
        f"{feed}:14: S3: quantity: Input should be greater than or equal to 0",
        f"{feed}:16: S99: unknown product(s): S99",
    ]
    assert (tmp_path / "report.csv").read_text().splitlines()[1:] == [
        f"{feed},14,S3,quantity: Input should be greater than or equal to 0",
        f"{feed},16,S99,unknown product(s): S99",
    ]


def test_import_file_with_bad_header_writes_nothing(tmp_path):
    feed = tmp_path / "prices.csv"
    feed.write_text("sku,amount\nS1,1.00\n")
    sink, out = FakeSink(), io.StringIO()
    stats = import_file(feed, KINDS["prices"], sink, Report(out=out), context=CONTEXT)
    assert stats.rejected == 1 and sink.batches == []
    assert "prices.csv:1: missing column(s) for prices: currency; file skipped" in out.getvalue()


def _write_prices(path: Path, n: int) -> Path:
    path.parent.mkdir()
    with path.open("w") as f:
        f.write("sku,currency,amount\n")
        for i in range(n):
            f.write(f"SKU{i:07d},{'EUR' if i % 2 else 'USD'},{i % 50000}.{i % 100:02d}\n")
    return path


def _imported_and_peak_bytes(path: Path) -> tuple[int, int]:
    tracemalloc.start()
    try:
        stats = import_file(path, KINDS["prices"], lambda rows: [], Report(out=io.StringIO()), context=CONTEXT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return stats.imported, peak


def test_memory_stays_flat_whatever_the_file_size(tmp_path):
    small = _write_prices(tmp_path / "small" / "prices.csv", 20_000)
    large = _write_prices(tmp_path / "large" / "prices.csv", 200_000)
    small_rows, small_peak = _imported_and_peak_bytes(small)
    large_rows, large_peak = _imported_and_peak_bytes(large)
    assert (small_rows, large_rows) == (20_000, 200_000)
    assert large_peak < 1.5 * small_peak, (small_peak, large_peak)
    assert large_peak < 2_000_000, large_peak  # a batch's worth, far below the 5 MB file


def test_database_sink_isolates_refused_rows_by_halving():
    from catalog.errors import NotFound
    from catalog.feeds import FeedRow
    from catalog.importer import DatabaseSink

    applied: list[list[str]] = []

    def command(conn, items):  # refuses a whole batch that holds an unknown SKU, like require_products
        unknown = [sku for sku, _ in items if sku.startswith("X")]
        if unknown:
            raise NotFound(f"unknown product(s): {', '.join(unknown)}")
        applied.append([sku for sku, _ in items])
        return len(applied)

    relayed: list[int] = []
    rows = [FeedRow(i + 2, sku, sku, (sku, 1)) for i, sku in enumerate(["A", "B", "X1", "C", "D", "E", "X2", "F"])]
    refused = DatabaseSink(None, command, relayed.append)(rows)
    assert [(row.line, message) for row, message in refused] == [
        (4, "unknown product(s): X1"),
        (8, "unknown product(s): X2"),
    ]
    assert [sku for batch in applied for sku in batch] == ["A", "B", "C", "D", "E", "F"]  # file order
    assert relayed == list(range(1, len(applied) + 1)) and len(applied) < 6
