"""``snipshop import`` against a real PostgreSQL: good rows land, bad rows are reported by line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from catalog.importer import import_files

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]

FEED = {
    "categories.csv": (
        "key,parent,position,name.en_US,name.de_DE\n"
        "gear,,1,Gear,Ausrüstung\n"
        "bags,gear,2,Bags,Taschen\n"
        "orphan,nowhere,1,Orphan,\n"  # 4: unknown parent
        "hats,gear,3,Hats,\n"
        "caps,gear,4,Caps,\n"
        "french,gear,5,,Französisch\n"  # a German name only
    ),
    "products.csv": (
        "sku,brand,categories,active,name.en_US,name.fr_FR,description.en_US,attr.color\n"
        "B1,Acme,bags,1,Bag,,<p>Big</p>,Red|Blue\n"
        "B2,Acme,bags|nope,1,Bag 2,,,\n"  # 3: unknown category
        "B3,Acme,hats,yes,Hat,Chapeau,,\n"  # 4: locale not configured
        "B4,Acme,hats,0,Hat 2,,,Green\n"
        "B 5,Acme,hats,1,Hat 3,,,\n"
    ),  # 6: bad SKU
    "prices.csv": (
        "sku,currency,amount\n"
        "B1,EUR,12.50\n"
        "B1,USD,13.50\n"
        "B2,EUR,1.00\n"  # 4: unknown SKU (its product was rejected)
        "B4,EUR,1.999\n"  # 5: bad amount
        "B4,EUR,2.00\n"
    ),
    "stock.csv": "sku,quantity\nB1,5\nB4,-3\nB4,0\nZZ,1\n",  # 3: negative, 5: unknown SKU
}
EXPECTED_ERRORS = [
    ("categories.csv", 4, "orphan", "unknown parent category 'nowhere'"),
    ("products.csv", 3, "B2", "unknown category: nope"),
    ("products.csv", 4, "B3", "name: locale 'fr_FR' is not one of the shop's locales"),
    ("products.csv", 6, "B 5", "sku: SKU 'B 5' must match"),
    ("prices.csv", 4, "B2/EUR", "unknown product(s): B2"),
    ("prices.csv", 5, "B4/EUR", "amount: amount must be a non-negative decimal string"),
    ("stock.csv", 3, "B4", "quantity: Input should be greater than or equal to 0"),
    ("stock.csv", 5, "ZZ", "unknown product(s): ZZ"),
]


def write_feed(directory: Path, files: dict[str, str]) -> list[Path]:
    directory.mkdir(exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return sorted(directory / name for name in files)  # alphabetical, as a shell glob gives them


def counts(db_url: str) -> dict[str, int]:
    with psycopg.connect(db_url) as conn:
        return {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in (
                "categories",
                "category_names",
                "products",
                "product_texts",
                "product_categories",
                "product_attributes",
                "prices",
                "stock",
            )
        }


def test_good_rows_are_imported_and_bad_rows_reported(settings, tmp_path, capsys):
    sent: list[tuple[str, list[str]]] = []
    files = write_feed(tmp_path / "feed", FEED)
    rejected = import_files(
        settings,
        files,
        report_path=tmp_path / "report.csv",
        progress=False,
        send=lambda topic, keys, ids: sent.append((topic, keys)),
    )
    assert rejected == len(EXPECTED_ERRORS)
    err = capsys.readouterr().err.splitlines()
    for name, line, key, message in EXPECTED_ERRORS:
        prefix = f"{tmp_path / 'feed' / name}:{line}: {key}: {message}"
        assert any(e.startswith(prefix) for e in err), (prefix, err)
    report = (tmp_path / "report.csv").read_text().splitlines()
    assert report[0] == "file,line,key,error" and len(report) == 1 + len(EXPECTED_ERRORS)

    with psycopg.connect(settings.database_url) as conn:
        assert conn.execute("SELECT key FROM categories ORDER BY key").fetchall() == [
            ("bags",),
            ("caps",),
            ("french",),
            ("gear",),
            ("hats",),
        ]
        assert conn.execute("SELECT sku, active FROM products ORDER BY sku").fetchall() == [("B1", True), ("B4", False)]
        assert conn.execute("SELECT value FROM product_attributes WHERE sku = 'B1' ORDER BY position").fetchall() == [
            ("Red",),
            ("Blue",),
        ]
        assert conn.execute("SELECT sku, currency, amount::text FROM prices ORDER BY 1, 2").fetchall() == [
            ("B1", "EUR", "12.50"),
            ("B1", "USD", "13.50"),
            ("B4", "EUR", "2.00"),
        ]
        assert conn.execute("SELECT sku, quantity FROM stock ORDER BY sku").fetchall() == [("B1", 5), ("B4", 0)]
        outbox = conn.execute("SELECT topic, keys, dispatched_at IS NOT NULL FROM outbox ORDER BY id").fetchall()
    assert all(done for _, _, done in outbox)
    assert [(topic, keys) for topic, keys, _ in outbox] == sent
    assert [topic for topic, _, _ in outbox][:1] == ["category"]  # categories first, whatever the file order
    assert {k for topic, keys, _ in outbox if topic == "product" for k in keys} == {"B1", "B4"}


def test_reimport_is_idempotent(settings, tmp_path, capsys):
    files = write_feed(tmp_path / "feed", FEED)
    first = import_files(settings, files, progress=False, send=lambda *a: None)
    before = counts(settings.database_url)
    second = import_files(settings, files, progress=False, send=lambda *a: None)
    assert first == second == len(EXPECTED_ERRORS)
    assert counts(settings.database_url) == before


def test_a_bad_file_is_skipped_whole_and_the_others_imported(settings, tmp_path, capsys):
    files = write_feed(
        tmp_path / "feed",
        {"categories.csv": FEED["categories.csv"], "prices.csv": "sku,amount\nB1,1.00\n", "brands.csv": "name\nAcme\n"},
    )
    assert import_files(settings, files, progress=False, send=lambda *a: None) == 1 + 1 + 1  # orphan + 2 files
    err = capsys.readouterr().err
    assert "prices.csv:1: missing column(s) for prices: currency; file skipped" in err
    assert "brands.csv:1: unknown feed kind 'brands'" in err
    assert counts(settings.database_url)["categories"] == 5


def test_one_bad_row_in_a_large_batch_is_isolated(settings, tmp_path, capsys):
    rows = "".join(f"P{i:04d},gear,Product {i}\n" for i in range(1200))
    bad = rows.replace("P0700,gear", "P0700,nope")
    files = write_feed(
        tmp_path / "feed",
        {"categories.csv": "key,name.en_US\ngear,Gear\n", "products.csv": "sku,categories,name.en_US\n" + bad},
    )
    assert import_files(settings, files, progress=False, send=lambda *a: None) == 1
    assert "products.csv:702: P0700: unknown category: nope" in capsys.readouterr().err
    assert counts(settings.database_url)["products"] == 1199
    with psycopg.connect(settings.database_url) as conn:
        product_batches = conn.execute("SELECT count(*) FROM outbox WHERE topic = 'product'").fetchone()[0]
    assert product_batches < 30  # halving, not one transaction per row


def test_broker_down_leaves_rows_for_the_sweep(settings, tmp_path, capsys):
    calls = []

    def down(topic, keys, ids):
        calls.append(topic)
        raise ConnectionError("broker down")

    rows = "".join(f"P{i:04d},Product {i}\n" for i in range(1200))
    files = write_feed(tmp_path / "feed", {"products.csv": "sku,name.en_US\n" + rows})
    assert import_files(settings, files, progress=False, send=down) == 0
    assert len(calls) == 1  # not retried for every batch
    with psycopg.connect(settings.database_url) as conn:
        assert conn.execute("SELECT count(*) FROM outbox WHERE dispatched_at IS NULL").fetchone()[0] == 3


def run_cli(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "entrypoints.snipshop_cli", "import", "--quiet", *map(str, args)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_exits_1_with_rejects_and_0_without(service_env, settings, tmp_path):
    bad = run_cli(service_env, *write_feed(tmp_path / "bad", FEED))
    assert bad.returncode == 1, bad.stderr
    assert "products.csv:3: B2: unknown category: nope" in bad.stderr
    assert "products.csv: 5 rows read, 2 imported, 3 rejected" in bad.stdout

    good = {
        name: "".join(line for i, line in enumerate(text.splitlines(True)) if not _is_bad(name, i + 1))
        for name, text in FEED.items()
    }
    ok = run_cli(service_env, *write_feed(tmp_path / "good", good), "--report", tmp_path / "report.csv")
    assert ok.returncode == 0, ok.stderr
    assert "prices.csv: 3 rows read, 3 imported, 0 rejected" in ok.stdout
    assert (tmp_path / "report.csv").read_text().splitlines() == ["file,line,key,error"]
    with psycopg.connect(settings.database_url) as conn:  # handed to the real broker
        total, dispatched = conn.execute("SELECT count(*), count(dispatched_at) FROM outbox").fetchone()
    assert dispatched == total > 0


def _is_bad(name: str, line: int) -> bool:
    return any((name, line) == (n, at) for n, at, _, _ in EXPECTED_ERRORS)


def test_generated_catalog_imports_without_rejects(settings, tmp_path, capsys):
    out = tmp_path / "generated"
    subprocess.run(
        [sys.executable, "-m", "tools.generate_catalog", "--products", "1500", "--out", str(out)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    files = sorted(out.glob("*.csv"))
    assert import_files(settings, files, progress=False, send=lambda *a: None) == 0, capsys.readouterr().err
    imported = counts(settings.database_url)
    assert imported["products"] == 1500 and imported["stock"] == 1500 and imported["prices"] == 3000


def test_kind_option_and_rows_the_database_refuses(settings, tmp_path, capsys):
    files = write_feed(tmp_path / "feed", {"texts.csv": "sku,name.en_US\nP1,Fine\nP2,Nul\x00byte\nP3,Fine too\n"})
    assert import_files(settings, files, kind="products", progress=False, send=lambda *a: None) == 1
    assert "texts.csv:3: P2: name.en_US: must not contain a NUL character" in capsys.readouterr().err
    assert counts(settings.database_url)["products"] == 2
