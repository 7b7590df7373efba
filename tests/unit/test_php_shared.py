"""The PHP front end's generated tables are what the Python tables give (tools/php_shared.py)."""

from __future__ import annotations

from tools import php_shared, snowball_php


def test_committed_tables_are_current():
    committed = php_shared.TARGET.read_text(encoding="utf-8")
    assert committed == php_shared.render(), (
        "frontend_php_compat/shared/shared.php is stale: run python -m tools.php_shared"
    )


def test_committed_stem_vectors_are_current():
    committed = php_shared.STEMS.read_text(encoding="utf-8")
    assert committed == php_shared.demo_stems_text(), (
        "frontend_php_compat/tests/fixtures/stems.json is stale: run python -m tools.php_shared --stems"
    )


def test_php_literals():
    assert (
        php_shared.php_literal({"a": ["x'y", 1, True, None]})
        == "[\n    'a' => [\n        'x\\'y',\n        1,\n        true,\n        null,\n    ],\n]"
    )
    assert php_shared.php_literal("a\x1eb$\\") == '"a\\x1eb\\$\\\\"'


def test_committed_snowball_stemmers_are_current():
    """The PHP stemmers are the installed snowballstemmer's algorithms, translated
    (tools/snowball_php.py): a new snowballstemmer release must be translated again."""
    outputs = snowball_php.outputs()
    assert len(outputs) >= 12
    for path, text in outputs.items():
        assert path.exists() and path.read_text(encoding="utf-8") == text, (
            f"{path.name} is stale: run python -m tools.snowball_php"
        )
